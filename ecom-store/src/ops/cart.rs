//! A cart and the variants in it.

use diesel::prelude::*;
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::error::missing;
use crate::rows::{
    CartRow, CartRowType, Found, SellableRow, VariantRow, sellable, sellable_columns,
};
use crate::schema::{cart_lines, carts, inventory_levels, product_variants, products};
use crate::sql::{Bind, CachedSql, keyed};

keyed! {
    /// A new open cart; nothing when the owner has one already (the partial unique
    /// indexes on open carts).
    INSERT_CART = "INSERT INTO carts (user_id, guest_token_digest, currency) VALUES ($1, $2, $3) \
     ON CONFLICT DO NOTHING \
     RETURNING id, public_id, user_id, guest_token_digest, currency, status";
}

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
    with_lines(conn, row)
}

/// The cart of `row`, with its lines read now: after the row's lock, when it was
/// locked, so that they are the lines of the cart's latest version.
pub(crate) fn with_lines(conn: &mut PgConnection, row: CartRow) -> Result<Cart, StoreError> {
    let lines = cart_lines::table
        .filter(cart_lines::cart_id.eq(row.id))
        .select((cart_lines::variant_id, cart_lines::quantity))
        .load::<(i64, i32)>(conn)?;
    row.into_cart(lines)
}

/// The variants in `cart`'s lines, by id, with what a sale needs of their products,
/// without a lock. Through the lines, not an array of ids, so that the statement
/// keeps one generic plan.
pub(crate) fn cart_sellables(
    conn: &mut PgConnection,
    cart: CartId,
) -> Result<Vec<Sellable>, StoreError> {
    product_variants::table
        .inner_join(products::table)
        .filter(
            product_variants::id.eq_any(
                cart_lines::table
                    .filter(cart_lines::cart_id.eq(cart.get()))
                    .select(cart_lines::variant_id),
            ),
        )
        .order(product_variants::id)
        .select(sellable_columns())
        .load::<SellableRow>(conn)?
        .into_iter()
        .map(sellable)
        .collect()
}

/// [`cart_sellables`] for a checkout: each variant with whether it is kept at
/// locations (it has a level somewhere), read in the same statement.
pub(crate) fn checkout_sellables(
    conn: &mut PgConnection,
    cart: CartId,
) -> Result<Vec<(Sellable, bool)>, StoreError> {
    let located = diesel::dsl::exists(
        inventory_levels::table
            .filter(inventory_levels::variant_id.eq(product_variants::id))
            .select(inventory_levels::variant_id),
    );
    product_variants::table
        .inner_join(products::table)
        .filter(
            product_variants::id.eq_any(
                cart_lines::table
                    .filter(cart_lines::cart_id.eq(cart.get()))
                    .select(cart_lines::variant_id),
            ),
        )
        .order(product_variants::id)
        .select((
            VariantRow::as_select(),
            products::name,
            products::status,
            located,
        ))
        .load::<(VariantRow, String, String, bool)>(conn)?
        .into_iter()
        .map(|(variant, name, status, located)| Ok((sellable((variant, name, status))?, located)))
        .collect()
}

/// The `(user_id, guest_token_digest)` columns of `owner`.
pub(crate) fn owner_columns(owner: &CartOwner) -> (Option<i64>, Option<Vec<u8>>) {
    match owner {
        CartOwner::User(user) => (Some(user.get()), None),
        CartOwner::Guest(digest) => (None, Some(digest.as_bytes().to_vec())),
    }
}

/// The open cart of `owner`, if any, locked.
pub(crate) fn find_open(
    conn: &mut PgConnection,
    owner: &CartOwner,
) -> Result<Option<CartId>, StoreError> {
    let query = carts::table
        .filter(carts::status.eq(CartStatus::Open.as_str()))
        .select(carts::id)
        .for_update();
    let id = match owner {
        CartOwner::User(user) => query
            .filter(carts::user_id.eq(user.get()))
            .first::<i64>(conn),
        CartOwner::Guest(digest) => query
            .filter(carts::guest_token_digest.eq(digest.as_bytes().as_slice()))
            .first::<i64>(conn),
    }
    .optional()?;
    Ok(id.map(CartId::new))
}

/// The open cart of `owner`, created empty if there is none, in the caller's
/// transaction.
pub(crate) fn open_in(
    conn: &mut PgConnection,
    owner: &CartOwner,
    currency: Currency,
) -> Result<Cart, StoreError> {
    if let Some(id) = find_open(conn, owner)? {
        return load_cart(conn, id, false);
    }
    let (user, guest) = owner_columns(owner);
    let binds = vec![
        Bind::NullableBigInt(user),
        Bind::NullableBytea(guest),
        Bind::Text(currency.code().to_owned()),
    ];
    let inserted = CachedSql::keyed::<INSERT_CART>(binds)
        .typed::<CartRowType>()
        .get_result::<CartRow>(conn)
        .optional()
        .map_err(|e| missing(e.into(), "user", user.unwrap_or_default()))?;
    if let Some(row) = inserted {
        // A new cart has no lines yet.
        return row.into_cart(Vec::new());
    }
    // A concurrent caller created the same owner's cart first: that one.
    let id = find_open(conn, owner)?.ok_or_else(|| DomainError::not_found("cart", "open"))?;
    load_cart(conn, id, false)
}

keyed! {
    LISTED_IN = "SELECT EXISTS (SELECT FROM price_list_entries e JOIN price_lists l ON l.id = e.price_list_id
                WHERE e.variant_id = $1 AND l.currency = $2) AS found";
}

/// True when `item` is priced in `currency` by a price list though its own price
/// is in another: a cart in that currency may take it ([`Cart::check_item`]). No
/// query when its own price is in `currency`.
pub(crate) fn listed_in(
    conn: &mut PgConnection,
    item: &Sellable,
    currency: Currency,
) -> Result<bool, StoreError> {
    if item.variant.price.currency() == currency {
        return Ok(false);
    }
    let binds = vec![
        Bind::BigInt(item.id().get()),
        Bind::Text(currency.code().to_owned()),
    ];
    Ok(CachedSql::keyed::<LISTED_IN>(binds)
        .get_result::<Found>(conn)?
        .found)
}
