//! `--out DIR`: CSV files that `psql \copy` loads into a fresh database.

use std::path::PathBuf;
use std::process::Command;

use ecom_seed::{Scale, Table, write_csv};
use ecom_store::testing::TestDb;

use crate::{count, loaded_checksum, plan, violations};

fn scratch_dir(name: &str) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn csv_files_load_with_psql_copy() {
    let dir = scratch_dir("ecom-seed-csv");
    let plan = plan(Scale::Small, 11);
    let report = write_csv(&dir, &plan, &mut |_| {}).unwrap();

    let db = TestDb::new();
    let output = Command::new("psql")
        .arg("-X")
        .arg("-q")
        .arg(db.owner_url())
        .arg("-f")
        .arg("load.sql")
        .current_dir(&dir)
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut conn = db.connect();
    for table in Table::ALL {
        assert_eq!(count(&mut conn, table), report.rows(table), "{table}");
    }
    // psql loaded exactly the rows the printed checksum describes.
    assert_eq!(
        loaded_checksum(db.owner_url(), plan.currency),
        report.checksum
    );
    let broken = violations(&mut conn);
    assert!(broken.is_empty(), "{:?}", broken.first());
    let _ = std::fs::remove_dir_all(&dir);
}
