//! Who is asking, and which of the rows they name are theirs: the ownership checks
//! every customer call makes, each in the statement that finds the row.

use diesel::prelude::*;
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::schema::{carts, orders, sessions};

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

/// The id of the caller's cart `reference`, locked `FOR UPDATE` when `lock`: not
/// found when there is none, or it is someone else's.
pub(crate) fn owned_cart(
    conn: &mut PgConnection,
    who: Caller,
    reference: CartRef,
    lock: bool,
) -> Result<CartId, StoreError> {
    let query = carts::table
        .filter(carts::public_id.eq(uuid::Uuid::from_u128(reference.get())))
        .select(carts::id);
    let found = match (who, lock) {
        (Caller::User(user), false) => query
            .filter(carts::user_id.eq(user.get()))
            .first::<i64>(conn),
        (Caller::User(user), true) => query
            .filter(carts::user_id.eq(user.get()))
            .for_update()
            .first::<i64>(conn),
        (Caller::Guest(digest), false) => query
            .filter(carts::guest_token_digest.eq(digest.as_bytes().as_slice()))
            .first::<i64>(conn),
        (Caller::Guest(digest), true) => query
            .filter(carts::guest_token_digest.eq(digest.as_bytes().as_slice()))
            .for_update()
            .first::<i64>(conn),
    }
    .optional()?;
    found
        .map(CartId::new)
        .ok_or_else(|| DomainError::not_found("cart", reference).into())
}

/// The id of the caller's order `reference`: not found when there is none, or it
/// is someone else's.
pub(crate) fn owned_order(
    conn: &mut PgConnection,
    who: Caller,
    reference: OrderRef,
) -> Result<OrderId, StoreError> {
    let query = orders::table
        .filter(orders::public_id.eq(uuid::Uuid::from_u128(reference.get())))
        .select(orders::id);
    let found = match who {
        Caller::User(user) => query
            .filter(orders::user_id.eq(user.get()))
            .first::<i64>(conn),
        Caller::Guest(digest) => query
            .filter(orders::guest_token_digest.eq(digest.as_bytes().as_slice()))
            .first::<i64>(conn),
    }
    .optional()?;
    found
        .map(OrderId::new)
        .ok_or_else(|| DomainError::not_found("order", reference).into())
}
