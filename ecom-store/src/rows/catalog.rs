//! Rows of the catalog: categories and products, read and written.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::prelude::*;
use rust_decimal::Decimal;

use super::value::{corrupt, money, non_negative, parse_enum, stock_column};
use crate::StoreError;
use crate::decode::{PgDecimal, PgTimestamp};
use crate::schema::{categories, products};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = categories, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CategoryRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub slug: String,
    pub name: String,
}

impl TryFrom<CategoryRow> for Category {
    type Error = StoreError;
    fn try_from(row: CategoryRow) -> Result<Self, StoreError> {
        Ok(Category {
            id: CategoryId::new(row.id),
            parent_id: row.parent_id.map(CategoryId::new),
            slug: Slug::parse(&row.slug).map_err(|e| corrupt("slug", e))?,
            name: CategoryName::parse(&row.name).map_err(|e| corrupt("category name", e))?,
        })
    }
}

#[derive(Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ProductRow {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category_id: i64,
    #[diesel(deserialize_as = PgDecimal)]
    pub price: Decimal,
    pub currency: String,
    pub status: String,
    pub stock_on_hand: i32,
    #[diesel(deserialize_as = PgTimestamp)]
    pub created_at: DateTime<Utc>,
    #[diesel(deserialize_as = PgTimestamp)]
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<ProductRow> for Product {
    type Error = StoreError;
    fn try_from(row: ProductRow) -> Result<Self, StoreError> {
        Ok(Product {
            id: ProductId::new(row.id),
            sku: Sku::try_from(row.sku).map_err(|e| corrupt("sku", e))?,
            name: ProductName::try_from(row.name).map_err(|e| corrupt("product name", e))?,
            description: Description::try_from(row.description)
                .map_err(|e| corrupt("description", e))?,
            category_id: CategoryId::new(row.category_id),
            price: money(row.price, &row.currency)?,
            status: parse_enum("product status", &row.status)?,
            stock_on_hand: non_negative("stock", row.stock_on_hand)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A new `categories` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = categories, check_for_backend(diesel::pg::Pg))]
pub(crate) struct NewCategoryRow<'a> {
    pub parent_id: Option<i64>,
    pub slug: &'a str,
    pub name: &'a str,
}

impl<'a> From<&'a NewCategory> for NewCategoryRow<'a> {
    fn from(new: &'a NewCategory) -> Self {
        NewCategoryRow {
            parent_id: new.parent_id.map(CategoryId::get),
            slug: new.slug.as_str(),
            name: new.name.as_str(),
        }
    }
}

/// A new `products` row; status and timestamps take the column defaults.
#[derive(Debug, Insertable)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub(crate) struct NewProductRow<'a> {
    pub sku: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub category_id: i64,
    #[diesel(deserialize_as = PgDecimal)]
    pub price: Decimal,
    pub currency: &'a str,
    pub stock_on_hand: i32,
}

impl<'a> NewProductRow<'a> {
    /// The row for `new`; a stock beyond the `integer` column is `StockOutOfRange`.
    pub fn new(new: &'a NewProduct) -> Result<Self, StoreError> {
        Ok(NewProductRow {
            sku: new.sku.as_str(),
            name: new.name.as_str(),
            description: new.description.as_str(),
            category_id: new.category_id.get(),
            price: new.price.amount(),
            currency: new.price.currency().code(),
            stock_on_hand: stock_column(new.stock_on_hand)?,
        })
    }
}

/// Changes to a product's descriptive columns; `None` leaves a column alone.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ProductChangeset<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub category_id: Option<i64>,
}

impl<'a> From<&'a ProductUpdate> for ProductChangeset<'a> {
    fn from(update: &'a ProductUpdate) -> Self {
        ProductChangeset {
            name: update.name.as_ref().map(ProductName::as_str),
            description: update.description.as_ref().map(Description::as_str),
            category_id: update.category_id.map(CategoryId::get),
        }
    }
}
