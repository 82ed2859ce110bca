//! Every migration reverses exactly, and concurrent runners do not collide.

use std::process::Command;
use std::sync::{Arc, Barrier};
use std::thread;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_migrations::MigrationHarness;
use ecom_domain::prelude::*;
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

/// The order lines of the database, as text: what must read back unchanged.
#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct LineText {
    #[diesel(sql_type = BigInt)]
    order_id: i64,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    sku: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    price: String,
    #[diesel(sql_type = BigInt)]
    quantity: i64,
}

fn order_lines(conn: &mut PgConnection, id_column: &str) -> Vec<LineText> {
    diesel::sql_query(format!(
        "SELECT order_id, {id_column} AS id, sku, name, unit_price::text AS price, \
         quantity::bigint AS quantity FROM order_lines ORDER BY order_id, line_no"
    ))
    .load(conn)
    .unwrap()
}

fn decimal(text: &str) -> rust_decimal::Decimal {
    text.parse().unwrap()
}

/// `(id, sku, price, stock)` of every product of the one-SKU schema.
fn old_products(conn: &mut PgConnection) -> Vec<(i64, String, String, i64)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        sku: String,
        #[diesel(sql_type = Text)]
        price: String,
        #[diesel(sql_type = BigInt)]
        stock: i64,
    }
    diesel::sql_query(
        "SELECT id, sku, price::text AS price, stock_on_hand::bigint AS stock \
         FROM products ORDER BY id",
    )
    .load::<Row>(conn)
    .unwrap()
    .into_iter()
    .map(|r| (r.id, r.sku, r.price, r.stock))
    .collect()
}

/// Data written under the one-SKU-per-product schema survives the variants
/// migration: each product's SKU, price and stock become its default variant's,
/// under the product's own id, so every cart and order line points at the same id
/// and every order reads back unchanged through the store. Down puts the old shape
/// back with the same data, a product with several variants split into one product
/// per variant.
#[test]
fn products_become_default_variants_and_every_order_reads_back_unchanged() {
    const BEFORE_VARIANTS: &str = "20261202000200";
    let db = TestDb::unmigrated();
    let mut owner = db.connect();
    while !migrate::applied_versions(&mut owner)
        .unwrap()
        .iter()
        .any(|v| v == BEFORE_VARIANTS)
    {
        owner.run_next_migration(MIGRATIONS).unwrap();
    }
    // Written as the first version wrote it: SKUs whose hyphens a slug cannot keep.
    for statement in [
        "INSERT INTO categories (slug, name) VALUES ('lamps', 'Lamps')",
        "INSERT INTO products (sku, name, category_id, price, currency, stock_on_hand, status) \
         SELECT sku, name, (SELECT id FROM categories), price, 'EUR', stock, status \
         FROM (VALUES ('LAMP-1', 'Desk lamp', 10.50, 5, 'active'), \
                      ('LAMP--2', 'Floor lamp', 99.00, 0, 'active'), \
                      ('LAMP-3-', 'Old lamp', 5.00, 2, 'archived')) AS p (sku, name, price, stock, status)",
        "INSERT INTO carts (guest_token_digest, currency) VALUES (sha256('guest-token-0000000001'), 'EUR')",
        "INSERT INTO cart_lines (cart_id, product_id, quantity) \
         SELECT (SELECT id FROM carts), id, 2 FROM products WHERE sku <> 'LAMP-3-'",
        "INSERT INTO orders (guest_email, currency, subtotal, grand_total, payment_deadline) \
         SELECT 'guest' || n || '@example.com', 'EUR', 0, 0, now() + interval '1 hour' \
         FROM generate_series(1, 3) AS n",
        "INSERT INTO order_addresses (order_id, kind, recipient, line1, city, postal_code, country) \
         SELECT id, kind, 'Ada', '1 Main St', 'Berlin', '10115', 'DE' \
         FROM orders, (VALUES ('shipping'), ('billing')) AS k (kind)",
        "INSERT INTO order_status_history (order_id, to_status, event, at) \
         SELECT id, 'pending_payment', 'checkout', created_at FROM orders",
        "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, unit_price, quantity) \
         SELECT o.id, row_number() OVER (PARTITION BY o.id ORDER BY p.id), p.id, p.sku, p.name, \
                p.price, 1 + (o.id + p.id) % 3 \
         FROM orders o CROSS JOIN products p",
    ] {
        crate::util::setup(&mut owner, statement);
    }
    let lines_before = order_lines(&mut owner, "product_id");
    let products_before = old_products(&mut owner);
    assert_eq!(lines_before.len(), 9);

    migrate::migrate(&mut owner).unwrap();
    let store = crate::util::pg_store(&db);
    assert_eq!(
        order_lines(&mut owner, "variant_id"),
        lines_before,
        "the lines point at the same ids"
    );
    for (id, sku, price, stock) in &products_before {
        let product = store.product(ProductId::new(*id)).unwrap();
        assert_eq!(product.variants.len(), 1, "{product:?}");
        let variant = &product.variants[0];
        assert_eq!(
            variant.id.get(),
            *id,
            "the default variant takes the product's id"
        );
        assert_eq!(variant.sku.as_str(), sku);
        assert_eq!(variant.price.amount(), decimal(price));
        assert_eq!(i64::from(variant.stock_on_hand), *stock);
        assert!(variant.selection.is_empty() && product.options.is_empty());
        assert!(Slug::parse(product.slug.as_str()).is_ok());
    }
    let mut orders: Vec<i64> = lines_before.iter().map(|l| l.order_id).collect();
    orders.dedup();
    for order in orders {
        let read = store.order(OrderId::new(order)).unwrap().order;
        let expected: Vec<&LineText> = lines_before
            .iter()
            .filter(|l| l.order_id == order)
            .collect();
        assert_eq!(read.lines.len(), expected.len());
        for (line, old) in read.lines.iter().zip(expected) {
            assert_eq!(
                (
                    line.variant_id.get(),
                    line.sku.as_str(),
                    line.name.as_str(),
                    line.unit_price.amount(),
                    i64::from(line.quantity.get())
                ),
                (
                    old.id,
                    old.sku.as_str(),
                    old.name.as_str(),
                    decimal(&old.price),
                    old.quantity
                )
            );
            assert!(line.selection.is_empty());
        }
    }
    let cart = store
        .cart(CartId::new(crate::util::scalar(
            &mut owner,
            "min(id) FROM carts",
        )))
        .unwrap();
    let in_cart: Vec<i64> = cart.lines.iter().map(|l| l.variant_id.get()).collect();
    assert_eq!(in_cart, [products_before[0].0, products_before[1].0]);

    // A product with two variants, one of them ordered: down splits it in two.
    let category = store.category_children(None).unwrap()[0].id;
    let option = OptionType::new(
        OptionName::parse("Colour").unwrap(),
        vec![
            OptionValue::parse("Red").unwrap(),
            OptionValue::parse("Blue").unwrap(),
        ],
    )
    .unwrap();
    let pick = |value: &str| {
        OptionSelection::new(vec![OptionChoice {
            option: OptionName::parse("Colour").unwrap(),
            value: OptionValue::parse(value).unwrap(),
        }])
        .unwrap()
    };
    let shade = |sku: &str, colour: &str| NewVariant {
        selection: pick(colour),
        ..NewVariant::default_of(
            Sku::parse(sku).unwrap(),
            Money::parse("7.00", Currency::EUR).unwrap(),
            4,
        )
    };
    let shades = store
        .create_product(NewProduct {
            slug: Slug::parse("shade").unwrap(),
            name: ProductName::parse("Shade").unwrap(),
            description: Description::default(),
            category_id: category,
            status: ProductStatus::Active,
            options: ProductOptions::new(vec![option]).unwrap(),
            variants: vec![shade("SHADE-RED", "Red"), shade("SHADE-BLUE", "Blue")],
        })
        .unwrap();
    let blue = shades.variants[1].clone();
    let guest = crate::util::guest_owner(7);
    let bag = store.open_cart(&guest, Currency::EUR).unwrap();
    store
        .add_item(bag.id, blue.id, Quantity::new(1).unwrap())
        .unwrap();
    let placed = store
        .checkout(&crate::util::request(bag.id, "shade-1"))
        .unwrap();
    let lines_after = order_lines(&mut owner, "variant_id");

    // Down through the variants migration (and every later one).
    while migrate::applied_versions(&mut owner)
        .unwrap()
        .iter()
        .any(|v| v.as_str() > BEFORE_VARIANTS)
    {
        owner.revert_last_migration(MIGRATIONS).unwrap();
    }
    let old = old_products(&mut owner);
    assert_eq!(
        &old[..3],
        &products_before[..],
        "the first products are as they were"
    );
    assert_eq!(old.len(), 5, "one product per variant: {old:?}");
    let (red, blue_product) = (&old[3], &old[4]);
    assert_eq!((red.1.as_str(), red.3), ("SHADE-RED", 4));
    assert_eq!((blue_product.1.as_str(), blue_product.3), ("SHADE-BLUE", 3));
    let names: Vec<String> = diesel::sql_query("SELECT name FROM products ORDER BY id")
        .load::<Name>(&mut owner)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(names[3..], ["Shade", "Shade (Blue)"]);
    let lines_down = order_lines(&mut owner, "product_id");
    assert_eq!(lines_down.len(), lines_after.len());
    for (down, up) in lines_down.iter().zip(&lines_after) {
        let expected_id = if up.id == blue.id.get() {
            blue_product.0
        } else {
            up.id
        };
        assert_eq!(
            (
                down.order_id,
                down.id,
                &down.sku,
                &down.price,
                down.quantity
            ),
            (up.order_id, expected_id, &up.sku, &up.price, up.quantity)
        );
    }
    assert_eq!(
        lines_down.last().map(|l| l.order_id),
        Some(placed.order.id.get())
    );
    // And up again: the same data once more.
    migrate::migrate(&mut owner).unwrap();
    assert_eq!(order_lines(&mut owner, "variant_id")[..9], lines_before[..]);
}
