//! A cart and the products in it.

use diesel::prelude::*;
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::rows::{CartRow, ProductRow};
use crate::schema::{cart_lines, carts, products};

/// Loads a cart with its lines; `lock` takes the cart row `FOR UPDATE`.
pub(crate) fn load_cart(
    conn: &mut PgConnection,
    id: CartId,
    lock: bool,
) -> Result<Cart, StoreError> {
    let query = carts::table.find(id.get()).select(CartRow::as_select());
    let row = if lock {
        query.for_update().first(conn)
    } else {
        query.first(conn)
    }
    .optional()?
    .ok_or_else(|| DomainError::not_found("cart", id))?;
    let lines = cart_lines::table
        .filter(cart_lines::cart_id.eq(id.get()))
        .select((cart_lines::product_id, cart_lines::quantity))
        .load::<(i64, i32)>(conn)?;
    row.into_cart(lines)
}

/// The products in `cart`'s lines, by id, without a lock. Through the lines, not
/// an array of ids, so that the statement keeps one generic plan.
pub(crate) fn cart_products(
    conn: &mut PgConnection,
    cart: CartId,
) -> Result<Vec<Product>, StoreError> {
    products::table
        .filter(
            products::id.eq_any(
                cart_lines::table
                    .filter(cart_lines::cart_id.eq(cart.get()))
                    .select(cart_lines::product_id),
            ),
        )
        .order(products::id)
        .select(ProductRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Product::try_from)
        .collect()
}
