//! One product, by id.

use diesel::prelude::*;
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::rows::ProductRow;
use crate::schema::products;

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

/// The product, as the domain sees it.
pub(crate) fn load_product(conn: &mut PgConnection, id: ProductId) -> Result<Product, StoreError> {
    product_row(conn, id)?.try_into()
}
