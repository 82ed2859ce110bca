//! What to generate: sizes, presets, the period orders are spread over, the seed.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use ecom_domain::money::Currency;

use crate::SeedError;

/// A size preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    /// A few hundred orders: seconds, for trying things out.
    Small,
    /// 20,000 orders: the size the constraint tests load.
    Medium,
    /// 1,000,000 orders: for benchmarks and realistic query plans.
    Large,
}

impl Scale {
    /// The sizes of the preset.
    pub const fn sizes(self) -> Sizes {
        match self {
            Scale::Small => Sizes {
                categories: 12,
                products: 200,
                users: 100,
                orders: 500,
                carts: 60,
                collections: 6,
            },
            Scale::Medium => Sizes {
                categories: 40,
                products: 2_000,
                users: 5_000,
                orders: 20_000,
                carts: 2_000,
                collections: 16,
            },
            Scale::Large => Sizes {
                categories: 200,
                products: 50_000,
                users: 250_000,
                orders: 1_000_000,
                carts: 100_000,
                collections: 40,
            },
        }
    }
}

impl FromStr for Scale {
    type Err = SeedError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "small" => Ok(Scale::Small),
            "medium" => Ok(Scale::Medium),
            "large" => Ok(Scale::Large),
            other => Err(SeedError::Plan(format!(
                "unknown scale {other:?}: small, medium or large"
            ))),
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Scale::Small => "small",
            Scale::Medium => "medium",
            Scale::Large => "large",
        })
    }
}

/// How many of each thing to generate. Variants (1 to about 60 per product, by what
/// its department sells), addresses (1–3 per user), order lines (1–5 per order),
/// status history and payment events follow from these; attribute definitions are
/// the shop's fixed vocabulary, the same at every size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sizes {
    /// Categories, in a tree.
    pub categories: u64,
    /// Products, each with its variants.
    pub products: u64,
    /// Registered users.
    pub users: u64,
    /// Orders (each with its converted cart and one payment).
    pub orders: u64,
    /// Carts that did not become orders: abandoned ones and open ones.
    pub carts: u64,
    /// Collections ("Summer sale"), each an ordered list of products.
    pub collections: u64,
}

/// The first id each table's generated rows get is one more than this (non-zero when
/// appending to a database that already holds rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct IdBase {
    /// Largest existing `attribute_definitions.id`.
    pub attribute_definitions: i64,
    /// Largest existing `categories.id`.
    pub categories: i64,
    /// Largest existing `products.id`.
    pub products: i64,
    /// Largest existing `product_variants.id`.
    pub variants: i64,
    /// Largest existing `collections.id`.
    pub collections: i64,
    /// Largest existing `tax_rates.id`.
    pub tax_rates: i64,
    /// Largest existing `shipping_zones.id`.
    pub shipping_zones: i64,
    /// Largest existing `shipping_zone_areas.id`.
    pub shipping_zone_areas: i64,
    /// Largest existing `shipping_methods.id`.
    pub shipping_methods: i64,
    /// Largest existing `price_lists.id`.
    pub price_lists: i64,
    /// Largest existing `users.id`.
    pub users: i64,
    /// Largest existing `gift_cards.id`.
    pub gift_cards: i64,
    /// Largest existing `gift_card_entries.id`.
    pub gift_card_entries: i64,
    /// Largest existing `addresses.id`.
    pub addresses: i64,
    /// Largest existing `carts.id`.
    pub carts: i64,
    /// Largest existing `orders.id`.
    pub orders: i64,
    /// Largest existing `order_status_history.id`.
    pub history: i64,
    /// Largest existing `payments.id`.
    pub payments: i64,
    /// Largest existing `payment_events.id`.
    pub payment_events: i64,
    /// Largest existing `stock_locations.id`.
    pub stock_locations: i64,
    /// Largest existing `shipments.id`.
    pub shipments: i64,
    /// Largest existing `returns.id`.
    pub returns: i64,
}

/// Everything that determines the generated data: the same plan gives the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The random seed.
    pub seed: u64,
    /// How many of each.
    pub sizes: Sizes,
    /// Orders are placed from this instant...
    pub since: DateTime<Utc>,
    /// ...until this one; nothing generated happens after it.
    pub until: DateTime<Utc>,
    /// The shop's currency: every price and order is in it.
    pub currency: Currency,
    /// Where ids start.
    pub ids: IdBase,
    /// Attribute names (lower case) the database already defines, when appending:
    /// their definitions are not written again (names are unique ignoring case), and
    /// the generated values are meant for the seed's own definitions of them.
    pub defined_attributes: Vec<String>,
    /// True when appending to a database that already has a market, tax rates or
    /// shipping zones: the seed's are not written again, since a second market for
    /// the currency or a second rate of a country and class at the same time would
    /// be refused, and a second set of zones would only shadow the first. Price
    /// lists and customer groups are written either way.
    pub tax_and_shipping_defined: bool,
}

impl Plan {
    /// The default seed.
    pub const DEFAULT_SEED: u64 = 42;

    /// A plan for `scale` with the default seed, period (the year 2025) and currency
    /// (EUR). The period is fixed rather than relative to today so that a seed gives
    /// the same data whenever it runs.
    pub fn new(scale: Scale) -> Self {
        Self {
            seed: Self::DEFAULT_SEED,
            sizes: scale.sizes(),
            since: Utc
                .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            until: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            currency: Currency::EUR,
            ids: IdBase::default(),
            defined_attributes: Vec::new(),
            tax_and_shipping_defined: false,
        }
    }

    /// Checks the plan makes sense before anything is generated.
    pub fn validate(&self) -> Result<(), SeedError> {
        let s = &self.sizes;
        if self.until <= self.since {
            return Err(SeedError::Plan(
                "the period must end after it starts".into(),
            ));
        }
        if s.orders > 0 && s.products == 0 {
            return Err(SeedError::Plan("orders need at least one product".into()));
        }
        if (s.products > 0) && s.categories == 0 {
            return Err(SeedError::Plan(
                "products need at least one category".into(),
            ));
        }
        if s.carts > 0 && s.products == 0 {
            return Err(SeedError::Plan("carts need at least one product".into()));
        }
        if s.collections > 0 && s.products == 0 {
            return Err(SeedError::Plan(
                "collections need at least one product".into(),
            ));
        }
        // Ids and counters must fit in the columns (bigint ids; smallint line numbers
        // are bounded by 5 lines an order).
        let limit = 1u64 << 40;
        if [
            s.categories,
            s.products,
            s.users,
            s.orders,
            s.carts,
            s.collections,
        ]
        .iter()
        .any(|n| *n > limit)
        {
            return Err(SeedError::Plan(format!("sizes are limited to {limit}")));
        }
        Ok(())
    }
}

impl Default for Plan {
    fn default() -> Self {
        Self::new(Scale::Small)
    }
}
