//! Rows of carts.

use diesel::prelude::*;
use ecom_domain::prelude::*;

use super::value::{corrupt, parse_enum, quantity, token_digest};
use crate::StoreError;
use crate::schema::carts;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = carts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CartRow {
    pub id: i64,
    pub public_id: uuid::Uuid,
    pub user_id: Option<i64>,
    pub guest_token_digest: Option<Vec<u8>>,
    pub currency: String,
    pub status: String,
}

/// The SQL types of [`CartRow`], in its column order, for loading it by position
/// from hand-written SQL.
pub(crate) type CartRowType = (
    diesel::sql_types::BigInt,
    diesel::sql_types::Uuid,
    diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
    diesel::sql_types::Nullable<diesel::sql_types::Bytea>,
    diesel::sql_types::Text,
    diesel::sql_types::Text,
);

impl CartRow {
    /// The cart with its lines (each `(variant_id, quantity)`).
    pub fn into_cart(self, lines: Vec<(i64, i32)>) -> Result<Cart, StoreError> {
        let owner = match (self.user_id, self.guest_token_digest) {
            (Some(user), _) => CartOwner::User(UserId::new(user)),
            (None, Some(digest)) => CartOwner::Guest(token_digest(digest)?),
            (None, None) => return Err(corrupt("cart owner", "neither user nor guest")),
        };
        let mut lines = lines
            .into_iter()
            .map(|(variant, q)| {
                Ok(CartLine {
                    variant_id: VariantId::new(variant),
                    quantity: quantity(q)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        lines.sort_by_key(|l| l.variant_id);
        Ok(Cart {
            id: CartId::new(self.id),
            reference: CartRef::new(self.public_id.as_u128()),
            owner,
            currency: Currency::from_code(&self.currency).map_err(|e| corrupt("currency", e))?,
            status: parse_enum("cart status", &self.status)?,
            lines,
        })
    }
}
