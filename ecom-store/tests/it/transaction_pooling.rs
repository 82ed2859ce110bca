//! Behind a transaction-pooling proxy (`ECOM_TRANSACTION_POOLING=1`): why the switch is
//! needed, what it changes, and that the session settings still hold, through a
//! pgbouncer in transaction mode of each test's own (`ecom_store::dev::PgBouncer`).
//! The checkout and catalog tests also run through pgbouncer (their
//! `through_pgbouncer` modules); the first test here keeps those lists complete.

use std::collections::HashSet;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use ecom_domain::prelude::*;
use ecom_store::schema::products;
use ecom_store::testing::TestDb;
use ecom_store::{
    PgPool, PgStore, RetryPolicy, StoreConfig, StoreError, build_pool, get_conn,
    transaction_with_retry,
};

use crate::util::{Shop, rules};

/// Every `#[test]` function of `source`.
fn tests_in(source: &str) -> Vec<&str> {
    source
        .split("#[test]")
        .skip(1)
        .filter_map(|after| {
            let after = after.trim_start().strip_prefix("fn ")?;
            Some(after.split('(').next()?.trim())
        })
        .collect()
}

#[test]
fn every_checkout_and_catalog_test_also_runs_through_pgbouncer() {
    for (file, source, listed) in [
        (
            "checkout.rs",
            include_str!("checkout.rs"),
            crate::checkout::through_pgbouncer::NAMES,
        ),
        (
            "catalog.rs",
            include_str!("catalog.rs"),
            crate::catalog::through_pgbouncer::NAMES,
        ),
    ] {
        let tests = tests_in(source);
        assert!(tests.len() > 10, "{file}: found only {tests:?}");
        let listed: HashSet<&str> = listed.iter().copied().collect();
        let missing: Vec<&&str> = tests.iter().filter(|t| !listed.contains(**t)).collect();
        assert!(
            missing.is_empty(),
            "{file}: add these to its through_pgbouncer list: {missing:?}"
        );
    }
}

/// A pool of `connections` on `url`, all opened before it returns, with the
/// statement cache on or off (`transaction_pooling`).
fn pool(url: &str, connections: u32, transaction_pooling: bool) -> PgPool {
    build_pool(&StoreConfig {
        pool_max_size: connections,
        pool_min_idle: connections,
        connection_timeout: Duration::from_secs(10),
        transaction_pooling,
        ..StoreConfig::new(url)
    })
    .unwrap()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Statements prepared in this session, by name.
fn prepared_statements(conn: &mut PgConnection) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM pg_prepared_statements")
        .get_result::<Count>(conn)
        .unwrap()
        .n
}

#[test]
fn the_switch_turns_the_statement_cache_off() {
    let db = TestDb::new();
    for (transaction_pooling, kept) in [(false, 1), (true, 0)] {
        let pool = pool(db.url(), 1, transaction_pooling);
        let mut conn = get_conn(&pool).unwrap();
        // A query of diesel's DSL, which its statement cache keeps prepared.
        let count =
            |conn: &mut PgConnection| products::table.count().get_result::<i64>(conn).unwrap();
        count(&mut conn);
        count(&mut conn);
        assert_eq!(
            prepared_statements(&mut conn),
            kept,
            "transaction_pooling = {transaction_pooling}"
        );
    }
}

/// Runs `calls` variant reads (queries diesel keeps prepared) from 8 threads on
/// `store`; returns the errors.
fn many_clients_read(store: &PgStore, variant: VariantId, calls: usize) -> Vec<String> {
    let errors = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..calls / 8 {
                    match store.variant(variant) {
                        Ok(found) => assert_eq!(found.id(), variant),
                        Err(err) => errors.lock().unwrap().push(err.to_string()),
                    }
                }
            });
        }
    });
    errors.into_inner().unwrap()
}

#[test]
fn through_pgbouncer_the_statement_cache_breaks_unless_switched_off() {
    let shop = Shop::new(&[5]);
    let product = shop.products[0];
    // Two server connections for eight clients.
    let bouncer = shop.db.start_pgbouncer(2).unwrap();
    let url = shop.db.url_through(&bouncer);

    // Two clients, one after the other, on the same server connection: the second
    // prepares its first statement under the name the first one already used there.
    {
        let solo = shop.db.start_pgbouncer(1).unwrap();
        let pool = pool(&shop.db.url_through(&solo), 2, false);
        let (mut a, mut b) = (get_conn(&pool).unwrap(), get_conn(&pool).unwrap());
        let count = |conn: &mut PgConnection| products::table.count().get_result::<i64>(conn);
        assert_eq!(count(&mut a).unwrap(), 1);
        let err = count(&mut b).unwrap_err().to_string();
        assert!(
            err.contains("prepared statement") && err.contains("already exists"),
            "{err}"
        );
    }

    let cached = PgStore::with_rules(pool(&url, 8, false), rules());
    let errors = many_clients_read(&cached, product, 400);
    assert!(
        !errors.is_empty(),
        "with the statement cache on, clients sharing server connections collide"
    );
    assert!(
        errors.iter().any(|e| e.contains("prepared statement")),
        "{errors:?}"
    );

    let switched = PgStore::with_rules(pool(&url, 8, true), rules());
    assert_eq!(
        many_clients_read(&switched, product, 400),
        Vec::<String>::new()
    );
    drop((cached, switched));
    ecom_store::wait_for_opening_connections(Duration::from_secs(10));
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Settings {
    #[diesel(sql_type = Text)]
    statement_timeout: String,
    #[diesel(sql_type = Text)]
    idle_in_transaction: String,
    #[diesel(sql_type = Text)]
    application_name: String,
    #[diesel(sql_type = Integer)]
    backend: i32,
}

fn settings(conn: &mut PgConnection) -> Result<Settings, StoreError> {
    Ok(diesel::sql_query(
        "SELECT current_setting('statement_timeout') AS statement_timeout, \
                current_setting('idle_in_transaction_session_timeout') AS idle_in_transaction, \
                current_setting('application_name') AS application_name, \
                pg_backend_pid() AS backend",
    )
    .get_result(conn)?)
}

/// A store through `url` with its own timeouts and name, and one connection, opened
/// before it returns (no connection is opened later, at a moment of the pool's
/// choosing).
fn store_named(url: &str, name: &str, timeout_ms: u64, transaction_pooling: bool) -> PgStore {
    let config = StoreConfig {
        pool_max_size: 1,
        pool_min_idle: 1,
        statement_timeout: Duration::from_millis(timeout_ms),
        idle_in_transaction_timeout: Duration::from_millis(timeout_ms * 2),
        application_name: name.into(),
        transaction_pooling,
        ..StoreConfig::new(url)
    };
    PgStore::with_rules(build_pool(&config).unwrap(), rules())
}

/// The settings seen inside a transaction of `store`'s reader, and inside one of
/// [`transaction_with_retry`] on a connection of its pool.
fn seen_in_transactions(store: &PgStore) -> (Settings, Settings) {
    let read = store.writer_reader().run(settings).unwrap();
    let mut conn = get_conn(store.pool()).unwrap();
    let written = transaction_with_retry(&mut conn, RetryPolicy::default(), settings).unwrap();
    (read, written)
}

#[test]
fn session_settings_hold_through_pgbouncer_for_each_store_sharing_a_server_connection() {
    let db = TestDb::new();
    // One server connection: every client below takes turns on it.
    let bouncer = db.start_pgbouncer(1).unwrap();
    let url = db.url_through(&bouncer);

    // Without the switch each pool sets its timeouts once, on the server connection
    // it had when it connected: the second pool's overwrite the first's.
    let a = store_named(&url, "store-a", 1500, false);
    let b = store_named(&url, "store-b", 4000, false);
    let (in_a, _) = seen_in_transactions(&a);
    assert_eq!(
        in_a.statement_timeout, "4s",
        "store-b's timeout leaked into store-a's transactions"
    );
    drop((a, b));
    // They stay on the server connection after the pools are gone: a fresh one.
    drop(bouncer);
    let bouncer = db.start_pgbouncer(1).unwrap();
    let url = db.url_through(&bouncer);

    let a = store_named(&url, "store-a", 1500, true);
    let b = store_named(&url, "store-b", 4000, true);
    for _ in 0..3 {
        for (store, timeout, idle, name) in
            [(&a, "1500ms", "3s", "store-a"), (&b, "4s", "8s", "store-b")]
        {
            let (read, written) = seen_in_transactions(store);
            for seen in [&read, &written] {
                assert_eq!(
                    (
                        seen.statement_timeout.as_str(),
                        seen.idle_in_transaction.as_str(),
                        seen.application_name.as_str(),
                    ),
                    (timeout, idle, name)
                );
            }
        }
    }
    let (in_a, _) = seen_in_transactions(&a);
    let (in_b, _) = seen_in_transactions(&b);
    assert_eq!(
        in_a.backend, in_b.backend,
        "both stores ran on pgbouncer's one server connection"
    );

    // The timeout is enforced, not only shown.
    let slow = a
        .writer_reader()
        .run(|conn| Ok(diesel::sql_query("SELECT pg_sleep(3)").execute(conn)?))
        .unwrap_err();
    assert!(
        matches!(&slow, StoreError::Unavailable { message } if message.contains("statement timeout")),
        "{slow:?}"
    );
    // SET LOCAL ends with the transaction: outside one, the server connection has
    // the server's default again, whichever client last ran on it.
    let mut conn = get_conn(a.pool()).unwrap();
    assert_eq!(settings(&mut conn).unwrap().statement_timeout, "0");
    drop(conn);
    drop((a, b));
    ecom_store::wait_for_opening_connections(Duration::from_secs(10));
}
