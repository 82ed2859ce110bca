//! Every migration reverses exactly, and concurrent runners do not collide.

use std::process::Command;
use std::sync::{Arc, Barrier};
use std::thread;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_migrations::MigrationHarness;
use ecom_store::migrate::{self, MIGRATIONS};
use ecom_store::testing::TestDb;

/// `pg_dump --schema-only` of the database at `url`, without the `\restrict` lines
/// that pg_dump 15.14+ prints with a random token, and in an order that does not
/// depend on column positions: a down migration that puts back a dropped column can
/// only append it (`ADD COLUMN`), which moves the column and its grants in the dump.
/// Each table's lines and the dump's objects are sorted; nothing else is ignored.
fn schema_dump(url: &str) -> String {
    normalized(&raw_schema_dump(url))
}

fn normalized(dump: &str) -> String {
    let dump = columns_in_name_order(dump);
    let mut objects: Vec<&str> = dump.split("\n--\n-- Name: ").collect();
    objects.sort_unstable();
    objects.join("\n--\n-- Name: ")
}

/// Sorts the lines between `CREATE TABLE ... (` and `);` of a dump.
fn columns_in_name_order(dump: &str) -> String {
    let mut out = Vec::new();
    let mut table: Option<Vec<&str>> = None;
    for line in dump.lines() {
        match &mut table {
            Some(items) if line == ");" => {
                items.sort_unstable();
                out.push(items.join(",\n"));
                out.push(line.to_owned());
                table = None;
            }
            Some(items) => items.push(line.trim_end_matches(',')),
            None => {
                out.push(line.to_owned());
                if line.starts_with("CREATE TABLE ") && line.ends_with('(') {
                    table = Some(Vec::new());
                }
            }
        }
    }
    out.join("\n")
}

#[test]
fn only_the_order_of_columns_and_objects_is_ignored() {
    let table = |columns: &str| format!("CREATE TABLE public.t (\n{columns}\n);");
    let grant = |column: &str| format!("GRANT UPDATE({column}) ON TABLE public.t TO app;");
    let dump = |parts: [String; 3]| normalized(&parts.join("\n--\n-- Name: "));
    let a = dump([
        table("    b int,\n    a int NOT NULL"),
        grant("a"),
        grant("b"),
    ]);
    let moved = dump([
        table("    a int NOT NULL,\n    b int"),
        grant("b"),
        grant("a"),
    ]);
    assert_eq!(a, moved);
    let weaker = dump([table("    a int,\n    b int"), grant("a"), grant("b")]);
    assert_ne!(a, weaker);
    let fewer_grants = dump([
        table("    a int NOT NULL,\n    b int"),
        grant("a"),
        grant("a"),
    ]);
    assert_ne!(a, fewer_grants);
}

fn raw_schema_dump(url: &str) -> String {
    let pg_dump = ecom_store::dev::bin_dir().unwrap().join("pg_dump");
    let out = Command::new(&pg_dump)
        .args(["--schema-only", "--no-owner", "--dbname", url])
        .output()
        .unwrap_or_else(|err| panic!("run {}: {err}", pg_dump.display()));
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("\\restrict") && !line.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(QueryableByName, Debug)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn public_tables(conn: &mut PgConnection) -> Vec<String> {
    diesel::sql_query(
        "SELECT tablename::text AS name FROM pg_tables \
         WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations'",
    )
    .load::<Name>(conn)
    .unwrap()
    .into_iter()
    .map(|row| row.name)
    .collect()
}

#[test]
fn migrations_round_trip_to_an_identical_schema() {
    let db = TestDb::unmigrated();
    let mut conn = db.connect();
    assert_eq!(
        migrate::applied_versions(&mut conn).unwrap(),
        Vec::<String>::new()
    );

    // One migration at a time: down must restore exactly what was there before up.
    let total = migration_count();
    for step in 0..total {
        let before = schema_dump(db.owner_url());
        conn.run_next_migration(MIGRATIONS).unwrap();
        conn.revert_last_migration(MIGRATIONS).unwrap();
        assert_same_schema(
            &before,
            &schema_dump(db.owner_url()),
            &format!("migration {step} does not reverse exactly"),
        );
        conn.run_next_migration(MIGRATIONS).unwrap();
    }

    // All of them: up, down, up gives the same schema.
    let first = schema_dump(db.owner_url());
    migrate::revert_all(&mut conn).unwrap();
    assert_eq!(
        public_tables(&mut conn),
        Vec::<String>::new(),
        "down leaves tables behind"
    );
    migrate::migrate(&mut conn).unwrap();
    assert_same_schema(&first, &schema_dump(db.owner_url()), "up, down, up differs");
}

/// Fails with the lines only one of the two dumps has, not with two whole dumps.
fn assert_same_schema(expected: &str, actual: &str, what: &str) {
    let missing: Vec<&str> = expected.lines().filter(|l| !actual.contains(l)).collect();
    let extra: Vec<&str> = actual.lines().filter(|l| !expected.contains(l)).collect();
    assert!(
        expected == actual,
        "{what}\nonly before: {missing:#?}\nonly after: {extra:#?}"
    );
}

fn migration_count() -> usize {
    diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .unwrap()
        .len()
}

/// Runs `scripts/psql-migrate` with `args` against `url`, with the private cluster's
/// psql; panics with its output if it fails.
fn psql_migrate(url: &str, args: &[&str]) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/psql-migrate");
    let out = Command::new("bash")
        .arg(&script)
        .args(args)
        .env("DATABASE_MIGRATION_URL", url)
        .env("ECOM_PG_BIN", ecom_store::dev::bin_dir().unwrap())
        .output()
        .unwrap_or_else(|err| panic!("run {}: {err}", script.display()));
    assert!(
        out.status.success(),
        "psql-migrate {args:?} failed\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Recorded {
    #[diesel(sql_type = Text)]
    version: String,
    #[diesel(sql_type = Text)]
    run_on: String,
}

fn recorded(conn: &mut PgConnection) -> Vec<Recorded> {
    diesel::sql_query(
        "SELECT version::text AS version, run_on::text AS run_on \
         FROM __diesel_schema_migrations ORDER BY version",
    )
    .load(conn)
    .unwrap()
}

/// A DBA applies the migrations with psql alone (scripts/psql-migrate: one
/// `psql --single-transaction` per migration): up, every down newest first, up again
/// gives the schema diesel's runner makes, diesel's bookkeeping included, and a
/// service's `migrate()` afterwards has nothing left to do.
#[test]
fn psql_alone_migrates_up_down_and_up_to_the_schema_diesel_makes() {
    let by_diesel = TestDb::new();
    let by_psql = TestDb::unmigrated();

    psql_migrate(by_psql.owner_url(), &["up"]);
    psql_migrate(by_psql.owner_url(), &["down", "--all"]);
    let mut conn = by_psql.connect();
    assert_eq!(
        public_tables(&mut conn),
        Vec::<String>::new(),
        "down leaves tables behind"
    );
    assert_eq!(recorded(&mut conn), Vec::new(), "every down is unrecorded");
    psql_migrate(by_psql.owner_url(), &["up"]);

    assert_same_schema(
        &schema_dump(by_diesel.owner_url()),
        &schema_dump(by_psql.owner_url()),
        "psql's schema differs from diesel's",
    );
    let versions = |conn: &mut PgConnection| -> Vec<String> {
        recorded(conn).into_iter().map(|r| r.version).collect()
    };
    assert_eq!(versions(&mut conn), versions(&mut by_diesel.connect()));
    assert_eq!(versions(&mut conn).len(), migration_count());

    // The service's runner takes over: nothing pending, nothing run again.
    let before = recorded(&mut conn);
    assert!(
        MigrationHarness::pending_migrations(&mut conn, MIGRATIONS)
            .unwrap()
            .is_empty()
    );
    migrate::migrate(&mut conn).unwrap();
    assert_eq!(recorded(&mut conn), before, "migrate() ran something again");
    // And psql takes over from it: a second `up` finds nothing either.
    psql_migrate(by_psql.owner_url(), &["up"]);
    assert_eq!(recorded(&mut conn), before);
}

/// The application role, a service's, checks at start-up that the schema is current,
/// and can neither migrate nor change the schema: both refusals are typed errors.
#[test]
fn the_application_role_checks_the_schema_but_may_not_migrate_it() {
    use ecom_store::{StoreConfig, StoreError, build_pool, check_schema};

    let db = TestDb::unmigrated();
    let pool = build_pool(&StoreConfig {
        pool_max_size: 1,
        pool_min_idle: 0,
        ..StoreConfig::new(db.url())
    })
    .unwrap();
    let all: Vec<String> =
        diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
            .unwrap()
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
    match check_schema(&pool) {
        Err(StoreError::SchemaOutdated { pending }) => assert_eq!(pending, all),
        other => panic!("expected SchemaOutdated, got {other:?}"),
    }

    let mut app = PgConnection::establish(db.url()).unwrap();
    match migrate::migrate(&mut app) {
        Err(StoreError::PermissionDenied { message }) => {
            assert!(message.contains("may not run migrations"), "{message}")
        }
        other => panic!("expected PermissionDenied, got {other:?}"),
    }
    let mut owner = db.connect();
    assert_eq!(
        public_tables(&mut owner),
        Vec::<String>::new(),
        "nothing ran"
    );
    assert!(
        diesel::sql_query("SELECT 1 FROM __diesel_schema_migrations")
            .execute(&mut owner)
            .is_err(),
        "not even diesel's table was made"
    );

    migrate::migrate(&mut owner).unwrap();
    check_schema(&pool).unwrap();
    match migrate::migrate(&mut app) {
        Err(StoreError::PermissionDenied { .. }) => {}
        other => panic!("with nothing pending, still PermissionDenied: {other:?}"),
    }

    // A schema one migration behind: the newest is named.
    owner.revert_last_migration(MIGRATIONS).unwrap();
    owner.revert_last_migration(MIGRATIONS).unwrap();
    owner.run_next_migration(MIGRATIONS).unwrap();
    match check_schema(&pool) {
        Err(StoreError::SchemaOutdated { pending }) => {
            assert_eq!(pending, all[all.len() - 1..].to_vec())
        }
        other => panic!("expected SchemaOutdated, got {other:?}"),
    }
}

#[derive(QueryableByName, Debug)]
struct VersionCount {
    #[diesel(sql_type = Text)]
    version: String,
    #[diesel(sql_type = BigInt)]
    runs: i64,
}

#[test]
fn concurrent_migrate_applies_each_migration_once() {
    let db = TestDb::unmigrated();
    let barrier = Arc::new(Barrier::new(2));
    let runners: Vec<_> = (0..2)
        .map(|_| {
            let mut conn = db.connect();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                migrate::migrate(&mut conn)
            })
        })
        .collect();
    for runner in runners {
        runner.join().unwrap().unwrap();
    }
    let counts = diesel::sql_query(
        "SELECT version::text AS version, count(*) AS runs \
         FROM __diesel_schema_migrations GROUP BY version ORDER BY version",
    )
    .load::<VersionCount>(&mut db.connect())
    .unwrap();
    let versions: Vec<&str> = counts.iter().map(|row| row.version.as_str()).collect();
    assert_eq!(
        versions.len(),
        migration_count(),
        "every migration applied: {versions:?}"
    );
    assert!(
        counts.iter().all(|row| row.runs == 1),
        "each exactly once: {counts:?}"
    );
}

/// Migrations that take real locks, applied one by one while three buyers check out
/// as the application role: a column with a default, an index built concurrently, a
/// check added NOT VALID and then validated (`tests/it/locking_migrations/`). Every
/// acknowledged checkout is there exactly once, stock adds up, and the only errors a
/// buyer sees are retryable ones (retried with the same idempotency key). The longest
/// stall of a purchase is printed, not asserted: on a shared machine a wall-clock
/// bound only measures the neighbours.
#[test]
fn locking_migrations_under_checkout_load_lose_nothing_and_report_the_longest_stall() {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Condvar, Mutex};
    use std::time::{Duration, Instant};

    use diesel_migrations::FileBasedMigrations;
    use ecom_domain::prelude::*;
    use ecom_store::{PgStore, StoreConfig, StoreError, build_pool};

    const BUYERS: u32 = 3;
    const STOCK: u32 = 1_000_000;
    /// Delivered orders already there, so that building the index and validating the
    /// check have rows to read.
    const PAST_ORDERS: u32 = 100_000;

    /// Purchases acknowledged and failed so far, for the main thread to wait on.
    struct Progress {
        done: Mutex<(u64, u64)>,
        changed: Condvar,
    }
    impl Progress {
        /// Waits until `target` purchases are acknowledged, or one failed (the
        /// assertions after the buyers stop say how).
        fn wait_for(&self, target: u64) {
            let done = self.done.lock().unwrap();
            let (_done, timeout) = self
                .changed
                .wait_timeout_while(done, Duration::from_secs(120), |(acked, failed)| {
                    *acked < target && *failed == 0
                })
                .unwrap();
            assert!(!timeout.timed_out(), "the buyers stopped buying");
        }
        fn count(&self) -> u64 {
            self.done.lock().unwrap().0
        }
        fn add(&self, acked: u64, failed: u64) {
            let mut done = self.done.lock().unwrap();
            done.0 += acked;
            done.1 += failed;
            self.changed.notify_all();
        }
    }

    /// What one buyer saw.
    #[derive(Default)]
    struct Seen {
        /// Idempotency key -> order, for every acknowledged checkout.
        orders: HashMap<String, OrderId>,
        /// Retryable refusals, each followed by a retry.
        retried: u32,
        /// Anything else: none may happen.
        failures: Vec<String>,
        /// When each acknowledged purchase (cart, line, checkout) started, and how
        /// long it took, retries included.
        purchases: Vec<(Instant, Duration)>,
    }

    let db = TestDb::new();
    let pool = build_pool(&StoreConfig {
        pool_max_size: BUYERS + 1,
        pool_min_idle: 0,
        ..StoreConfig::new(db.url())
    })
    .unwrap();
    let store = PgStore::new(pool);
    let category = crate::util::category(&store, "live");
    let product = crate::util::product(&store, category.id, "LIVE-1", STOCK);
    let variant = crate::util::only(&product);
    let mut owner = db.connect();
    crate::util::setup(
        &mut owner,
        &format!(
            "WITH past AS (INSERT INTO orders (guest_email, currency, subtotal, grand_total, \
                 status, payment_deadline, created_at) \
             SELECT 'past-' || n || '@example.com', 'EUR', 20, 20, 'delivered', \
                 now() - interval '1 day', now() - interval '2 days' \
             FROM generate_series(1, {PAST_ORDERS}) AS n RETURNING id) \
             INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, unit_price, quantity) \
             SELECT id, 1, {}, 'LIVE-1', 'Lamp LIVE-1', 20, 1 FROM past",
            variant.get()
        ),
    );
    crate::util::setup(&mut owner, "ANALYZE orders, order_lines");
    let mut app = PgConnection::establish(db.url()).unwrap();
    let app_role = ecom_store::migrate::Roles::default().app;
    assert_eq!(
        diesel::select(diesel::dsl::sql::<Text>("current_user::text"))
            .get_result::<String>(&mut app)
            .unwrap(),
        app_role,
        "the buyers connect as the application role"
    );

    let progress = Arc::new(Progress {
        done: Mutex::new((0, 0)),
        changed: Condvar::new(),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let buyers: Vec<_> = (0..BUYERS)
        .map(|buyer| {
            let (store, progress) = (store.clone(), progress.clone());
            let stop = stop.clone();
            thread::spawn(move || {
                let mut seen = Seen::default();
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) && seen.failures.is_empty() {
                    n += 1;
                    let key = format!("live-{buyer}-{n}");
                    let started = Instant::now();
                    // A client retries what it may retry, with the same key.
                    let purchase = loop {
                        let attempt = (|| -> Result<OrderId, StoreError> {
                            let guest = crate::util::guest_owner(buyer * 1_000_000 + n);
                            let cart = store.open_cart(&guest, Currency::EUR)?;
                            store.add_item(cart.id, variant, Quantity::new(1)?)?;
                            Ok(store
                                .checkout(&crate::util::request(cart.id, &key))?
                                .order
                                .id)
                        })();
                        match attempt {
                            Err(err) if err.is_retryable() => seen.retried += 1,
                            other => break other,
                        }
                    };
                    let took = started.elapsed();
                    match purchase {
                        Ok(order) => {
                            seen.orders.insert(key, order);
                            seen.purchases.push((started, took));
                            progress.add(1, 0);
                        }
                        Err(err) => {
                            seen.failures.push(format!("{key}: {err}"));
                            progress.add(0, 1);
                        }
                    }
                }
                seen
            })
        })
        .collect();

    // Under way before the first migration, and still after the last.
    progress.wait_for(u64::from(BUYERS) * 20);
    let migrations_started = Instant::now();
    let source = FileBasedMigrations::from_path(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/locking_migrations"),
    )
    .unwrap();
    let mut took = Vec::new();
    for migration in MigrationHarness::pending_migrations(&mut owner, source).unwrap() {
        let started = Instant::now();
        let version = owner
            .run_migration(&*migration)
            .unwrap_or_else(|err| panic!("a migration failed under load: {err}"));
        took.push((version.to_string(), started.elapsed()));
    }
    let migrations_ended = Instant::now();
    let after = progress.count() + u64::from(BUYERS) * 20;
    progress.wait_for(after);
    stop.store(true, Ordering::Relaxed);
    let seen: Vec<Seen> = buyers.into_iter().map(|b| b.join().unwrap()).collect();

    // Nothing but retryable errors, and every acknowledged checkout there once.
    let failures: Vec<&String> = seen.iter().flat_map(|s| &s.failures).collect();
    assert!(failures.is_empty(), "non-retryable errors: {failures:#?}");
    let acknowledged: HashMap<&String, &OrderId> = seen.iter().flat_map(|s| &s.orders).collect();
    let stored = crate::util::orders_by_key(&mut owner);
    for (key, order) in &acknowledged {
        assert_eq!(
            stored.get(key.as_str()),
            Some(&order.get()),
            "acknowledged checkout {key} is not stored as acknowledged"
        );
    }
    let orders = crate::util::scalar(&mut owner, "count(*) FROM orders") - i64::from(PAST_ORDERS);
    assert_eq!(
        orders,
        acknowledged.len() as i64,
        "orders nobody was told of"
    );
    let stock = crate::util::scalar(
        &mut owner,
        &format!(
            "stock_on_hand::bigint FROM product_variants WHERE id = {}",
            variant.get()
        ),
    );
    assert_eq!(stock + orders, i64::from(STOCK), "stock and sales add up");
    // The migrations did what they say.
    assert_eq!(took.len(), 4, "{took:?}");
    assert_eq!(
        crate::util::scalar(
            &mut owner,
            "count(*) FROM pg_index WHERE indexrelid = 'orders_gift_note_idx'::regclass AND indisvalid",
        ),
        1
    );
    assert_eq!(
        crate::util::scalar(
            &mut owner,
            "count(*) FROM pg_constraint WHERE conname = 'order_lines_quantity_cap' AND convalidated",
        ),
        1
    );

    // A purchase stalled by the migrations overlaps them.
    let (mut longest_during, mut longest_outside) = (Duration::ZERO, Duration::ZERO);
    for &(started, took) in seen.iter().flat_map(|s| &s.purchases) {
        let overlaps = started < migrations_ended && started + took > migrations_started;
        let longest = if overlaps {
            &mut longest_during
        } else {
            &mut longest_outside
        };
        *longest = (*longest).max(took);
    }
    let retried: u32 = seen.iter().map(|s| s.retried).sum();
    println!(
        "locking migrations under load ({PAST_ORDERS} past orders): {orders} checkouts by \
         {BUYERS} buyers as {app_role}, {retried} retried; longest purchase \
         {longest_during:?} overlapping the migrations ({:?} in all), \
         {longest_outside:?} outside them",
        migrations_ended - migrations_started
    );
    for (version, took) in &took {
        println!("  migration {version}: {took:?}");
    }
}
