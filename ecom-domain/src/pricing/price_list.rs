//! Prices as data: a variant's own price, and price lists that add prices in other
//! currencies, sale prices for a while, prices for customer groups (B2B, staff) and
//! quantity tiers (from 10 units: 9.50).
//!
//! # Which price applies
//!
//! The candidates for a variant, a quantity, a currency, the customer's groups and
//! a moment are its own price (when it is in that currency) and every entry of a
//! price list that applies: in the currency, valid at that moment, open to everyone
//! or to one of the customer's groups, with a tier the quantity reaches. The
//! **lowest** candidate is the price: a customer is never charged more because a
//! list also applies to them. Ties go to the variant's own price, then to the
//! lowest list id, then to the highest tier, so the same question always gets the
//! same answer (and the same [`PriceSource`]).
//!
//! A currency with no candidate is a typed error ([`PricingError::NoPrice`]): a
//! cart in GBP cannot take a variant without a GBP price.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::PricingError;
use crate::catalog::Variant;
use crate::ids::{PriceListId, VariantId};
use crate::money::{Currency, Money};
use crate::values::{PriceListName, Quantity, Slug};

/// What the price list rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceListError {
    /// A list whose window ends before it starts.
    #[error("price list {0} ends before it starts")]
    EmptyWindow(PriceListName),
    /// An entry in another currency than its list's, or negative.
    #[error("price {price} does not fit a price list in {currency}")]
    Price {
        /// The price given.
        price: Money,
        /// The list's currency.
        currency: Currency,
    },
    /// A tier below 1 unit.
    #[error("a price tier starts at 1 unit or more, not {0}")]
    Tier(u32),
    /// Two prices for one variant and tier in one list.
    #[error("variant {variant} has two prices from {min_quantity} units")]
    DuplicatePrice {
        /// The variant.
        variant: VariantId,
        /// The tier.
        min_quantity: u32,
    },
}

/// A list of prices in one currency, maybe for one customer group, maybe for a
/// while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceList {
    /// Its id.
    pub id: PriceListId,
    /// Its name ("Summer sale").
    pub name: PriceListName,
    /// The currency of every price in it.
    pub currency: Currency,
    /// The customer group it is for (a slug: `b2b`, `staff`); `None`: everyone.
    pub group: Option<Slug>,
    /// When it starts to apply; `None`: always has.
    pub starts_at: Option<DateTime<Utc>>,
    /// When it stops (exclusive); `None`: never.
    pub ends_at: Option<DateTime<Utc>>,
}

impl PriceList {
    /// Checks its window.
    pub fn checked(self) -> Result<Self, PriceListError> {
        check_window(&self.name, self.starts_at, self.ends_at)?;
        Ok(self)
    }

    /// True when it applies to a customer of `groups` buying in `currency` at `at`.
    pub fn applies(&self, currency: Currency, groups: &[Slug], at: DateTime<Utc>) -> bool {
        self.currency == currency
            && self.group.as_ref().is_none_or(|g| groups.contains(g))
            && self.starts_at.is_none_or(|s| s <= at)
            && self.ends_at.is_none_or(|e| at < e)
    }
}

/// Refuses a window that ends before it starts.
pub(super) fn check_window(
    name: &PriceListName,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
) -> Result<(), PriceListError> {
    match (starts_at, ends_at) {
        (Some(start), Some(end)) if end <= start => Err(PriceListError::EmptyWindow(name.clone())),
        _ => Ok(()),
    }
}

/// One price of a list: a variant's unit price from a number of units on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceEntry {
    /// The list.
    pub list: PriceListId,
    /// The variant.
    pub variant: VariantId,
    /// The tier: the price applies from this many units in the line (1: always).
    pub min_quantity: u32,
    /// The unit price.
    pub price: Money,
}

impl PriceEntry {
    /// Checks the entry against its list: its currency, not negative, a tier of 1
    /// or more.
    pub fn checked(self, list: &PriceList) -> Result<Self, PriceListError> {
        if self.price.currency() != list.currency || self.price.is_negative() {
            return Err(PriceListError::Price {
                price: self.price,
                currency: list.currency,
            });
        }
        if self.min_quantity == 0 {
            return Err(PriceListError::Tier(0));
        }
        Ok(self)
    }
}

/// Who buys, in what, when: what decides which prices apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceContext<'a> {
    /// The cart's currency.
    pub currency: Currency,
    /// The customer's groups (none for a guest).
    pub groups: &'a [Slug],
    /// The moment of pricing.
    pub at: DateTime<Utc>,
}

/// Where a unit price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "source", content = "list", rename_all = "snake_case")]
pub enum PriceSource {
    /// The variant's own price.
    Variant,
    /// An entry of this price list.
    List(PriceListId),
}

/// The unit price of a line, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitPrice {
    /// The price.
    pub price: Money,
    /// Its source.
    pub source: PriceSource,
}

/// The unit price of `quantity` units of `variant` (see the module's rules), from
/// its own price and `entries` of `lists` (entries of other variants, and of lists
/// not given, are ignored).
pub fn unit_price(
    variant: &Variant,
    quantity: Quantity,
    lists: &[PriceList],
    entries: &[PriceEntry],
    context: PriceContext<'_>,
) -> Result<UnitPrice, PricingError> {
    let own = (variant.price.currency() == context.currency).then_some((
        variant.price,
        PriceSource::Variant,
        u32::MAX,
    ));
    let listed = entries.iter().filter_map(|e| {
        let list = lists.iter().find(|l| l.id == e.list)?;
        let applies = e.variant == variant.id
            && e.min_quantity <= quantity.get()
            && e.price.currency() == context.currency
            && list.applies(context.currency, context.groups, context.at);
        applies.then_some((e.price, PriceSource::List(list.id), e.min_quantity))
    });
    own.into_iter()
        .chain(listed)
        // Lowest price; then the variant's own; then the lowest list id; then the
        // highest tier.
        .min_by(|a, b| {
            (a.0.amount(), a.1, std::cmp::Reverse(a.2)).cmp(&(
                b.0.amount(),
                b.1,
                std::cmp::Reverse(b.2),
            ))
        })
        .map(|(price, source, _)| UnitPrice { price, source })
        .ok_or(PricingError::NoPrice {
            variant: variant.id,
            currency: context.currency,
        })
}
