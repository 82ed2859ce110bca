//! The price book: everything prices, tax and shipping read from a shop's data, and
//! the one way a cart is priced with it, whatever store loaded it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::PricingError;
use super::price_list::{
    PriceContext, PriceEntry, PriceList, PriceListError, check_window, unit_price,
};
use super::quote::{
    Market, Promotions, Quote, QuoteLine, QuoteRequest, quote, subtotal_and_weight,
};
use super::shipping::{
    Area, ShippingError, ShippingMethod, ShippingOption, ShippingRate, ShippingZone, check_areas,
    check_rate, shipping_options,
};
use super::tax::{Destination, TaxClass, TaxRates, TaxTable};
use crate::catalog::Sellable;
use crate::ids::{PriceListId, ShippingMethodId, ShippingZoneId, VariantId};
use crate::money::{Currency, Money};
use crate::values::{PriceListName, Quantity, ShippingMethodName, ShippingZoneName, Slug};

/// What it takes to create a price list; the store gives it its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPriceList {
    /// Its name.
    pub name: PriceListName,
    /// The currency of its prices.
    pub currency: Currency,
    /// The customer group it is for; `None`: everyone.
    pub group: Option<Slug>,
    /// When it starts to apply.
    pub starts_at: Option<DateTime<Utc>>,
    /// When it stops (exclusive).
    pub ends_at: Option<DateTime<Utc>>,
}

impl NewPriceList {
    /// Checks its window ([`PriceList::checked`]), before a store gives it an id.
    pub fn checked(self) -> Result<Self, PriceListError> {
        check_window(&self.name, self.starts_at, self.ends_at)?;
        Ok(self)
    }

    /// The list, with the id the store gave it.
    pub fn with_id(self, id: PriceListId) -> PriceList {
        PriceList {
            id,
            name: self.name,
            currency: self.currency,
            group: self.group,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
        }
    }
}

/// One price to put in a list: a variant's unit price from a number of units on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListPrice {
    /// The variant.
    pub variant: VariantId,
    /// The tier (1: always).
    pub min_quantity: u32,
    /// The unit price, in the list's currency.
    pub price: Money,
}

impl ListPrice {
    /// `prices` as entries of `list`, each checked ([`PriceEntry::checked`]) and no
    /// variant and tier twice.
    pub fn entries_of(
        list: &PriceList,
        prices: Vec<ListPrice>,
    ) -> Result<Vec<PriceEntry>, PriceListError> {
        let mut entries: Vec<PriceEntry> = Vec::with_capacity(prices.len());
        for p in prices {
            if entries
                .iter()
                .any(|e| e.variant == p.variant && e.min_quantity == p.min_quantity)
            {
                return Err(PriceListError::DuplicatePrice {
                    variant: p.variant,
                    min_quantity: p.min_quantity,
                });
            }
            entries.push(
                PriceEntry {
                    list: list.id,
                    variant: p.variant,
                    min_quantity: p.min_quantity,
                    price: p.price,
                }
                .checked(list)?,
            );
        }
        entries.sort_by_key(|e| (e.variant, e.min_quantity));
        Ok(entries)
    }
}

/// What it takes to create a shipping zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShippingZone {
    /// Its name.
    pub name: ShippingZoneName,
    /// The countries and regions it covers.
    pub areas: Vec<Area>,
}

/// What it takes to create a shipping method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShippingMethod {
    /// The zone it delivers to.
    pub zone: ShippingZoneId,
    /// Its code, unique within the zone.
    pub code: Slug,
    /// Its name.
    pub name: ShippingMethodName,
    /// The currency of its prices.
    pub currency: Currency,
    /// Its rate.
    pub rate: ShippingRate,
    /// Free from this cart value.
    pub free_from: Option<Money>,
    /// The tax class of its charge.
    pub tax_class: TaxClass,
}

impl NewShippingZone {
    /// Checks it covers something ([`ShippingZone::checked`]).
    pub fn checked(self) -> Result<Self, ShippingError> {
        check_areas(&self.areas)?;
        Ok(self)
    }

    /// The zone, with the id the store gave it.
    pub fn with_id(self, id: ShippingZoneId) -> ShippingZone {
        ShippingZone {
            id,
            name: self.name,
            areas: self.areas,
        }
    }
}

impl NewShippingMethod {
    /// Checks its prices and bands ([`ShippingMethod::checked`]).
    pub fn checked(self) -> Result<Self, ShippingError> {
        check_rate(self.currency, &self.rate, self.free_from)?;
        Ok(self)
    }

    /// The method, with the id the store gave it.
    pub fn with_id(self, id: ShippingMethodId) -> ShippingMethod {
        ShippingMethod {
            id,
            zone: self.zone,
            code: self.code,
            name: self.name,
            currency: self.currency,
            rate: self.rate,
            free_from: self.free_from,
            tax_class: self.tax_class,
        }
    }
}

/// A cart as pricing sees it: its currency, lines (each variant with its product's
/// tax class), who buys (their customer groups) and when.
#[derive(Debug, Clone, Copy)]
pub struct CartToPrice<'a> {
    /// The cart's currency.
    pub currency: Currency,
    /// Each line: the variant, units, its product's tax class.
    pub lines: &'a [(Sellable, Quantity, TaxClass)],
    /// The customer's groups (none for a guest).
    pub groups: &'a [Slug],
    /// The moment of pricing.
    pub at: DateTime<Utc>,
    /// The promotions offered to it (none by default).
    pub promotions: Promotions<'a>,
}

/// The data prices, tax and shipping are read from. A store may load only what a
/// cart needs (the entries of its variants, the rates of its destination).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceBook {
    /// Markets, by currency; a currency without one has net prices.
    pub markets: Vec<Market>,
    /// Price lists.
    pub lists: Vec<PriceList>,
    /// Their entries.
    pub entries: Vec<PriceEntry>,
    /// Tax rates.
    pub taxes: TaxTable,
    /// Shipping zones.
    pub zones: Vec<ShippingZone>,
    /// Shipping methods.
    pub methods: Vec<ShippingMethod>,
}

impl PriceBook {
    /// The market of `currency`: net prices unless one says otherwise.
    pub fn market(&self, currency: Currency) -> Market {
        self.markets
            .iter()
            .find(|m| m.currency == currency)
            .copied()
            .unwrap_or(Market {
                currency,
                prices_include_tax: false,
            })
    }

    /// Each line of `cart` with its unit price.
    fn lines<'a>(&self, cart: &CartToPrice<'a>) -> Result<Vec<QuoteLine<'a>>, PricingError> {
        if cart.lines.is_empty() {
            return Err(PricingError::EmptyCart);
        }
        let context = PriceContext {
            currency: cart.currency,
            groups: cart.groups,
            at: cart.at,
        };
        cart.lines
            .iter()
            .map(|(item, quantity, class)| {
                if !item.is_buyable() {
                    return Err(PricingError::NotOnSale(item.id()));
                }
                let unit = unit_price(
                    &item.variant,
                    *quantity,
                    &self.lists,
                    &self.entries,
                    context,
                )?;
                Ok(QuoteLine {
                    item,
                    quantity: *quantity,
                    unit_price: unit.price,
                    tax_class: *class,
                })
            })
            .collect()
    }

    /// The shipping methods that take `cart` to `to`, with their prices, cheapest
    /// first.
    pub fn shipping_options(
        &self,
        cart: &CartToPrice<'_>,
        to: &Destination,
    ) -> Result<Vec<ShippingOption>, PricingError> {
        let lines = self.lines(cart)?;
        let (subtotal, grams) = subtotal_and_weight(cart.currency, &lines)?;
        Ok(shipping_options(
            &self.zones,
            &self.methods,
            to,
            subtotal,
            grams,
        ))
    }

    /// `cart` quoted for delivery to `to` by the method `code` (one of
    /// [`PriceBook::shipping_options`]): its market, its price lists, per-line tax
    /// at the book's rates.
    pub fn quote(
        &self,
        cart: &CartToPrice<'_>,
        to: &Destination,
        code: &Slug,
    ) -> Result<Quote, PricingError> {
        self.quote_with(cart, to, code, &self.taxes)
    }

    /// [`PriceBook::quote`] with the rates from `taxes` (an external engine)
    /// instead of the book's.
    pub fn quote_with(
        &self,
        cart: &CartToPrice<'_>,
        to: &Destination,
        code: &Slug,
        taxes: &dyn TaxRates,
    ) -> Result<Quote, PricingError> {
        let method = self
            .methods
            .iter()
            .filter(|m| m.code == *code && m.currency == cart.currency)
            .find(|m| self.zones.iter().any(|z| z.id == m.zone && z.covers(to)))
            .ok_or_else(|| PricingError::ShippingUnavailable(code.clone()))?;
        self.quote_by(cart, to, method, taxes)
    }

    /// `cart` quoted for delivery to `to` by `method`, which its caller found
    /// delivers there in the cart's currency (as [`PriceBook::quote_with`] finds it
    /// among the book's methods and zones): a store that loads only what one
    /// checkout needs.
    pub fn quote_by(
        &self,
        cart: &CartToPrice<'_>,
        to: &Destination,
        method: &ShippingMethod,
        taxes: &dyn TaxRates,
    ) -> Result<Quote, PricingError> {
        let lines = self.lines(cart)?;
        quote(
            QuoteRequest {
                market: self.market(cart.currency),
                destination: to,
                shipping: method,
                taxes,
                at: cart.at,
                promotions: Promotions {
                    groups: cart.groups,
                    ..cart.promotions
                },
            },
            &lines,
        )
    }
}
