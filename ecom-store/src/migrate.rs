//! The embedded migrations (`/migrations` of the workspace) and a runner that is safe
//! to call from several processes at once.

use diesel::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::{PgPool, StoreError};

/// The workspace's migrations, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// The `pg_advisory_lock` key held while migrating ("ecom-mig" in ASCII). Advisory
/// locks are per database, so this only serialises runners of the same database.
pub const MIGRATION_LOCK_KEY: i64 = 0x6563_6f6d_2d6d_6967;

/// A fingerprint of the embedded migrations' files, computed by `build.rs`; names the
/// test template database so that changed migrations get a fresh template.
pub const MIGRATIONS_HASH: &str = env!("ECOM_MIGRATIONS_HASH");

/// Runs all pending migrations on `conn`.
///
/// Holds [`MIGRATION_LOCK_KEY`] meanwhile: a second process (or thread) calling this
/// waits, then finds nothing pending. Each migration runs in its own transaction.
pub fn migrate(conn: &mut PgConnection) -> Result<(), StoreError> {
    with_migration_lock(conn, |conn| {
        conn.run_pending_migrations(MIGRATIONS)
            .map(drop)
            .map_err(StoreError::Migration)
    })
}

/// [`migrate`] on a connection borrowed from `pool`.
pub fn migrate_pool(pool: &PgPool) -> Result<(), StoreError> {
    let mut conn = crate::pool::get_conn(pool)?;
    migrate(&mut conn)
}

/// Reverts every applied migration, newest first; for tests and development only.
pub fn revert_all(conn: &mut PgConnection) -> Result<(), StoreError> {
    with_migration_lock(conn, |conn| {
        conn.revert_all_migrations(MIGRATIONS)
            .map(drop)
            .map_err(StoreError::Migration)
    })
}

/// The versions (`20261125000001`...) recorded as applied in `conn`'s database,
/// oldest first.
pub fn applied_versions(conn: &mut PgConnection) -> Result<Vec<String>, StoreError> {
    let mut versions: Vec<String> = conn
        .applied_migrations()
        .map_err(StoreError::Migration)?
        .into_iter()
        .map(|version| version.to_string())
        .collect();
    versions.sort();
    Ok(versions)
}

fn with_migration_lock<T>(
    conn: &mut PgConnection,
    work: impl FnOnce(&mut PgConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn)?;
    let result = work(conn);
    // Released on every path; should the connection have died, so has the lock.
    let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn);
    let value = result?;
    unlocked?;
    Ok(value)
}
