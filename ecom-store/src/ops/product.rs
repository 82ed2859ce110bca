//! Products with their variants, variants with what a sale needs of their product,
//! and new variants written.

use std::collections::HashMap;

use diesel::prelude::*;
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::error::{missing, taken};
use crate::rows::{NewVariantRow, ProductRow, SellableRow, VariantRow, sellable, sellable_columns};
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

/// Refuses new variants whose SKU or barcode another variant has, naming the first
/// in their order, SKU before barcode, as the reference store does. A concurrent
/// writer can still take one first: the unique constraints answer then.
pub(crate) fn ensure_unique(conn: &mut PgConnection, new: &[NewVariant]) -> Result<(), StoreError> {
    let skus: Vec<&str> = new.iter().map(|v| v.sku.as_str()).collect();
    let gtins: Vec<&str> = new
        .iter()
        .filter_map(|v| v.gtin.as_ref())
        .map(Gtin::as_str)
        .collect();
    let taken: Vec<(String, Option<String>)> = product_variants::table
        .filter(
            product_variants::sku
                .eq_any(&skus)
                .or(product_variants::gtin.eq_any(&gtins)),
        )
        .select((product_variants::sku, product_variants::gtin))
        .load(conn)?;
    for v in new {
        if taken.iter().any(|(sku, _)| sku == v.sku.as_str()) {
            return Err(DomainError::AlreadyTaken {
                what: Taken::Sku,
                value: v.sku.as_str().to_owned(),
            }
            .into());
        }
        if let Some(gtin) = &v.gtin
            && taken
                .iter()
                .any(|(_, g)| g.as_deref() == Some(gtin.as_str()))
        {
            return Err(DomainError::AlreadyTaken {
                what: Taken::Gtin,
                value: gtin.as_str().to_owned(),
            }
            .into());
        }
    }
    Ok(())
}

/// Inserts `new`, variants of `product`, in one statement; returns them by id.
pub(crate) fn insert_variants(
    conn: &mut PgConnection,
    product: ProductId,
    new: &[NewVariant],
) -> Result<Vec<Variant>, StoreError> {
    let rows = new
        .iter()
        .map(|v| NewVariantRow::new(product, v))
        .collect::<Result<Vec<_>, _>>()?;
    let mut inserted: Vec<VariantRow> = diesel::insert_into(product_variants::table)
        .values(&rows)
        .returning(VariantRow::as_returning())
        .get_results(conn)
        .map_err(|err| {
            // Lost a race with a concurrent writer after `ensure_unique`: one of them.
            let of = |f: fn(&NewVariant) -> Option<&str>| {
                new.iter().filter_map(f).collect::<Vec<_>>().join(", ")
            };
            let err = taken(
                err.into(),
                "product_variants_sku_key",
                Taken::Sku,
                of(|v| Some(v.sku.as_str())),
            );
            let err = taken(
                err,
                "product_variants_gtin_key",
                Taken::Gtin,
                of(|v| v.gtin.as_ref().map(Gtin::as_str)),
            );
            missing(err, "product", product)
        })?;
    inserted.sort_by_key(|v| v.id);
    inserted.into_iter().map(Variant::try_from).collect()
}
