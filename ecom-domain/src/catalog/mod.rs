//! The catalog: categories in a tree, the products in them and their variants.
//!
//! # Products and variants
//!
//! - A **[`Product`]** holds what its variants share: name, slug, description,
//!   category, [`ProductStatus`] (draft, active, archived: only an active product is
//!   listed or sold, as [`Product::is_buyable`] says) and its [`ProductOptions`]
//!   (option types such as Colour and Size, each an [`OptionType`] with ordered
//!   values).
//! - A **[`Variant`]** is what is sold: a [`Sku`], a price, its own stock, a weight,
//!   an optional [`Gtin`](crate::values::Gtin) barcode, and an [`OptionSelection`] of
//!   one value per option type. A new product's variants go through
//!   [`NewProduct::checked`] ([`ProductOptions::check_variants`]: every selection
//!   valid, no combination twice, exactly one default variant for a product without
//!   options; SKUs and barcodes distinct; one currency); [`ProductOptions::combinations`]
//!   proposes them all (3 colours × 5 sizes → 15). The schema is the second line of
//!   defence: a unique index over a variant's product and selection (values compared
//!   ignoring case, as here), and unique SKUs and barcodes.
//! - A **[`Sellable`]** is a variant with its product's name and status: what carts,
//!   pricing and checkout take. [`Shortage`] and [`ensure_in_stock`] count variants,
//!   and an order line snapshots the variant's SKU, name and selection as they were.
//!
//! # Attributes, images, collections
//!
//! - **Attributes** are [`AttributeDefinition`]s defined once for the catalog; the
//!   values on a product or a variant go through [`check_attributes`] when written.
//!   Numbers are exact decimals that fit `numeric(18,6)`.
//! - **Images** are [`ProductImage`]s (a [`MediaUrl`](crate::values::MediaUrl), alt
//!   text, optionally the option value they show), written through [`check_images`].
//! - **Collections** ([`Collection`]) have a [`CollectionName`](crate::values::CollectionName),
//!   a [`Slug`] and [`CollectionProducts`], an ordered list without repeats.
//!
//! # Browse and search
//!
//! A category listing filters by facet values ([`facet_keys`]: a product's option
//! and attribute values, folded to lower case), price and stock ([`BrowseFilter`]),
//! sorts ([`BrowseSort`]), pages by keyset ([`BrowseCursor`]) and counts how many
//! matching products have each facet value ([`Browse::of`] is the rule every store
//! follows). A search ranks products by a [`SearchQuery`], its last word a prefix.
//!
//! Each group of rules refuses with its own error ([`OptionError`], [`AttributeError`],
//! [`MediaError`], [`CollectionError`], [`BrowseError`]; a bad barcode is a
//! [`GtinError`](crate::values::GtinError) inside `ValidationError`), each reaching
//! callers as the `DomainError` variant of the same name.

mod attribute;
mod browse;
mod collection;
mod media;
mod product;
mod variant;

pub use attribute::{
    Attribute, AttributeChoices, AttributeDefinition, AttributeError, AttributeKind,
    AttributeValue, MAX_ATTRIBUTES, check_attributes,
};
pub use browse::{
    Browse, BrowseCursor, BrowseError, BrowseFilter, BrowseRequest, BrowseSort, FacetCount,
    FacetFilter, FacetKey, Hit, PriceRange, SearchCursor, SearchLanguage, SearchQuery,
    SearchRequest, facet_keys, in_stock, price_from, words,
};
pub use collection::{Collection, CollectionError, CollectionProducts, NewCollection};
pub use media::{MAX_IMAGES, MediaError, ProductImage, check_images};
pub use product::{
    NewProduct, NewVariant, Product, ProductStatus, ProductUpdate, Sellable, Shortage, Variant,
    ensure_in_stock,
};
pub use variant::{
    MAX_VARIANTS, OptionChoice, OptionError, OptionSelection, OptionType, ProductOptions,
};

use serde::{Deserialize, Serialize};

use crate::ids::CategoryId;
use crate::money::Money;
use crate::values::{CategoryName, Sku, Slug};

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

/// What the catalog's own rules refuse. Each converts into the domain's error variant
/// of the same name, the error callers match on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// Prices can't be negative.
    #[error("price {0} is negative")]
    NegativePrice(Money),
    /// Stock beyond what the store can hold.
    #[error("stock {0} is out of range")]
    StockOutOfRange(u32),
    /// Not enough stock for some lines; nothing was reserved.
    #[error("out of stock: {}", shortages(.0))]
    OutOfStock(Vec<Shortage>),
    /// A product's option types or its variants' selections break the variant rules.
    #[error(transparent)]
    Options(OptionError),
    /// Two variants of one new product share a SKU.
    #[error("Sku {:?} is already taken", .0.as_str())]
    DuplicateSku(Sku),
    /// Two variants of one new product share a barcode.
    #[error("Gtin {:?} is already taken", .0.as_str())]
    DuplicateGtin(crate::values::Gtin),
    /// A product's variants are priced in more than one currency.
    #[error(transparent)]
    Money(#[from] crate::money::MoneyError),
}

/// The shortages as one line of text, each product with what was asked and what is left.
pub(crate) fn shortages(list: &[Shortage]) -> String {
    list.iter()
        .map(|s| {
            format!(
                "{} (requested {}, available {})",
                s.sku, s.requested, s.available
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The largest stock a product can hold (the database column is a 32-bit integer).
pub const MAX_STOCK: u32 = i32::MAX as u32;

/// Checks a price is not negative. Its ceiling is every amount's:
/// [`crate::money::MAX_AMOUNT`], what the store's `numeric(19,4)` holds.
pub fn check_price(price: Money) -> Result<Money, CatalogError> {
    if price.is_negative() {
        return Err(CatalogError::NegativePrice(price));
    }
    Ok(price)
}

/// Checks a stock level fits the database column.
pub fn check_stock(stock: u32) -> Result<u32, CatalogError> {
    if stock > MAX_STOCK {
        return Err(CatalogError::StockOutOfRange(stock));
    }
    Ok(stock)
}

/// The key by which option names and values, and attribute choices, are compared:
/// case does not make two of them different.
fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// One page of a keyset-paginated listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, K> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// Pass this as `after` to get the next page; `None` on the last page.
    pub next: Option<K>,
}

impl<T, K> Page<T, K> {
    /// A page of `limit` items from the first `limit + 1` of a listing: the extra
    /// item, when there is one, only says that a next page exists, which starts after
    /// the `key` of the last item kept.
    pub fn from_overfetch(mut items: Vec<T>, limit: usize, key: impl Fn(&T) -> K) -> Self {
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(key)
        } else {
            None
        };
        Page { items, next }
    }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ids::{ProductId, VariantId};
    use crate::money::Currency;
    use crate::values::{ProductName, Quantity};

    #[test]
    fn an_overfetched_listing_becomes_a_page_and_a_next_key() {
        let full = Page::from_overfetch(vec![1, 2, 3, 4], 3, |n| n * 10);
        assert_eq!(
            full,
            Page {
                items: vec![1, 2, 3],
                next: Some(30)
            }
        );
        let last = Page::from_overfetch(vec![1, 2], 3, |n| n * 10);
        assert_eq!(
            last,
            Page {
                items: vec![1, 2],
                next: None
            }
        );
        let exact = Page::from_overfetch(vec![1, 2, 3], 3, |n| n * 10);
        assert_eq!(exact.next, None, "no extra item: no next page");
    }

    /// Variant `id` of an active product of its own (also `id`), at 1.00 EUR with
    /// `stock` units, for tests.
    pub(crate) fn sellable(id: i64, sku: &str, stock: u32) -> Sellable {
        let now = chrono::Utc::now();
        Sellable {
            variant: Variant {
                id: VariantId::new(id),
                product_id: ProductId::new(id),
                sku: Sku::parse(sku).unwrap(),
                selection: OptionSelection::none(),
                price: Money::parse("1.00", Currency::EUR).unwrap(),
                stock_on_hand: stock,
                weight_grams: None,
                gtin: None,
                attributes: Vec::new(),
                created_at: now,
                updated_at: now,
            },
            product_name: ProductName::parse("Lamp").unwrap(),
            product_status: ProductStatus::Active,
        }
    }

    #[test]
    fn a_new_variant_beside_its_siblings_needs_their_currency_and_a_new_combination() {
        let size = OptionType::new(
            crate::values::OptionName::parse("Size").unwrap(),
            ["M", "L"]
                .iter()
                .map(|v| crate::values::OptionValue::parse(v).unwrap())
                .collect(),
        )
        .unwrap();
        let options = ProductOptions::new(vec![size]).unwrap();
        let pick = |value: &str| {
            OptionSelection::new(vec![OptionChoice {
                option: crate::values::OptionName::parse("size").unwrap(),
                value: crate::values::OptionValue::parse(value).unwrap(),
            }])
            .unwrap()
        };
        let mut medium = sellable(1, "TEE-M", 1).variant;
        medium.selection = options.resolve(&pick("M")).unwrap();
        let new = |value: &str, price: &str, currency| NewVariant {
            selection: pick(value),
            ..NewVariant::default_of(
                Sku::parse("TEE-X").unwrap(),
                Money::parse(price, currency).unwrap(),
                1,
            )
        };
        let large = new("l", "2.00", Currency::EUR)
            .checked_beside(&options, std::slice::from_ref(&medium))
            .unwrap();
        assert_eq!(
            large.selection.to_string(),
            "Size: L",
            "in the product's spelling"
        );
        assert!(matches!(
            new("m", "2.00", Currency::EUR).checked_beside(&options, std::slice::from_ref(&medium)),
            Err(CatalogError::Options(OptionError::DuplicateVariant {
                first: 0,
                second: 1,
                ..
            }))
        ));
        assert!(matches!(
            new("l", "2.00", Currency::USD).checked_beside(&options, std::slice::from_ref(&medium)),
            Err(CatalogError::Money(_))
        ));
        assert!(matches!(
            new("xl", "2.00", Currency::EUR).checked_beside(&options, &[]),
            Err(CatalogError::Options(_))
        ));
    }

    #[test]
    fn every_short_line_is_named_at_once() {
        let (a, b, c) = (
            sellable(1, "A", 5),
            sellable(2, "B", 1),
            sellable(3, "C", 0),
        );
        let q = |n| Quantity::new(n).unwrap();
        let (a, b, c) = (&a.variant, &b.variant, &c.variant);
        assert_eq!(ensure_in_stock(&[(a, q(5)), (b, q(1))]), Ok(()));
        let err = ensure_in_stock(&[(a, q(5)), (b, q(2)), (c, q(1))]).unwrap_err();
        let CatalogError::OutOfStock(short) = err else {
            panic!("{err:?}");
        };
        let named: Vec<(&str, u32, u32)> = short
            .iter()
            .map(|s| (s.sku.as_str(), s.requested, s.available))
            .collect();
        assert_eq!(named, [("B", 2, 1), ("C", 1, 0)]);
    }
}
