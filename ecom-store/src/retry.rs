//! The one place that reruns transactions which lost a race.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use diesel::PgConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};

use crate::pool::run_transaction;
use crate::{RetryReason, StoreError};

/// Transaction isolation level for [`transaction_with_retry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    /// PostgreSQL's default; only deadlocks are retried in practice.
    ReadCommitted,
    /// Snapshot isolation.
    RepeatableRead,
    /// Full serializability; the database aborts a transaction (40001) rather than let
    /// it see an anomaly, and the retry makes that invisible to the caller.
    #[default]
    Serializable,
}

/// How [`transaction_with_retry`] runs and reruns a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Runs at most this many times (at least once).
    pub max_attempts: u32,
    /// The pause after the first failure; doubles with each further failure.
    pub base_delay: Duration,
    /// The longest pause.
    pub max_delay: Duration,
    /// The isolation level of each attempt.
    pub isolation: Isolation,
}

impl Default for RetryPolicy {
    /// Serializable, up to 5 attempts, pauses from 10 ms up to 500 ms.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(500),
            isolation: Isolation::Serializable,
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt `failed + 1`: exponential backoff with "equal jitter",
    /// uniformly between half and all of `base_delay * 2^(failed - 1)` (capped), so
    /// that transactions which collided do not collide again in lockstep.
    pub fn delay_after(&self, failed: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << failed.saturating_sub(1).min(16))
            .min(self.max_delay);
        let half = exp / 2;
        // std's RandomState is seeded randomly per process and per instance: enough
        // randomness for jitter without a `rand` dependency.
        let random = RandomState::new().hash_one(failed);
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(if nanos == 0 { 0 } else { random % (nanos + 1) })
    }
}

/// Runs `work` in a transaction with `policy.isolation`, and reruns the whole
/// transaction when it fails with a serialization failure or a deadlock
/// ([`StoreError::Retryable`]), at most `policy.max_attempts` times in total.
///
/// `work` must be safe to run more than once: everything it did in the database is
/// rolled back before a rerun, but effects outside it (sent emails, in-memory
/// changes) are not. Other errors roll back and return at once.
///
/// On a connection of a pool behind a transaction-pooling proxy
/// ([`crate::StoreConfig::transaction_pooling`]), each attempt begins with the pool's
/// session settings (`SET LOCAL`).
///
/// Must not be called inside a transaction: a savepoint cannot recover from a
/// serialization failure, only the outermost transaction can be rerun. Doing so
/// returns `StoreError::Other(AlreadyInTransaction)` without running `work`.
///
/// ```no_run
/// # fn demo(conn: &mut diesel::PgConnection) -> Result<(), ecom_store::StoreError> {
/// use diesel::prelude::*;
/// use ecom_store::{RetryPolicy, transaction_with_retry};
///
/// let moved = transaction_with_retry(conn, RetryPolicy::default(), |conn| {
///     Ok(diesel::sql_query("UPDATE products SET stock_on_hand = stock_on_hand - 1 WHERE id = 1")
///         .execute(conn)?)
/// })?;
/// # Ok(()) }
/// ```
pub fn transaction_with_retry<T, F>(
    conn: &mut PgConnection,
    policy: RetryPolicy,
    mut work: F,
) -> Result<T, StoreError>
where
    F: FnMut(&mut PgConnection) -> Result<T, StoreError>,
{
    let depth = AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth()?;
    if depth.is_some() {
        return Err(StoreError::Other(
            diesel::result::Error::AlreadyInTransaction,
        ));
    }
    let mut failed = 0;
    loop {
        match run_transaction(conn, Some(policy.isolation), false, &mut work) {
            // On this connection a rerun would fail the same way: the caller needs
            // another connection (the store's write path takes one).
            Err(
                err @ StoreError::Retryable {
                    reason: RetryReason::ReadOnlyServer,
                    ..
                },
            ) => return Err(err),
            Err(err @ StoreError::Retryable { .. }) => {
                failed += 1;
                if failed >= policy.max_attempts.max(1) {
                    tracing::warn!(attempts = failed, error = %err, "transaction failed on every attempt");
                    return Err(err);
                }
                tracing::debug!(attempt = failed, error = %err, "transaction lost a race; running it again");
                std::thread::sleep(policy.delay_after(failed));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_within_bounds() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        for _ in 0..50 {
            let first = policy.delay_after(1);
            assert!(first >= Duration::from_millis(5) && first <= Duration::from_millis(10));
            let third = policy.delay_after(3);
            assert!(third >= Duration::from_millis(20) && third <= Duration::from_millis(40));
            let capped = policy.delay_after(30);
            assert!(capped >= Duration::from_millis(50) && capped <= Duration::from_millis(100));
        }
    }
}
