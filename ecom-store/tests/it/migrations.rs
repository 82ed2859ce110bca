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
/// that pg_dump 15.14+ prints with a random token.
fn schema_dump(url: &str) -> String {
    let pg_dump = ecom_store::dev::bin_dir().unwrap().join("pg_dump");
    let out = Command::new(&pg_dump)
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--dbname",
            url,
        ])
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
        assert_eq!(
            before,
            schema_dump(db.owner_url()),
            "migration {step} does not reverse exactly"
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
    assert_eq!(first, schema_dump(db.owner_url()));
}

fn migration_count() -> usize {
    diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .unwrap()
        .len()
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
