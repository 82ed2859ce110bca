//! Rows of the catalog: categories, products and their variants, read and written.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::prelude::*;
use rust_decimal::Decimal;

use super::value::{corrupt, json_column, money, non_negative, parse_enum, stock_column};
use crate::StoreError;
use crate::decode::{JsonText, PgDecimal, PgTimestamp};
use crate::schema::{categories, product_variants, products};
use diesel::sql_types::{BigInt, Bpchar, Integer, Jsonb, Nullable, Numeric, Text, Timestamptz};

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

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ProductRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub category_id: i64,
    pub status: String,
    pub options: JsonText,
    pub attributes: JsonText,
    pub images: JsonText,
    #[diesel(deserialize_as = PgTimestamp)]
    pub created_at: DateTime<Utc>,
    #[diesel(deserialize_as = PgTimestamp)]
    pub updated_at: DateTime<Utc>,
}

impl ProductRow {
    /// The product, with `variants` (its own, ordered by id).
    pub fn into_product(self, variants: Vec<Variant>) -> Result<Product, StoreError> {
        Ok(Product {
            id: ProductId::new(self.id),
            slug: Slug::try_from(self.slug).map_err(|e| corrupt("product slug", e))?,
            name: ProductName::try_from(self.name).map_err(|e| corrupt("product name", e))?,
            description: Description::try_from(self.description)
                .map_err(|e| corrupt("description", e))?,
            category_id: CategoryId::new(self.category_id),
            status: parse_enum("product status", &self.status)?,
            options: self.options.parse("product options")?,
            attributes: self.attributes.parse("product attributes")?,
            images: self.images.parse("product images")?,
            variants,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = product_variants, check_for_backend(diesel::pg::Pg))]
pub(crate) struct VariantRow {
    pub id: i64,
    pub product_id: i64,
    pub sku: String,
    pub options: JsonText,
    #[diesel(deserialize_as = PgDecimal)]
    pub price: Decimal,
    pub currency: String,
    pub stock_on_hand: i32,
    pub weight_grams: Option<i32>,
    pub gtin: Option<String>,
    pub attributes: JsonText,
    #[diesel(deserialize_as = PgTimestamp)]
    pub created_at: DateTime<Utc>,
    #[diesel(deserialize_as = PgTimestamp)]
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<VariantRow> for Variant {
    type Error = StoreError;
    fn try_from(row: VariantRow) -> Result<Self, StoreError> {
        Ok(Variant {
            id: VariantId::new(row.id),
            product_id: ProductId::new(row.product_id),
            sku: Sku::try_from(row.sku).map_err(|e| corrupt("sku", e))?,
            selection: row.options.parse("variant options")?,
            price: money(row.price, &row.currency)?,
            stock_on_hand: non_negative("stock", row.stock_on_hand)?,
            weight_grams: row
                .weight_grams
                .map(|w| non_negative("weight", w))
                .transpose()?,
            gtin: row
                .gtin
                .map(|g| Gtin::parse(&g).map_err(|e| corrupt("gtin", e)))
                .transpose()?,
            attributes: row.attributes.parse("variant attributes")?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A variant joined to its product's name and status: what a sale reads.
pub(crate) type SellableRow = (VariantRow, String, String);

/// The columns of a [`SellableRow`], from `product_variants` joined to `products`.
pub(crate) type SellableColumns = (
    diesel::dsl::AsSelect<VariantRow, diesel::pg::Pg>,
    crate::schema::products::name,
    crate::schema::products::status,
);

/// The columns of a [`SellableRow`].
pub(crate) fn sellable_columns() -> SellableColumns {
    (
        VariantRow::as_select(),
        crate::schema::products::name,
        crate::schema::products::status,
    )
}

/// The sellable of a [`SellableRow`].
pub(crate) fn sellable((variant, name, status): SellableRow) -> Result<Sellable, StoreError> {
    Ok(Sellable {
        variant: Variant::try_from(variant)?,
        product_name: ProductName::try_from(name).map_err(|e| corrupt("product name", e))?,
        product_status: parse_enum("product status", &status)?,
    })
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

/// A new `products` row; timestamps take the column defaults.
#[derive(Debug, Insertable)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub(crate) struct NewProductRow<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub category_id: i64,
    pub status: &'a str,
    pub options: serde_json::Value,
}

impl<'a> NewProductRow<'a> {
    /// The row for `new`.
    pub fn new(new: &'a NewProduct) -> Self {
        NewProductRow {
            slug: new.slug.as_str(),
            name: new.name.as_str(),
            description: new.description.as_str(),
            category_id: new.category_id.get(),
            status: new.status.as_str(),
            options: json_column(&new.options),
        }
    }
}

/// A new `product_variants` row; timestamps take the column defaults.
#[derive(Debug, Insertable)]
#[diesel(table_name = product_variants, check_for_backend(diesel::pg::Pg))]
pub(crate) struct NewVariantRow<'a> {
    pub product_id: i64,
    pub sku: &'a str,
    pub options: serde_json::Value,
    pub price: Decimal,
    pub currency: &'a str,
    pub stock_on_hand: i32,
    pub weight_grams: Option<i32>,
    pub gtin: Option<&'a str>,
}

impl<'a> NewVariantRow<'a> {
    /// The row for `new` of product `product`; a stock or weight beyond the
    /// `integer` column is refused.
    pub fn new(product: ProductId, new: &'a NewVariant) -> Result<Self, StoreError> {
        Ok(NewVariantRow {
            product_id: product.get(),
            sku: new.sku.as_str(),
            options: json_column(&new.selection),
            price: new.price.amount(),
            currency: new.price.currency().code(),
            stock_on_hand: stock_column(new.stock_on_hand)?,
            weight_grams: new
                .weight_grams
                .map(|w| i32::try_from(w).map_err(|e| corrupt("weight", e)))
                .transpose()?,
            gtin: new.gtin.as_ref().map(Gtin::as_str),
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

/// The SQL types of the product columns a page of products selects (`ops/page.rs`, `ops/browse.rs`), in order:
/// rows load by position.
pub(crate) type ProductColumns = (
    BigInt,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<BigInt>,
    Nullable<Text>,
    Nullable<Jsonb>,
    Nullable<Jsonb>,
    Nullable<Jsonb>,
    Nullable<Timestamptz>,
    Nullable<Timestamptz>,
);

/// The product columns of a page of products joined to their variants, `$t` the
/// alias of the products (a table or a CTE): the id on every row, the rest only on
/// the first row of each product, NULL on the others. A page repeats a product on
/// the row of each of its variants, and its text (description, images, attributes,
/// some 900 bytes in the large seed) sent and copied again with each was most of a
/// page of apparel. The statement ends with [`page_product_window!`].
macro_rules! page_product_columns {
    ($t:literal) => {
        page_product_columns!(@first $t; slug, name, description, category_id, status,
            options, attributes, images, created_at, updated_at)
    };
    (@first $t:literal; $($column:ident),+) => {
        concat!(
            $t, ".id",
            $(", CASE WHEN row_number() OVER by_product = 1 THEN ", $t, ".",
                stringify!($column), " END"),+
        )
    };
}
pub(crate) use page_product_columns;

/// The window [`page_product_columns!`] numbers each product's rows in, `$t` the
/// alias of the products: written after the statement's FROM, before its ORDER BY.
macro_rules! page_product_window {
    ($t:literal) => {
        concat!(
            " WINDOW by_product AS (PARTITION BY ",
            $t,
            ".id ORDER BY v.id)"
        )
    };
}
pub(crate) use page_product_window;

/// A product's columns as a page selects them ([`page_product_columns!`]): all but
/// the id only on its first row.
#[derive(Debug, Queryable)]
pub(crate) struct PageProductRow {
    pub id: i64,
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub category_id: Option<i64>,
    pub status: Option<String>,
    pub options: Option<JsonText>,
    pub attributes: Option<JsonText>,
    pub images: Option<JsonText>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl PageProductRow {
    /// The product of its first row, with `variants`.
    fn into_product(self, variants: Vec<Variant>) -> Result<Product, StoreError> {
        let id = self.id;
        let given =
            |what: &'static str| corrupt(what, format!("missing on the first row of product {id}"));
        ProductRow {
            id: self.id,
            slug: self.slug.ok_or_else(|| given("product slug"))?,
            name: self.name.ok_or_else(|| given("product name"))?,
            description: self.description.ok_or_else(|| given("description"))?,
            category_id: self.category_id.ok_or_else(|| given("category"))?,
            status: self.status.ok_or_else(|| given("product status"))?,
            options: self.options.ok_or_else(|| given("product options"))?,
            attributes: self.attributes.ok_or_else(|| given("product attributes"))?,
            images: self.images.ok_or_else(|| given("product images"))?,
            created_at: self.created_at.ok_or_else(|| given("created_at"))?,
            updated_at: self.updated_at.ok_or_else(|| given("updated_at"))?,
        }
        .into_product(variants)
    }
}

/// The SQL types of a row of a page with variants: the product's columns, then the
/// variant's, in the order of `page_with_variants!`.
pub(crate) type PageRowColumns = (ProductColumns, VariantColumns);

/// The SQL types of [`VariantRow`], in its column order.
pub(crate) type VariantColumns = (
    BigInt,
    BigInt,
    Text,
    Jsonb,
    Numeric,
    Bpchar,
    Integer,
    Nullable<Integer>,
    Nullable<Text>,
    Jsonb,
    Timestamptz,
    Timestamptz,
);

/// The variant columns of a page, in [`VariantRow`]'s order, `v` the alias of the
/// variants.
macro_rules! page_variant_columns {
    () => {
        "v.id, v.product_id, v.sku, v.options, v.price, v.currency, v.stock_on_hand, \
         v.weight_grams, v.gtin, v.attributes, v.created_at, v.updated_at"
    };
}
pub(crate) use page_variant_columns;

/// The products of rows of a product joined to each of its variants, in the rows'
/// order (every row of one product next to each other).
pub(crate) fn group_by_product(
    rows: Vec<(PageProductRow, VariantRow)>,
) -> Result<Vec<Product>, StoreError> {
    let mut products: Vec<(PageProductRow, Vec<Variant>)> = Vec::new();
    for (product, variant) in rows {
        let variant = Variant::try_from(variant)?;
        match products.last_mut() {
            Some((last, variants)) if last.id == product.id => variants.push(variant),
            _ => products.push((product, vec![variant])),
        }
    }
    products
        .into_iter()
        .map(|(row, variants)| row.into_product(variants))
        .collect()
}
