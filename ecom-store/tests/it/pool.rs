//! The pool applies session settings and survives the database going away (on a
//! private cluster of its own, whatever `DATABASE_URL` says).

use std::time::Duration;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use crate::util::own_private_cluster;
use ecom_store::testing::TestDb;
use ecom_store::{StoreConfig, StoreError, build_pool, get_conn};

fn show(conn: &mut PgConnection, setting: &str) -> String {
    diesel::select(sql::<Text>(&format!("current_setting('{setting}')")))
        .get_result(conn)
        .unwrap()
}

#[test]
fn pooled_connections_carry_the_session_settings() {
    let db = TestDb::new();
    let config = StoreConfig {
        statement_timeout: Duration::from_millis(1234),
        idle_in_transaction_timeout: Duration::from_millis(5678),
        application_name: "it's ecom".into(),
        pool_min_idle: 0,
        ..StoreConfig::new(db.url())
    };
    let pool = build_pool(&config).unwrap();
    let mut conn = get_conn(&pool).unwrap();
    assert_eq!(show(&mut conn, "statement_timeout"), "1234ms");
    assert_eq!(
        show(&mut conn, "idle_in_transaction_session_timeout"),
        "5678ms"
    );
    assert_eq!(show(&mut conn, "application_name"), "it's ecom");
}

#[test]
fn unreachable_server_is_unavailable() {
    // Port 1 on loopback: nothing listens there.
    let config = StoreConfig {
        connection_timeout: Duration::from_millis(300),
        ..StoreConfig::new("postgres://ecom@127.0.0.1:1/ecom")
    };
    let err = build_pool(&config).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[test]
fn pool_recovers_after_the_server_restarts() {
    let cluster = own_private_cluster("restart-test");
    let config = StoreConfig {
        pool_max_size: 2,
        pool_min_idle: 1,
        // Dead connections fail at once, whatever this says; it bounds only the wait
        // for a new one, which a busy machine may make long.
        connection_timeout: Duration::from_secs(30),
        ..StoreConfig::new(cluster.0.url("postgres"))
    };
    let pool = build_pool(&config).unwrap();
    let one = |pool| -> Result<i32, StoreError> {
        let mut conn = get_conn(pool)?;
        Ok(diesel::select(sql::<Integer>("1")).get_result(&mut conn)?)
    };
    assert_eq!(one(&pool).unwrap(), 1);

    cluster.0.stop().unwrap();
    let err = one(&pool).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(err.is_retryable());

    let mut restarted = cluster.0.clone();
    restarted.start().unwrap();
    assert_eq!(
        restarted.port(),
        cluster.0.port(),
        "the cluster keeps its port"
    );
    // The idle connection died with the server. The store finds out at BEGIN, drops
    // it and runs the call on a new connection: the caller sees no error.
    let store = ecom_store::PgStore::new(pool.clone());
    let served: bool = store
        .writer_reader()
        .run(|conn| Ok(diesel::select(sql::<diesel::sql_types::Bool>("true")).get_result(conn)?))
        .expect("the store replaces a dead connection without an error");
    assert!(served);
    // Queries of one's own see each dead connection once; the pool then closes it.
    cluster.0.stop().unwrap();
    restarted.start().unwrap();
    let mut failures = 0;
    let value = loop {
        match one(&pool) {
            Ok(value) => break value,
            Err(err) => {
                assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
                failures += 1;
                assert!(
                    failures <= config.pool_max_size,
                    "dead connections are reused"
                );
            }
        }
    };
    assert_eq!(value, 1);
}

/// Hands out a new password per call and counts the calls.
#[derive(Debug, Default)]
struct CountingSource {
    calls: std::sync::atomic::AtomicUsize,
    fail: bool,
}

impl ecom_store::PasswordSource for CountingSource {
    fn password(&self) -> Result<String, String> {
        if self.fail {
            return Err("credentials expired".into());
        }
        let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        // Characters an IAM auth token carries, which must be percent-encoded.
        Ok(format!("host:5432/?Action=connect&X-Amz-Signature=a%b/{n}"))
    }
}

#[test]
fn each_new_connection_asks_the_password_source_once() {
    let db = TestDb::new();
    let source = std::sync::Arc::new(CountingSource::default());
    let config = StoreConfig {
        pool_max_size: 3,
        pool_min_idle: 0,
        ..StoreConfig::new(db.url())
    };
    let pool = ecom_store::build_pool_with(&config, Some(source.clone())).unwrap();
    // The private cluster trusts local connections, so any password is accepted: what
    // is tested is that each new connection gets one, once.
    let held: Vec<_> = (0..3).map(|_| get_conn(&pool).unwrap()).collect();
    assert_eq!(source.calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    drop(held);
    let mut again = get_conn(&pool).unwrap();
    let one: i32 = diesel::select(sql::<Integer>("1"))
        .get_result(&mut again)
        .unwrap();
    assert_eq!(one, 1);
    assert_eq!(
        source.calls.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "reused connections need no new password"
    );
    assert!(!format!("{pool:?}").contains("Signature"));
}

#[test]
fn a_failing_password_source_is_a_typed_unavailable_error() {
    let db = TestDb::new();
    let source = std::sync::Arc::new(CountingSource {
        fail: true,
        ..CountingSource::default()
    });
    let config = StoreConfig {
        pool_max_size: 1,
        pool_min_idle: 0,
        connection_timeout: Duration::from_millis(300),
        ..StoreConfig::new(db.url())
    };
    let pool = ecom_store::build_pool_with(&config, Some(source)).unwrap();
    let Err(err) = get_conn(&pool) else {
        panic!("a connection opened without a password")
    };
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(err.is_retryable());
}

/// Holds every password request until the test lets it go.
#[derive(Debug)]
struct GateSource {
    entered: std::sync::mpsc::SyncSender<()>,
    open: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl ecom_store::PasswordSource for GateSource {
    fn password(&self) -> Result<String, String> {
        let _ = self.entered.send(());
        let _ = self.open.lock().unwrap().recv();
        Ok("any".into())
    }
}

#[test]
fn exit_can_wait_for_connections_the_pool_is_still_opening() {
    let db = TestDb::new();
    let (entered, on_entry) = std::sync::mpsc::sync_channel(1);
    let (release, open) = std::sync::mpsc::channel();
    let source = std::sync::Arc::new(GateSource {
        entered,
        open: std::sync::Mutex::new(open),
    });
    let config = StoreConfig {
        pool_max_size: 1,
        pool_min_idle: 0,
        connection_timeout: Duration::from_millis(200),
        ..StoreConfig::new(db.url())
    };
    let pool = ecom_store::build_pool_with(&config, Some(source)).unwrap();
    // The borrower gives up, but r2d2's own thread goes on opening the connection
    // after the pool is dropped: that is the thread a process must not exit under.
    assert!(get_conn(&pool).is_err(), "the gate is shut");
    on_entry.recv().unwrap();
    drop(pool);
    assert!(
        !ecom_store::wait_for_opening_connections(Duration::from_millis(100)),
        "a connection is being opened"
    );
    release.send(()).unwrap();
    assert!(ecom_store::wait_for_opening_connections(
        Duration::from_secs(60)
    ));
}
