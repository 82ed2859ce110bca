//! [`PgStore`]: the repository traits of `ecom-domain` on PostgreSQL.

use std::sync::Arc;

use diesel::PgConnection;
use ecom_domain::error::{DomainError, Taken};
use ecom_domain::memory::StoreRules;

use crate::{Isolation, PgPool, RetryPolicy, StoreError, get_conn, transaction_with_retry};

/// The store: a connection pool plus the business rules (pricing, password cost,
/// payment window). Cheap to clone; share one per process.
///
/// Every repository method is one transaction. Writes run at READ COMMITTED with
/// explicit row locks taken in a fixed order (carts and orders before payments,
/// products last and by id), so concurrent calls serialise where they must and never
/// deadlock each other; deadlocks and serialization failures that still happen are
/// retried here, a bounded number of times, before a caller sees
/// [`StoreError::Retryable`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    rules: Arc<StoreRules>,
    retry: RetryPolicy,
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
            rules: Arc::new(rules),
            retry: RetryPolicy {
                isolation: Isolation::ReadCommitted,
                ..RetryPolicy::default()
            },
        }
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

    /// The business rules.
    pub fn rules(&self) -> &StoreRules {
        &self.rules
    }

    /// Runs `work` in a write transaction, retried on lost races.
    pub(crate) fn write<T>(
        &self,
        work: impl FnMut(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = get_conn(&self.pool)?;
        transaction_with_retry(&mut conn, self.retry, work)
    }

    /// Runs `work` in a read-only transaction (one consistent snapshot).
    pub(crate) fn read<T>(
        &self,
        work: impl FnOnce(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = get_conn(&self.pool)?;
        conn.build_transaction()
            .read_only()
            .repeatable_read()
            .run(work)
    }
}

/// Turns a unique violation of `constraint` into the domain's "already taken".
pub(crate) fn taken(
    err: StoreError,
    constraint: &str,
    what: Taken,
    value: impl Into<String>,
) -> StoreError {
    match &err {
        StoreError::Conflict { constraint: c, .. } if c == constraint => {
            DomainError::AlreadyTaken {
                what,
                value: value.into(),
            }
            .into()
        }
        _ => err,
    }
}

/// Turns a foreign-key "not found" into the domain's not found for `entity`.
pub(crate) fn missing(err: StoreError, entity: &'static str, id: impl ToString) -> StoreError {
    match err {
        StoreError::NotFound { .. } => DomainError::not_found(entity, id).into(),
        other => other,
    }
}
