//! Read replicas: read handles, consistency tokens and replica health.
//!
//! Reads that may be a little behind (a category page, a search, a user's order
//! history) go through a [`PgReader`], which prefers a streaming replica. A replica
//! read is preceded by a probe on the replica's connection, outside the read's
//! transaction (a probe is reused for 100 ms, counting its age as lag):
//!
//! ```sql
//! SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), <seconds behind>
//! ```
//!
//! - a replica further behind than [`ReadPolicy::max_lag`] is left out for
//!   [`ReadPolicy::retry_after`] (so are replicas that are down);
//! - a read with a [`ConsistencyToken`] runs on a replica only once the replica has
//!   replayed the WAL up to the token, waiting at most [`ReadPolicy::token_wait`];
//!   then it goes to the writer. Replay only moves forward, so the read's snapshot,
//!   taken after the probe, contains every write the token stands for.
//!
//! Anything that goes wrong on a replica (it stopped, it was promoted and restarted,
//! a query was cancelled by a conflict with recovery) reruns the read on the writer:
//! reads have no effects, and callers see no error while the writer is up.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Double, Text};
use diesel::{PgConnection, QueryableByName};

use crate::config::{ReadPolicy, redact_url};
use crate::pool::{PgPool, PooledConn};
use crate::{StoreConfig, StoreError, build_pool, get_conn};

/// A position in the writer's write-ahead log (an LSN) at or after the commit of a
/// write. A read given this token never sees data older than that write, whichever
/// server serves it.
///
/// Its text form is PostgreSQL's, `16/B374D848`, so it can travel in a cookie or a
/// header between the requests of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsistencyToken(u64);

impl ConsistencyToken {
    /// The token for WAL position `lsn` (bytes since the start of the log).
    pub fn from_lsn(lsn: u64) -> Self {
        Self(lsn)
    }

    /// The WAL position.
    pub fn lsn(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConsistencyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// Text that is not a WAL position such as `16/B374D848`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a consistency token (expected a WAL position such as 16/B374D848): {0:?}")]
pub struct BadToken(String);

impl FromStr for ConsistencyToken {
    type Err = BadToken;

    fn from_str(s: &str) -> Result<Self, BadToken> {
        let bad = || BadToken(s.chars().take(40).collect());
        let (hi, lo) = s.split_once('/').ok_or_else(bad)?;
        let hex = |part: &str| {
            if part.is_empty() || part.len() > 8 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            u64::from_str_radix(part, 16).map_err(|_| bad())
        };
        Ok(Self((hex(hi)? << 32) | hex(lo)?))
    }
}

/// The read replicas of a store, with their health. Shared by every clone of a store.
pub(crate) struct Replicas {
    list: Vec<Replica>,
    next: AtomicUsize,
    policy: ReadPolicy,
}

struct Replica {
    label: String,
    pool: PgPool,
    resting_until: Mutex<Option<Instant>>,
    served: AtomicU64,
    last_probe: Mutex<Option<Seen>>,
}

/// The newest probe of a replica, reused for [`PROBE_REUSE`] so that busy readers do
/// not pay one more round trip per read.
#[derive(Debug, Clone, Copy)]
struct Seen {
    at: Instant,
    replayed: ConsistencyToken,
    lag: Duration,
}

/// How long a probe answers for a replica. Staleness stays bounded: a reused probe
/// counts its own age as lag.
const PROBE_REUSE: Duration = Duration::from_millis(100);

impl fmt::Debug for Replicas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replicas")
            .field(
                "list",
                &self.list.iter().map(|r| &r.label).collect::<Vec<_>>(),
            )
            .field("policy", &self.policy)
            .finish()
    }
}

/// One replica as a [`crate::PgStore`] sees it, from [`crate::PgStore::replica_status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// The replica's URL, password hidden.
    pub label: String,
    /// Whether reads may go to it now (it is not resting after a failure or lag).
    pub in_service: bool,
    /// How many reads it has served.
    pub reads_served: u64,
}

impl Replicas {
    pub(crate) fn none() -> Self {
        Self::new(Vec::new(), ReadPolicy::default())
    }

    pub(crate) fn new(pools: Vec<(String, PgPool)>, policy: ReadPolicy) -> Self {
        Self {
            list: pools
                .into_iter()
                .map(|(url, pool)| Replica {
                    label: redact_url(&url),
                    pool,
                    resting_until: Mutex::new(None),
                    served: AtomicU64::new(0),
                    last_probe: Mutex::new(None),
                })
                .collect(),
            next: AtomicUsize::new(0),
            policy,
        }
    }

    /// Pools for `config.read_urls`. They open no connection up front: the writer
    /// never waits for, or fails because of, a replica.
    pub(crate) fn from_config(config: &StoreConfig) -> Result<Self, StoreError> {
        let pools = config
            .read_urls
            .iter()
            .map(|url| {
                let replica = StoreConfig {
                    database_url: url.clone(),
                    pool_min_idle: 0,
                    connection_timeout: config
                        .read_policy
                        .connect_timeout
                        .max(Duration::from_millis(1)),
                    read_urls: Vec::new(),
                    ..config.clone()
                };
                Ok((url.clone(), build_pool(&replica)?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Self::new(pools, config.read_policy))
    }

    pub(crate) fn status(&self) -> Vec<ReplicaStatus> {
        self.list
            .iter()
            .map(|r| ReplicaStatus {
                label: r.label.clone(),
                in_service: !r.resting(),
                reads_served: r.served.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// A connection to a replica fit to serve a read after `token`, trying the
    /// replicas in turn; `None` sends the read to the writer.
    fn connection(&self, token: Option<ConsistencyToken>) -> Option<(usize, PooledConn)> {
        let n = self.list.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n).map(|i| (start + i) % n).find_map(|index| {
            let replica = &self.list[index];
            if replica.resting() {
                return None;
            }
            let Ok(mut conn) = get_conn(&replica.pool) else {
                replica.rest(self.policy.retry_after);
                return None;
            };
            match replica.caught_up(&mut conn, token, &self.policy) {
                Ok(true) => Some((index, conn)),
                Ok(false) => None,
                Err(_) => {
                    discard(&mut conn);
                    replica.rest(self.policy.retry_after);
                    None
                }
            }
        })
    }
}

/// What a replica says about itself.
#[derive(QueryableByName)]
struct Probe {
    #[diesel(sql_type = Bool)]
    in_recovery: bool,
    #[diesel(sql_type = Text)]
    replay_lsn: String,
    #[diesel(sql_type = Double)]
    lag_seconds: f64,
}

/// Seconds behind: zero while the WAL receiver streams and everything received has
/// been replayed; otherwise the age of the last replayed transaction (replay paused
/// or slow, or the primary unreachable). Only the existence of the WAL receiver is
/// read from `pg_stat_wal_receiver`, which any role may see.
const PROBE: &str = "SELECT pg_is_in_recovery() AS in_recovery, \
     coalesce(pg_last_wal_replay_lsn()::text, '0/0') AS replay_lsn, \
     (CASE WHEN NOT pg_is_in_recovery() THEN 0 \
           WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() \
                AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 0 \
           ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 1e9) \
      END)::float8 AS lag_seconds";

impl Replica {
    fn resting(&self) -> bool {
        let mut until = self.resting_until.lock().unwrap_or_else(|e| e.into_inner());
        match *until {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    fn rest(&self, pause: Duration) {
        tracing::info!(replica = %self.label, ?pause, "replica left out of reads for now");
        *self.resting_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + pause);
    }

    /// Whether the replica may serve a read after `token` now; waits up to
    /// `policy.token_wait` for replay to reach the token.
    fn caught_up(
        &self,
        conn: &mut PgConnection,
        token: Option<ConsistencyToken>,
        policy: &ReadPolicy,
    ) -> Result<bool, StoreError> {
        let seen = *self.last_probe.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(seen) = seen {
            let age = seen.at.elapsed();
            if age < PROBE_REUSE
                && seen.lag.saturating_add(age) <= policy.max_lag
                && token.is_none_or(|token| seen.replayed >= token)
            {
                return Ok(true);
            }
        }
        let deadline = Instant::now() + policy.token_wait;
        let mut pause = Duration::from_millis(1);
        loop {
            let asked = Instant::now();
            let probe: Probe = diesel::sql_query(PROBE).get_result(conn)?;
            if !probe.in_recovery {
                // Promoted: it is a primary now and has everything it ever replayed.
                // Reads with a token from the old primary's timeline go to the writer.
                return Ok(token.is_none());
            }
            if probe.lag_seconds > policy.max_lag.as_secs_f64() {
                self.rest(policy.retry_after);
                return Ok(false);
            }
            let replayed: ConsistencyToken =
                probe
                    .replay_lsn
                    .parse()
                    .map_err(|e: BadToken| StoreError::Invalid {
                        constraint: None,
                        message: e.to_string(),
                    })?;
            *self.last_probe.lock().unwrap_or_else(|e| e.into_inner()) = Some(Seen {
                at: asked,
                replayed,
                // NaN or negative (clock skew) counts as far behind.
                lag: Duration::try_from_secs_f64(probe.lag_seconds).unwrap_or(Duration::MAX),
            });
            match token {
                None => return Ok(true),
                Some(token) if replayed >= token => return Ok(true),
                Some(_) if Instant::now() >= deadline => return Ok(false),
                Some(_) => {
                    std::thread::sleep(
                        pause.min(deadline.saturating_duration_since(Instant::now())),
                    );
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
            }
        }
    }
}

/// Marks a pooled connection broken, so the pool closes it instead of reusing it.
pub(crate) fn discard(conn: &mut PgConnection) {
    AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
}

/// A handle for reads that a replica may serve: the catalog
/// ([`ecom_domain::repo::CatalogReader`]) and order history
/// ([`ecom_domain::repo::OrderReader`]). It implements no trait that writes, so a
/// write through it does not compile:
///
/// ```compile_fail,E0599
/// # use ecom_domain::prelude::*;
/// # fn demo(store: &ecom_store::PgStore, new: NewProduct) {
/// store.reader().create_product(new); // no method `create_product` on `PgReader`
/// # }
/// ```
///
/// Get one from [`crate::PgStore::reader`] (bounded staleness, or read-your-writes on
/// a session store) or [`crate::PgStore::reader_after`] (read-your-writes for a token
/// carried from elsewhere).
#[derive(Debug, Clone)]
pub struct PgReader {
    writer: PgPool,
    replicas: Arc<Replicas>,
    token: Option<ConsistencyToken>,
    writer_only: bool,
}

/// Where a [`PgReader`] ran a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServedBy {
    /// The writer (the primary).
    Writer,
    /// The replica at this index of `DATABASE_READ_URLS`.
    Replica(usize),
}

impl PgReader {
    pub(crate) fn new(
        writer: PgPool,
        replicas: Arc<Replicas>,
        token: Option<ConsistencyToken>,
        writer_only: bool,
    ) -> Self {
        Self {
            writer,
            replicas,
            token,
            writer_only,
        }
    }

    /// The token this handle's reads respect, if any.
    pub fn token(&self) -> Option<ConsistencyToken> {
        self.token
    }

    /// Runs `work` in a read-only, repeatable-read transaction (one consistent
    /// snapshot) on a replica when one is fit, else on the writer. `work` may run
    /// twice (again on the writer when the replica fails mid-way); it must only read.
    pub fn run<T>(
        &self,
        work: impl FnMut(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.run_where(work).map(|(value, _)| value)
    }

    /// Like [`PgReader::run`], and says where the read ran.
    pub fn run_where<T>(
        &self,
        mut work: impl FnMut(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<(T, ServedBy), StoreError> {
        if !self.writer_only
            && let Some((index, mut conn)) = self.replicas.connection(self.token)
        {
            let replica = &self.replicas.list[index];
            match read_transaction(&mut conn, &mut work) {
                Ok(value) => {
                    replica.served.fetch_add(1, Ordering::Relaxed);
                    return Ok((value, ServedBy::Replica(index)));
                }
                // The replica went away or cancelled the query (a conflict with
                // recovery is a serialization failure): the writer answers.
                Err(err) if err.is_retryable() => {
                    if matches!(err, StoreError::Unavailable { .. }) {
                        discard(&mut conn);
                        replica.rest(self.replicas.policy.retry_after);
                    }
                }
                Err(err) => return Err(err),
            }
        }
        on_live_connection(&self.writer, |conn, started| {
            read_transaction(conn, |conn| {
                *started = true;
                work(conn)
            })
        })
        .map(|value| (value, ServedBy::Writer))
    }
}

fn read_transaction<T>(
    conn: &mut PgConnection,
    work: impl FnMut(&mut PgConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut work = work;
    crate::pool::run_transaction(conn, Some(crate::Isolation::RepeatableRead), true, |conn| {
        work(conn)
    })
}

/// Runs `attempt` on a pooled connection of `pool`.
///
/// Connections are not pinged when they leave the pool (that would be one more round
/// trip per call). A connection whose server went away (a restart, a failover) shows
/// it at its first statement, the transaction's `BEGIN`; when that happens before
/// `attempt` set `started`, nothing reached the database, so the connection is
/// dropped and the call made again on another one. A write that finds the server
/// read-only (a standby now) was rolled back; it too runs again on a new connection,
/// which a multi-host `DATABASE_URL` points at the new primary.
pub(crate) fn on_live_connection<T>(
    pool: &PgPool,
    mut attempt: impl FnMut(&mut PgConnection, &mut bool) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut lost = 0;
    loop {
        let mut conn = get_conn(pool)?;
        let mut started = false;
        let result = attempt(&mut conn, &mut started);
        let again = match &result {
            Err(StoreError::Unavailable { .. }) => !started,
            Err(StoreError::Retryable {
                reason: crate::RetryReason::ReadOnlyServer,
                ..
            }) => true,
            _ => false,
        };
        if again && lost < pool.max_size() {
            lost += 1;
            if let Err(err) = &result {
                tracing::warn!(error = %err, "connection lost or read-only; running the call on another");
            }
            discard(&mut conn);
            continue;
        }
        return result;
    }
}

/// The newest consistency token of a session store: every committed write through
/// it moves the token forward.
#[derive(Debug, Default)]
pub(crate) struct SessionToken(AtomicU64);

/// Stored when a write committed but its WAL position could not be read: reads of
/// the session then go to the writer.
const UNKNOWN: u64 = u64::MAX;

impl SessionToken {
    pub(crate) fn get(&self) -> (Option<ConsistencyToken>, bool) {
        match self.0.load(Ordering::Acquire) {
            0 => (None, false),
            UNKNOWN => (None, true),
            lsn => (Some(ConsistencyToken(lsn)), false),
        }
    }

    pub(crate) fn advance_to(&self, token: ConsistencyToken) {
        self.0.fetch_max(token.0, Ordering::AcqRel);
    }

    pub(crate) fn lose(&self) {
        self.0.store(UNKNOWN, Ordering::Release);
    }
}

/// The writer's WAL insert position, read on the connection that just committed.
///
/// The insert position, not `pg_current_wal_lsn()` (the write position): with
/// `synchronous_commit = off` a commit returns before its record is written out, and
/// the write position can still be behind it.
pub(crate) fn wal_position(conn: &mut PgConnection) -> Result<ConsistencyToken, StoreError> {
    #[derive(QueryableByName)]
    struct Position {
        #[diesel(sql_type = Text)]
        lsn: String,
    }
    let position: Position =
        diesel::sql_query("SELECT pg_current_wal_insert_lsn()::text AS lsn").get_result(conn)?;
    position
        .lsn
        .parse()
        .map_err(|e: BadToken| StoreError::Invalid {
            constraint: None,
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_and_print_like_postgres() {
        let token: ConsistencyToken = "16/B374D848".parse().unwrap();
        assert_eq!(token.lsn(), 0x16_B374_D848);
        assert_eq!(token.to_string(), "16/B374D848");
        assert_eq!("0/0".parse::<ConsistencyToken>().unwrap().lsn(), 0);
        assert!("0/1".parse::<ConsistencyToken>().unwrap() < "1/0".parse().unwrap());
        for bad in ["", "16", "16/", "/1", "x/1", "1/123456789", "+1/2", "1/2/3"] {
            assert!(bad.parse::<ConsistencyToken>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn session_tokens_only_move_forward() {
        let session = SessionToken::default();
        assert_eq!(session.get(), (None, false));
        session.advance_to(ConsistencyToken(10));
        session.advance_to(ConsistencyToken(5));
        assert_eq!(session.get(), (Some(ConsistencyToken(10)), false));
        session.lose();
        assert_eq!(session.get(), (None, true));
    }
}
