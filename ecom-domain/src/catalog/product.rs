//! Products and their variants: what a shop lists, and what it sells.
//!
//! A [`Product`] holds what its variants share (name, slug, description, category,
//! status, option types). A [`Variant`] is one SKU of it, with its own price and
//! stock: carts, orders and stock moves count variants. A product without option
//! types has exactly one variant, its default.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Attribute, CatalogError, OptionError, OptionSelection, ProductImage, ProductOptions,
    check_price, check_stock,
};
use crate::ids::{CategoryId, ProductId, VariantId};
use crate::money::{Money, MoneyError};
use crate::values::{Description, Gtin, ProductName, Quantity, Sku, Slug};

/// Whether a product is listed and sold. Archived products stay in the database so
/// past orders keep pointing at their variants, but like drafts they are neither
/// listed nor sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// Being prepared; not listed, not sold.
    Draft,
    /// Listed and on sale.
    Active,
    /// Off sale for good.
    Archived,
}

crate::text_enum!(ProductStatus { Draft = "draft", Active = "active", Archived = "archived" });

/// A product: what its variants share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Its id.
    pub id: ProductId,
    /// Unique URL key.
    pub slug: Slug,
    /// Display name.
    pub name: ProductName,
    /// Long description.
    pub description: Description,
    /// The category it is listed in.
    pub category_id: CategoryId,
    /// Draft, active or archived.
    pub status: ProductStatus,
    /// Its option types (Colour, Size...), none for a product of one variant.
    pub options: ProductOptions,
    /// Its attribute values ([`check_attributes`](super::check_attributes)), in the
    /// order given.
    pub attributes: Vec<Attribute>,
    /// Its images, in display order ([`check_images`](super::check_images)).
    pub images: Vec<ProductImage>,
    /// Its variants, ordered by id: at least one.
    pub variants: Vec<Variant>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Product {
    /// True when its variants can be put in a cart and checked out.
    pub fn is_buyable(&self) -> bool {
        self.status == ProductStatus::Active
    }

    /// Its variant `id`, if it has one.
    pub fn variant(&self, id: VariantId) -> Option<&Variant> {
        self.variants.iter().find(|v| v.id == id)
    }

    /// Its variant `id` with what a sale needs of the product.
    pub fn sellable(&self, id: VariantId) -> Option<Sellable> {
        self.variant(id).map(|v| Sellable::of(self, v.clone()))
    }

    /// The lowest and highest of its variants' prices.
    pub fn price_range(&self) -> Option<(Money, Money)> {
        let mut prices = self.variants.iter().map(|v| v.price);
        let first = prices.next()?;
        Some(prices.fold((first, first), |(low, high), p| {
            (
                if p.amount() < low.amount() { p } else { low },
                if p.amount() > high.amount() { p } else { high },
            )
        }))
    }
}

/// One sellable SKU of a product: its own price and stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// Its id.
    pub id: VariantId,
    /// The product it belongs to.
    pub product_id: ProductId,
    /// Unique stock-keeping unit.
    pub sku: Sku,
    /// One value per option type of its product; empty for a default variant.
    pub selection: OptionSelection,
    /// Current unit price (never negative).
    pub price: Money,
    /// Units in stock, not yet reserved by an order.
    pub stock_on_hand: u32,
    /// Shipping weight in grams, when known.
    pub weight_grams: Option<u32>,
    /// Its barcode, when it has one: unique across the catalog.
    pub gtin: Option<Gtin>,
    /// Its own attribute values, beside its product's.
    pub attributes: Vec<Attribute>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A variant with what a sale needs to know of its product: its name (an order
/// line's snapshot) and its status (only an active product's variants are sold).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sellable {
    /// The variant.
    pub variant: Variant,
    /// Its product's name.
    pub product_name: ProductName,
    /// Its product's status.
    pub product_status: ProductStatus,
}

impl Sellable {
    /// `variant` of `product`.
    pub fn of(product: &Product, variant: Variant) -> Self {
        Self {
            variant,
            product_name: product.name.clone(),
            product_status: product.status,
        }
    }

    /// The variant's id.
    pub fn id(&self) -> VariantId {
        self.variant.id
    }

    /// True when it can be put in a cart and checked out: its product is active.
    pub fn is_buyable(&self) -> bool {
        self.product_status == ProductStatus::Active
    }
}

/// What it takes to create a variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVariant {
    /// Unique stock-keeping unit.
    pub sku: Sku,
    /// One value per option type of the product; empty for a default variant.
    pub selection: OptionSelection,
    /// Unit price.
    pub price: Money,
    /// Units in stock at creation.
    pub stock_on_hand: u32,
    /// Shipping weight in grams, when known.
    pub weight_grams: Option<u32>,
    /// Its barcode, when it has one.
    pub gtin: Option<Gtin>,
}

impl NewVariant {
    /// A default variant (no options): `sku` at `price` with `stock` units.
    pub fn default_of(sku: Sku, price: Money, stock: u32) -> Self {
        Self {
            sku,
            selection: OptionSelection::none(),
            price,
            stock_on_hand: stock,
            weight_grams: None,
            gtin: None,
        }
    }

    /// Checks its price and stock, and its selection against `options`, returning
    /// it with the selection in the product's spelling.
    pub fn checked(mut self, options: &ProductOptions) -> Result<Self, CatalogError> {
        check_price(self.price)?;
        check_stock(self.stock_on_hand)?;
        self.selection = options.resolve(&self.selection)?;
        Ok(self)
    }

    /// Checks it as a new variant beside `siblings`, a product's variants in id
    /// order, of a product with `options`: as [`NewVariant::checked`], priced in the
    /// siblings' currency, and a combination none of them has.
    pub fn checked_beside(
        self,
        options: &ProductOptions,
        siblings: &[Variant],
    ) -> Result<Self, CatalogError> {
        let new = self.checked(options)?;
        if let Some(sibling) = siblings.first() {
            sibling.price.try_cmp(&new.price)?;
        }
        if let Some(first) = siblings.iter().position(|v| v.selection == new.selection) {
            return Err(OptionError::DuplicateVariant {
                selection: new.selection,
                first,
                second: siblings.len(),
            }
            .into());
        }
        Ok(new)
    }
}

/// What it takes to create a product with its variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    /// Unique URL key.
    pub slug: Slug,
    /// Display name.
    pub name: ProductName,
    /// Long description.
    pub description: Description,
    /// Category to list it in.
    pub category_id: CategoryId,
    /// Draft, active or archived.
    pub status: ProductStatus,
    /// Its option types; none for a product of one variant.
    pub options: ProductOptions,
    /// Its variants, at least one; exactly one, the default, without options.
    pub variants: Vec<NewVariant>,
}

impl NewProduct {
    /// An active product without options: one default variant, `sku` at `price` with
    /// `stock` units.
    pub fn single(
        slug: Slug,
        name: ProductName,
        category_id: CategoryId,
        sku: Sku,
        price: Money,
        stock: u32,
    ) -> Self {
        Self {
            slug,
            name,
            description: Description::default(),
            category_id,
            status: ProductStatus::Active,
            options: ProductOptions::none(),
            variants: vec![NewVariant::default_of(sku, price, stock)],
        }
    }

    /// Checks the variants against the options ([`ProductOptions::check_variants`]),
    /// each variant's price and stock, that its SKUs and barcodes are distinct and
    /// that its prices share one currency; returns it with every selection in the
    /// product's spelling.
    pub fn checked(mut self) -> Result<Self, CatalogError> {
        let selections: Vec<OptionSelection> =
            self.variants.iter().map(|v| v.selection.clone()).collect();
        let resolved = self.options.check_variants(&selections)?;
        for (variant, selection) in self.variants.iter_mut().zip(resolved) {
            check_price(variant.price)?;
            check_stock(variant.stock_on_hand)?;
            variant.selection = selection;
        }
        let mut skus = HashSet::new();
        if let Some(v) = self.variants.iter().find(|v| !skus.insert(&v.sku)) {
            return Err(CatalogError::DuplicateSku(v.sku.clone()));
        }
        let mut barcodes = HashSet::new();
        if let Some(gtin) = self
            .variants
            .iter()
            .filter_map(|v| v.gtin.as_ref())
            .find(|g| !barcodes.insert(*g))
        {
            return Err(CatalogError::DuplicateGtin(gtin.clone()));
        }
        if let Some(first) = self.variants.first().map(|v| v.price.currency())
            && let Some(v) = self.variants.iter().find(|v| v.price.currency() != first)
        {
            return Err(MoneyError::CurrencyMismatch {
                left: first,
                right: v.price.currency(),
            }
            .into());
        }
        Ok(self)
    }
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

/// A variant that can't be delivered in the quantity asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    /// The variant.
    pub variant_id: VariantId,
    /// Its SKU.
    pub sku: Sku,
    /// Units asked for.
    pub requested: u32,
    /// Units in stock.
    pub available: u32,
}

/// Refuses lines asking for more units than their variants have, naming every such
/// line in one [`CatalogError::OutOfStock`].
pub fn ensure_in_stock(lines: &[(&Variant, Quantity)]) -> Result<(), CatalogError> {
    let short: Vec<Shortage> = lines
        .iter()
        .filter(|(v, q)| v.stock_on_hand < q.get())
        .map(|(v, q)| Shortage {
            variant_id: v.id,
            sku: v.sku.clone(),
            requested: q.get(),
            available: v.stock_on_hand,
        })
        .collect();
    if short.is_empty() {
        Ok(())
    } else {
        Err(CatalogError::OutOfStock(short))
    }
}

impl From<OptionError> for CatalogError {
    fn from(err: OptionError) -> Self {
        CatalogError::Options(err)
    }
}
