//! The r2d2 connection pool, with session settings applied to every connection and,
//! optionally, a fresh password for each new connection (RDS IAM auth tokens).
//!
//! Behind a transaction-pooling proxy ([`StoreConfig::transaction_pooling`]) the
//! connections keep no prepared statements and take the session settings at the start
//! of every transaction instead; see the [config docs](crate::config#behind-a-transaction-pooling-proxy).

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::connection::{
    AnsiTransactionManager, CacheSize, Instrumentation, InstrumentationEvent, TransactionManager,
};
use diesel::pg::{Pg, PgQueryBuilder};
use diesel::prelude::*;
use diesel::query_builder::{QueryBuilder, QueryFragment};
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::sql_types::Text;
use diesel::{ConnectionError, PgConnection};

use crate::config::{redact_url, with_password, with_startup_parameter};
use crate::{StoreConfig, StoreError};

/// A pool of PostgreSQL connections.
pub type PgPool = Pool<StoreConnectionManager>;

/// A connection borrowed from a [`PgPool`]; returns to the pool on drop.
pub type PooledConn = PooledConnection<StoreConnectionManager>;

/// Where each new connection's password comes from when it is not fixed in the URL:
/// an RDS IAM auth token, valid for 15 minutes, is made fresh for every connection.
pub trait PasswordSource: Send + Sync + fmt::Debug + 'static {
    /// The password for a connection about to be opened; called once per connection.
    /// The error text must not contain secrets: it ends up in logs.
    fn password(&self) -> Result<String, String>;
}

/// Opens the pool's connections: with the URL as it is, or with the password of each
/// new connection taken from a [`PasswordSource`]; then applies the
/// [`SessionSettings`], if any, for the session or, behind a transaction-pooling
/// proxy, per transaction.
#[derive(Clone)]
pub struct StoreConnectionManager {
    url: String,
    password: Option<Arc<dyn PasswordSource>>,
    session: Option<SessionSettings>,
    transaction_pooling: bool,
}

impl StoreConnectionManager {
    /// Connections to `url`, with a password from `password` when given.
    pub fn new(url: impl Into<String>, password: Option<Arc<dyn PasswordSource>>) -> Self {
        Self {
            url: url.into(),
            password,
            session: None,
            transaction_pooling: false,
        }
    }

    /// The same, with `session` applied to every new connection.
    pub fn with_session(self, session: SessionSettings) -> Self {
        Self {
            session: Some(session),
            ..self
        }
    }

    /// The same, for a URL that reaches PostgreSQL through a transaction-pooling proxy
    /// when `on`: connections keep no prepared statements, and the session settings'
    /// timeouts are set at the start of each transaction (`SET LOCAL`) rather than once
    /// per connection. See [`StoreConfig::transaction_pooling`].
    pub fn with_transaction_pooling(self, on: bool) -> Self {
        Self {
            transaction_pooling: on,
            ..self
        }
    }

    fn open(&self) -> Result<PgConnection, diesel::r2d2::Error> {
        let mut url = match &self.password {
            None => Cow::Borrowed(self.url.as_str()),
            Some(source) => {
                let password = source.password().map_err(|e| {
                    diesel::r2d2::Error::ConnectionError(ConnectionError::BadConnection(format!(
                        "no password for a new connection: {e}"
                    )))
                })?;
                Cow::Owned(with_password(&self.url, &password))
            }
        };
        if let (Some(session), true) = (&self.session, self.transaction_pooling) {
            // A startup parameter, which a proxy keeps per client (pgbouncer sets it on
            // each server connection it lends), rather than a SET, which RDS Proxy
            // answers by pinning the client to one server connection for good.
            url = Cow::Owned(with_startup_parameter(
                &url,
                "application_name",
                &session.application_name,
            ));
        }
        // Logged with the password hidden: the URL may carry one, or an IAM token.
        let shown = redact_url(&self.url);
        tracing::debug!(url = %shown, "opening a database connection");
        let mut conn = PgConnection::establish(&url).map_err(|err| {
            tracing::warn!(url = %shown, error = %err, "could not open a database connection");
            diesel::r2d2::Error::ConnectionError(err)
        })?;
        let per_transaction = match (&self.session, self.transaction_pooling) {
            (Some(session), true) => Some(Arc::from(session.per_transaction_sql())),
            _ => None,
        };
        conn.set_instrumentation(StoreInstrumentation { per_transaction });
        if self.transaction_pooling {
            // Named statements would outlive the transaction on a server connection
            // that the proxy lends to other clients next.
            conn.set_prepared_statement_cache_size(CacheSize::Disabled);
        }
        if let (Some(session), false) = (&self.session, self.transaction_pooling) {
            session
                .apply(&mut conn)
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(conn)
    }
}

/// The instrumentation of the pool's connections: it traces transactions, and carries
/// the `SET LOCAL` statements every transaction on the connection begins with (behind
/// a transaction-pooling proxy). The store's transactions get a bare
/// `&mut PgConnection`, and r2d2 does not say which pool lent it; the instrumentation
/// is the one place diesel keeps per connection that can be read back (it may be
/// downcast). A connection whose instrumentation is replaced begins plainly.
struct StoreInstrumentation {
    per_transaction: Option<Arc<str>>,
}

impl Instrumentation for StoreInstrumentation {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        trace_transactions(event);
    }
}

/// Runs `work` in a transaction on `conn`, begun with `isolation` (the server's
/// default when `None`) and `READ ONLY` if `read_only`: diesel's
/// `build_transaction().run(..)`, except that on a connection of a pool behind a
/// transaction-pooling proxy the `BEGIN` carries the pool's `SET LOCAL`s, in the same
/// message (one round trip, as a plain `BEGIN`).
pub(crate) fn run_transaction<T, E>(
    conn: &mut PgConnection,
    isolation: Option<crate::Isolation>,
    read_only: bool,
    work: impl FnOnce(&mut PgConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let per_transaction = conn
        .instrumentation()
        .downcast_ref::<StoreInstrumentation>()
        .and_then(|i| i.per_transaction.clone());
    let builder = conn.build_transaction();
    let builder = match isolation {
        None => builder,
        Some(crate::Isolation::ReadCommitted) => builder.read_committed(),
        Some(crate::Isolation::RepeatableRead) => builder.repeatable_read(),
        Some(crate::Isolation::Serializable) => builder.serializable(),
    };
    let mut builder = if read_only {
        builder.read_only()
    } else {
        builder
    };
    let Some(settings) = per_transaction else {
        return builder.run(work);
    };
    let mut begin = PgQueryBuilder::default();
    builder.to_sql(&mut begin, &Pg)?;
    let begin = format!("{}; {settings}", begin.finish());
    if let Err(err) = AnsiTransactionManager::begin_transaction_sql(conn, &begin) {
        // BEGIN may have run and a SET after it failed: end that transaction, which
        // diesel does not count as open.
        let _ = diesel::connection::SimpleConnection::batch_execute(conn, "ROLLBACK");
        return Err(err.into());
    }
    // The rest is diesel's TransactionBuilder::run.
    match work(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(user_error) => match AnsiTransactionManager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(user_error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

/// How many connections are being opened right now, on any pool of this process.
static OPENING: Opening = Opening {
    count: Mutex::new(0),
    done: Condvar::new(),
};

struct Opening {
    count: Mutex<usize>,
    done: Condvar,
}

/// Counts one connection being opened, for as long as it lives.
struct OpeningGuard;

impl OpeningGuard {
    fn new() -> Self {
        *OPENING.count.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        OpeningGuard
    }
}

impl Drop for OpeningGuard {
    fn drop(&mut self) {
        *OPENING.count.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        OPENING.done.notify_all();
    }
}

/// Waits up to `timeout` until no pool of this process is opening a connection;
/// true when none is.
///
/// r2d2 opens connections on threads of its own, and a dropped pool does not wait
/// for them. A process that exits while one of them is inside libpq can crash:
/// exit runs OpenSSL's cleanup, which frees what the TLS handshake on that thread is
/// still using (the crash is a SIGSEGV after `main` returned). Drop your pools, then
/// call this before `main` returns.
pub fn wait_for_opening_connections(timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut count = OPENING.count.lock().unwrap_or_else(PoisonError::into_inner);
    while *count > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        count = OPENING
            .done
            .wait_timeout(count, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    true
}

impl fmt::Debug for StoreConnectionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConnectionManager")
            .field("url", &redact_url(&self.url))
            .field("password", &self.password)
            .field("session", &self.session)
            .field("transaction_pooling", &self.transaction_pooling)
            .finish()
    }
}

impl ManageConnection for StoreConnectionManager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        let _opening = OpeningGuard::new();
        self.open()
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        std::thread::panicking() || R2D2Connection::is_broken(conn)
    }
}

/// Trace events for transactions and failed statements: never the statements' bind
/// values, which hold password hashes, tokens and personal data.
fn trace_transactions(event: InstrumentationEvent<'_>) {
    match event {
        InstrumentationEvent::BeginTransaction { depth, .. } => {
            tracing::trace!(depth = depth.get(), "BEGIN");
        }
        InstrumentationEvent::CommitTransaction { depth, .. } => {
            tracing::trace!(depth = depth.get(), "COMMIT");
        }
        InstrumentationEvent::RollbackTransaction { depth, .. } => {
            tracing::trace!(depth = depth.get(), "ROLLBACK");
        }
        InstrumentationEvent::FinishQuery {
            error: Some(error), ..
        } => {
            tracing::debug!(%error, "statement failed");
        }
        _ => {}
    }
}

/// Builds a pool for `config`. A pool outlives a database restart or a failover:
/// while the server is down callers get [`StoreError::Unavailable`] after
/// `config.connection_timeout`, and a connection found dead is closed, never reused.
///
/// Connections are not pinged (`SELECT 1`) when they leave the pool: that would be
/// one more round trip per call, about a twentieth of a checkout. A connection that
/// died while idle shows it at its first statement; [`crate::PgStore`] then drops it
/// and runs the call on another connection (nothing but `BEGIN` was sent). Queries
/// of your own on [`get_conn`] see [`StoreError::Unavailable`] once per dead
/// connection, which the pool then closes.
///
/// Opens `config.pool_min_idle` connections before returning (none when it is 0), so
/// a wrong URL fails here rather than at the first request.
pub fn build_pool(config: &StoreConfig) -> Result<PgPool, StoreError> {
    build_pool_with(config, None)
}

/// Like [`build_pool`], but every new connection takes its password from `password`
/// (e.g. `ecom_infra::IamTokenSource`, an RDS IAM auth token per connection; use
/// `sslmode=verify-full` with the RDS CA bundle as `sslrootcert`, so that the token,
/// sent as the password, only ever reaches the real server).
///
/// Refuses, before connecting, a URL naming a host that is not local (not `localhost`, a
/// loopback address or a Unix socket) with any `sslmode` but `verify-full` (from the URL,
/// else `PGSSLMODE`; libpq's default is `prefer`): weaker modes do not check whom they
/// talk to, and a man in the middle would take the password. Set
/// `allow_unverified_tls` (`ECOM_ALLOW_UNVERIFIED_TLS=1`) to allow them anyway.
pub fn build_pool_with(
    config: &StoreConfig,
    password: Option<Arc<dyn PasswordSource>>,
) -> Result<PgPool, StoreError> {
    if !config.allow_unverified_tls {
        let env = |key: &str| std::env::var(key).ok();
        require_verified_tls(&config.database_url, env("PGSSLMODE"), env("PGHOST"))?;
    }
    let manager = StoreConnectionManager::new(&config.database_url, password)
        .with_session(SessionSettings::from_config(config))
        .with_transaction_pooling(config.transaction_pooling);
    Pool::builder()
        .max_size(config.pool_max_size)
        .min_idle(Some(config.pool_min_idle))
        .connection_timeout(config.connection_timeout)
        .test_on_check_out(false)
        .build(manager)
        .map_err(StoreError::from)
}

/// Borrows a connection, mapping a timeout to [`StoreError::Unavailable`].
pub fn get_conn(pool: &PgPool) -> Result<PooledConn, StoreError> {
    pool.get().map_err(StoreError::from)
}

/// Session defaults set on every new connection of the pool; behind a
/// transaction-pooling proxy, the timeouts are set per transaction instead
/// ([`SessionSettings::per_transaction_sql`]) and `application_name` is a startup
/// parameter of the connection.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// `statement_timeout`; zero disables it.
    pub statement_timeout: Duration,
    /// `idle_in_transaction_session_timeout`; zero disables it.
    pub idle_in_transaction_timeout: Duration,
    /// `application_name`.
    pub application_name: String,
}

impl SessionSettings {
    /// The session part of `config`.
    pub fn from_config(config: &StoreConfig) -> Self {
        Self {
            statement_timeout: config.statement_timeout,
            idle_in_transaction_timeout: config.idle_in_transaction_timeout,
            application_name: config.application_name.clone(),
        }
    }

    /// Applies the settings to `conn` for the rest of its session.
    pub fn apply(&self, conn: &mut PgConnection) -> QueryResult<()> {
        // set_config takes bind parameters, so the application name needs no quoting.
        diesel::sql_query(
            "SELECT set_config('statement_timeout', $1, false), \
                    set_config('idle_in_transaction_session_timeout', $2, false), \
                    set_config('application_name', $3, false)",
        )
        .bind::<Text, _>(self.statement_timeout.as_millis().to_string())
        .bind::<Text, _>(self.idle_in_transaction_timeout.as_millis().to_string())
        .bind::<Text, _>(&self.application_name)
        .execute(conn)
        .map(drop)
    }

    /// The timeouts as `SET LOCAL` statements, which last until the end of the
    /// transaction they run in: what the store sends with each `BEGIN` behind a
    /// transaction-pooling proxy. Send them first in transactions of your own on such
    /// a pool's connections.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = ecom_store::StoreConfig {
    ///     statement_timeout: Duration::from_secs(2),
    ///     ..ecom_store::StoreConfig::new("postgres://app@localhost/shop")
    /// };
    /// assert_eq!(
    ///     ecom_store::pool::SessionSettings::from_config(&config).per_transaction_sql(),
    ///     "SET LOCAL statement_timeout = 2000; SET LOCAL idle_in_transaction_session_timeout = 60000",
    /// );
    /// ```
    pub fn per_transaction_sql(&self) -> String {
        // Whole milliseconds, PostgreSQL's unit for both: numbers need no quoting.
        format!(
            "SET LOCAL statement_timeout = {}; SET LOCAL idle_in_transaction_session_timeout = {}",
            self.statement_timeout.as_millis(),
            self.idle_in_transaction_timeout.as_millis()
        )
    }
}

/// Fails with [`StoreError::Config`] when `url` reaches a host that is not local with an
/// `sslmode` other than `verify-full`. `pgsslmode` and `pghost` are libpq's defaults
/// (`PGSSLMODE`, `PGHOST`) for a URL that names neither.
///
/// ```
/// use ecom_store::pool::require_verified_tls;
/// assert!(require_verified_tls("postgres://app@db.example/shop?sslmode=require", None, None).is_err());
/// assert!(require_verified_tls("postgres://app@db.example/shop?sslmode=verify-full&sslrootcert=/ca.pem", None, None).is_ok());
/// assert!(require_verified_tls("postgres://app@localhost:5432/shop", None, None).is_ok());
/// ```
pub fn require_verified_tls(
    url: &str,
    pgsslmode: Option<String>,
    pghost: Option<String>,
) -> Result<(), StoreError> {
    let params = connection_params(url);
    let param = |key: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let mode = param("sslmode")
        .or(pgsslmode)
        .unwrap_or_else(|| "prefer".into());
    if mode == "verify-full" {
        return Ok(());
    }
    let hosts = param("host").or(pghost).unwrap_or_default();
    let remote: Vec<&str> = hosts.split(',').filter(|h| !is_local_host(h)).collect();
    if remote.is_empty() {
        return Ok(());
    }
    Err(StoreError::Config {
        key: "DATABASE_URL".into(),
        message: format!(
            "sslmode={mode} does not verify the server {}: a man in the middle would take \
             the password; use sslmode=verify-full&sslrootcert=/path/to/ca-bundle.pem, or \
             set ECOM_ALLOW_UNVERIFIED_TLS=1 to connect anyway",
            remote.join(",")
        ),
    })
}

/// The `key=value` settings of a connection string (URL or libpq's `key=value` form),
/// with the URL's hosts (without ports) under `host`; later settings win.
fn connection_params(url: &str) -> Vec<(String, String)> {
    let Some((_scheme, rest)) = url.split_once("://") else {
        return url
            .split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
    };
    let (base, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = base.split('/').next().unwrap_or_default();
    let hostlist = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let hosts: Vec<&str> = hostlist
        .split(',')
        .map(|h| match h.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => h.split(':').next().unwrap_or_default(),
        })
        .collect();
    let mut params = Vec::new();
    if hosts.iter().any(|h| !h.is_empty()) {
        params.push(("host".to_owned(), hosts.join(",")));
    }
    params.extend(
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    params
}

/// `localhost`, a loopback address, a Unix socket directory (possibly percent-encoded)
/// or no host at all (libpq's default socket).
fn is_local_host(host: &str) -> bool {
    let host = host.trim();
    host.is_empty()
        || host.starts_with('/')
        || host.starts_with('@')
        || host.to_ascii_lowercase().starts_with("%2f")
        || host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tls_policy_tests;
