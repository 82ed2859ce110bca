//! Controls the private PostgreSQL cluster of `ecom_store::dev` from scripts:
//!
//! ```text
//! cargo run -p ecom-store --features dev --bin ecom-pg -- start|stop|status|url [DBNAME]
//! ```
//!
//! `start` starts (creating if needed) the cluster and prints the URL of the `ecom`
//! database; `url [DBNAME]` does the same for DBNAME (created if missing); `status`
//! prints the state and exits with 3 when stopped; `stop` stops the server if it runs.
//! `status` and `stop` print the cluster directory: `$ECOM_PG_DIR`, else
//! `<target>/ecom-pg`, or, as root in a checkout the server's account cannot reach,
//! the directory under `/var/tmp` keyed to it (see `PrivateCluster::default_dir`).
//! `DATABASE_URL` is ignored: this tool only manages the private cluster.

use std::process::ExitCode;

use ecom_store::dev::{DEFAULT_DATABASE, DevError, PrivateCluster};

const USAGE: &str = "usage: ecom-pg start|stop|status|url [DBNAME]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match run(&args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("ecom-pg: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[&str]) -> Result<ExitCode, DevError> {
    let dir = PrivateCluster::default_dir();
    match args {
        ["start"] => {
            let cluster = PrivateCluster::ensure_at(dir)?;
            println!("{}", cluster.create_database(DEFAULT_DATABASE)?);
        }
        ["url"] | ["url", _] => {
            let dbname = args.get(1).copied().unwrap_or(DEFAULT_DATABASE);
            let cluster = PrivateCluster::ensure_at(dir)?;
            println!("{}", cluster.create_database(dbname)?);
        }
        ["status"] => {
            let cluster = PrivateCluster::at(dir)?;
            if cluster.is_running() {
                println!(
                    "running on 127.0.0.1:{} ({})",
                    cluster.port(),
                    cluster.dir().display()
                );
            } else {
                println!("stopped ({})", cluster.dir().display());
                return Ok(ExitCode::from(3));
            }
        }
        ["stop"] => {
            let cluster = PrivateCluster::at(dir)?;
            cluster.stop()?;
            println!("stopped ({})", cluster.dir().display());
        }
        _ => {
            eprintln!("{USAGE}");
            return Ok(ExitCode::from(2));
        }
    }
    Ok(ExitCode::SUCCESS)
}
