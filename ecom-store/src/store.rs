//! [`PgStore`]: the repository traits of `ecom-domain` on PostgreSQL.

use std::sync::Arc;

use diesel::{PgConnection, RunQueryDsl};
use ecom_domain::rules::StoreRules;

use crate::replica::{
    ConsistencyToken, PgReader, ReplicaStatus, Replicas, SessionToken, on_live_connection,
    wal_position,
};
use crate::{
    Isolation, PgPool, RetryPolicy, StoreConfig, StoreError, build_pool, transaction_with_retry,
};

/// The store: a connection pool plus the business rules (pricing, password cost,
/// payment window). Cheap to clone; share one per process.
///
/// Every repository method is one transaction. Writes run at READ COMMITTED with
/// explicit row locks taken in a fixed order (carts and orders before payments,
/// products last and by id), so concurrent calls serialise where they must and never
/// deadlock each other; deadlocks and serialization failures that still happen are
/// retried here, a bounded number of times, before a caller sees
/// [`StoreError::Retryable`].
///
/// The store's own methods all run on the writer. Reads that may be served by a
/// replica go through [`PgStore::reader`]; see [`crate::replica`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    replicas: Arc<Replicas>,
    rules: Arc<StoreRules>,
    retry: RetryPolicy,
    session: Option<Arc<SessionToken>>,
}

impl PgStore {
    /// A store with the default rules.
    pub fn new(pool: PgPool) -> Self {
        Self::with_rules(pool, StoreRules::default())
    }

    /// A store with the given rules.
    pub fn with_rules(pool: PgPool, rules: StoreRules) -> Self {
        Self {
            pool,
            replicas: Arc::new(Replicas::none()),
            rules: Arc::new(rules),
            retry: RetryPolicy {
                isolation: Isolation::ReadCommitted,
                ..RetryPolicy::default()
            },
            session: None,
        }
    }

    /// A store for `config`: a pool for the writer (`DATABASE_URL`) and one per read
    /// replica (`DATABASE_READ_URLS`), with the default rules.
    pub fn connect(config: &StoreConfig) -> Result<Self, StoreError> {
        Self::new(build_pool(config)?).with_replicas(config)
    }

    /// Replaces the read replicas with those of `config.read_urls` and
    /// `config.read_policy` (the rest of `config` is used for their pools).
    pub fn with_replicas(mut self, config: &StoreConfig) -> Result<Self, StoreError> {
        self.replicas = Arc::new(Replicas::from_config(config)?);
        Ok(self)
    }

    /// A session on this store: the same pools, plus a [`ConsistencyToken`] that every
    /// committed write through the session moves forward, and that the session's
    /// [`PgStore::reader`] respects (read-your-writes). Each write through a session
    /// costs one more round trip (reading the WAL position after `COMMIT`). Use one
    /// session per user or request.
    pub fn session(&self) -> Self {
        Self {
            session: Some(Arc::default()),
            ..self.clone()
        }
    }

    /// The token of the newest write through this session; `None` outside a session
    /// or before its first write.
    pub fn consistency_token(&self) -> Option<ConsistencyToken> {
        self.session.as_ref().and_then(|s| s.get().0)
    }

    /// A read handle: served by a replica that is at most
    /// [`ReadPolicy::max_lag`](crate::config::ReadPolicy) behind, or in a session by
    /// one that has replayed the session's writes; otherwise by the writer.
    pub fn reader(&self) -> PgReader {
        let (token, writer_only) = self.session.as_ref().map_or((None, false), |s| s.get());
        PgReader::new(self.pool.clone(), self.replicas.clone(), token, writer_only)
    }

    /// A read handle that never returns data older than `token` (read-your-writes for
    /// a token carried from another request or process).
    pub fn reader_after(&self, token: ConsistencyToken) -> PgReader {
        let token = self.consistency_token().map_or(token, |own| own.max(token));
        PgReader::new(self.pool.clone(), self.replicas.clone(), Some(token), false)
    }

    /// A read handle on the writer only (the freshest data).
    pub fn writer_reader(&self) -> PgReader {
        PgReader::new(self.pool.clone(), self.replicas.clone(), None, true)
    }

    /// The read replicas and whether each is in service now.
    pub fn replica_status(&self) -> Vec<ReplicaStatus> {
        self.replicas.status()
    }

    /// Replaces the retry policy of write transactions.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The pool, for queries of your own.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Whether the writer answers a query now: a readiness probe.
    /// [`StoreError::Unavailable`] when no connection could be had.
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut conn = crate::get_conn(&self.pool)?;
        diesel::sql_query("SELECT 1").execute(&mut conn)?;
        Ok(())
    }

    /// The business rules.
    pub fn rules(&self) -> &StoreRules {
        &self.rules
    }

    /// Runs `work` in a write transaction on the writer, retried on lost races; in a
    /// session, moves the session's token past the commit.
    pub(crate) fn write<T>(
        &self,
        mut work: impl FnMut(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        on_live_connection(&self.pool, |conn, started| {
            let value = transaction_with_retry(conn, self.retry, |conn| {
                *started = true;
                work(conn)
            })?;
            self.committed(conn);
            Ok(value)
        })
    }

    /// Runs `work`, a single statement, on the writer without `BEGIN` and `COMMIT`:
    /// one statement is a transaction of its own, and the two round trips are saved.
    /// Like [`PgStore::write`], it is not run again once sent.
    pub(crate) fn write_statement<T>(
        &self,
        mut work: impl FnMut(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        on_live_connection(&self.pool, |conn, started| {
            *started = true;
            let value = work(conn)?;
            self.committed(conn);
            Ok(value)
        })
    }

    /// After a commit on `conn`: in a session, moves the session's token past it.
    fn committed(&self, conn: &mut PgConnection) {
        if let Some(session) = &self.session {
            // The write is committed whatever happens here; without its position
            // the session's reads go to the writer.
            match wal_position(conn) {
                Ok(token) => session.advance_to(token),
                Err(_) => session.lose(),
            }
        }
    }

    /// Runs `work` in a read-only transaction (one consistent snapshot) on the writer.
    pub(crate) fn read<T>(
        &self,
        work: impl FnMut(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.writer_reader().run(work)
    }
}
