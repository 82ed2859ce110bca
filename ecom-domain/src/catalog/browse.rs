//! Browsing a category with filters and facet counts, and searching the catalog.
//!
//! # Facets
//!
//! A product offers a **facet value** for each option value of its variants
//! (Colour: Red) and each attribute value of it and of its variants (Material:
//! Cotton, Waterproof: true): [`facet_keys`]. Facet names and values are compared
//! ignoring case, so keys are folded to lower case. A [`BrowseFilter`] keeps the
//! products that have, for every [`FacetFilter`], at least one of its values
//! (Colour = red **or** blue, **and** Size = M), whose lowest variant price is in the
//! [`PriceRange`], and, with `in_stock`, that have a variant in stock. The counts of a
//! [`Browse`] say, for each facet value, how many of the matching products (all of
//! them, not only the page) have it: the numbers a shop shows beside its filters.
//!
//! # Order and pages
//!
//! A [`BrowseSort`] orders by newest, lowest variant price (either way) or name,
//! always with the product id as the tie-break, and pages follow by keyset: a
//! [`BrowseCursor`] holds the sort key and id of the last product shown, so that a
//! product added or changed between two pages neither repeats nor hides another.
//! Names are ordered by their UTF-8 bytes (upper case before lower case), the same
//! in every store.
//!
//! # Search
//!
//! A [`SearchQuery`] is at most [`SearchQuery::MAX_WORDS`] words of letters and
//! digits; the last is matched as a prefix, as a user types. Stores rank name
//! matches above description matches above attribute and option values.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Page, PageRequest, Product, fold};
use crate::ids::{CategoryId, ProductId};
use crate::money::{Currency, Money};

/// What the browse and search rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowseError {
    /// More facet filters than [`BrowseFilter::MAX_FACETS`].
    #[error("{count} facet filters, at most {max} are allowed")]
    TooManyFacets {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// More values in one facet filter than [`FacetFilter::MAX_VALUES`], or none.
    #[error("facet {facet:?} filters by {count} values, 1 to {max} are allowed")]
    FacetValues {
        /// The facet.
        facet: String,
        /// How many values were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// One facet filtered twice: give both values in one filter instead.
    #[error("facet {0:?} is filtered twice")]
    DuplicateFacet(String),
    /// A facet name or value that is empty, too long or holds a control character.
    #[error("facet {0:?}: a name or value must be 1 to 200 characters without control characters")]
    InvalidFacet(String),
    /// A price range whose ends are in different currencies, or whose minimum is
    /// above its maximum.
    #[error("price range {min} to {max} is not a range")]
    PriceRange {
        /// The lower end.
        min: Money,
        /// The upper end.
        max: Money,
    },
    /// A cursor of another sort than the request's.
    #[error("the page cursor was made for another sort order")]
    CursorSort,
    /// A cursor no listing could have made: a name that is not a product name, a
    /// time outside the years 1 to 9999.
    #[error("the page cursor is malformed")]
    MalformedCursor,
    /// A search query without a word to search for.
    #[error("the search query has no word to search for")]
    EmptyQuery,
    /// A search query longer than [`SearchQuery::MAX_LEN`] or with more than
    /// [`SearchQuery::MAX_WORDS`] words.
    #[error("the search query is too long: at most {max_len} characters and {max_words} words")]
    QueryTooLong {
        /// The character limit.
        max_len: usize,
        /// The word limit.
        max_words: usize,
    },
}

/// One facet value, folded to lower case: `colour` = `red`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FacetKey {
    /// The option type's or attribute's name.
    pub name: String,
    /// The value.
    pub value: String,
}

impl FacetKey {
    /// The key of `name` = `value`, folded.
    pub fn new(name: &str, value: &str) -> Self {
        Self {
            name: fold(name),
            value: fold(value),
        }
    }
}

/// Every facet value a product offers: its variants' option values, its own
/// attribute values and its variants'.
pub fn facet_keys(product: &Product) -> BTreeSet<FacetKey> {
    let own = product
        .attributes
        .iter()
        .map(|a| FacetKey::new(a.name.as_str(), &a.value.to_string()));
    let of_variants = product.variants.iter().flat_map(|v| {
        v.selection
            .choices()
            .iter()
            .map(|c| FacetKey::new(c.option.as_str(), c.value.as_str()))
            .chain(
                v.attributes
                    .iter()
                    .map(|a| FacetKey::new(a.name.as_str(), &a.value.to_string())),
            )
    });
    own.chain(of_variants).collect()
}

/// The lowest price of a product's variants: what a listing shows ("from 9.90")
/// and what price filters and sorts use.
pub fn price_from(product: &Product) -> Option<Money> {
    product.price_range().map(|(low, _)| low)
}

/// True when one of a product's variants has stock.
pub fn in_stock(product: &Product) -> bool {
    product.variants.iter().any(|v| v.stock_on_hand > 0)
}

/// Products that have at least one of `values` for the facet `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetFilter {
    /// The facet, folded.
    pub name: String,
    /// Its accepted values, folded, without repeats, in the order given.
    pub values: Vec<String>,
}

impl FacetFilter {
    /// The most values one facet filter accepts.
    pub const MAX_VALUES: usize = 20;
    /// The longest facet name or value, in characters.
    pub const MAX_LEN: usize = 200;

    /// Checks and folds a filter: 1 to [`FacetFilter::MAX_VALUES`] values, each name
    /// and value 1 to [`FacetFilter::MAX_LEN`] characters without control characters.
    pub fn new<S: AsRef<str>>(name: &str, values: &[S]) -> Result<Self, BrowseError> {
        let name = checked_facet_text(name)?;
        if values.is_empty() || values.len() > Self::MAX_VALUES {
            return Err(BrowseError::FacetValues {
                facet: name,
                count: values.len(),
                max: Self::MAX_VALUES,
            });
        }
        let mut folded: Vec<String> = Vec::with_capacity(values.len());
        for value in values {
            let value = checked_facet_text(value.as_ref())?;
            if !folded.contains(&value) {
                folded.push(value);
            }
        }
        Ok(Self {
            name,
            values: folded,
        })
    }

    /// True when `keys` holds one of the accepted values.
    pub fn accepts(&self, keys: &BTreeSet<FacetKey>) -> bool {
        keys.iter()
            .any(|k| k.name == self.name && self.values.contains(&k.value))
    }
}

fn checked_facet_text(text: &str) -> Result<String, BrowseError> {
    let trimmed = text.trim();
    let len = trimmed.chars().count();
    if len == 0 || len > FacetFilter::MAX_LEN || trimmed.chars().any(char::is_control) {
        return Err(BrowseError::InvalidFacet(text.chars().take(50).collect()));
    }
    Ok(fold(trimmed))
}

/// Lowest variant prices from `min` up to `max`, both included, in one currency:
/// products priced in another currency are left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRange {
    /// The currency.
    pub currency: Currency,
    /// The lowest price accepted, if any.
    pub min: Option<Decimal>,
    /// The highest price accepted, if any.
    pub max: Option<Decimal>,
}

impl PriceRange {
    /// A range from `min` to `max`, either open.
    pub fn new(min: Option<Money>, max: Option<Money>) -> Result<Option<Self>, BrowseError> {
        match (min, max) {
            (None, None) => Ok(None),
            (Some(min), Some(max))
                if min.currency() != max.currency() || min.amount() > max.amount() =>
            {
                Err(BrowseError::PriceRange { min, max })
            }
            (min, max) => {
                let currency = min.or(max).map(|m| m.currency());
                Ok(currency.map(|currency| Self {
                    currency,
                    min: min.map(|m| m.amount()),
                    max: max.map(|m| m.amount()),
                }))
            }
        }
    }

    /// True when `price` is in the range.
    pub fn contains(&self, price: Money) -> bool {
        price.currency() == self.currency
            && self.min.is_none_or(|min| price.amount() >= min)
            && self.max.is_none_or(|max| price.amount() <= max)
    }
}

/// Which products of a category a listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowseFilter {
    /// Facets, each to be matched (AND); within one, any value (OR).
    pub facets: Vec<FacetFilter>,
    /// The lowest variant price within this range.
    pub price: Option<PriceRange>,
    /// Only products with a variant in stock.
    pub in_stock: bool,
}

impl BrowseFilter {
    /// The most facet filters one listing takes.
    pub const MAX_FACETS: usize = 10;

    /// Checks the filter: at most [`BrowseFilter::MAX_FACETS`] facets, none twice.
    pub fn checked(self) -> Result<Self, BrowseError> {
        if self.facets.len() > Self::MAX_FACETS {
            return Err(BrowseError::TooManyFacets {
                count: self.facets.len(),
                max: Self::MAX_FACETS,
            });
        }
        for (i, f) in self.facets.iter().enumerate() {
            if self.facets[..i].iter().any(|g| g.name == f.name) {
                return Err(BrowseError::DuplicateFacet(f.name.clone()));
            }
        }
        Ok(self)
    }

    /// True when `product` (active, in the category) belongs on the listing.
    pub fn accepts(&self, product: &Product) -> bool {
        if self.in_stock && !in_stock(product) {
            return false;
        }
        if let Some(range) = &self.price
            && !price_from(product).is_some_and(|p| range.contains(p))
        {
            return false;
        }
        if self.facets.is_empty() {
            return true;
        }
        let keys = facet_keys(product);
        self.facets.iter().all(|f| f.accepts(&keys))
    }
}

/// The order of a listing; ties always go by product id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrowseSort {
    /// Newest first.
    #[default]
    Newest,
    /// Lowest variant price first, then by id.
    PriceAsc,
    /// Highest lowest-variant-price first, then by id descending.
    PriceDesc,
    /// By name (UTF-8 byte order), then by id.
    Name,
}

crate::text_enum!(BrowseSort {
    Newest = "newest",
    PriceAsc = "price_asc",
    PriceDesc = "price_desc",
    Name = "name"
});

/// Where the next page of a listing starts: the sort key and id of the last product
/// shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "sort", rename_all = "snake_case")]
pub enum BrowseCursor {
    /// After this product, newest first.
    Newest {
        /// Its creation time.
        created_at: DateTime<Utc>,
        /// Its id.
        id: ProductId,
    },
    /// After this product, by lowest price (either way).
    Price {
        /// Its lowest variant price.
        amount: Decimal,
        /// Its id.
        id: ProductId,
    },
    /// After this product, by name.
    Name {
        /// Its name.
        name: String,
        /// Its id.
        id: ProductId,
    },
}

impl BrowseCursor {
    /// The cursor after `product` under `sort`.
    pub fn after(product: &Product, sort: BrowseSort) -> Self {
        match sort {
            BrowseSort::Newest => Self::Newest {
                created_at: product.created_at,
                id: product.id,
            },
            BrowseSort::PriceAsc | BrowseSort::PriceDesc => Self::Price {
                amount: price_from(product).map_or(Decimal::ZERO, |m| m.amount()),
                id: product.id,
            },
            BrowseSort::Name => Self::Name {
                name: product.name.as_str().to_owned(),
                id: product.id,
            },
        }
    }

    /// The id of the product it was made after.
    pub fn id(&self) -> ProductId {
        match self {
            Self::Newest { id, .. } | Self::Price { id, .. } | Self::Name { id, .. } => *id,
        }
    }

    /// True when a listing could have made it: a name that is a product name, a
    /// time within the years 1 to 9999 (what every store can compare it with).
    pub fn is_well_formed(&self) -> bool {
        match self {
            Self::Newest { created_at, .. } => (1..=9999).contains(&created_at.year()),
            Self::Price { .. } => true,
            Self::Name { name, .. } => {
                crate::values::ProductName::parse(name).is_ok_and(|n| n.as_str() == name)
            }
        }
    }

    /// True when the cursor was made for `sort`.
    pub fn fits(&self, sort: BrowseSort) -> bool {
        matches!(
            (self, sort),
            (Self::Newest { .. }, BrowseSort::Newest)
                | (
                    Self::Price { .. },
                    BrowseSort::PriceAsc | BrowseSort::PriceDesc
                )
                | (Self::Name { .. }, BrowseSort::Name)
        )
    }

    /// The order of two products under `sort`: `Less` when `a` comes first.
    pub fn order(sort: BrowseSort, a: &Product, b: &Product) -> std::cmp::Ordering {
        let price = |p: &Product| price_from(p).map_or(Decimal::ZERO, |m| m.amount());
        match sort {
            BrowseSort::Newest => (b.created_at, b.id).cmp(&(a.created_at, a.id)),
            BrowseSort::PriceAsc => (price(a), a.id).cmp(&(price(b), b.id)),
            BrowseSort::PriceDesc => (price(b), b.id).cmp(&(price(a), a.id)),
            BrowseSort::Name => (a.name.as_str(), a.id).cmp(&(b.name.as_str(), b.id)),
        }
    }

    /// True when `product` comes after this cursor under `sort`.
    pub fn is_before(&self, sort: BrowseSort, product: &Product) -> bool {
        let price = price_from(product).map_or(Decimal::ZERO, |m| m.amount());
        match (self, sort) {
            (Self::Newest { created_at, id }, _) => {
                (product.created_at, product.id) < (*created_at, *id)
            }
            (Self::Price { amount, id }, BrowseSort::PriceDesc) => {
                (price, product.id) < (*amount, *id)
            }
            (Self::Price { amount, id }, _) => (price, product.id) > (*amount, *id),
            (Self::Name { name, id }, _) => {
                (product.name.as_str(), product.id) > (name.as_str(), *id)
            }
        }
    }
}

/// A listing of a category: which products, in which order, which page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowseRequest {
    /// The category; its subcategories' products are listed too.
    pub category: CategoryId,
    /// Which products.
    pub filter: BrowseFilter,
    /// Their order.
    pub sort: BrowseSort,
    /// Where the page starts and how long it is.
    pub page: PageRequest<BrowseCursor>,
}

impl BrowseRequest {
    /// Checks the filter, and that the cursor is well formed and made for the sort.
    pub fn checked(self) -> Result<Self, BrowseError> {
        if let Some(cursor) = &self.page.after {
            if !cursor.fits(self.sort) {
                return Err(BrowseError::CursorSort);
            }
            if !cursor.is_well_formed() {
                return Err(BrowseError::MalformedCursor);
            }
        }
        Ok(Self {
            filter: self.filter.checked()?,
            ..self
        })
    }
}

/// How many matching products have one facet value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    /// The facet value.
    pub key: FacetKey,
    /// How many of the matching products have it.
    pub products: u64,
}

/// A page of a category listing, with what the whole listing holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Browse {
    /// The page, with its variants.
    pub page: Page<Product, BrowseCursor>,
    /// How many products match the filter.
    pub total: u64,
    /// For each facet value of the matching products, how many have it; by key.
    pub facets: Vec<FacetCount>,
}

impl Browse {
    /// The listing of `matching` (the category's active products that pass the
    /// filter, in any order) that `request` asks for: what every store must return.
    pub fn of(mut matching: Vec<Product>, request: &BrowseRequest) -> Self {
        let mut counts: std::collections::BTreeMap<FacetKey, u64> = Default::default();
        for product in &matching {
            for key in facet_keys(product) {
                *counts.entry(key).or_default() += 1;
            }
        }
        let total = matching.len() as u64;
        let sort = request.sort;
        matching.sort_by(|a, b| BrowseCursor::order(sort, a, b));
        let limit = request.page.clamped_limit() as usize;
        let items: Vec<Product> = matching
            .into_iter()
            .filter(|p| {
                request
                    .page
                    .after
                    .as_ref()
                    .is_none_or(|c| c.is_before(sort, p))
            })
            .take(limit + 1)
            .collect();
        Self {
            page: Page::from_overfetch(items, limit, |p| BrowseCursor::after(p, sort)),
            total,
            facets: counts
                .into_iter()
                .map(|(key, products)| FacetCount { key, products })
                .collect(),
        }
    }
}

/// What a shopper typed in the search box: 1 to [`SearchQuery::MAX_WORDS`] words of
/// letters and digits, folded to lower case; everything else separates words.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchQuery {
    words: Vec<String>,
}

impl SearchQuery {
    /// The longest query, in characters.
    pub const MAX_LEN: usize = 200;
    /// The most words in a query.
    pub const MAX_WORDS: usize = 8;

    /// Splits and checks a query.
    pub fn parse(raw: &str) -> Result<Self, BrowseError> {
        let too_long = BrowseError::QueryTooLong {
            max_len: Self::MAX_LEN,
            max_words: Self::MAX_WORDS,
        };
        if raw.chars().count() > Self::MAX_LEN {
            return Err(too_long);
        }
        let words = words(raw);
        if words.is_empty() {
            return Err(BrowseError::EmptyQuery);
        }
        if words.len() > Self::MAX_WORDS {
            return Err(too_long);
        }
        Ok(Self { words })
    }

    /// The words, folded, in the order typed.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The words joined by spaces: what a trigram fallback compares names with.
    pub fn text(&self) -> String {
        self.words.join(" ")
    }

    /// True when `text`'s words hold every word of the query, the last as a prefix:
    /// how a store without a text-search engine matches.
    pub fn matches_words(&self, text_words: &[String]) -> bool {
        let (last, rest) = self.words.split_last().expect("a query has a word");
        rest.iter().all(|w| text_words.contains(w))
            && text_words.iter().any(|t| t.starts_with(last.as_str()))
    }
}

/// The words of `text`: runs of letters and digits, folded to lower case.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(fold)
        .collect()
}

/// Where the next page of search results starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchCursor {
    /// The relevance of the last product shown, in millionths.
    pub score: i64,
    /// Its id.
    pub id: ProductId,
}

/// A search: the query and the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// What to look for.
    pub query: SearchQuery,
    /// Where the page starts and how long it is.
    pub page: PageRequest<SearchCursor>,
}

/// One search result: a product and its relevance in millionths (higher first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The product, with its variants.
    pub product: Product,
    /// How well it matches; hits come by score, highest first, then by id.
    pub score: i64,
}

/// The language whose rules (stemming, stop words) full-text search applies: the
/// name of a PostgreSQL text search configuration such as `english`, `german` or
/// `simple`, 1 to 63 lowercase ASCII letters, digits or underscores.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SearchLanguage(String);

impl SearchLanguage {
    /// Checks a configuration name (whether the database has it is the store's to say).
    pub fn parse(raw: &str) -> Result<Self, crate::values::ValidationError> {
        let name = raw.trim();
        let ok = (1..=63).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(crate::values::ValidationError::Malformed {
                field: "search language",
                value: raw.chars().take(70).collect(),
                rule: "1 to 63 lowercase ASCII letters, digits or underscores",
            });
        }
        Ok(Self(name.to_owned()))
    }

    /// The configuration's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for SearchLanguage {
    fn default() -> Self {
        Self("english".to_owned())
    }
}

#[cfg(test)]
#[path = "browse_tests.rs"]
mod tests;
