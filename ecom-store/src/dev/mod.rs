//! A private PostgreSQL cluster for tests, examples and CLIs, so that nothing but the
//! PostgreSQL binaries has to be installed (no service, no Docker, no sudo).
//!
//! The cluster lives in `<target dir>/ecom-pg/` (or `$ECOM_PG_DIR`), listens on
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
//! `nobody`, which owns `data/` and `server.log`; then every directory above the
//! cluster directory must be world-traversable (set `ECOM_PG_DIR` if it is not).
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
mod process;
mod standby;
mod tls;

pub use binaries::bin_dir;
pub use cluster::{DEFAULT_DATABASE, PrivateCluster, Replication, SUPERUSER, database_url};
#[cfg(feature = "testing")]
pub(crate) use conninfo::quote_ident;
pub use error::DevError;

#[cfg(test)]
mod tests {
    use super::conninfo::{conninfo_value, percent_encode, quote_ident};
    use super::process::tail;
    use super::tls::hostssl_only;

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
