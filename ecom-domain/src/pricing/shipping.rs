//! Shipping as data: zones (sets of countries and regions), methods per zone
//! (standard, express, pickup) with a rate (flat, or by total weight in bands) and
//! maybe free shipping above an order value.
//!
//! The methods a customer may choose for a cart are those of a zone that covers the
//! destination, in the cart's currency, whose rate has a price for the cart's
//! weight (a cart heavier than a method's last band cannot go by it):
//! [`shipping_options`], cheapest first.

use serde::{Deserialize, Serialize};

use super::tax::{Destination, RegionCode, TaxClass};
use crate::ids::{ShippingMethodId, ShippingZoneId};
use crate::money::{Currency, Money};
use crate::values::{CountryCode, ShippingMethodName, ShippingZoneName, Slug};

/// What the shipping rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShippingError {
    /// A price in another currency than the method's, or negative.
    #[error("shipping price {price} does not fit a method in {currency}")]
    Price {
        /// The price given.
        price: Money,
        /// The method's currency.
        currency: Currency,
    },
    /// Weight bands not in increasing order, or none.
    #[error("weight bands must be given lightest first, each heavier than the last")]
    Bands,
    /// A zone without an area.
    #[error("a shipping zone covers at least one country")]
    EmptyZone,
    /// One area named twice in a zone.
    #[error("a shipping zone names {0:?} twice")]
    DuplicateArea(Area),
}

/// A country, or one region of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Area {
    /// The country.
    pub country: CountryCode,
    /// One region of it; `None`: all of it.
    pub region: Option<RegionCode>,
}

/// Where a set of shipping methods delivers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingZone {
    /// Its id.
    pub id: ShippingZoneId,
    /// Its name.
    pub name: ShippingZoneName,
    /// The countries and regions it covers.
    pub areas: Vec<Area>,
}

impl ShippingZone {
    /// Checks it covers something.
    pub fn checked(self) -> Result<Self, ShippingError> {
        check_areas(&self.areas)?;
        Ok(self)
    }

    /// True when it delivers to `to`: the whole country, or `to`'s region of it.
    pub fn covers(&self, to: &Destination) -> bool {
        self.areas.iter().any(|a| {
            a.country == to.country
                && a.region
                    .as_ref()
                    .is_none_or(|r| to.region.as_ref() == Some(r))
        })
    }
}

/// Up to a weight (inclusive), this price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightBand {
    /// The heaviest cart of the band, in grams.
    pub up_to_grams: u64,
    /// Its price.
    pub price: Money,
}

/// How a method's price is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ShippingRate {
    /// One price whatever the cart.
    Flat {
        /// The price.
        price: Money,
    },
    /// By the cart's total weight: the first band it fits.
    ByWeight {
        /// The bands, lightest first.
        bands: Vec<WeightBand>,
    },
}

/// A way to ship, in one zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingMethod {
    /// Its id.
    pub id: ShippingMethodId,
    /// The zone it delivers to.
    pub zone: ShippingZoneId,
    /// A short code a checkout names it by (`standard`, `express`, `pickup`).
    pub code: Slug,
    /// What the customer sees.
    pub name: ShippingMethodName,
    /// The currency of its prices.
    pub currency: Currency,
    /// Its rate.
    pub rate: ShippingRate,
    /// Carts worth at least this (as priced: gross where prices include tax) ship
    /// free by this method.
    pub free_from: Option<Money>,
    /// The tax class of the shipping charge (the destination's standard rate by
    /// default).
    pub tax_class: TaxClass,
}

impl ShippingMethod {
    /// Checks its prices are in its currency and not negative, and its bands.
    pub fn checked(self) -> Result<Self, ShippingError> {
        check_rate(self.currency, &self.rate, self.free_from)?;
        Ok(self)
    }

    /// Its price for a cart worth `subtotal` weighing `grams`; `None` when it does
    /// not take the cart (another currency, heavier than its last band).
    pub fn price(&self, subtotal: Money, grams: u64) -> Option<Money> {
        if subtotal.currency() != self.currency {
            return None;
        }
        let price = match &self.rate {
            ShippingRate::Flat { price } => *price,
            ShippingRate::ByWeight { bands } => {
                bands.iter().find(|b| grams <= b.up_to_grams)?.price
            }
        };
        if self
            .free_from
            .is_some_and(|free| subtotal.amount() >= free.amount())
        {
            return Some(Money::zero(self.currency));
        }
        Some(price)
    }
}

/// Refuses a zone that covers nothing.
pub(super) fn check_areas(areas: &[Area]) -> Result<(), ShippingError> {
    if areas.is_empty() {
        return Err(ShippingError::EmptyZone);
    }
    if let Some(again) = areas
        .iter()
        .enumerate()
        .find_map(|(i, a)| areas[..i].contains(a).then_some(a))
    {
        return Err(ShippingError::DuplicateArea(again.clone()));
    }
    Ok(())
}

/// Refuses prices of a rate (and a free-from value) in another currency than
/// `currency` or negative, and weight bands not lightest first.
pub(super) fn check_rate(
    currency: Currency,
    rate: &ShippingRate,
    free_from: Option<Money>,
) -> Result<(), ShippingError> {
    let prices: Vec<Money> = match rate {
        ShippingRate::Flat { price } => vec![*price],
        ShippingRate::ByWeight { bands } => {
            if bands.is_empty()
                || bands
                    .windows(2)
                    .any(|w| w[1].up_to_grams <= w[0].up_to_grams)
            {
                return Err(ShippingError::Bands);
            }
            bands.iter().map(|b| b.price).collect()
        }
    };
    match prices
        .into_iter()
        .chain(free_from)
        .find(|p| p.currency() != currency || p.is_negative())
    {
        Some(price) => Err(ShippingError::Price { price, currency }),
        None => Ok(()),
    }
}

/// A method a customer may choose, with its price for their cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingOption {
    /// The method.
    pub method: ShippingMethod,
    /// Its price for the cart.
    pub price: Money,
}

/// The methods that take a cart worth `subtotal` weighing `grams` to `to`,
/// cheapest first (then by code).
pub fn shipping_options(
    zones: &[ShippingZone],
    methods: &[ShippingMethod],
    to: &Destination,
    subtotal: Money,
    grams: u64,
) -> Vec<ShippingOption> {
    let mut options: Vec<ShippingOption> = methods
        .iter()
        .filter(|m| zones.iter().any(|z| z.id == m.zone && z.covers(to)))
        .filter_map(|m| {
            m.price(subtotal, grams).map(|price| ShippingOption {
                method: m.clone(),
                price,
            })
        })
        .collect();
    options.sort_by(|a, b| {
        (a.price.amount(), a.method.code.as_str(), a.method.id).cmp(&(
            b.price.amount(),
            b.method.code.as_str(),
            b.method.id,
        ))
    });
    options
}
