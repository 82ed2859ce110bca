//! Products with their variants, and variants with what a sale needs of their product.

use std::collections::HashMap;

use diesel::prelude::*;
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::rows::{ProductRow, SellableRow, VariantRow, sellable, sellable_columns};
use crate::schema::{product_variants, products};

/// The product's row; "product not found" if there is none.
pub(crate) fn product_row(
    conn: &mut PgConnection,
    id: ProductId,
) -> Result<ProductRow, StoreError> {
    products::table
        .find(id.get())
        .select(ProductRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| DomainError::not_found("product", id).into())
}

/// The product with its variants.
pub(crate) fn load_product(conn: &mut PgConnection, id: ProductId) -> Result<Product, StoreError> {
    let row = product_row(conn, id)?;
    with_variants(conn, vec![row])?
        .pop()
        .ok_or_else(|| DomainError::not_found("product", id).into())
}

/// The products of `rows`, in their order, each with its variants: one query for
/// the variants of them all.
pub(crate) fn with_variants(
    conn: &mut PgConnection,
    rows: Vec<ProductRow>,
) -> Result<Vec<Product>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut variants: HashMap<i64, Vec<Variant>> = HashMap::with_capacity(rows.len());
    for row in product_variants::table
        .filter(product_variants::product_id.eq_any(&ids))
        .order((product_variants::product_id, product_variants::id))
        .select(VariantRow::as_select())
        .load(conn)?
    {
        let variant = Variant::try_from(row)?;
        variants
            .entry(variant.product_id.get())
            .or_default()
            .push(variant);
    }
    rows.into_iter()
        .map(|row| {
            let own = variants.remove(&row.id).unwrap_or_default();
            row.into_product(own)
        })
        .collect()
}

/// Variant `id` with its product's name and status; "variant not found" if there
/// is none.
pub(crate) fn load_sellable(
    conn: &mut PgConnection,
    id: VariantId,
) -> Result<Sellable, StoreError> {
    product_variants::table
        .inner_join(products::table)
        .filter(product_variants::id.eq(id.get()))
        .select(sellable_columns())
        .first::<SellableRow>(conn)
        .optional()?
        .ok_or_else(|| StoreError::from(DomainError::not_found("variant", id)))
        .and_then(sellable)
}
