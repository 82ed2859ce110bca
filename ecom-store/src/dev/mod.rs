//! A private PostgreSQL cluster for tests, examples and CLIs, so that nothing but the
//! PostgreSQL binaries has to be installed (no service, no Docker, no sudo).
//!
//! The cluster lives in `<target dir>/ecom-pg/` (or `$ECOM_PG_DIR`; see
//! [`PrivateCluster::default_dir`] for a checkout the server cannot reach), listens on
//! 127.0.0.1 only, on a port chosen when it is created, with trust authentication for
//! the superuser `ecom`. It keeps running between test runs; stop it with
//! `cargo run -p ecom-store --features dev --bin ecom-pg -- stop`.
//!
//! It speaks TCP only over TLS, as RDS does with `rds.force_ssl=1`: a client asking
//! for plaintext (`sslmode=disable`) is refused. The server's certificate, for
//! `localhost` and `127.0.0.1`, is signed by a CA of the cluster's own, made when the
//! cluster is created (or, for a cluster made before, at its next start);
//! [`PrivateCluster::verified_url`] connects with `sslmode=verify-full` against it.
//! [`PrivateCluster::url`] keeps libpq's default `sslmode=prefer`, which takes TLS
//! without checking the certificate.
//!
//! Layout of the cluster directory:
//!
//! | path | what |
//! | --- | --- |
//! | `lock` | file lock serialising start, stop and database creation across processes |
//! | `port` | the TCP port, chosen at `initdb` time and changed only if taken |
//! | `data/` | the data directory, with the server's `server.crt` and `server.key` |
//! | `tls/ca.crt` | the CA that signed `server.crt` ([`PrivateCluster::ca_cert_path`]); its key is not kept |
//! | `server.log` | the server's log |
//! | `command.log` | output of the last `initdb`/`pg_ctl` run, quoted in errors |
//!
//! PostgreSQL refuses to run as root. When this process is root, the server runs as
//! `nobody`, which owns `data/` (mode 0700) and `server.log`; every directory above
//! them belongs to root and is not world-writable. `nobody` must be able to traverse
//! them: when the checkout is out of its reach (under `/root`, mode 0700), the
//! default directory is `/var/tmp/ecom-dms-<hash of the checkout's target
//! directory>/ecom-pg` instead, and `ecom-pg status` prints where it is.
//!
//! [`PgBouncer`] puts pgbouncer in transaction mode in front of it (or any server), the
//! way a service meets a connection pooler in production.
//!
//! ```no_run
//! let cluster = ecom_store::dev::PrivateCluster::ensure()?;
//! println!("psql {}", cluster.url("postgres"));
//! # Ok::<(), ecom_store::dev::DevError>(())
//! ```

mod binaries;
mod cluster;
mod conninfo;
mod error;
mod location;
mod pgbouncer;
mod process;
mod standby;
mod tls;

pub use binaries::bin_dir;
pub use cluster::{
    DEFAULT_DATABASE, PrivateCluster, Replication, SUPERUSER, app_database_url, database_url,
};
#[cfg(feature = "testing")]
pub(crate) use conninfo::quote_ident;
pub use error::DevError;
pub use pgbouncer::{PgBouncer, PgBouncerConfig, binary as pgbouncer_binary};

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::{Path, PathBuf};

    use super::conninfo::{conninfo_value, percent_encode, quote_ident};
    use super::location::{blocking_dir, cluster_dir_for, create_dir_for_server, fnv1a};
    use super::process::{Account, tail};
    use super::tls::hostssl_only;

    /// A directory of its own under the temporary directory, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str, mode: u32) -> Self {
            let dir = std::env::temp_dir().join(format!("ecom-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
            Self(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// An account that neither owns `dir` nor is in its group: it gets the "other" bits.
    fn stranger_to(dir: &Path) -> Account {
        let meta = std::fs::metadata(dir).unwrap();
        Account {
            uid: meta.uid().wrapping_add(1),
            gid: meta.gid().wrapping_add(1),
        }
    }

    #[test]
    fn a_cluster_stays_in_the_target_dir_when_the_server_can_reach_it() {
        let open = Scratch::new("open-checkout", 0o755);
        let preferred = open.0.join("target/ecom-pg");
        let bases = [std::env::temp_dir()];
        // The server runs as this process's user: no move, whatever the modes.
        assert_eq!(cluster_dir_for(&preferred, None, &bases), preferred);
        // Root runs it as another account, which may traverse every directory.
        let server = stranger_to(&open.0);
        assert_eq!(blocking_dir(&preferred, server), None);
        assert_eq!(cluster_dir_for(&preferred, Some(server), &bases), preferred);
    }

    #[test]
    fn a_checkout_the_server_cannot_reach_gets_a_reachable_dir_of_its_own() {
        let closed = Scratch::new("closed-checkout", 0o700);
        let server = stranger_to(&closed.0);
        let preferred = closed.0.join("target/ecom-pg");
        let other = closed.0.join("other-checkout/target/ecom-pg");
        let base = std::env::temp_dir();
        let bases = [PathBuf::from("/nonexistent-base"), base.clone()];
        assert_eq!(blocking_dir(&preferred, server), Some(closed.0.clone()));

        let chosen = cluster_dir_for(&preferred, Some(server), &bases);
        let key = format!(
            "ecom-dms-{:016x}",
            fnv1a(preferred.as_os_str().as_encoded_bytes())
        );
        assert_eq!(chosen, base.join(key).join("ecom-pg"));
        assert_eq!(blocking_dir(&chosen, server), None, "the server reaches it");
        assert_eq!(
            cluster_dir_for(&preferred, Some(server), &bases),
            chosen,
            "every caller finds the same directory"
        );
        assert_ne!(
            cluster_dir_for(&other, Some(server), &bases),
            chosen,
            "two checkouts never share a cluster"
        );
        // No reachable base at all: the preferred directory, whose start then fails
        // with a message naming the blocking directory.
        assert_eq!(
            cluster_dir_for(&preferred, Some(server), std::slice::from_ref(&closed.0)),
            preferred
        );
    }

    #[test]
    fn the_directory_key_is_a_stable_hash() {
        // FNV-1a 64 test vectors: the name must not change with the Rust version.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn directories_made_for_the_server_are_0755_and_ours() {
        let scratch = Scratch::new("dirs-for-server", 0o755);
        let uid = std::fs::metadata(&scratch.0).unwrap().uid();
        let dir = scratch.0.join("a/b/c");
        create_dir_for_server(&dir, uid).unwrap();
        for made in [scratch.0.join("a"), scratch.0.join("a/b"), dir.clone()] {
            let meta = std::fs::metadata(&made).unwrap();
            assert_eq!(meta.mode() & 0o7777, 0o755, "{}", made.display());
            assert_eq!(meta.uid(), uid);
        }
        // Idempotent: the cluster directory is found again by every later start.
        create_dir_for_server(&dir, uid).unwrap();
    }

    #[test]
    fn a_directory_of_another_user_in_a_world_writable_one_is_refused() {
        let shared = Scratch::new("world-writable", 0o1777);
        let uid = std::fs::metadata(&shared.0).unwrap().uid();
        let planted = shared.0.join("ecom-dms-0000000000000000");
        std::fs::create_dir(&planted).unwrap();
        // As if another user had made them, we claim to be someone else: the first
        // of our directories in a world-writable one is refused (the scratch
        // directory itself when the temporary directory is world-writable too).
        let err = create_dir_for_server(&planted.join("ecom-pg"), uid.wrapping_add(1)).unwrap_err();
        assert!(
            matches!(&err, super::DevError::UnsafeDir { path, owner }
                if (*path == planted || *path == shared.0) && *owner == uid),
            "{err:?}"
        );
        assert!(!planted.join("ecom-pg").exists());
        // Our own is fine.
        create_dir_for_server(&planted.join("ecom-pg"), uid).unwrap();
    }

    #[test]
    fn tail_respects_char_boundaries() {
        assert_eq!(tail("héllo", 4), "llo");
        assert_eq!(tail("ab", 10), "ab");
    }

    #[test]
    fn every_tcp_entry_becomes_hostssl() {
        let hba = "# TYPE  DATABASE  USER  ADDRESS  METHOD\n\
                   local   all       all            trust\n\
                   host    all       all   127.0.0.1/32  trust\n\
                   \thostnossl replication all ::1/128 trust\n";
        assert_eq!(
            hostssl_only(hba).as_deref(),
            Some(
                "# TYPE  DATABASE  USER  ADDRESS  METHOD\n\
                 local   all       all            trust\n\
                 hostssl    all       all   127.0.0.1/32  trust\n\
                 \thostssl replication all ::1/128 trust\n"
            )
        );
        assert_eq!(hostssl_only("hostssl all all 127.0.0.1/32 trust\n"), None);
    }

    #[test]
    fn conninfo_values_and_url_values_are_escaped() {
        assert_eq!(conninfo_value(r"/a b/it's\x"), r"'/a b/it\'s\\x'");
        assert_eq!(percent_encode(b"/t/a b&c=%.pem"), "/t/a%20b%26c%3D%25.pem");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
