//! Idempotency keys: a retried request finds the order its first call placed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::prelude::*;
use ecom_domain::rules::IDEMPOTENCY_RETENTION;

use crate::StoreError;
use crate::schema::idempotency_keys;
use crate::sql::{Bind, CachedSql, keyed};

/// The scope of checkout keys given through the back office's `CheckoutRequest`;
/// each customer's keys have a scope of their own (`Caller::key_scope`), so two
/// customers' keys never meet.
pub(crate) const BACK_OFFICE: &str = "checkout";

/// What the idempotency table says about a key.
pub(crate) enum Claim {
    /// This transaction owns the key now.
    Fresh,
    /// An earlier call committed this order for the key.
    Replay(OrderId),
}

/// Claims `key` for a checkout with `fingerprint`, or finds the order an earlier
/// call with the same key and request placed. A second caller waits on the first
/// one's uncommitted row, then replays its order (or claims the key itself if the
/// first rolled back).
pub(crate) fn claim_key(
    conn: &mut PgConnection,
    scope: &str,
    key: &IdempotencyKey,
    fingerprint: &[u8],
) -> Result<Claim, StoreError> {
    let key = key.as_str();
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::scope.eq(scope),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(fingerprint),
            idempotency_keys::expires_at.eq(Utc::now() + IDEMPOTENCY_RETENTION),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let (hash, order): (Vec<u8>, Option<i64>) = idempotency_keys::table
        .find((scope, key))
        .select((idempotency_keys::request_hash, idempotency_keys::order_id))
        .first(conn)?;
    if hash != fingerprint {
        return Err(DomainError::IdempotencyConflict {
            key: key.to_owned(),
        }
        .into());
    }
    match order {
        Some(order) => Ok(Claim::Replay(OrderId::new(order))),
        // The row is only ever committed together with its order.
        None => Err(StoreError::Invalid {
            constraint: None,
            message: format!("idempotency key {key:?} has no order"),
        }),
    }
}

keyed! {
    LINK_KEY = "UPDATE idempotency_keys SET order_id = $1 WHERE scope = $2 AND key = $3";
}

/// Records the order a claimed key placed, for the calls that replay it.
pub(crate) fn link_key(
    conn: &mut PgConnection,
    scope: &str,
    key: &IdempotencyKey,
    order: i64,
) -> Result<(), StoreError> {
    let binds = vec![
        Bind::BigInt(order),
        Bind::Text(scope.to_owned()),
        Bind::Text(key.as_str().to_owned()),
    ];
    CachedSql::keyed::<LINK_KEY>(binds).execute(conn)?;
    Ok(())
}

/// Deletes the checkout keys, of every scope, whose retention ended before `now`.
pub(crate) fn purge_keys(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let n = diesel::delete(idempotency_keys::table.filter(idempotency_keys::expires_at.lt(now)))
        .execute(conn)?;
    Ok(n as u64)
}
