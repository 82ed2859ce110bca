//! The embedded migrations (`/migrations` of the workspace), a runner that is safe
//! to call from several processes at once, and the check a service makes at start-up.
//!
//! Migrations run as the owner of the schema, services as a member of the
//! application role, which may change no schema. A service therefore does not
//! migrate when it starts: a migrate command (or job) runs [`migrate_database`] with
//! `DATABASE_MIGRATION_URL`, the owner's URL, and the service, on `DATABASE_URL`,
//! only checks that nothing is pending ([`check_schema`]):
//!
//! ```no_run
//! use ecom_store::{PgStore, StoreConfig, build_pool, check_schema, migrate_database};
//!
//! let config = StoreConfig::from_env()?;
//! if std::env::args().nth(1).as_deref() == Some("migrate") {
//!     for version in migrate_database(&config)? {
//!         println!("applied {version}");
//!     }
//!     return Ok(());
//! }
//! let pool = build_pool(&config)?;
//! check_schema(&pool)?; // StoreError::SchemaOutdated until the migrate command ran
//! let store = PgStore::new(pool);
//! # Ok::<(), ecom_store::StoreError>(())
//! ```

use diesel::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::{PgPool, StoreConfig, StoreError};

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
/// waits, then finds nothing pending. Each migration runs in its own transaction. A
/// user who may not change the schema (the application role) gets
/// [`StoreError::PermissionDenied`] before anything runs.
pub fn migrate(conn: &mut PgConnection) -> Result<(), StoreError> {
    migrate_with_roles(conn, &Roles::from_env())
}

/// [`migrate`], granting to `roles`.
pub fn migrate_with_roles(conn: &mut PgConnection, roles: &Roles) -> Result<(), StoreError> {
    apply_pending(conn, roles).map(drop)
}

/// Runs the pending migrations as the owner of the schema, on a connection of its own
/// to [`StoreConfig::url_for_migrations`] (`DATABASE_MIGRATION_URL`, else
/// `DATABASE_URL`), granting to the roles of [`Roles::from_env`]. Returns the
/// versions it applied, oldest first: none when another process got there first.
///
/// This is what a service's migrate command or deployment job calls; the service
/// itself connects as the application role and calls [`check_schema`]. With the
/// application role's URL it fails with [`StoreError::PermissionDenied`].
pub fn migrate_database(config: &StoreConfig) -> Result<Vec<String>, StoreError> {
    let mut conn = PgConnection::establish(config.url_for_migrations())?;
    diesel::sql_query("SELECT set_config('application_name', $1, false)")
        .bind::<Text, _>(format!("{}-migrate", config.application_name))
        .execute(&mut conn)?;
    apply_pending(&mut conn, &Roles::from_env())
}

/// [`migrate`] on a connection borrowed from `pool`, for a pool whose user owns the
/// schema (tests, tools, a deployment with a single role). A service's pool connects
/// as the application role: it calls [`check_schema`], and [`migrate_database`]
/// migrates.
pub fn migrate_pool(pool: &PgPool) -> Result<(), StoreError> {
    let mut conn = crate::pool::get_conn(pool)?;
    migrate(&mut conn)
}

/// Refuses a database whose schema is behind this build: `Ok` when every embedded
/// migration is applied, else [`StoreError::SchemaOutdated`] naming the pending ones.
/// Reads diesel's bookkeeping only, so the application role may call it at start-up
/// (it may read `__diesel_schema_migrations`, never write it). A schema ahead of the
/// build (a newer release migrated already) passes: migrations only add what older
/// code can run beside.
pub fn check_schema(pool: &PgPool) -> Result<(), StoreError> {
    let mut conn = crate::pool::get_conn(pool)?;
    let pending = pending_versions(&mut conn)?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err(StoreError::SchemaOutdated { pending })
    }
}

/// The embedded migrations' versions not applied in `conn`'s database, oldest first,
/// read without creating anything (unlike diesel's own harness): any role that may
/// read `__diesel_schema_migrations` may ask, and a role that may not gets
/// [`StoreError::PermissionDenied`] saying why.
pub fn pending_versions(conn: &mut PgConnection) -> Result<Vec<String>, StoreError> {
    #[derive(QueryableByName)]
    struct Bookkeeping {
        #[diesel(sql_type = Bool)]
        present: bool,
        #[diesel(sql_type = Bool)]
        readable: bool,
        #[diesel(sql_type = Text)]
        user: String,
    }
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Text)]
        version: String,
    }
    let table = diesel::sql_query(
        "SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS present, \
                coalesce(has_table_privilege(to_regclass('__diesel_schema_migrations'), 'SELECT'), false) AS readable, \
                current_user::text AS user",
    )
    .get_result::<Bookkeeping>(conn)?;
    let mut applied = std::collections::HashSet::new();
    if table.present && !table.readable {
        return Err(StoreError::PermissionDenied {
            message: format!(
                "role {:?} may not read __diesel_schema_migrations, so it cannot tell whether \
                 the schema is up to date: run the migrations as the owner of the schema \
                 (2026-12-02-000019 lets the application and read-only roles read it)",
                table.user
            ),
        });
    }
    if table.present {
        applied.extend(
            diesel::sql_query("SELECT version::text AS version FROM __diesel_schema_migrations")
                .load::<Version>(conn)?
                .into_iter()
                .map(|row| row.version),
        );
    }
    let mut pending: Vec<String> = embedded_versions()?
        .into_iter()
        .filter(|version| !applied.contains(version))
        .collect();
    pending.sort();
    Ok(pending)
}

/// The versions of the embedded migrations, oldest first.
fn embedded_versions() -> Result<Vec<String>, StoreError> {
    let mut versions: Vec<String> =
        diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
            .map_err(StoreError::Migration)?
            .iter()
            .map(|migration| migration.name().version().to_string())
            .collect();
    versions.sort();
    Ok(versions)
}

/// Runs the pending migrations under the lock; the versions applied, oldest first.
fn apply_pending(conn: &mut PgConnection, roles: &Roles) -> Result<Vec<String>, StoreError> {
    require_schema_owner(conn)?;
    with_migration_lock(conn, roles, |conn| {
        conn.run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(migration_error)
    })
}

/// Refuses, before anything runs, a user who could not carry the migrations out: one
/// who may not create in the schema, or does not own the migrations' bookkeeping
/// table (and so not the tables either).
fn require_schema_owner(conn: &mut PgConnection) -> Result<(), StoreError> {
    #[derive(QueryableByName)]
    struct Rights {
        #[diesel(sql_type = Text)]
        user: String,
        #[diesel(sql_type = Text)]
        schema: String,
        #[diesel(sql_type = Bool)]
        may_create: bool,
        #[diesel(sql_type = Bool)]
        owns_bookkeeping: bool,
    }
    let rights = diesel::sql_query(
        "SELECT current_user::text AS user, coalesce(current_schema(), '')::text AS schema, \
                coalesce(has_schema_privilege(current_schema(), 'CREATE'), false) AS may_create, \
                coalesce((SELECT pg_has_role(relowner, 'USAGE') FROM pg_class \
                          WHERE oid = to_regclass('__diesel_schema_migrations')), true) AS owns_bookkeeping",
    )
    .get_result::<Rights>(conn)?;
    let refusal = if !rights.may_create {
        format!("it may not create in schema {:?}", rights.schema)
    } else if !rights.owns_bookkeeping {
        "it does not own the schema's tables".to_owned()
    } else {
        return Ok(());
    };
    Err(StoreError::PermissionDenied {
        message: format!(
            "role {:?} may not run migrations: {refusal}; run them as the owner of the schema \
             (DATABASE_MIGRATION_URL), not as the application role",
            rights.user
        ),
    })
}

/// A refused privilege inside a migration becomes [`StoreError::PermissionDenied`];
/// diesel's migration errors keep no typed database error to match on, only text.
fn migration_error(err: Box<dyn std::error::Error + Send + Sync>) -> StoreError {
    let text = err.to_string();
    if text.contains("permission denied") || text.contains("must be owner of") {
        StoreError::PermissionDenied { message: text }
    } else {
        StoreError::Migration(err)
    }
}

/// Reverts every applied migration, newest first; for tests and development only.
pub fn revert_all(conn: &mut PgConnection) -> Result<(), StoreError> {
    with_migration_lock(conn, &Roles::from_env(), |conn| {
        conn.revert_all_migrations(MIGRATIONS)
            .map(drop)
            .map_err(migration_error)
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

/// Takes the migration lock, waiting for another migrator to finish. It asks with
/// `pg_try_advisory_lock` and sleeps between tries rather than block in
/// `pg_advisory_lock`: a statement that blocks holds a snapshot, and a
/// `CREATE INDEX CONCURRENTLY` in the migrating session waits for every older
/// snapshot to end, so the two sessions would deadlock.
fn acquire_migration_lock(conn: &mut PgConnection) -> Result<(), StoreError> {
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        taken: bool,
    }
    loop {
        let Taken { taken } = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS taken")
            .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
            .get_result(conn)?;
        if taken {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn with_migration_lock<T>(
    conn: &mut PgConnection,
    roles: &Roles,
    work: impl FnOnce(&mut PgConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    acquire_migration_lock(conn)?;
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
