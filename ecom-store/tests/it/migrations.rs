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

/// The newest migration applied while checkouts run: they are never blocked for
/// longer than the migration's `lock_timeout`.
#[test]
fn the_newest_migration_does_not_block_checkouts() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use ecom_domain::prelude::*;
    use ecom_store::{PgStore, StoreConfig, build_pool};

    let db = TestDb::unmigrated();
    let mut owner = db.connect();
    let all = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .unwrap()
        .len();
    for _ in 0..all - 1 {
        owner.run_next_migration(MIGRATIONS).unwrap();
    }
    let newest = MigrationHarness::pending_migrations(&mut owner, MIGRATIONS).unwrap();
    assert_eq!(newest.len(), 1);
    let newest_sql = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../migrations")
            .join(newest[0].name().to_string())
            .join("up.sql"),
    )
    .unwrap();
    let lock_timeout = Duration::from_secs(5);
    assert!(
        newest_sql.contains("SET LOCAL lock_timeout = '5s'"),
        "the newest migration sets the lock timeout this test holds it to"
    );

    // Checkouts as the owner: the application role gets its grants from migrations.
    let pool = build_pool(&StoreConfig {
        pool_max_size: 4,
        pool_min_idle: 0,
        ..StoreConfig::new(db.owner_url())
    })
    .unwrap();
    let store = PgStore::new(pool);
    let category = crate::util::category(&store, "live");
    let product = crate::util::product(&store, category.id, "LIVE-1", 100_000);

    let stop = Arc::new(AtomicBool::new(false));
    let buyers: Vec<_> = (0..3u32)
        .map(|buyer| {
            let (store, stop) = (store.clone(), stop.clone());
            thread::spawn(move || {
                let mut longest = Duration::ZERO;
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let started = Instant::now();
                    let guest = crate::util::guest_owner(buyer * 100_000 + n);
                    let cart = store.open_cart(&guest, Currency::EUR).unwrap();
                    store
                        .add_item(cart.id, product.id, Quantity::new(1).unwrap())
                        .unwrap();
                    store
                        .checkout(&crate::util::request(cart.id, &format!("live-{buyer}-{n}")))
                        .unwrap();
                    longest = longest.max(started.elapsed());
                }
                (n, longest)
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    migrate::migrate(&mut owner).unwrap();
    let took = started.elapsed();
    thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for buyer in buyers {
        let (checkouts, longest) = buyer.join().unwrap();
        assert!(checkouts > 0);
        assert!(
            longest < lock_timeout,
            "a checkout took {longest:?} while the migration ran ({took:?})"
        );
    }
    assert!(
        MigrationHarness::pending_migrations(&mut owner, MIGRATIONS)
            .unwrap()
            .is_empty()
    );
}
