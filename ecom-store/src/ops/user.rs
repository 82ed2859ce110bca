//! Users, as other aggregates refer to them.

use diesel::prelude::*;
use ecom_domain::error::DomainError;
use ecom_domain::ids::UserId;

use crate::StoreError;
use crate::schema::users;

/// Fails with the domain's "user not found" unless the user exists. In a write
/// transaction (`lock`), the row is locked `FOR KEY SHARE` so it can't be deleted
/// before the transaction ends; read-only transactions can't lock.
pub(crate) fn require_user(
    conn: &mut PgConnection,
    user: UserId,
    lock: bool,
) -> Result<(), StoreError> {
    let query = users::table.find(user.get()).select(users::id);
    if lock {
        query.for_key_share().first::<i64>(conn)
    } else {
        query.first::<i64>(conn)
    }
    .optional()?
    .ok_or_else(|| DomainError::not_found("user", user))?;
    Ok(())
}
