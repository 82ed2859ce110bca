use std::os::unix::fs::MetadataExt;
use std::process::Command;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;
use ecom_store::dev::{self, PrivateCluster};

fn setting(conn: &mut PgConnection, name: &str) -> String {
    diesel::select(sql::<Text>(&format!("current_setting('{name}')")))
        .get_result(conn)
        .unwrap()
}

#[test]
fn private_cluster_is_reused_and_configured_for_tests() {
    let first = PrivateCluster::ensure().unwrap();
    let second = PrivateCluster::ensure().unwrap();
    assert_eq!(first.port(), second.port(), "a running cluster is reused");
    assert!(second.is_running());

    let mut conn = PgConnection::establish(&first.url("postgres")).unwrap();
    assert_eq!(setting(&mut conn, "listen_addresses"), "127.0.0.1");
    assert_eq!(setting(&mut conn, "fsync"), "off");
    assert_eq!(setting(&mut conn, "max_connections"), "300");
    assert_eq!(setting(&mut conn, "lc_messages"), "C");
}

#[test]
fn cluster_runs_as_an_unprivileged_user_even_for_root() {
    let cluster = PrivateCluster::ensure().unwrap();
    let data_owner = std::fs::metadata(cluster.dir().join("data")).unwrap().uid();
    let probe = cluster
        .dir()
        .join(format!("owner-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").unwrap();
    let our_uid = std::fs::metadata(&probe).unwrap().uid();
    std::fs::remove_file(&probe).unwrap();
    if our_uid == 0 {
        assert_ne!(data_owner, 0, "PostgreSQL refuses to run as root");
    } else {
        assert_eq!(data_owner, our_uid);
    }
}

#[test]
fn database_url_points_at_a_usable_database() {
    let url = dev::database_url().unwrap();
    let mut conn = PgConnection::establish(&url).unwrap();
    assert_eq!(setting(&mut conn, "server_version_num").len(), 6);
}

#[test]
fn ecom_pg_reports_status_and_explains_missing_binaries() {
    PrivateCluster::ensure().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_ecom-pg"))
        .arg("status")
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    assert!(String::from_utf8_lossy(&status.stdout).starts_with("running on 127.0.0.1:"));

    let missing = Command::new(env!("CARGO_BIN_EXE_ecom-pg"))
        .arg("status")
        .env("ECOM_PG_BIN", "/nonexistent/postgresql/bin")
        .env(
            "ECOM_PG_DIR",
            std::env::temp_dir().join("ecom-pg-missing-binaries"),
        )
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let message = String::from_utf8_lossy(&missing.stderr);
    assert!(message.contains("apt-get install postgresql"), "{message}");
    assert!(message.contains("brew install postgresql@15"), "{message}");
}
