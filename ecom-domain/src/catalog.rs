//! The catalog: categories in a tree and the products in them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{CategoryId, ProductId};
use crate::money::Money;
use crate::values::{CategoryName, Description, ProductName, Sku, Slug};

/// A node of the category tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Its id.
    pub id: CategoryId,
    /// The parent, or `None` for a root category.
    pub parent_id: Option<CategoryId>,
    /// Unique URL key.
    pub slug: Slug,
    /// Display name.
    pub name: CategoryName,
}

/// What it takes to create a category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCategory {
    /// The parent, or `None` for a root.
    pub parent_id: Option<CategoryId>,
    /// Unique URL key.
    pub slug: Slug,
    /// Display name.
    pub name: CategoryName,
}

/// Whether a product can be bought. Archived products stay in the database so past
/// orders keep pointing at them, but they can't be added to carts or checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// On sale.
    Active,
    /// Off sale.
    Archived,
}

crate::text_enum!(ProductStatus { Active = "active", Archived = "archived" });

/// A product for sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Its id.
    pub id: ProductId,
    /// Unique stock-keeping unit.
    pub sku: Sku,
    /// Display name.
    pub name: ProductName,
    /// Long description.
    pub description: Description,
    /// The category it is listed in.
    pub category_id: CategoryId,
    /// Current unit price (never negative).
    pub price: Money,
    /// On sale or archived.
    pub status: ProductStatus,
    /// Units in stock, not yet reserved by an order.
    pub stock_on_hand: u32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Product {
    /// True when it can be put in a cart and checked out.
    pub fn is_buyable(&self) -> bool {
        self.status == ProductStatus::Active
    }
}

/// What it takes to create a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    /// Unique stock-keeping unit.
    pub sku: Sku,
    /// Display name.
    pub name: ProductName,
    /// Long description.
    pub description: Description,
    /// Category to list it in.
    pub category_id: CategoryId,
    /// Unit price.
    pub price: Money,
    /// Units in stock at creation.
    pub stock_on_hand: u32,
}

/// Changes to a product's descriptive fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductUpdate {
    /// New name.
    pub name: Option<ProductName>,
    /// New description.
    pub description: Option<Description>,
    /// Move to another category.
    pub category_id: Option<CategoryId>,
}

/// The largest stock a product can hold (the database column is a 32-bit integer).
pub const MAX_STOCK: u32 = i32::MAX as u32;

/// Prices must stay below this many major units (the store keeps them as
/// `numeric(19,4)`).
pub const PRICE_LIMIT: i64 = 1_000_000_000_000_000;

/// Checks a price: not negative, below [`PRICE_LIMIT`].
pub fn check_price(price: Money) -> Result<Money, DomainError> {
    if price.is_negative() {
        return Err(DomainError::NegativePrice(price));
    }
    if price.amount() >= rust_decimal::Decimal::from(PRICE_LIMIT) {
        return Err(DomainError::PriceOutOfRange(price));
    }
    Ok(price)
}

/// Checks a stock level fits the database column.
pub fn check_stock(stock: u32) -> Result<u32, DomainError> {
    if stock > MAX_STOCK {
        return Err(DomainError::StockOutOfRange(stock));
    }
    Ok(stock)
}

/// One page of a keyset-paginated listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, K> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// Pass this as `after` to get the next page; `None` on the last page.
    pub next: Option<K>,
}

/// Where a keyset-paginated listing starts and how much it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<K> {
    /// Start after this key (`None`: from the beginning).
    pub after: Option<K>,
    /// At most this many items (clamped to 1..=[`PageRequest::MAX_LIMIT`]).
    pub limit: u32,
}

impl<K> PageRequest<K> {
    /// The largest page size served.
    pub const MAX_LIMIT: u32 = 500;

    /// The first page of `limit` items.
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }

    /// The page size, clamped to a sane range.
    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, Self::MAX_LIMIT)
    }
}
