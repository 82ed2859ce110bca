//! Pricing: a pure function from cart lines and current product data to an order
//! draft with totals. Tax and shipping are small traits so a service can plug in
//! its own rules; [`FlatTax`] and [`FlatShipping`] are simple defaults.
//!
//! Totals always equal the sum of their parts: the subtotal is the sum of the line
//! totals, and the grand total is subtotal + shipping + tax, exactly.
//!
//! # Prices, tax and shipping as data
//!
//! The modules below hold the rules that read them from tables instead:
//! [`unit_price`] picks a variant's price from its own and its price lists' (per
//! currency, customer group, validity window and quantity tier); a [`TaxTable`]
//! holds rates per country, region and [`TaxClass`] with validity dates;
//! [`shipping_options`] lists the [`ShippingMethod`]s that take a cart; [`quote`]
//! prices a cart with per-line tax for a [`Market`] whose prices include tax or
//! not, and sums the tax lines an invoice is printed from.

mod book;
mod price_list;
mod quote;
mod shipping;
mod tax;

pub use book::{
    CartToPrice, ListPrice, NewPriceList, NewShippingMethod, NewShippingZone, PriceBook,
};
pub use price_list::{
    PriceContext, PriceEntry, PriceList, PriceListError, PriceSource, UnitPrice, unit_price,
};
pub use quote::{
    Invoice, LinePlace, LineTax, Market, Promotions, Quote, QuoteLine, QuoteRequest, QuotedLine,
    QuotedShipping, TaxLine, quote,
};
pub use shipping::{
    Area, ShippingError, ShippingMethod, ShippingOption, ShippingRate, ShippingZone, WeightBand,
    shipping_options,
};
pub use tax::{
    AppliedRate, Destination, RegionCode, Split, TaxClass, TaxError, TaxRate, TaxRates, TaxTable,
    split,
};

use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::{OptionSelection, Sellable};
use crate::ids::VariantId;
use crate::money::{Currency, Money, MoneyError};
use crate::values::{CountryCode, ProductName, Quantity, Sku};

/// What pricing refuses. Each converts into the domain's error variant of the same
/// name, the error callers match on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// Nothing to price.
    #[error("the cart is empty")]
    EmptyCart,
    /// A variant's product is a draft or archived.
    #[error("variant {0} is not on sale")]
    NotOnSale(VariantId),
    /// Mixed currencies or an amount out of range.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A pluggable policy returned something unusable.
    #[error("pricing policy error: {0}")]
    Policy(String),
    /// No price of the variant applies in the cart's currency.
    #[error("variant {variant} has no price in {currency}")]
    NoPrice {
        /// The variant.
        variant: VariantId,
        /// The cart's currency.
        currency: Currency,
    },
    /// No tax rate for a class the cart needs at its destination.
    #[error("no {class} tax rate for {country}{}", region.as_ref().map(|r| format!("-{r}")).unwrap_or_default())]
    NoTaxRate {
        /// The country.
        country: CountryCode,
        /// The region, if the destination has one.
        region: Option<RegionCode>,
        /// The class.
        class: TaxClass,
    },
    /// The chosen shipping method does not take the cart (its zone, currency or
    /// weight).
    #[error("shipping method {0} does not take this cart")]
    ShippingUnavailable(crate::values::Slug),
    /// A coupon code refused.
    #[error(transparent)]
    Coupon(#[from] crate::promotion::CouponError),
}

impl From<crate::promotion::ApplyError> for PricingError {
    fn from(err: crate::promotion::ApplyError) -> Self {
        match err {
            crate::promotion::ApplyError::Coupon(e) => PricingError::Coupon(e),
            crate::promotion::ApplyError::Money(e) => PricingError::Money(e),
        }
    }
}

/// Computes the tax owed on an order.
pub trait TaxPolicy: Send + Sync + std::fmt::Debug {
    /// The tax on `taxable` (the subtotal plus shipping) for goods shipped to `ship_to`.
    fn tax(&self, taxable: Money, ship_to: CountryCode) -> Result<Money, MoneyError>;
}

/// Computes the shipping fee of an order.
pub trait ShippingPolicy: Send + Sync + std::fmt::Debug {
    /// The fee for goods worth `subtotal` shipped to `ship_to`.
    fn shipping(&self, subtotal: Money, ship_to: CountryCode) -> Result<Money, MoneyError>;
}

/// One tax rate per destination country, with a default for the rest; prices are
/// net and tax is added on top, rounded half-even to the minor unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatTax {
    default_rate: Decimal,
    by_country: BTreeMap<CountryCode, Decimal>,
}

impl FlatTax {
    /// A rate (e.g. `0.20` for 20 %) applied to every destination.
    pub fn new(default_rate: Decimal) -> Self {
        Self {
            default_rate,
            by_country: BTreeMap::new(),
        }
    }

    /// Sets the rate for one country.
    pub fn with_country(mut self, country: CountryCode, rate: Decimal) -> Self {
        self.by_country.insert(country, rate);
        self
    }
}

impl TaxPolicy for FlatTax {
    fn tax(&self, taxable: Money, ship_to: CountryCode) -> Result<Money, MoneyError> {
        let rate = self
            .by_country
            .get(&ship_to)
            .copied()
            .unwrap_or(self.default_rate);
        taxable.times_rate(rate)
    }
}

/// A flat fee, waived when the subtotal reaches a threshold. Amounts are in major
/// units of the order's currency, rounded half-even to its minor unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatShipping {
    /// The fee.
    pub fee: Decimal,
    /// Orders worth at least this ship free (`None`: never free).
    pub free_from: Option<Decimal>,
}

impl ShippingPolicy for FlatShipping {
    fn shipping(&self, subtotal: Money, _ship_to: CountryCode) -> Result<Money, MoneyError> {
        if self.free_from.is_some_and(|t| subtotal.amount() >= t) {
            return Ok(Money::zero(subtotal.currency()));
        }
        Ok(Money::round_half_even(self.fee, subtotal.currency()))
    }
}

/// The tax and shipping rules an order is priced with.
#[derive(Debug, Clone)]
pub struct Pricing {
    tax: Arc<dyn TaxPolicy>,
    shipping: Arc<dyn ShippingPolicy>,
}

impl Default for Pricing {
    /// 20 % tax everywhere; 4.90 shipping, free from 50.00.
    fn default() -> Self {
        Self::new(
            FlatTax::new(Decimal::new(20, 2)),
            FlatShipping {
                fee: Decimal::new(490, 2),
                free_from: Some(Decimal::new(50, 0)),
            },
        )
    }
}

/// A cart or order line with its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    /// The variant.
    pub variant_id: VariantId,
    /// Its SKU at pricing time.
    pub sku: Sku,
    /// Its product's name at pricing time.
    pub name: ProductName,
    /// Its option values at pricing time; empty for a default variant.
    pub selection: OptionSelection,
    /// Unit price at pricing time.
    pub unit_price: Money,
    /// Units.
    pub quantity: Quantity,
    /// `unit_price × quantity`.
    pub line_total: Money,
    /// Its net, tax and rate, when priced from the price book ([`quote`]).
    pub tax: Option<LineTax>,
}

/// The totals of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Sum of the line totals.
    pub subtotal: Money,
    /// What promotions took off the lines (the shipping's discount is in
    /// `shipping`, which is the charge after it).
    pub discount: Money,
    /// Shipping fee.
    pub shipping: Money,
    /// Tax.
    pub tax: Money,
    /// `subtotal − discount + shipping + tax` with net prices, `subtotal −
    /// discount + shipping` with gross ones (the tax is in the amounts).
    pub grand_total: Money,
}

impl Totals {
    /// Builds totals from their parts, computing the grand total.
    pub fn from_parts(subtotal: Money, shipping: Money, tax: Money) -> Result<Totals, MoneyError> {
        let grand_total = subtotal.checked_add(shipping)?.checked_add(tax)?;
        Ok(Totals {
            subtotal,
            discount: Money::zero(subtotal.currency()),
            shipping,
            tax,
            grand_total,
        })
    }
}

/// A priced order before it is saved: lines and totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDraft {
    /// Currency of every amount.
    pub currency: Currency,
    /// Priced lines, ordered by variant id.
    pub lines: Vec<PricedLine>,
    /// Totals.
    pub totals: Totals,
    /// Its invoice, when priced from the price book ([`Quote::into_draft`]).
    pub invoice: Option<Invoice>,
}

impl Pricing {
    /// Pricing with the given rules.
    pub fn new(tax: impl TaxPolicy + 'static, shipping: impl ShippingPolicy + 'static) -> Self {
        Self {
            tax: Arc::new(tax),
            shipping: Arc::new(shipping),
        }
    }

    /// Prices lines in `currency` for delivery to `ship_to`. Fails on an empty list,
    /// a variant that is not on sale, or a variant priced in another currency.
    pub fn price(
        &self,
        currency: Currency,
        lines: &[(&Sellable, Quantity)],
        ship_to: CountryCode,
    ) -> Result<OrderDraft, PricingError> {
        if lines.is_empty() {
            return Err(PricingError::EmptyCart);
        }
        let mut priced = Vec::with_capacity(lines.len());
        for (item, quantity) in lines {
            if !item.is_buyable() {
                return Err(PricingError::NotOnSale(item.id()));
            }
            let price = item.variant.price;
            if price.currency() != currency {
                return Err(MoneyError::CurrencyMismatch {
                    left: currency,
                    right: price.currency(),
                }
                .into());
            }
            priced.push(PricedLine {
                variant_id: item.id(),
                sku: item.variant.sku.clone(),
                name: item.product_name.clone(),
                selection: item.variant.selection.clone(),
                unit_price: price,
                quantity: *quantity,
                line_total: price.times(quantity.get())?,
                tax: None,
            });
        }
        priced.sort_by_key(|l| l.variant_id);
        let subtotal = Money::sum(currency, priced.iter().map(|l| &l.line_total))?;
        let shipping = self.shipping.shipping(subtotal, ship_to)?;
        let tax = self.tax.tax(subtotal.checked_add(shipping)?, ship_to)?;
        for part in [shipping, tax] {
            if part.currency() != currency || part.is_negative() {
                return Err(PricingError::Policy(format!(
                    "policy returned {part} for a {currency} order"
                )));
            }
        }
        Ok(OrderDraft {
            currency,
            lines: priced,
            totals: Totals::from_parts(subtotal, shipping, tax)?,
            invoice: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ProductStatus;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn product(id: i64, price_minor: i64, currency: Currency) -> Sellable {
        let mut item = crate::catalog::tests::sellable(id, &format!("SKU-{id}"), 10);
        item.variant.price = Money::from_minor(price_minor, currency);
        item
    }

    fn de() -> CountryCode {
        CountryCode::parse("DE").unwrap()
    }

    #[test]
    fn default_pricing_adds_shipping_and_tax() {
        let p = product(1, 1999, Currency::EUR);
        let q = Quantity::new(2).unwrap();
        let draft = Pricing::default()
            .price(Currency::EUR, &[(&p, q)], de())
            .unwrap();
        assert_eq!(draft.totals.subtotal.amount(), dec!(39.98));
        assert_eq!(draft.totals.shipping.amount(), dec!(4.90));
        assert_eq!(draft.totals.tax.amount(), dec!(8.98)); // 20 % of 44.88 = 8.976
        assert_eq!(draft.totals.grand_total.amount(), dec!(53.86));
        let line = &draft.lines[0];
        assert_eq!((line.quantity, line.unit_price), (q, p.variant.price));
        assert_eq!(line.line_total, draft.totals.subtotal);
        let big = product(2, 5000, Currency::EUR);
        let draft = Pricing::default()
            .price(Currency::EUR, &[(&big, Quantity::new(1).unwrap())], de())
            .unwrap();
        assert!(draft.totals.shipping.is_zero());
    }

    #[test]
    fn country_rates_override_the_default() {
        let tax = FlatTax::new(dec!(0.20)).with_country(CountryCode::parse("US").unwrap(), dec!(0));
        let pricing = Pricing::new(
            tax,
            FlatShipping {
                fee: dec!(0),
                free_from: None,
            },
        );
        let p = product(1, 1000, Currency::USD);
        let us = pricing
            .price(
                Currency::USD,
                &[(&p, Quantity::new(1).unwrap())],
                CountryCode::parse("US").unwrap(),
            )
            .unwrap();
        assert!(us.totals.tax.is_zero());
    }

    #[test]
    fn empty_archived_and_foreign_currency_are_refused() {
        let pricing = Pricing::default();
        assert!(matches!(
            pricing.price(Currency::EUR, &[], de()),
            Err(PricingError::EmptyCart)
        ));
        let mut archived = product(1, 100, Currency::EUR);
        archived.product_status = ProductStatus::Archived;
        let q = Quantity::new(1).unwrap();
        assert!(matches!(
            pricing.price(Currency::EUR, &[(&archived, q)], de()),
            Err(PricingError::NotOnSale(_))
        ));
        let usd = product(2, 100, Currency::USD);
        assert!(matches!(
            pricing.price(Currency::EUR, &[(&usd, q)], de()),
            Err(PricingError::Money(_))
        ));
    }

    proptest! {
        #[test]
        fn totals_equal_the_sum_of_their_parts(
            currency in proptest::sample::select(Currency::ALL),
            lines in proptest::collection::vec((0i64..10_000_000, 1i64..=999), 1..8),
            rate in 0i64..3000,
        ) {
            let products: Vec<Sellable> = lines.iter().enumerate()
                .map(|(i, (price, _))| product(i as i64 + 1, *price, currency)).collect();
            let input: Vec<(&Sellable, Quantity)> = products.iter().zip(&lines)
                .map(|(p, (_, q))| (p, Quantity::new(*q).unwrap())).collect();
            let pricing = Pricing::new(FlatTax::new(Decimal::new(rate, 4)), FlatShipping { fee: dec!(4.99), free_from: Some(dec!(100)) });
            let draft = pricing.price(currency, &input, de())?;
            let t = draft.totals;
            prop_assert_eq!(Money::sum(currency, draft.lines.iter().map(|l| &l.line_total))?, t.subtotal);
            prop_assert_eq!(t.subtotal.checked_add(t.shipping)?.checked_add(t.tax)?, t.grand_total);
            for l in &draft.lines {
                prop_assert_eq!(l.unit_price.times(l.quantity.get())?, l.line_total);
            }
            prop_assert!(!t.tax.is_negative() && !t.shipping.is_negative());
            for m in [t.subtotal, t.shipping, t.tax, t.grand_total] {
                prop_assert_eq!(m.amount().scale(), currency.minor_units());
            }
        }
    }
}
