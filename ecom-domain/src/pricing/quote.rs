//! A quote: a cart priced for a market, with per-line tax, a chosen shipping method
//! and the tax lines an invoice is printed from.
//!
//! # The laws a quote keeps
//!
//! - Each line's `amount` is `unit_price × quantity`; the subtotal is their sum.
//! - Promotions ([`crate::promotion`]) take a `discount` off lines (the quote's
//!   discount is their sum) and may take the shipping charge off. The shipping
//!   is priced on the cart's value before discounts.
//! - Each line's tax is computed on its amount less its discount, the shipping's
//!   on its charge, and rounded half-even ([`split`](super::split)); with gross
//!   prices `net + tax = amount − discount`, with net ones `net = amount −
//!   discount`.
//! - The tax lines group the taxed lines and the shipping by [`AppliedRate`]: the
//!   sum of their `tax` is the quote's tax, the sum of their `taxable` is the net of
//!   what they group.
//! - Net prices: `grand_total = subtotal − discount + shipping + tax`. Gross
//!   prices: the tax is contained in the amounts, so `grand_total = subtotal −
//!   discount + shipping`, and the quote says which
//!   ([`Market::prices_include_tax`]).
//! - The same input gives the same quote.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::shipping::ShippingMethod;
use super::tax::{AppliedRate, Destination, TaxClass, TaxRates, split};
use super::{OrderDraft, PricedLine, PricingError, Totals};
use crate::catalog::{OptionSelection, Sellable};
use crate::ids::{CategoryId, CollectionId, VariantId};
use crate::money::{Currency, Money};
use crate::promotion::{AppliedPromotion, Offer, PromotionCart, PromotionLine, apply};
use crate::values::{ProductName, Quantity, ShippingMethodName, Sku, Slug};

/// Where a cart is sold: its currency, and whether its prices include tax (EU
/// consumers see gross prices, US customers net ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Market {
    /// The currency.
    pub currency: Currency,
    /// True when prices include tax.
    pub prices_include_tax: bool,
}

/// A line to quote: a variant on sale, how many, its unit price (from
/// [`unit_price`](super::unit_price)) and its product's tax class.
#[derive(Debug, Clone, Copy)]
pub struct QuoteLine<'a> {
    /// The variant with what a sale needs of its product.
    pub item: &'a Sellable,
    /// Units.
    pub quantity: Quantity,
    /// The unit price, in the market's currency.
    pub unit_price: Money,
    /// Its product's tax class.
    pub tax_class: TaxClass,
}

/// A quoted line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedLine {
    /// The variant.
    pub variant_id: VariantId,
    /// Its SKU.
    pub sku: Sku,
    /// Its product's name.
    pub name: ProductName,
    /// Its option values.
    pub selection: OptionSelection,
    /// Unit price, as the market shows it.
    pub unit_price: Money,
    /// Units.
    pub quantity: Quantity,
    /// `unit_price × quantity`.
    pub amount: Money,
    /// What promotions took off it.
    pub discount: Money,
    /// Net of tax, after the discount.
    pub net: Money,
    /// Its tax, on the amount after the discount.
    pub tax: Money,
    /// The rate it was taxed at; `None` for an exempt product.
    pub rate: Option<AppliedRate>,
}

/// The quoted shipping charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedShipping {
    /// The method's code.
    pub code: Slug,
    /// Its name.
    pub name: ShippingMethodName,
    /// Its price, as the market shows it, after a promotion that took it off.
    pub amount: Money,
    /// Net of tax.
    pub net: Money,
    /// Its tax.
    pub tax: Money,
    /// The rate it was taxed at.
    pub rate: Option<AppliedRate>,
}

/// One line of an invoice's tax summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxLine {
    /// The rate.
    pub rate: AppliedRate,
    /// The net amount taxed at it.
    pub taxable: Money,
    /// The tax: the sum of the lines' own taxes at this rate.
    pub tax: Money,
}

/// A cart priced for a market and a destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The market.
    pub market: Market,
    /// The lines, by variant id.
    pub lines: Vec<QuotedLine>,
    /// The shipping charge.
    pub shipping: QuotedShipping,
    /// The tax summary, by rate.
    pub tax_lines: Vec<TaxLine>,
    /// The promotions applied, in the order they applied.
    pub promotions: Vec<AppliedPromotion>,
    /// The totals (see the module's laws).
    pub totals: Totals,
}

/// The tax of one order line, as an invoice prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTax {
    /// What promotions took off the line.
    pub discount: Money,
    /// The line's amount after the discount, net of tax.
    pub net: Money,
    /// Its tax.
    pub tax: Money,
    /// The rate it was taxed at; `None`: exempt.
    pub rate: Option<AppliedRate>,
}

/// What an order priced from the price book keeps for its invoice, besides each
/// line's [`LineTax`]: whether its prices include tax, the shipping method chosen
/// with its charge and tax, and the tax summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// True when the amounts include tax (the grand total does not add it).
    pub prices_include_tax: bool,
    /// The shipping method and its charge, as they were.
    pub shipping: QuotedShipping,
    /// The tax summary, by rate.
    pub tax_lines: Vec<TaxLine>,
    /// The promotions applied, as they were.
    pub promotions: Vec<AppliedPromotion>,
}

impl Quote {
    /// The quote as the draft an order is made from: its lines with their tax,
    /// and its invoice.
    pub fn into_draft(self) -> OrderDraft {
        let lines = self
            .lines
            .into_iter()
            .map(|l| PricedLine {
                variant_id: l.variant_id,
                sku: l.sku,
                name: l.name,
                selection: l.selection,
                unit_price: l.unit_price,
                quantity: l.quantity,
                line_total: l.amount,
                tax: Some(LineTax {
                    discount: l.discount,
                    net: l.net,
                    tax: l.tax,
                    rate: l.rate,
                }),
            })
            .collect();
        OrderDraft {
            currency: self.market.currency,
            lines,
            totals: self.totals,
            invoice: Some(Invoice {
                prices_include_tax: self.market.prices_include_tax,
                shipping: self.shipping,
                tax_lines: self.tax_lines,
                promotions: self.promotions,
            }),
        }
    }
}

/// What a quote needs besides its lines.
#[derive(Debug, Clone, Copy)]
pub struct QuoteRequest<'a> {
    /// The market.
    pub market: Market,
    /// Where it ships.
    pub destination: &'a Destination,
    /// The chosen shipping method.
    pub shipping: &'a ShippingMethod,
    /// Where the rates come from: the shop's [`TaxTable`](super::TaxTable), or
    /// an external engine.
    pub taxes: &'a dyn TaxRates,
    /// The moment of pricing: which rates and promotions apply.
    pub at: DateTime<Utc>,
    /// The promotions offered, and what they need to know of the cart.
    pub promotions: Promotions<'a>,
}

/// The promotions offered to a quote: automatic ones and those of the codes
/// given, with what targeting needs that a [`Sellable`] does not say.
#[derive(Debug, Clone, Copy, Default)]
pub struct Promotions<'a> {
    /// The offers.
    pub offers: &'a [Offer<'a>],
    /// Each variant's category and collections.
    pub places: &'a [LinePlace],
    /// The customer's groups.
    pub groups: &'a [Slug],
}

/// Where a variant's product sits in the catalog, for promotions that target
/// categories or collections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePlace {
    /// The variant.
    pub variant: VariantId,
    /// Its product's category.
    pub category: CategoryId,
    /// Its product's collections.
    pub collections: Vec<CollectionId>,
}

/// Quotes `lines` (see the module's laws). Fails on an empty cart, a variant not
/// on sale, a price in another currency, a shipping method that does not take the
/// cart, or a destination without a rate for a class it needs.
pub fn quote(request: QuoteRequest<'_>, lines: &[QuoteLine<'_>]) -> Result<Quote, PricingError> {
    let QuoteRequest {
        market,
        destination,
        shipping,
        taxes,
        at,
        promotions,
    } = request;
    let currency = market.currency;
    if lines.is_empty() {
        return Err(PricingError::EmptyCart);
    }
    let (subtotal, grams) = subtotal_and_weight(currency, lines)?;
    for line in lines {
        if !line.item.is_buyable() {
            return Err(PricingError::NotOnSale(line.item.id()));
        }
    }
    let charge = shipping
        .price(subtotal, grams)
        .ok_or_else(|| PricingError::ShippingUnavailable(shipping.code.clone()))?;
    let applied = apply_promotions(currency, lines, charge, promotions, at)?;
    let mut quoted = Vec::with_capacity(lines.len());
    for (line, discount) in lines.iter().zip(&applied.line_discounts) {
        let amount = line.unit_price.times(line.quantity.get())?;
        let rate = taxes.rate(destination, line.tax_class, at)?;
        let parts = split(
            amount.checked_sub(*discount)?,
            rate.as_ref().map(|r| r.rate),
            market.prices_include_tax,
        )?;
        quoted.push(QuotedLine {
            variant_id: line.item.id(),
            sku: line.item.variant.sku.clone(),
            name: line.item.product_name.clone(),
            selection: line.item.variant.selection.clone(),
            unit_price: line.unit_price,
            quantity: line.quantity,
            amount,
            discount: *discount,
            net: parts.net,
            tax: parts.tax,
            rate,
        });
    }
    quoted.sort_by_key(|l| l.variant_id);
    let charge = charge.checked_sub(applied.shipping_discount)?;
    let shipping_rate = taxes.rate(destination, shipping.tax_class, at)?;
    let shipping_parts = split(
        charge,
        shipping_rate.as_ref().map(|r| r.rate),
        market.prices_include_tax,
    )?;
    let shipping = QuotedShipping {
        code: shipping.code.clone(),
        name: shipping.name.clone(),
        amount: charge,
        net: shipping_parts.net,
        tax: shipping_parts.tax,
        rate: shipping_rate,
    };
    let tax_lines = tax_lines(currency, &quoted, &shipping)?;
    let tax = Money::sum(currency, tax_lines.iter().map(|t| &t.tax))?;
    let discount = Money::sum(currency, applied.line_discounts.iter())?;
    let goods = subtotal.checked_sub(discount)?.checked_add(charge)?;
    let totals = Totals {
        subtotal,
        discount,
        shipping: charge,
        tax,
        grand_total: if market.prices_include_tax {
            goods
        } else {
            goods.checked_add(tax)?
        },
    };
    Ok(Quote {
        market,
        lines: quoted,
        shipping,
        tax_lines,
        promotions: applied.promotions,
        totals,
    })
}

/// The promotions offered, applied to the lines and the shipping `charge`.
fn apply_promotions(
    currency: Currency,
    lines: &[QuoteLine<'_>],
    charge: Money,
    promotions: Promotions<'_>,
    at: DateTime<Utc>,
) -> Result<crate::promotion::Applied, PricingError> {
    let lines: Vec<PromotionLine> = lines
        .iter()
        .map(|l| {
            let place = promotions.places.iter().find(|p| p.variant == l.item.id());
            PromotionLine {
                variant: l.item.id(),
                product: l.item.variant.product_id,
                category: place.map(|p| p.category),
                collections: place.map(|p| p.collections.clone()).unwrap_or_default(),
                unit_price: l.unit_price,
                quantity: l.quantity,
            }
        })
        .collect();
    let cart = PromotionCart {
        currency,
        lines: &lines,
        shipping: charge,
        groups: promotions.groups,
        at,
    };
    Ok(apply(cart, promotions.offers)?)
}

/// What shipping prices a cart by: the sum of its lines' amounts in `currency` (a
/// price in another currency is a mismatch), and its weight in grams (a variant
/// without a weight weighs nothing).
pub(super) fn subtotal_and_weight(
    currency: Currency,
    lines: &[QuoteLine<'_>],
) -> Result<(Money, u64), PricingError> {
    let mut subtotal = Money::zero(currency);
    let mut grams: u64 = 0;
    for line in lines {
        let units = line.quantity.get();
        subtotal = subtotal.checked_add(line.unit_price.times(units)?)?;
        let weight = u64::from(line.item.variant.weight_grams.unwrap_or(0));
        grams = grams.saturating_add(weight * u64::from(units));
    }
    Ok((subtotal, grams))
}

/// The lines and the shipping grouped by rate, each group's net and tax summed.
fn tax_lines(
    currency: Currency,
    lines: &[QuotedLine],
    shipping: &QuotedShipping,
) -> Result<Vec<TaxLine>, PricingError> {
    let mut by_rate: BTreeMap<&AppliedRate, (Money, Money)> = BTreeMap::new();
    let taxed = lines.iter().map(|l| (&l.rate, l.net, l.tax)).chain([(
        &shipping.rate,
        shipping.net,
        shipping.tax,
    )]);
    for (rate, net, tax) in taxed {
        let Some(rate) = rate else { continue };
        let (taxable, sum) = by_rate
            .entry(rate)
            .or_insert((Money::zero(currency), Money::zero(currency)));
        *taxable = taxable.checked_add(net)?;
        *sum = sum.checked_add(tax)?;
    }
    Ok(by_rate
        .into_iter()
        .map(|(rate, (taxable, tax))| TaxLine {
            rate: rate.clone(),
            taxable,
            tax,
        })
        .collect())
}

#[cfg(test)]
#[path = "quote_tests.rs"]
mod tests;
