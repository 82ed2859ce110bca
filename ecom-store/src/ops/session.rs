//! Who is asking, and which of the rows they name are theirs: the ownership checks
//! every customer call makes, each in the statement that finds the row.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::rows::{CartRow, CartRowType};
use crate::schema::sessions;
use crate::sql::{Bind, CachedSql, Statement, keyed};

/// The caller's live session (by the database's clock) and the cart `$2` of theirs,
/// found in one statement: by reference *and* owner, a user's by `user_id`, a
/// guest's by the digest of the guest's own session. `FOR UPDATE OF c` is appended
/// to lock the cart row alone, never the session's.
static CALLER_AND_CART: Statement = Statement::new(
    "SELECT s.user_id, c.id, c.public_id, c.user_id, c.guest_token_digest, c.currency, c.status \
     FROM sessions s \
     JOIN carts c ON c.public_id = $2 \
      AND (c.user_id = s.user_id OR (s.user_id IS NULL AND c.guest_token_digest = s.token_digest)) \
     WHERE s.token_digest = $1 AND s.revoked_at IS NULL AND s.expires_at > now()",
);

keyed! {
    /// The same for the caller's order `$2`.
    CALLER_AND_ORDER = "SELECT s.user_id, o.id \
     FROM sessions s \
     JOIN orders o ON o.public_id = $2 \
      AND (o.user_id = s.user_id OR (s.user_id IS NULL AND o.guest_token_digest = s.token_digest)) \
     WHERE s.token_digest = $1 AND s.revoked_at IS NULL AND s.expires_at > now()";
}

/// Who holds `token`: [`DomainError::Unauthenticated`] unless it names a session
/// that is neither ended nor expired, by the database's clock.
pub(crate) fn caller(conn: &mut PgConnection, token: &SessionToken) -> Result<Caller, StoreError> {
    let digest = token.digest();
    let user: Option<Option<i64>> = sessions::table
        .find(digest.as_bytes().as_slice())
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(diesel::dsl::now))
        .select(sessions::user_id)
        .first(conn)
        .optional()?;
    match user {
        None => Err(DomainError::Unauthenticated.into()),
        Some(Some(user)) => Ok(Caller::User(UserId::new(user))),
        Some(None) => Ok(Caller::Guest(digest)),
    }
}

/// The caller holding `token` and their cart `reference` (its row, locked `FOR
/// UPDATE` when `lock`), in one round trip: [`DomainError::Unauthenticated`]
/// without a live session, not found when there is no such cart or it is someone
/// else's.
pub(crate) fn caller_and_cart(
    conn: &mut PgConnection,
    token: &SessionToken,
    reference: CartRef,
    lock: bool,
) -> Result<(Caller, CartRow), StoreError> {
    let digest = token.digest();
    let query = CachedSql::new(&CALLER_AND_CART, caller_binds(&digest, reference.get()));
    let query = if lock {
        query.with_tail(" FOR UPDATE OF c")
    } else {
        query
    };
    let found = query
        .typed::<(Nullable<BigInt>, CartRowType)>()
        .get_result::<(Option<i64>, CartRow)>(conn)
        .optional()?;
    match found {
        Some((user, row)) => Ok((caller_of(user, digest), row)),
        None => Err(why_not_found(conn, token, "cart", reference)),
    }
}

/// The caller holding `token` and the id of their order `reference`, in one round
/// trip, refused as [`caller_and_cart`] refuses.
pub(crate) fn caller_and_order(
    conn: &mut PgConnection,
    token: &SessionToken,
    reference: OrderRef,
) -> Result<(Caller, OrderId), StoreError> {
    let digest = token.digest();
    let found = CachedSql::keyed::<CALLER_AND_ORDER>(caller_binds(&digest, reference.get()))
        .typed::<(Nullable<BigInt>, BigInt)>()
        .get_result::<(Option<i64>, i64)>(conn)
        .optional()?;
    match found {
        Some((user, id)) => Ok((caller_of(user, digest), OrderId::new(id))),
        None => Err(why_not_found(conn, token, "order", reference)),
    }
}

fn caller_binds(digest: &TokenDigest, reference: u128) -> Vec<Bind> {
    vec![
        Bind::Bytea(digest.as_bytes().to_vec()),
        Bind::Uuid(uuid::Uuid::from_u128(reference)),
    ]
}

/// The caller of the session `digest`, whose `user_id` is `user`.
fn caller_of(user: Option<i64>, digest: TokenDigest) -> Caller {
    match user {
        Some(user) => Caller::User(UserId::new(user)),
        None => Caller::Guest(digest),
    }
}

/// Why a caller-and-row statement found nothing: no live session (401), or no
/// such row of theirs (404, the same for someone else's as for none at all).
fn why_not_found(
    conn: &mut PgConnection,
    token: &SessionToken,
    what: &'static str,
    reference: impl std::fmt::Display,
) -> StoreError {
    match caller(conn, token) {
        Ok(_) => DomainError::not_found(what, reference).into(),
        Err(err) => err,
    }
}
