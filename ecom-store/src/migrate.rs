//! The embedded migrations (`/migrations` of the workspace) and a runner that is safe
//! to call from several processes at once.

use diesel::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
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

/// The roles the migrations grant privileges to. Services connect as members of
/// `app`, read replicas and reports as members of `readonly`; the migrations
/// themselves run as the owner of the tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    /// Reads and writes rows; no DDL, no TRUNCATE, append-only history.
    pub app: String,
    /// Reads.
    pub readonly: String,
}

impl Default for Roles {
    /// `ecom_app` and `ecom_readonly`.
    fn default() -> Self {
        Self {
            app: "ecom_app".into(),
            readonly: "ecom_readonly".into(),
        }
    }
}

impl Roles {
    /// `ECOM_APP_ROLE` and `ECOM_READONLY_ROLE`, each defaulting as [`Roles::default`].
    pub fn from_env() -> Self {
        let defaults = Self::default();
        let var = |key: &str| {
            std::env::var(key)
                .ok()
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
        };
        Self {
            app: var("ECOM_APP_ROLE").unwrap_or(defaults.app),
            readonly: var("ECOM_READONLY_ROLE").unwrap_or(defaults.readonly),
        }
    }
}

/// Runs all pending migrations on `conn`, as the owner of the schema (the user of
/// `conn`), granting to the roles of [`Roles::from_env`].
///
/// Holds [`MIGRATION_LOCK_KEY`] meanwhile: a second process (or thread) calling this
/// waits, then finds nothing pending. Each migration runs in its own transaction.
pub fn migrate(conn: &mut PgConnection) -> Result<(), StoreError> {
    migrate_with_roles(conn, &Roles::from_env())
}

/// [`migrate`], granting to `roles`.
pub fn migrate_with_roles(conn: &mut PgConnection, roles: &Roles) -> Result<(), StoreError> {
    with_migration_lock(conn, roles, |conn| {
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
    with_migration_lock(conn, &Roles::from_env(), |conn| {
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
    roles: &Roles,
    work: impl FnOnce(&mut PgConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
        .execute(conn)?;
    // The migrations read the role names from these settings (bind parameters: no
    // quoting of the names needed).
    diesel::sql_query(
        "SELECT set_config('ecom.app_role', $1, false), set_config('ecom.readonly_role', $2, false)",
    )
    .bind::<Text, _>(&roles.app)
    .bind::<Text, _>(&roles.readonly)
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
