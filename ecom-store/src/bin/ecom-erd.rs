//! Prints the Mermaid ER diagram of the schema the migrations produce, or with
//! `--write` refreshes the copy in docs/schema.md:
//!
//! ```text
//! cargo run -p ecom-store --features dev --bin ecom-erd [-- --write]
//! ```
//!
//! It migrates a scratch database on the private cluster (`ecom_store::dev`), reads
//! the catalogs, and drops the scratch database again.

use std::path::Path;
use std::process::ExitCode;

use diesel::prelude::*;
use ecom_store::dev::PrivateCluster;
use ecom_store::erd;

fn main() -> ExitCode {
    match run(std::env::args().nth(1).as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ecom-erd: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(arg: Option<&str>) -> Result<(), Box<dyn std::error::Error>> {
    let write = match arg {
        None => false,
        Some("--write") => true,
        Some(other) => {
            return Err(format!("unknown argument {other:?}; usage: ecom-erd [--write]").into());
        }
    };
    let cluster = PrivateCluster::ensure()?;
    let scratch = format!("ecom_erd_{}", std::process::id());
    let url = cluster.create_database(&scratch)?;
    let diagram = (|| -> Result<String, Box<dyn std::error::Error>> {
        let mut conn = PgConnection::establish(&url)?;
        ecom_store::migrate(&mut conn)?;
        Ok(erd::mermaid(&mut conn)?)
    })();
    let mut admin = PgConnection::establish(&cluster.url("postgres"))?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
        .execute(&mut admin)?;
    let diagram = diagram?;
    if !write {
        print!("{diagram}");
        return Ok(());
    }
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schema.md");
    let text = std::fs::read_to_string(&readme)?;
    let updated = erd::replace_embedded(&text, &diagram)
        .ok_or_else(|| format!("{} has no er-diagram markers", readme.display()))?;
    std::fs::write(&readme, updated)?;
    println!("wrote the ER diagram into {}", readme.display());
    Ok(())
}
