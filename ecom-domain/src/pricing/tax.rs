//! Tax as data: classes on products, rates per country (and region) and class with
//! validity dates, and the per-line arithmetic an invoice is printed from.
//!
//! A line's tax is computed on the line and rounded half-even to the currency's
//! minor unit, then lines are summed: what accountants and invoices expect, and
//! what makes the order's tax lines reconcile to the cent. With net prices the tax
//! is added (`tax = round(net × rate)`); with gross (tax-inclusive) prices it is
//! contained (`tax = round(gross × rate / (1 + rate))`, `net = gross − tax`), so
//! `net + tax = gross` always, and no cent is lost or invented beyond that one
//! rounding.

use std::fmt;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{Money, MoneyError};
use crate::values::{CountryCode, PostalAddress, TaxRateName, ValidationError};

/// Which rates apply to a product: each country defines its own rate per class.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TaxClass {
    /// The country's standard rate (19 % in Germany).
    #[default]
    Standard,
    /// A reduced rate (7 % on books and food in Germany).
    Reduced,
    /// Taxable at 0 %: shown on the invoice with its rate.
    Zero,
    /// Outside the tax: no rate, no tax line.
    Exempt,
}

crate::text_enum!(TaxClass {
    Standard = "standard",
    Reduced = "reduced",
    Zero = "zero",
    Exempt = "exempt"
});

/// A country's subdivision as ISO 3166-2 names it after the country's code: `NY`
/// (US-NY), `QC` (CA-QC), `BY` (DE-BY). 1 to 3 upper-case letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    /// Trims, upper-cases and checks a region code.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let code = raw.trim().to_ascii_uppercase();
        if code.is_empty() || code.len() > 3 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ValidationError::Malformed {
                field: "region",
                value: raw.chars().take(20).collect(),
                rule: "1 to 3 letters or digits, the ISO 3166-2 code after the country's",
            });
        }
        Ok(Self(code))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<RegionCode> for String {
    fn from(code: RegionCode) -> Self {
        code.0
    }
}

/// Where goods go, as far as tax and shipping care: a country and maybe a region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Destination {
    /// The country.
    pub country: CountryCode,
    /// The region, when known.
    pub region: Option<RegionCode>,
}

impl Destination {
    /// A country, no region.
    pub fn country(country: CountryCode) -> Self {
        Self {
            country,
            region: None,
        }
    }

    /// The destination of a postal address: its country, and its region when that
    /// is written as a region code (`NY`, not `New York`).
    pub fn of(address: &PostalAddress) -> Self {
        Self {
            country: address.country(),
            region: address.region().and_then(|r| RegionCode::parse(r).ok()),
        }
    }
}

/// What the tax rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxError {
    /// A rate outside 0 to 1 (0 % to 100 %), or with more than
    /// [`TaxRate::MAX_SCALE`] decimals.
    #[error("tax rate {0} is not between 0 and 1 with at most 5 decimals")]
    RateOutOfRange(Decimal),
    /// A rate for the exempt class, which has none.
    #[error("tax rate {0} is for the exempt class, which has no rate")]
    ExemptRate(TaxRateName),
    /// A rate whose validity ends before it starts.
    #[error("tax rate {name} ends before it starts")]
    EmptyWindow {
        /// The rate.
        name: TaxRateName,
    },
    /// Two rates for one country, region and class valid at the same time.
    #[error("tax rates {first} and {second} overlap for {country} {class}")]
    Overlap {
        /// The first.
        first: TaxRateName,
        /// The second.
        second: TaxRateName,
        /// Their country.
        country: CountryCode,
        /// Their class.
        class: TaxClass,
    },
}

/// A tax rate: for one country (and maybe one region) and class, from a date and
/// maybe until one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRate {
    /// What an invoice prints.
    pub name: TaxRateName,
    /// The country.
    pub country: CountryCode,
    /// The region it is for; `None`: the whole country (a region's own rate, when
    /// it has one, comes first).
    pub region: Option<RegionCode>,
    /// The class.
    pub class: TaxClass,
    /// 0.19 for 19 %: 0 to 1, at most [`TaxRate::MAX_SCALE`] decimals (US sales
    /// tax of 8.875 % is 0.08875).
    pub rate: Decimal,
    /// When it starts to apply.
    pub valid_from: DateTime<Utc>,
    /// When it stops (exclusive); `None`: until replaced.
    pub valid_until: Option<DateTime<Utc>>,
}

impl TaxRate {
    /// The most decimals a rate has.
    pub const MAX_SCALE: u32 = 5;

    /// Checks the rate (0 to 1, not for the exempt class) and its window.
    pub fn checked(self) -> Result<Self, TaxError> {
        let rate = self.rate.normalize();
        if rate.is_sign_negative() || rate > Decimal::ONE || rate.scale() > Self::MAX_SCALE {
            return Err(TaxError::RateOutOfRange(self.rate));
        }
        if self.class == TaxClass::Exempt {
            return Err(TaxError::ExemptRate(self.name));
        }
        if self
            .valid_until
            .is_some_and(|until| until <= self.valid_from)
        {
            return Err(TaxError::EmptyWindow { name: self.name });
        }
        Ok(Self { rate, ..self })
    }

    /// True when it applies at `at`.
    pub fn valid_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && self.valid_until.is_none_or(|until| at < until)
    }

    fn overlaps(&self, other: &TaxRate) -> bool {
        let ends_before =
            |a: &TaxRate, b: &TaxRate| a.valid_until.is_some_and(|u| u <= b.valid_from);
        self.country == other.country
            && self.region == other.region
            && self.class == other.class
            && !ends_before(self, other)
            && !ends_before(other, self)
    }
}

/// The rate a line was taxed at, as the order keeps it: a later change of the
/// table changes no order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AppliedRate {
    /// The rate's name.
    pub name: TaxRateName,
    /// Its country.
    pub country: CountryCode,
    /// Its region, if it was a region's.
    pub region: Option<RegionCode>,
    /// The class.
    pub class: TaxClass,
    /// The rate.
    pub rate: Decimal,
}

/// Where the rate of a taxed line comes from. The default is the shop's
/// [`TaxTable`]; a service that asks an external tax engine implements this and
/// sets it in the store's rules
/// ([`StoreRules::tax_rates`](crate::rules::StoreRules::tax_rates)).
pub trait TaxRates: Send + Sync + std::fmt::Debug {
    /// The rate for goods of `class` going to `to` at `at`; `Ok(None)` when they
    /// are not taxed (no tax line).
    fn rate(
        &self,
        to: &Destination,
        class: TaxClass,
        at: DateTime<Utc>,
    ) -> Result<Option<AppliedRate>, super::PricingError>;
}

impl TaxRates for TaxTable {
    fn rate(
        &self,
        to: &Destination,
        class: TaxClass,
        at: DateTime<Utc>,
    ) -> Result<Option<AppliedRate>, super::PricingError> {
        TaxTable::rate(self, to, class, at)
    }
}

/// Every rate a shop charges: at most one per country, region and class at any
/// time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxTable {
    rates: Vec<TaxRate>,
}

impl TaxTable {
    /// Checks each rate, and that no two overlap.
    pub fn new(rates: Vec<TaxRate>) -> Result<Self, TaxError> {
        let rates: Vec<TaxRate> = rates
            .into_iter()
            .map(TaxRate::checked)
            .collect::<Result<_, _>>()?;
        for (i, a) in rates.iter().enumerate() {
            if let Some(b) = rates[i + 1..].iter().find(|b| a.overlaps(b)) {
                return Err(TaxError::Overlap {
                    first: a.name.clone(),
                    second: b.name.clone(),
                    country: a.country,
                    class: a.class,
                });
            }
        }
        Ok(Self { rates })
    }

    /// The rates, as given.
    pub fn rates(&self) -> &[TaxRate] {
        &self.rates
    }

    /// The rate for goods of `class` going to `to` at `at`: the region's own rate
    /// if it has one, else the country's. `Ok(None)` for an exempt class; an
    /// unconfigured zero class is 0 % under the name "zero-rated"; any other class
    /// without a rate is an error, not a silent 0 %.
    pub fn rate(
        &self,
        to: &Destination,
        class: TaxClass,
        at: DateTime<Utc>,
    ) -> Result<Option<AppliedRate>, super::PricingError> {
        if class == TaxClass::Exempt {
            return Ok(None);
        }
        let find = |region: Option<&RegionCode>| {
            self.rates.iter().find(|r| {
                r.country == to.country
                    && r.region.as_ref() == region
                    && r.class == class
                    && r.valid_at(at)
            })
        };
        let found = to
            .region
            .as_ref()
            .and_then(|r| find(Some(r)))
            .or_else(|| find(None));
        match found {
            Some(r) => Ok(Some(AppliedRate {
                name: r.name.clone(),
                country: r.country,
                region: r.region.clone(),
                class: r.class,
                rate: r.rate,
            })),
            None if class == TaxClass::Zero => Ok(Some(AppliedRate {
                name: TaxRateName::parse("zero-rated").expect("a valid name"),
                country: to.country,
                region: None,
                class,
                rate: Decimal::ZERO,
            })),
            None => Err(super::PricingError::NoTaxRate {
                country: to.country,
                region: to.region.clone(),
                class,
            }),
        }
    }
}

/// An amount split into what is net of tax and the tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// Net of tax.
    pub net: Money,
    /// The tax.
    pub tax: Money,
}

/// The net and tax of `amount` at `rate` (`None`: no tax), rounded half-even to
/// the minor unit: added to a net amount, or contained in a gross one.
pub fn split(
    amount: Money,
    rate: Option<Decimal>,
    prices_include_tax: bool,
) -> Result<Split, MoneyError> {
    let currency = amount.currency();
    let Some(rate) = rate else {
        return Ok(Split {
            net: amount,
            tax: Money::zero(currency),
        });
    };
    if !prices_include_tax {
        return Ok(Split {
            net: amount,
            tax: amount.times_rate(rate)?,
        });
    }
    let contained = amount
        .amount()
        .checked_mul(rate)
        .and_then(|x| x.checked_div(Decimal::ONE + rate))
        .ok_or(MoneyError::Overflow)?;
    let tax = Money::round_half_even(contained, currency);
    Ok(Split {
        net: amount.checked_sub(tax)?,
        tax,
    })
}
