//! The private cluster (`ecom_store::dev`) and its `ecom-pg` tool; on private
//! clusters, whatever `DATABASE_URL` says, since they are what is tested.

use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;
use ecom_store::dev::{self, PrivateCluster};

use crate::util::own_private_cluster;

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

/// The owner of files this process makes in `dir`: its effective uid.
fn our_uid(dir: &Path) -> u32 {
    let probe = dir.join(format!("owner-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").unwrap();
    let uid = std::fs::metadata(&probe).unwrap().uid();
    std::fs::remove_file(&probe).unwrap();
    uid
}

#[test]
fn cluster_runs_as_an_unprivileged_user_even_for_root() {
    let cluster = PrivateCluster::ensure().unwrap();
    let data_owner = std::fs::metadata(cluster.dir().join("data")).unwrap().uid();
    let our_uid = our_uid(cluster.dir());
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

/// A checkout of its own in a mode-0700 directory (as `/root` is on Debian), with the
/// `ecom-pg` binary pointed at its `target` directory; on drop its cluster is stopped
/// and every directory it made is removed.
struct ClosedCheckout {
    root: PathBuf,
    target: PathBuf,
    cluster_dir: Option<PathBuf>,
}

impl ClosedCheckout {
    fn new() -> Self {
        let root =
            std::env::temp_dir().join(format!("ecom-closed-checkout-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
        let target = root.join("target");
        std::fs::create_dir(&target).unwrap();
        Self {
            root,
            target,
            cluster_dir: None,
        }
    }

    /// `ecom-pg ARGS` as a newcomer runs it: no ECOM_PG_DIR, no DATABASE_URL.
    fn ecom_pg(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_ecom-pg"))
            .args(args)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("ECOM_PG_DIR")
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    }
}

impl Drop for ClosedCheckout {
    fn drop(&mut self) {
        let _ = self.ecom_pg(&["stop"]);
        if let Some(dir) = &self.cluster_dir
            && !dir.starts_with(&self.root)
        {
            // The directory keyed to this checkout, with the cluster in it.
            let _ = std::fs::remove_dir_all(dir.parent().unwrap());
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The directory in `ecom-pg status` output: `... (DIR)`.
fn dir_in(output: &std::process::Output) -> PathBuf {
    let text = String::from_utf8_lossy(&output.stdout);
    let start = text.find('(').expect("status names the directory") + 1;
    let end = text.rfind(')').expect("status names the directory");
    PathBuf::from(&text[start..end])
}

#[test]
fn a_checkout_the_server_cannot_reach_gets_a_cluster_with_no_configuration() {
    let mut checkout = ClosedCheckout::new();
    let root = our_uid(&checkout.root) == 0;

    let stopped = checkout.ecom_pg(&["status"]);
    assert_eq!(stopped.status.code(), Some(3), "{stopped:?}");
    let dir = dir_in(&stopped);
    checkout.cluster_dir = Some(dir.clone());
    if root {
        // nobody cannot enter the checkout: the cluster lives where it can, in a
        // directory of root's that nobody else may write, named for this checkout.
        assert!(!dir.starts_with(&checkout.root), "{}", dir.display());
        for parent in [dir.as_path(), dir.parent().unwrap()] {
            let meta = std::fs::metadata(parent).unwrap();
            assert_eq!(meta.uid(), 0, "{} belongs to root", parent.display());
            assert_eq!(meta.mode() & 0o777, 0o755, "{}", parent.display());
        }
    } else {
        // The server runs as this user, who may enter its own directories.
        assert_eq!(dir, checkout.target.join("ecom-pg"));
    }

    let started = checkout.ecom_pg(&["start"]);
    assert!(started.status.success(), "{started:?}");
    let url = String::from_utf8_lossy(&started.stdout).trim().to_owned();
    let mut conn = PgConnection::establish(&url).unwrap();
    assert_eq!(
        setting(&mut conn, "data_directory"),
        dir.join("data").to_string_lossy()
    );
    drop(conn);
    let data = std::fs::metadata(dir.join("data")).unwrap();
    assert_eq!(data.mode() & 0o777, 0o700);
    if root {
        assert_ne!(
            data.uid(),
            0,
            "the data directory belongs to the server's account"
        );
    }

    // Every way of finding the cluster agrees on where it is.
    let running = checkout.ecom_pg(&["status"]);
    assert!(running.status.success(), "{running:?}");
    assert_eq!(dir_in(&running), dir);
    let stopped = checkout.ecom_pg(&["stop"]);
    assert!(stopped.status.success(), "{stopped:?}");
    assert_eq!(dir_in(&stopped), dir);
    assert_eq!(checkout.ecom_pg(&["status"]).status.code(), Some(3));
}

#[test]
fn a_cluster_whose_port_was_taken_while_it_was_stopped_starts_on_another() {
    let cluster = own_private_cluster("port-taken-test");
    let dir = cluster.0.dir().to_owned();
    cluster.0.stop().unwrap();
    let squatter = TcpListener::bind(("127.0.0.1", cluster.0.port())).unwrap();

    let restarted = PrivateCluster::ensure_at(&dir).unwrap();
    assert_ne!(restarted.port(), cluster.0.port());
    assert!(restarted.is_running());
    assert_eq!(
        PrivateCluster::at(&dir).unwrap().port(),
        restarted.port(),
        "the new port is recorded for whoever looks next"
    );
    drop(squatter);
}
