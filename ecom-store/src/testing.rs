//! A database per test, cloned from a migrated template, dropped when the test ends.
//!
//! The server is `DATABASE_URL`'s if set, else the private cluster of [`crate::dev`].
//! Tests connect as the application role, as a service does: on `DATABASE_URL`'s
//! server its user needs `CREATEDB` and `CREATEROLE` (to let that role log in), and
//! the server must admit the role without a password; when it cannot log in,
//! [`TestDb::try_new`] fails with [`DevError::AppRoleLogin`] rather than test as the
//! owner. The template `ecom_template_<hash of the
//! migrations>` is built once per server and migrations version, by whichever test
//! process gets there first (under an advisory lock); cloning it costs tens of
//! milliseconds, so tests never share data and run in parallel.
//!
//! ```no_run
//! use diesel::prelude::*;
//! let db = ecom_store::testing::TestDb::new();
//! let mut conn = db.pool().get()?;
//! diesel::sql_query("INSERT INTO categories (slug, name) VALUES ('tea', 'Tea')").execute(&mut conn)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use crate::config::with_database;
use crate::dev::{DevError, PgBouncer, PgBouncerConfig, PrivateCluster, Replication, quote_ident};
use crate::{PgPool, StoreConfig};

/// The advisory lock key held while the template is built ("ecom-tpl").
const TEMPLATE_LOCK_KEY: i64 = 0x6563_6f6d_2d74_706c;

/// The name of the template database for the embedded migrations.
pub fn template_name() -> String {
    format!("ecom_template_{}", crate::migrate::MIGRATIONS_HASH)
}

/// A database of its own for one test; dropped (`WITH (FORCE)`) on drop.
///
/// [`TestDb::url`] and [`TestDb::pool`] connect as the application role (as a
/// service does: no DDL, no TRUNCATE, append-only history), [`TestDb::owner_url`]
/// and [`TestDb::connect`] as the owner of the schema, for arranging and inspecting.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
    owner_url: String,
    admin_url: String,
    pool: OnceLock<PgPool>,
}

impl TestDb {
    /// A fully migrated database, cloned from the template.
    ///
    /// # Panics
    /// If the server cannot be reached or the template cannot be built: there is no
    /// test to run then, and the message says why.
    pub fn new() -> Self {
        Self::try_new().unwrap_or_else(|err| panic!("cannot create a test database: {err}"))
    }

    /// Like [`TestDb::new`], returning the error.
    pub fn try_new() -> Result<Self, DevError> {
        Self::try_new_on(&admin_url()?)
    }

    /// Like [`TestDb::try_new`], on the server of `server_url` (any database of it)
    /// rather than the test server.
    pub fn try_new_on(server_url: &str) -> Result<Self, DevError> {
        let admin_url = with_database(server_url, "postgres");
        let template = ensure_template(&admin_url)?;
        let app_url = app_url(&admin_url)?;
        Self::create(admin_url, &app_url, &template)
    }

    /// An empty database without migrations (cloned from `template0`), for testing
    /// the migrations themselves. Its [`TestDb::url`] is the application role's,
    /// which has no rights in it until the test migrates it.
    ///
    /// # Panics
    /// If the server cannot be reached.
    pub fn unmigrated() -> Self {
        (|| {
            let admin_url = admin_url()?;
            // The migrated template's migrations create the roles (cluster-wide).
            ensure_template(&admin_url)?;
            let app_url = app_url(&admin_url)?;
            Self::create(admin_url, &app_url, "template0")
        })()
        .unwrap_or_else(|err| panic!("cannot create a test database: {err}"))
    }

    fn create(admin_url: String, app_url: &str, template: &str) -> Result<Self, DevError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros()
            % 1_000_000_000;
        let name = format!(
            "ecom_test_{}_{}_{stamp}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = connect(&admin_url)?;
        diesel::sql_query(format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(&name),
            quote_ident(template)
        ))
        .execute(&mut admin)
        .map_err(|err| DevError::Database {
            action: format!("create test database {name} from {template}"),
            message: err.to_string(),
        })?;
        Ok(Self {
            url: with_database(app_url, &name),
            owner_url: with_database(&admin_url, &name),
            name,
            admin_url,
            pool: OnceLock::new(),
        })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's URL as the application role.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's URL as the owner of its tables (who runs migrations, seeds and
    /// may change the schema).
    pub fn owner_url(&self) -> &str {
        &self.owner_url
    }

    /// A small pool (up to 5 connections, opened on demand) for this database.
    pub fn pool(&self) -> &PgPool {
        self.pool.get_or_init(|| {
            let config = StoreConfig {
                pool_max_size: 5,
                pool_min_idle: 0,
                connection_timeout: Duration::from_secs(10),
                application_name: "ecom-store-test".into(),
                ..StoreConfig::new(&self.url)
            };
            crate::build_pool(&config)
                .unwrap_or_else(|err| panic!("cannot build a pool for {}: {err}", self.name))
        })
    }

    /// A pgbouncer in transaction mode in front of this database's server, with
    /// `pool_size` server connections per database and user, admitting the application
    /// role and the owner without a password (as the private cluster does; a
    /// `DATABASE_URL` server must too). Connect with [`TestDb::url_through`]; drop it
    /// after the pools that use it.
    pub fn start_pgbouncer(&self, pool_size: u32) -> Result<PgBouncer, DevError> {
        PgBouncer::start(&PgBouncerConfig::in_front_of(&self.admin_url)?.pool_size(pool_size))
    }

    /// This database's URL through `bouncer`, as the application role.
    pub fn url_through(&self, bouncer: &PgBouncer) -> String {
        bouncer.url_as(&crate::migrate::Roles::from_env().app, &self.name)
    }

    /// A new connection as the owner, outside the pool, for arranging and inspecting.
    ///
    /// # Panics
    /// If the database cannot be reached.
    pub fn connect(&self) -> PgConnection {
        connect(&self.owner_url).unwrap_or_else(|err| panic!("{err}"))
    }
}

impl Default for TestDb {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Close our pool first; FORCE ends whatever sessions a test leaked. The test's
        // own pools are gone by now (declared after this database, dropped before it),
        // but their threads may still be opening connections: the test process must
        // not exit under them.
        drop(self.pool.take());
        crate::wait_for_opening_connections(Duration::from_secs(10));
        let dropped = connect(&self.admin_url).and_then(|mut admin| {
            diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&self.name)
            ))
            .execute(&mut admin)
            .map_err(|err| DevError::Database {
                action: format!("drop test database {}", self.name),
                message: err.to_string(),
            })
        });
        if let Err(err) = dropped {
            // Never panic in drop (it may run during a panic); a leftover database
            // is harmless and named after the process that left it.
            eprintln!("warning: {err}");
        }
    }
}

/// The maintenance database URL of the test server, computed once per process.
fn admin_url() -> Result<String, DevError> {
    static ADMIN_URL: Mutex<Option<String>> = Mutex::new(None);
    let mut cached = ADMIN_URL
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    if let Some(url) = &*cached {
        return Ok(url.clone());
    }
    let url = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => with_database(&url, "postgres"),
        None => PrivateCluster::ensure()?.url("postgres"),
    };
    *cached = Some(url.clone());
    Ok(url)
}

/// Makes sure the migrated template exists on the server of `admin_url`; returns its
/// name. Built under a temporary name and renamed when complete, so a crash half-way
/// never leaves a template that looks usable.
fn ensure_template(admin_url: &str) -> Result<String, DevError> {
    static READY: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let name = template_name();
    // Also serialises this process's threads, so only one of them asks the server.
    let mut ready = READY.lock().unwrap_or_else(|poison| poison.into_inner());
    let ready = ready.get_or_insert_with(HashSet::new);
    if ready.contains(admin_url) {
        return Ok(name);
    }
    let fail = |action: &str| {
        let action = action.to_owned();
        move |err: diesel::result::Error| DevError::Database {
            action,
            message: err.to_string(),
        }
    };
    let mut admin = connect(admin_url)?;
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
        .execute(&mut admin)
        .map_err(fail("take the template lock"))?;
    let exists = |admin: &mut PgConnection, db: &str| {
        diesel::select(
            sql::<Bool>("EXISTS (SELECT 1 FROM pg_database WHERE datname = ")
                .bind::<Text, _>(db.to_owned())
                .sql(")"),
        )
        .get_result::<bool>(admin)
        .map_err(fail("look up the template"))
    };
    if !exists(&mut admin, &name)? {
        let building = format!("{name}_building");
        for statement in [
            format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&building)
            ),
            format!(
                "CREATE DATABASE {} TEMPLATE template0",
                quote_ident(&building)
            ),
        ] {
            diesel::sql_query(statement)
                .execute(&mut admin)
                .map_err(fail("create the template"))?;
        }
        {
            let mut conn = connect(&with_database(admin_url, &building))?;
            crate::migrate(&mut conn).map_err(|err| DevError::Database {
                action: "migrate the template".into(),
                message: err.to_string(),
            })?;
        }
        for statement in [
            format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote_ident(&building),
                quote_ident(&name)
            ),
            // No sessions on the template, or cloning it fails.
            format!(
                "ALTER DATABASE {} WITH ALLOW_CONNECTIONS false",
                quote_ident(&name)
            ),
        ] {
            diesel::sql_query(statement)
                .execute(&mut admin)
                .map_err(fail("finish the template"))?;
        }
    }
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
        .execute(&mut admin)
        .map_err(fail("release the template lock"))?;
    ready.insert(admin_url.to_owned());
    Ok(name)
}

/// `admin_url` with the application role as its user, once that role may log in and
/// does: it is created NOLOGIN by the migrations, and made a login role here.
fn app_url(admin_url: &str) -> Result<String, DevError> {
    static APP_URLS: Mutex<Option<HashMap<String, String>>> = Mutex::new(None);
    let mut cached = APP_URLS.lock().unwrap_or_else(|poison| poison.into_inner());
    let cached = cached.get_or_insert_with(HashMap::new);
    if let Some(url) = cached.get(admin_url) {
        return Ok(url.clone());
    }
    let role = crate::migrate::Roles::from_env().app;
    let cannot = |message: String| DevError::AppRoleLogin {
        role: role.clone(),
        server: crate::config::redact_url(admin_url),
        message,
    };
    let mut admin = connect(admin_url)?;
    // Test processes start side by side, and two ALTER ROLEs of one role at once fail
    // with "tuple concurrently updated": they take turns.
    admin
        .transaction(|admin| {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
                .execute(admin)?;
            diesel::sql_query(format!("ALTER ROLE {} LOGIN", quote_ident(&role))).execute(admin)
        })
        .map_err(|err| cannot(format!("ALTER ROLE {role} LOGIN: {err}")))?;
    let (scheme, rest) = admin_url
        .split_once("://")
        .ok_or_else(|| cannot("the server's URL has no scheme".into()))?;
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let url = format!("{scheme}://{role}@{host}");
    PgConnection::establish(&url).map_err(|err| cannot(format!("connect: {err}")))?;
    cached.insert(admin_url.to_owned(), url.clone());
    Ok(url)
}

fn connect(url: &str) -> Result<PgConnection, DevError> {
    PgConnection::establish(url).map_err(|err| DevError::Database {
        action: format!("connect to {}", crate::config::redact_url(url)),
        message: err.to_string(),
    })
}

/// A primary and a real streaming standby of it, private to one test: two clusters
/// of [`crate::dev`] in `ecom-pg-replicas/` beside the private cluster's directory
/// ([`PrivateCluster::default_dir`]), with a migrated database
/// `ecom` on the primary that the standby replays. Tests may stop, kill, pause or
/// promote either; both are killed and deleted on drop.
///
/// Always the private clusters, even with `DATABASE_URL` set: a test needs a
/// primary it may kill.
///
/// ```no_run
/// use ecom_store::dev::Replication;
/// let pair = ecom_store::testing::ReplicatedDb::new(Replication::Synchronous);
/// println!("writer {} reader {}", pair.writer_url(), pair.standby_url());
/// ```
#[derive(Debug)]
pub struct ReplicatedDb {
    /// The primary.
    pub primary: PrivateCluster,
    /// The standby.
    pub standby: PrivateCluster,
    dir: std::path::PathBuf,
}

impl ReplicatedDb {
    /// The database in both clusters.
    pub const DATABASE: &'static str = "ecom";

    /// A migrated primary with a standby following it in `mode`.
    ///
    /// # Panics
    /// If either cluster cannot be created: the message says why.
    pub fn new(mode: Replication) -> Self {
        Self::try_new(mode)
            .unwrap_or_else(|err| panic!("cannot start a primary and standby: {err}"))
    }

    /// Like [`ReplicatedDb::new`], returning the error.
    pub fn try_new(mode: Replication) -> Result<Self, DevError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = PrivateCluster::default_dir()
            .with_file_name("ecom-pg-replicas")
            .join(format!(
                "{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
        if dir.exists() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        let primary = PrivateCluster::ensure_at(dir.join("primary"))?;
        // From here on, drop cleans up whatever was started.
        let mut pair = Self {
            standby: primary.clone(),
            primary,
            dir,
        };
        let url = pair.primary.create_database(Self::DATABASE)?;
        let mut conn = connect(&url)?;
        crate::migrate(&mut conn).map_err(|err| DevError::Database {
            action: "migrate the primary".into(),
            message: err.to_string(),
        })?;
        pair.standby = pair.primary.start_standby(pair.dir.join("standby"), mode)?;
        Ok(pair)
    }

    /// The primary's database.
    pub fn primary_url(&self) -> String {
        self.primary.url(Self::DATABASE)
    }

    /// The standby's database.
    pub fn standby_url(&self) -> String {
        self.standby.url(Self::DATABASE)
    }

    /// A multi-host URL that reaches whichever of the two is the primary
    /// (`target_session_attrs=read-write`), as a `DATABASE_URL` after a failover.
    pub fn writer_url(&self) -> String {
        format!(
            "postgres://{}@127.0.0.1:{},127.0.0.1:{}/{}?target_session_attrs=read-write&connect_timeout=2",
            crate::dev::SUPERUSER,
            self.primary.port(),
            self.standby.port(),
            Self::DATABASE
        )
    }
}

impl Drop for ReplicatedDb {
    fn drop(&mut self) {
        crate::wait_for_opening_connections(Duration::from_secs(10));
        let _ = self.standby.kill();
        let _ = self.primary.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
