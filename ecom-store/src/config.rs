//! Store configuration from the environment and an optional `.env` file.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `DATABASE_URL` | `postgres://user:password@host:port/db?params`, as a member of the application role | required (see [`StoreConfig::from_env_or_dev`]) |
//! | `DATABASE_MIGRATION_URL` | the same database as the owner of the schema, for [`crate::migrate_database`] | `DATABASE_URL` |
//! | `ECOM_POOL_SIZE` | most connections the pool opens | 10 |
//! | `ECOM_POOL_MIN_IDLE` | connections kept open while idle | 1 |
//! | `ECOM_POOL_TIMEOUT_MS` | how long a caller waits for a connection | 5000 |
//! | `ECOM_STATEMENT_TIMEOUT_MS` | server-side limit per statement, 0 = none | 30000 |
//! | `ECOM_IDLE_IN_TRANSACTION_TIMEOUT_MS` | server closes sessions idle inside a transaction this long, 0 = never | 60000 |
//! | `ECOM_APPLICATION_NAME` | `application_name` seen in `pg_stat_activity` | `ecom-store` |
//! | `DATABASE_READ_URLS` | read replicas, comma-separated URLs, for [`crate::PgStore::reader`] | none |
//! | `ECOM_READ_MAX_LAG_MS` | a replica further behind than this serves no reads | 5000 |
//! | `ECOM_READ_WAIT_MS` | how long a read with a consistency token waits for a replica to catch up before it goes to the writer | 200 |
//! | `ECOM_REPLICA_RETRY_MS` | a replica that failed or lagged is left out this long, then probed again | 5000 |
//! | `ECOM_REPLICA_TIMEOUT_MS` | how long a read waits for a replica connection before it goes elsewhere | 1000 |
//! | `ECOM_ALLOW_UNVERIFIED_TLS` | `1`: allow an `sslmode` weaker than `verify-full` for a host that is not local (see [`crate::build_pool_with`]) | `0`: refused |
//! | `ECOM_TRANSACTION_POOLING` | `1`: `DATABASE_URL` (and the replicas) reach PostgreSQL through a transaction-pooling proxy (pgbouncer `pool_mode = transaction`, RDS Proxy): no prepared statement cache, session settings per transaction (see below) | `0`: connections are the server's own sessions |
//!
//! ## Behind a transaction-pooling proxy
//!
//! A proxy in transaction mode lends each client a server connection for one
//! transaction at a time, so nothing a client leaves in a *session* is its own:
//!
//! - **Prepared statements.** Diesel keeps the statements it runs often prepared, under
//!   names (`__diesel_stmt_0`, ...) numbered per client connection. Through the proxy,
//!   client A prepares `__diesel_stmt_0` on server connection S1; client B, lent S1
//!   later, prepares its own `__diesel_stmt_0` there and fails ("prepared statement
//!   already exists"), and A, lent S2, finds none ("does not exist"). pgbouncer 1.18
//!   (Debian bookworm's) cannot track protocol-level prepared statements in transaction
//!   mode (1.21 can, with `max_prepared_statements`). `ECOM_TRANSACTION_POOLING=1`
//!   turns diesel's statement cache off: every statement is parsed and planned per
//!   call, on the unnamed statement, which any server connection accepts. The cost is
//!   measured in `docs/scaling.md` ("Behind a transaction-pooling proxy").
//! - **Session settings.** `statement_timeout` and
//!   `idle_in_transaction_session_timeout` are set per connection with
//!   `set_config(..., false)` when the pool opens it. Through the proxy that would set
//!   them on whichever server connection the client had at that moment, for every
//!   client lent it later, and leave the client's later transactions on other server
//!   connections without them. With the switch on, they are set per transaction
//!   instead, with `SET LOCAL` sent in the same message as `BEGIN` (no extra round
//!   trip), in every transaction the store runs: [`crate::PgStore`]'s methods, its
//!   readers, [`crate::transaction_with_retry`] and the outbox. This follows the
//!   configuration of each pool exactly, which role or database defaults (`ALTER ROLE
//!   ... SET statement_timeout`) would not: they are one value for every client of the
//!   role, set outside the service. Statements you run on [`crate::get_conn`] outside
//!   a transaction get the server's defaults; set role defaults as a backstop for them.
//!   `application_name` goes in the connection's startup parameters instead of a
//!   `SET`: pgbouncer keeps it per client and sets it on each server connection it
//!   lends (as it does `TimeZone` and `client_encoding`, which diesel sets on
//!   connect), and RDS Proxy pins a client that runs `SET` to one server connection
//!   for the rest of its session, which would undo the fan-in.
//! - **What must not go through the proxy.** The migrations hold a session-level
//!   advisory lock across several transactions (so that one process migrates) and build
//!   indexes `CONCURRENTLY` outside a transaction: give `DATABASE_MIGRATION_URL` the
//!   server itself. The store uses no `LISTEN`, temporary tables or session `SET`s
//!   (its advisory locks are `pg_advisory_xact_lock`, released at commit).
//!
//! `DATABASE_URL` may name several hosts, `postgres://u@a:5432,b:5432/db?target_session_attrs=read-write`:
//! libpq then connects to whichever is the primary, so after a failover new connections
//! find the promoted standby.
//!
//! TLS is libpq's, set in the URL: `DATABASE_URL` (and each of `DATABASE_READ_URLS`) takes
//! `?sslmode=verify-full&sslrootcert=/path/to/ca.pem`, and then libpq encrypts the
//! connection and refuses a server whose certificate is not signed by a CA in that file
//! or does not name the host connected to. That is what RDS with `rds.force_ssl=1`
//! needs, with AWS's CA bundle
//! <https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem> as the file (see
//! <https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html>):
//! `postgres://app@mydb.xxxx.eu-west-1.rds.amazonaws.com:5432/ecom?sslmode=verify-full&sslrootcert=/etc/ssl/rds-global-bundle.pem`.
//! Without `sslmode` libpq uses `prefer`: TLS when the server offers it, but no check of
//! whom it talks to. [`redact_url`], [`with_database`] and [`with_password`] keep these
//! parameters.
//!
//! Values from the process environment win over the `.env` file in the current
//! directory. The file is read with a tiny parser instead of `dotenvy`, because
//! `dotenvy` writes into the process environment, which is `unsafe` in edition 2024
//! (racy in a multi-threaded program); here the file is only ever read.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::StoreError;

/// How to reach the database and how the pool behaves. Build it with
/// [`StoreConfig::new`] (defaults) or [`StoreConfig::from_env`].
///
/// Its `Debug` output hides the password in `database_url`.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Connection URL, `postgres://user:password@host:port/db?params`: a member of the
    /// application role, which reads and writes rows and changes no schema.
    pub database_url: String,
    /// The same database as the owner of the schema, who runs the migrations
    /// (`DATABASE_MIGRATION_URL`); `None` means `database_url`. See
    /// [`StoreConfig::url_for_migrations`].
    pub migration_url: Option<String>,
    /// Most connections the pool opens (`ECOM_POOL_SIZE`).
    pub pool_max_size: u32,
    /// Connections the pool keeps open while idle (`ECOM_POOL_MIN_IDLE`).
    pub pool_min_idle: u32,
    /// How long a caller waits for a connection before getting
    /// [`StoreError::Unavailable`] (`ECOM_POOL_TIMEOUT_MS`).
    pub connection_timeout: Duration,
    /// Server-side limit per statement, zero for none (`ECOM_STATEMENT_TIMEOUT_MS`).
    pub statement_timeout: Duration,
    /// Sessions idle inside a transaction this long are closed by the server, zero for
    /// never (`ECOM_IDLE_IN_TRANSACTION_TIMEOUT_MS`).
    pub idle_in_transaction_timeout: Duration,
    /// Shown in `pg_stat_activity` (`ECOM_APPLICATION_NAME`).
    pub application_name: String,
    /// Read replicas (`DATABASE_READ_URLS`, comma-separated); may be empty.
    pub read_urls: Vec<String>,
    /// How replicas serve reads.
    pub read_policy: ReadPolicy,
    /// Allow an `sslmode` weaker than `verify-full` for a host that is not local
    /// (`ECOM_ALLOW_UNVERIFIED_TLS=1`); see [`crate::build_pool_with`].
    pub allow_unverified_tls: bool,
    /// The URLs reach PostgreSQL through a transaction-pooling proxy
    /// (`ECOM_TRANSACTION_POOLING=1`): no prepared statement cache, and the session
    /// settings set per transaction; see the [module docs](self#behind-a-transaction-pooling-proxy).
    pub transaction_pooling: bool,
}

/// How [`crate::PgStore::reader`] uses read replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadPolicy {
    /// A replica further behind than this serves no reads (`ECOM_READ_MAX_LAG_MS`):
    /// the bound on staleness of reads without a consistency token.
    pub max_lag: Duration,
    /// How long a read with a consistency token waits for a replica to replay up to
    /// it before going to the writer (`ECOM_READ_WAIT_MS`).
    pub token_wait: Duration,
    /// How long a replica that failed or lagged is left out (`ECOM_REPLICA_RETRY_MS`).
    pub retry_after: Duration,
    /// How long a read waits for a replica connection (`ECOM_REPLICA_TIMEOUT_MS`).
    pub connect_timeout: Duration,
}

impl Default for ReadPolicy {
    fn default() -> Self {
        Self {
            max_lag: Duration::from_secs(5),
            token_wait: Duration::from_millis(200),
            retry_after: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(1),
        }
    }
}

impl StoreConfig {
    /// A configuration for `database_url` with the documented defaults.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            migration_url: None,
            pool_max_size: 10,
            pool_min_idle: 1,
            connection_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            idle_in_transaction_timeout: Duration::from_secs(60),
            application_name: "ecom-store".into(),
            read_urls: Vec::new(),
            read_policy: ReadPolicy::default(),
            allow_unverified_tls: false,
            transaction_pooling: false,
        }
    }

    /// Reads the configuration from the process environment and `./.env`.
    /// `DATABASE_URL` is required.
    pub fn from_env() -> Result<Self, StoreError> {
        let file = read_env_file(Path::new(".env"))?;
        Self::from_lookup(|key| std::env::var(key).ok().or_else(|| file.get(key).cloned()))
    }

    /// Like [`StoreConfig::from_env`], but without `DATABASE_URL` it uses the private
    /// development cluster, starting it if needed: `database_url` connects as the
    /// application role ([`crate::dev::app_database_url`]) and, unless
    /// `DATABASE_MIGRATION_URL` is set, `migration_url` as the owner
    /// ([`crate::dev::database_url`]), as in production. For examples and CLIs;
    /// production code calls `from_env`.
    #[cfg(feature = "dev")]
    pub fn from_env_or_dev() -> Result<Self, StoreError> {
        let file = read_env_file(Path::new(".env"))?;
        let lookup = |key: &str| std::env::var(key).ok().or_else(|| file.get(key).cloned());
        if lookup("DATABASE_URL").is_some() {
            return Self::from_lookup(lookup);
        }
        let dev_failed = |err: crate::dev::DevError| StoreError::Config {
            key: "DATABASE_URL".into(),
            message: format!("not set, and the private cluster failed: {err}"),
        };
        let app = crate::dev::app_database_url().map_err(dev_failed)?;
        let owner = crate::dev::database_url().map_err(dev_failed)?;
        Self::from_lookup(|key| match key {
            "DATABASE_URL" => Some(app.clone()),
            "DATABASE_MIGRATION_URL" => lookup(key).or_else(|| Some(owner.clone())),
            _ => lookup(key),
        })
    }

    /// The URL migrations run with: `migration_url` (`DATABASE_MIGRATION_URL`, the
    /// owner of the schema) if set, else `database_url` (a deployment with one role).
    ///
    /// ```
    /// let config = ecom_store::StoreConfig::from_lookup(|key| match key {
    ///     "DATABASE_URL" => Some("postgres://app@db/shop".into()),
    ///     "DATABASE_MIGRATION_URL" => Some("postgres://owner@db/shop".into()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(config.url_for_migrations(), "postgres://owner@db/shop");
    /// assert_eq!(ecom_store::StoreConfig::new("postgres://app@db/shop").url_for_migrations(), "postgres://app@db/shop");
    /// # Ok::<(), ecom_store::StoreError>(())
    /// ```
    pub fn url_for_migrations(&self) -> &str {
        self.migration_url.as_deref().unwrap_or(&self.database_url)
    }

    /// Builds a configuration from any key-value source; `from_env` is this over the
    /// environment. Useful in tests.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StoreError> {
        let vars = Vars(&lookup);
        let database_url = vars
            .text("DATABASE_URL")
            .filter(|url| !url.trim().is_empty())
            .ok_or_else(|| StoreError::Config {
                key: "DATABASE_URL".into(),
                message: "not set; expected postgres://user:password@host:port/database".into(),
            })?;
        let mut config = Self::new(database_url);
        config.migration_url = vars
            .text("DATABASE_MIGRATION_URL")
            .filter(|url| !url.trim().is_empty());
        config.apply_pool(&vars)?;
        config.apply_replicas(&vars)?;
        if let Some(on) = vars.switch("ECOM_ALLOW_UNVERIFIED_TLS")? {
            config.allow_unverified_tls = on;
        }
        if let Some(on) = vars.switch("ECOM_TRANSACTION_POOLING")? {
            config.transaction_pooling = on;
        }
        Ok(config)
    }

    /// The pool's size, its timeouts and the application name (`ECOM_POOL_*`,
    /// `ECOM_*_TIMEOUT_MS`, `ECOM_APPLICATION_NAME`).
    fn apply_pool(&mut self, vars: &Vars<'_>) -> Result<(), StoreError> {
        if let Some(size) = vars.count("ECOM_POOL_SIZE")? {
            if size == 0 {
                return Err(StoreError::Config {
                    key: "ECOM_POOL_SIZE".into(),
                    message: "must be at least 1".into(),
                });
            }
            self.pool_max_size = size;
        }
        if let Some(min_idle) = vars.count("ECOM_POOL_MIN_IDLE")? {
            self.pool_min_idle = min_idle;
        }
        self.pool_min_idle = self.pool_min_idle.min(self.pool_max_size);
        if let Some(ms) = vars.number("ECOM_POOL_TIMEOUT_MS")? {
            self.connection_timeout = Duration::from_millis(ms.max(1));
        }
        if let Some(ms) = vars.number("ECOM_STATEMENT_TIMEOUT_MS")? {
            self.statement_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = vars.number("ECOM_IDLE_IN_TRANSACTION_TIMEOUT_MS")? {
            self.idle_in_transaction_timeout = Duration::from_millis(ms);
        }
        if let Some(name) = vars.text("ECOM_APPLICATION_NAME") {
            self.application_name = name;
        }
        Ok(())
    }

    /// The read replicas and how they serve reads (`DATABASE_READ_URLS`,
    /// `ECOM_READ_*`, `ECOM_REPLICA_*`).
    fn apply_replicas(&mut self, vars: &Vars<'_>) -> Result<(), StoreError> {
        if let Some(urls) = vars.text("DATABASE_READ_URLS") {
            self.read_urls = urls
                .split(',')
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .map(str::to_owned)
                .collect();
        }
        let policy = &mut self.read_policy;
        for (key, field) in [
            ("ECOM_READ_MAX_LAG_MS", &mut policy.max_lag),
            ("ECOM_READ_WAIT_MS", &mut policy.token_wait),
            ("ECOM_REPLICA_RETRY_MS", &mut policy.retry_after),
            ("ECOM_REPLICA_TIMEOUT_MS", &mut policy.connect_timeout),
        ] {
            if let Some(ms) = vars.number(key)? {
                *field = Duration::from_millis(ms);
            }
        }
        Ok(())
    }
}

/// The key-value source [`StoreConfig::from_lookup`] reads, with a parser for each kind
/// of setting: a value that does not parse is an error that names its key.
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    /// The value as it is.
    fn text(&self, key: &str) -> Option<String> {
        (self.0)(key)
    }

    /// A non-negative integer.
    fn number(&self, key: &str) -> Result<Option<u64>, StoreError> {
        self.text(key)
            .map(|raw| {
                raw.trim().parse::<u64>().map_err(|_| StoreError::Config {
                    key: key.into(),
                    message: format!("expected a non-negative integer, got {raw:?}"),
                })
            })
            .transpose()
    }

    /// A non-negative integer that fits a `u32`.
    fn count(&self, key: &str) -> Result<Option<u32>, StoreError> {
        self.number(key)?
            .map(|n| {
                u32::try_from(n).map_err(|_| StoreError::Config {
                    key: key.into(),
                    message: format!("{n} is too large"),
                })
            })
            .transpose()
    }

    /// On (`1`, `true`) or off (`0`, `false`, empty).
    fn switch(&self, key: &str) -> Result<Option<bool>, StoreError> {
        self.text(key)
            .map(|raw| match raw.trim() {
                "1" | "true" => Ok(true),
                "" | "0" | "false" => Ok(false),
                _ => Err(StoreError::Config {
                    key: key.into(),
                    message: format!("expected 1 or 0, got {raw:?}"),
                }),
            })
            .transpose()
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("database_url", &redact_url(&self.database_url))
            .field(
                "migration_url",
                &self.migration_url.as_deref().map(redact_url),
            )
            .field("pool_max_size", &self.pool_max_size)
            .field("pool_min_idle", &self.pool_min_idle)
            .field("connection_timeout", &self.connection_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field(
                "idle_in_transaction_timeout",
                &self.idle_in_transaction_timeout,
            )
            .field("application_name", &self.application_name)
            .field(
                "read_urls",
                &self
                    .read_urls
                    .iter()
                    .map(|url| redact_url(url))
                    .collect::<Vec<_>>(),
            )
            .field("read_policy", &self.read_policy)
            .field("allow_unverified_tls", &self.allow_unverified_tls)
            .field("transaction_pooling", &self.transaction_pooling)
            .finish()
    }
}

/// `url` with its password (in the user info or a `password=` parameter) replaced by
/// `***`, fit for logs.
///
/// ```
/// assert_eq!(
///     ecom_store::config::redact_url("postgres://shop:s3cret@db:5432/shop?password=x&sslmode=require"),
///     "postgres://shop:***@db:5432/shop?password=***&sslmode=require",
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            // The password may contain '@' only percent-encoded, so the last '@' ends
            // the user info.
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
                    None => base.to_owned(),
                },
                None => base.to_owned(),
            }
        }
        // Not a URL (a key=value conninfo string, say): show nothing that may be secret.
        None if base.contains("password") => return "<redacted>".into(),
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// `url` with `password` (percent-encoded) as the user info's password, replacing any
/// password already there.
///
/// ```
/// assert_eq!(
///     ecom_store::config::with_password("postgres://app:old@db:5432/shop?sslmode=require", "a/b&c=d%"),
///     "postgres://app:a%2Fb%26c%3Dd%25@db:5432/shop?sslmode=require",
/// );
/// ```
pub fn with_password(url: &str, password: &str) -> String {
    let encoded = percent_encoded(password);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((userinfo, host)) => (
            userinfo.split_once(':').map_or(userinfo, |(user, _)| user),
            host,
        ),
        None => ("", authority),
    };
    format!("{scheme}://{user}:{encoded}@{host}{tail}")
}

/// `url` pointing at database `dbname` instead of its own (query parameters kept).
///
/// ```
/// assert_eq!(
///     ecom_store::config::with_database("postgres://u@h:5432/app?sslmode=disable", "other"),
///     "postgres://u@h:5432/other?sslmode=disable",
/// );
/// ```
pub fn with_database(url: &str, dbname: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{dbname}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// `url` with the libpq connection parameter `key=value` added, unless it sets `key`
/// already (the URL's own value wins). Takes URLs and libpq's `key=value` form.
///
/// ```
/// use ecom_store::config::with_startup_parameter;
/// assert_eq!(
///     with_startup_parameter("postgres://app@db/shop?sslmode=require", "application_name", "shop api"),
///     "postgres://app@db/shop?sslmode=require&application_name=shop%20api",
/// );
/// assert_eq!(
///     with_startup_parameter("postgres://app@db/shop", "application_name", "a"),
///     "postgres://app@db/shop?application_name=a",
/// );
/// assert_eq!(
///     with_startup_parameter("postgres://db/shop?application_name=mine", "application_name", "a"),
///     "postgres://db/shop?application_name=mine",
/// );
/// assert_eq!(
///     with_startup_parameter("host=db dbname=shop", "application_name", "it's"),
///     r"host=db dbname=shop application_name='it\'s'",
/// );
/// ```
pub fn with_startup_parameter(url: &str, key: &str, value: &str) -> String {
    if !url.contains("://") {
        let set = url
            .split_whitespace()
            .any(|pair| pair.split_once('=').is_some_and(|(k, _)| k.trim() == key));
        if set {
            return url.to_owned();
        }
        let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
        return format!("{url} {key}='{quoted}'");
    }
    let query = url.split_once('?').map_or("", |(_, query)| query);
    if query
        .split('&')
        .any(|pair| pair.split_once('=').is_some_and(|(k, _)| k == key))
    {
        return url.to_owned();
    }
    let encoded = percent_encoded(value);
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{key}={encoded}")
}

/// `text` percent-encoded: every byte but RFC 3986's unreserved characters as `%XX`.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Reads `KEY=VALUE` lines from a `.env` file; a missing file is an empty map.
///
/// Supports `#` comments, blank lines, an optional `export ` prefix and values in
/// single or double quotes. No variable expansion, no multi-line values.
pub fn read_env_file(path: &Path) -> Result<HashMap<String, String>, StoreError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_env(&text).map_err(|(line, message)| StoreError::Config {
            key: format!("{}:{line}", path.display()),
            message,
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(HashMap::new()),
        Err(err) => Err(StoreError::Config {
            key: path.display().to_string(),
            message: err.to_string(),
        }),
    }
}

/// Parses `.env` text; errors carry the 1-based line number.
fn parse_env(text: &str) -> Result<HashMap<String, String>, (usize, String)> {
    let mut vars = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            return Err((index + 1, "expected KEY=VALUE".into()));
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err((index + 1, format!("invalid variable name {key:?}")));
        }
        let value = value.trim();
        let value = match value.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let inner = &value[1..];
                let end = inner
                    .find(quote)
                    .ok_or_else(|| (index + 1, "unterminated quote".to_owned()))?;
                inner[..end].to_owned()
            }
            // An unquoted value ends at a " #" comment.
            _ => value
                .split(" #")
                .next()
                .unwrap_or_default()
                .trim_end()
                .to_owned(),
        };
        vars.insert(key.to_owned(), value);
    }
    Ok(vars)
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
