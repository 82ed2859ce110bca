//! The private cluster speaks TCP only over TLS, with a certificate a client can
//! verify (`sslmode=verify-full`) against the cluster's own CA, and each way a
//! connection can be wrong is refused for its own reason.
//!
//! What is tested is the private cluster's own set-up, so these tests run on it (and
//! on `ReplicatedDb`) whatever `DATABASE_URL` says.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use ecom_store::config::{redact_url, with_database, with_password};
use ecom_store::dev::{PrivateCluster, Replication};
use ecom_store::testing::ReplicatedDb;
use ecom_store::{StoreConfig, StoreError, build_pool, get_conn};

use crate::util::own_private_cluster;

fn encrypted(conn: &mut PgConnection) -> bool {
    diesel::select(sql::<Bool>(
        "(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())",
    ))
    .get_result(conn)
    .unwrap()
}

/// The message of the typed error `build_pool` gives for `url` when it cannot open
/// the one connection it must keep idle. The pool gives up after its timeout, with
/// the last attempt's error; a busy machine may not finish an attempt within a
/// short one, so the timeout doubles until an attempt has (up to a minute).
#[track_caller]
fn refused_by_the_pool(url: &str) -> String {
    let mut timeout = Duration::from_secs(1);
    loop {
        let config = StoreConfig {
            pool_max_size: 1,
            pool_min_idle: 1,
            connection_timeout: timeout,
            ..StoreConfig::new(url)
        };
        match build_pool(&config) {
            Err(StoreError::Unavailable { message })
                if message == NO_ATTEMPT_FINISHED && timeout < Duration::from_secs(32) =>
            {
                timeout *= 2;
            }
            Err(StoreError::Unavailable { message }) => return message,
            Err(other) => panic!("expected Unavailable for {url}, got {other:?}"),
            Ok(_) => panic!("{url} was accepted"),
        }
    }
}

/// r2d2's message when its timeout came before any connection attempt ended.
const NO_ATTEMPT_FINISHED: &str = "timed out waiting for connection";

/// The message of the diesel error `PgConnection::establish` gives for `url`.
#[track_caller]
fn refused_on_connect(url: &str) -> String {
    match PgConnection::establish(url) {
        Err(ConnectionError::BadConnection(message)) => message,
        Err(other) => panic!("expected BadConnection for {url}, got {other:?}"),
        Ok(_) => panic!("{url} was accepted"),
    }
}

/// A file holding a CA certificate of its own, removed on drop.
struct OtherCa(PathBuf);

impl OtherCa {
    fn new() -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "some other CA");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let path = std::env::temp_dir().join(format!("ecom-other-ca-{}.crt", std::process::id()));
        fs::write(&path, cert.pem()).unwrap();
        Self(path)
    }
}

impl Drop for OtherCa {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

#[test]
fn verify_full_with_the_cluster_ca_connects_encrypted() {
    let cluster = PrivateCluster::ensure().unwrap();
    let url = cluster.verified_url("postgres");
    let ca = cluster.ca_cert_path().display().to_string();
    assert_eq!(
        url,
        format!(
            "postgres://ecom@localhost:{}/postgres?sslmode=verify-full&sslrootcert={ca}",
            cluster.port()
        )
    );
    let config = StoreConfig {
        pool_max_size: 1,
        pool_min_idle: 1,
        ..StoreConfig::new(&url)
    };
    let pool = build_pool(&config).unwrap();
    let mut conn = get_conn(&pool).unwrap();
    assert!(encrypted(&mut conn));
}

#[test]
fn default_sslmode_prefer_still_connects_and_is_encrypted() {
    let cluster = PrivateCluster::ensure().unwrap();
    let mut conn = PgConnection::establish(&cluster.url("postgres")).unwrap();
    assert!(encrypted(&mut conn));
}

#[test]
fn a_server_certificate_from_another_ca_is_refused() {
    let cluster = PrivateCluster::ensure().unwrap();
    let other = OtherCa::new();
    let url = format!(
        "postgres://ecom@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
        cluster.port(),
        other.0.display()
    );
    let message = refused_by_the_pool(&url);
    assert!(
        message.contains("certificate verify failed"),
        "not refused for the certificate: {message}"
    );
}

#[test]
fn a_host_name_the_certificate_does_not_name_is_refused() {
    let cluster = PrivateCluster::ensure().unwrap();
    // The right server and CA, reached under a name its certificate lacks.
    let url = format!(
        "postgres://ecom@wrong.example:{}/postgres?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={}",
        cluster.port(),
        cluster.ca_cert_path().display()
    );
    let message = refused_by_the_pool(&url);
    assert!(
        message.contains(r#"does not match host name "wrong.example""#),
        "not refused for the host name: {message}"
    );
}

#[test]
fn plaintext_is_refused_by_the_server() {
    let cluster = PrivateCluster::ensure().unwrap();
    let message = refused_on_connect(&format!("{}?sslmode=disable", cluster.url("postgres")));
    assert!(
        message.contains("no pg_hba.conf entry") && message.contains("no encryption"),
        "not refused for want of TLS: {message}"
    );
}

#[test]
fn a_standby_streams_over_verified_tls_and_serves_the_same_ca() {
    let pair = ReplicatedDb::new(Replication::Asynchronous);
    let mut primary = PgConnection::establish(&pair.primary.url("postgres")).unwrap();
    let walsender_encrypted: bool = diesel::select(sql::<Bool>(
        "(SELECT s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid))",
    ))
    .get_result(&mut primary)
    .unwrap();
    assert!(walsender_encrypted);

    let mut standby = PgConnection::establish(&pair.standby.verified_url("postgres")).unwrap();
    assert!(encrypted(&mut standby));
    let conninfo: String = diesel::select(sql::<Text>("current_setting('primary_conninfo')"))
        .get_result(&mut standby)
        .unwrap();
    // pg_basebackup -R writes each value quoted.
    let root_cert = format!("sslrootcert='{}'", pair.primary.ca_cert_path().display());
    assert!(
        conninfo.contains("sslmode='verify-full'") && conninfo.contains(&root_cert),
        "the standby does not verify its primary: {conninfo}"
    );
}

#[test]
fn the_url_helpers_keep_the_tls_parameters() {
    let tls = "sslmode=verify-full&sslrootcert=/etc/ssl/rds-global-bundle.pem";
    let url = format!("postgres://app:secret@db.example:5432/ecom?{tls}");
    assert_eq!(
        redact_url(&url),
        format!("postgres://app:***@db.example:5432/ecom?{tls}")
    );
    assert_eq!(
        with_database(&url, "other"),
        format!("postgres://app:secret@db.example:5432/other?{tls}")
    );
    assert_eq!(
        with_password(&format!("postgres://app@db.example:5432/ecom?{tls}"), "t/k"),
        format!("postgres://app:t%2Fk@db.example:5432/ecom?{tls}")
    );
}

/// Puts the cluster's files back as they were before the cluster had TLS.
fn undo_tls(cluster: &PrivateCluster) {
    let data = cluster.dir().join("data");
    fs::remove_dir_all(cluster.dir().join("tls")).unwrap();
    fs::remove_file(data.join("server.crt")).unwrap();
    fs::remove_file(data.join("server.key")).unwrap();
    let conf = fs::read_to_string(data.join("postgresql.conf")).unwrap();
    fs::write(
        data.join("postgresql.conf"),
        conf.replace("\nssl = on\n", "\n"),
    )
    .unwrap();
    let hba = fs::read_to_string(data.join("pg_hba.conf")).unwrap();
    fs::write(data.join("pg_hba.conf"), hba.replace("hostssl", "host")).unwrap();
}

#[track_caller]
fn assert_tls_only(cluster: &PrivateCluster) {
    let mut conn = PgConnection::establish(&cluster.verified_url("postgres")).unwrap();
    assert!(encrypted(&mut conn));
    let message = refused_on_connect(&format!("{}?sslmode=disable", cluster.url("postgres")));
    assert!(message.contains("no encryption"), "{message}");

    let data = cluster.dir().join("data");
    let key = fs::metadata(data.join("server.key")).unwrap();
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        key.uid(),
        fs::metadata(&data).unwrap().uid(),
        "owned by the server's account"
    );
    let ca = fs::metadata(cluster.ca_cert_path()).unwrap();
    assert_eq!(ca.permissions().mode() & 0o777, 0o644);
}

#[test]
fn a_cluster_made_before_tls_gets_it_at_its_next_start() {
    // The test turns TLS off, which would break concurrent tests on a shared cluster.
    let cluster = own_private_cluster("tls-upgrade-test");
    let dir = cluster.0.dir().to_owned();
    assert_tls_only(&cluster.0);

    // Running without TLS, as clusters made before it still do.
    undo_tls(&cluster.0);
    cluster
        .0
        .execute("postgres", "SELECT pg_reload_conf()")
        .unwrap();
    let plaintext = format!("{}?sslmode=disable", cluster.0.url("postgres"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while PgConnection::establish(&plaintext).is_err() {
        assert!(Instant::now() < deadline, "the server never dropped TLS");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Upgraded in place while it runs.
    assert_tls_only(&PrivateCluster::ensure_at(&dir).unwrap());

    // Stopped without TLS: upgraded as it starts.
    cluster.0.stop().unwrap();
    undo_tls(&cluster.0);
    assert_tls_only(&PrivateCluster::ensure_at(&dir).unwrap());
}
