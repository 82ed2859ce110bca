//! Exact money: a [`Decimal`] amount in an ISO 4217 [`Currency`].
//!
//! Every [`Money`] value is held at its currency's minor unit (two decimals for EUR,
//! none for JPY, three for KWD). Arithmetic that can produce more decimals (rates,
//! division) rounds **half-even** ("banker's rounding") back to the minor unit, so
//! repeated rounding does not drift in one direction. Mixing currencies is a typed
//! [`MoneyError`], never a panic, and no floating point is used anywhere.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// What can go wrong with money arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Two amounts in different currencies were combined or compared.
    #[error("currency mismatch: {left} and {right}")]
    CurrencyMismatch {
        /// The currency of the left operand.
        left: Currency,
        /// The currency of the right operand.
        right: Currency,
    },
    /// The code is not an ISO 4217 currency this crate knows.
    #[error("unknown currency code {0:?}")]
    UnknownCurrency(String),
    /// The amount text is not a decimal number.
    #[error("invalid amount {0:?}")]
    InvalidAmount(String),
    /// The amount has more decimals than the currency's minor unit.
    #[error("{amount} has more than {minor_units} decimals allowed for {currency}")]
    TooPrecise {
        /// The amount as given.
        amount: Decimal,
        /// Its currency.
        currency: Currency,
        /// The decimals the currency allows.
        minor_units: u32,
    },
    /// A result does not fit in the decimal range.
    #[error("amount overflow")]
    Overflow,
    /// An allocation was asked over no parts or over weights that sum to zero.
    #[error("cannot allocate over parts whose weights sum to zero")]
    ZeroWeights,
}

macro_rules! currencies {
    ($($code:ident = $minor:literal, $name:literal;)+) => {
        /// An ISO 4217 currency with its number of minor-unit decimals.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Currency {
            $(
                #[doc = $name]
                $code,
            )+
        }

        impl Currency {
            /// Every currency this crate knows.
            pub const ALL: &'static [Currency] = &[$(Currency::$code),+];

            /// The three-letter ISO 4217 code, e.g. `"EUR"`.
            pub const fn code(self) -> &'static str {
                match self { $(Currency::$code => stringify!($code)),+ }
            }

            /// How many decimals the minor unit has (2 for EUR, 0 for JPY, 3 for KWD).
            pub const fn minor_units(self) -> u32 {
                match self { $(Currency::$code => $minor),+ }
            }

            /// Parses an ISO 4217 code; surrounding spaces and lower case are accepted.
            pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
                let known = |code: &str| match code {
                    $(stringify!($code) => Some(Currency::$code),)+
                    _ => None,
                };
                // Stored codes are exact; only other spellings pay for a copy.
                let trimmed = code.trim();
                known(trimmed)
                    .or_else(|| known(&trimmed.to_ascii_uppercase()))
                    .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))
            }
        }
    };
}

currencies! {
    AUD = 2, "Australian dollar";
    BHD = 3, "Bahraini dinar";
    CAD = 2, "Canadian dollar";
    CHF = 2, "Swiss franc";
    CZK = 2, "Czech koruna";
    DKK = 2, "Danish krone";
    EUR = 2, "Euro";
    GBP = 2, "Pound sterling";
    JPY = 0, "Japanese yen";
    KRW = 0, "South Korean won";
    KWD = 3, "Kuwaiti dinar";
    NOK = 2, "Norwegian krone";
    PLN = 2, "Polish złoty";
    SEK = 2, "Swedish krona";
    USD = 2, "United States dollar";
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::from_code(s)
    }
}

/// An exact amount of one currency, always at that currency's minor unit.
///
/// ```
/// use ecom_domain::money::{Currency, Money};
/// let price = Money::parse("19.99", Currency::EUR)?;
/// let total = price.times(3)?.checked_add(Money::parse("4.50", Currency::EUR)?)?;
/// assert_eq!(total.to_string(), "64.47 EUR");
/// # Ok::<(), ecom_domain::money::MoneyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

/// The largest magnitude an amount may have: the database stores money as
/// `numeric(19,4)`, 15 digits before the point. Every amount below it, and every sum
/// or difference of two, is exact in a `Decimal` (28 digits), so no operation ever
/// rounds silently.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// `amount` if its magnitude is below [`MAX_AMOUNT`], else an overflow.
fn bounded(amount: Decimal) -> Result<Decimal, MoneyError> {
    if amount.abs() < MAX_AMOUNT {
        Ok(amount)
    } else {
        Err(MoneyError::Overflow)
    }
}

impl Money {
    /// An exact amount; refuses more decimals than the currency's minor unit, and
    /// magnitudes of [`MAX_AMOUNT`] or more.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        let amount = bounded(amount)?;
        let minor_units = currency.minor_units();
        if amount.scale() <= minor_units {
            // Already exact at the minor unit (every stored amount is).
            return Ok(Money::at_scale(amount, currency));
        }
        let normalized = amount.normalize();
        if normalized.scale() > minor_units {
            return Err(MoneyError::TooPrecise {
                amount,
                currency,
                minor_units,
            });
        }
        Ok(Money::at_scale(normalized, currency))
    }

    /// Rounds `amount` half-even to the currency's minor unit (`2.345 EUR` → `2.34`,
    /// `2.355 EUR` → `2.36`).
    pub fn round_half_even(amount: Decimal, currency: Currency) -> Money {
        let rounded = amount.round_dp_with_strategy(
            currency.minor_units(),
            RoundingStrategy::MidpointNearestEven,
        );
        Money::at_scale(rounded, currency)
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Money {
        Money::at_scale(Decimal::ZERO, currency)
    }

    /// An amount given in minor units (cents): `from_minor(1999, EUR)` is `19.99 EUR`.
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money::at_scale(Decimal::new(minor, currency.minor_units()), currency)
    }

    /// Parses a decimal number such as `"19.99"`; refuses more decimals than allowed.
    pub fn parse(amount: &str, currency: Currency) -> Result<Money, MoneyError> {
        let value = Decimal::from_str_exact(amount.trim())
            .map_err(|_| MoneyError::InvalidAmount(amount.to_owned()))?;
        Money::new(value, currency)
    }

    fn at_scale(mut amount: Decimal, currency: Currency) -> Money {
        amount.rescale(currency.minor_units());
        Money { amount, currency }
    }

    /// The amount, at the currency's minor-unit scale.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount in minor units (`19.99 EUR` → `1999`), if it fits in an `i64`.
    pub fn to_minor(&self) -> Result<i64, MoneyError> {
        let mut scaled = self.amount;
        scaled.set_scale(0).map_err(|_| MoneyError::Overflow)?;
        // `set_scale(0)` reinterprets the mantissa, which is exactly the minor units.
        i64::try_from(scaled).map_err(|_| MoneyError::Overflow)
    }

    /// True when the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// True when the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// `self + other`; a typed error for different currencies or overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let sum = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::at_scale(bounded(sum)?, self.currency))
    }

    /// `self - other`; a typed error for different currencies or overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let difference = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::at_scale(bounded(difference)?, self.currency))
    }

    /// The amount times a whole quantity.
    pub fn times(self, quantity: u32) -> Result<Money, MoneyError> {
        let product = self
            .amount
            .checked_mul(Decimal::from(quantity))
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::at_scale(bounded(product)?, self.currency))
    }

    /// The amount times a rate (e.g. a tax rate of `0.19`), rounded half-even.
    pub fn times_rate(self, rate: Decimal) -> Result<Money, MoneyError> {
        let product = self.amount.checked_mul(rate).ok_or(MoneyError::Overflow)?;
        Ok(Money::round_half_even(bounded(product)?, self.currency))
    }

    /// Compares two amounts of the same currency.
    pub fn try_cmp(&self, other: &Money) -> Result<std::cmp::Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(self.amount.cmp(&other.amount))
    }

    /// Sums amounts that must all be in `currency` (an empty list sums to zero).
    pub fn sum<'a>(
        currency: Currency,
        amounts: impl IntoIterator<Item = &'a Money>,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), |total, m| total.checked_add(*m))
    }

    /// Splits the amount over parts in proportion to `weights`, never losing or
    /// creating a minor unit: the parts always sum to exactly `self`.
    ///
    /// Each part gets its proportional share rounded down to a minor unit; the minor
    /// units left over go one each to the parts with the largest remainders (ties to
    /// the earlier part), the "largest remainder" method.
    ///
    /// ```
    /// use ecom_domain::money::{Currency, Money};
    /// let parts = Money::parse("10.00", Currency::EUR)?.allocate(&[1, 1, 1])?;
    /// let shown: Vec<String> = parts.iter().map(|m| m.amount().to_string()).collect();
    /// assert_eq!(shown, ["3.34", "3.33", "3.33"]);
    /// # Ok::<(), ecom_domain::money::MoneyError>(())
    /// ```
    pub fn allocate(self, weights: &[u64]) -> Result<Vec<Money>, MoneyError> {
        let total_weight: u128 = weights.iter().map(|w| u128::from(*w)).sum();
        if total_weight == 0 {
            return Err(MoneyError::ZeroWeights);
        }
        let minor = i128::from(self.to_minor()?);
        let negative = minor < 0;
        let minor = minor.unsigned_abs();

        let mut shares = Vec::with_capacity(weights.len());
        let mut remainders = Vec::with_capacity(weights.len());
        let mut allocated: u128 = 0;
        for (index, weight) in weights.iter().enumerate() {
            // minor < 2^63 and weight < 2^64, so the product fits in u128.
            let exact = minor * u128::from(*weight);
            let share = exact / total_weight;
            allocated += share;
            shares.push(share);
            remainders.push((exact % total_weight, index));
        }
        let leftover = minor - allocated;
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, index) in remainders.into_iter().take(leftover as usize) {
            shares[index] += 1;
        }
        shares
            .into_iter()
            .map(|share| {
                let share = i64::try_from(share).map_err(|_| MoneyError::Overflow)?;
                let signed = if negative { -share } else { share };
                Ok(Money::from_minor(signed, self.currency))
            })
            .collect()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn eur(s: &str) -> Money {
        Money::parse(s, Currency::EUR).unwrap()
    }

    #[test]
    fn sums_of_huge_amounts_never_round_silently() {
        // Found by the `money` fuzz target: 4.4 + 44444444444444444444444444444 EUR
        // rounded away the 0.4 in a Decimal, and the sum minus one part was not
        // the other.
        let huge = "44444444444444444444444444444";
        assert_eq!(Money::parse(huge, Currency::EUR), Err(MoneyError::Overflow));
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000_000_i64));
        let max = Money::parse("999999999999999.99", Currency::EUR).unwrap();
        let cent = Money::parse("0.01", Currency::EUR).unwrap();
        assert_eq!(max.checked_add(cent), Err(MoneyError::Overflow));
        assert_eq!(max.times(2), Err(MoneyError::Overflow));
        let sum = max.checked_sub(cent).unwrap();
        assert_eq!(sum.checked_add(cent).unwrap(), max);
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(Currency::EUR.minor_units(), 2);
        assert_eq!(Currency::USD.minor_units(), 2);
        assert_eq!(Currency::GBP.minor_units(), 2);
        assert_eq!(Currency::JPY.minor_units(), 0);
        assert_eq!(Currency::KWD.minor_units(), 3);
        assert_eq!(
            Money::parse("5", Currency::KWD).unwrap().to_string(),
            "5.000 KWD"
        );
        assert_eq!(
            Money::parse("500", Currency::JPY).unwrap().to_string(),
            "500 JPY"
        );
    }

    #[test]
    fn currency_codes_parse_and_unknown_is_an_error() {
        assert_eq!(Currency::from_code(" eur ").unwrap(), Currency::EUR);
        assert_eq!(
            Currency::from_code("XXX"),
            Err(MoneyError::UnknownCurrency("XXX".into()))
        );
        for c in Currency::ALL {
            assert_eq!(Currency::from_code(c.code()).unwrap(), *c);
        }
    }

    #[test]
    fn too_many_decimals_is_refused_not_rounded() {
        assert!(matches!(
            Money::parse("1.005", Currency::EUR),
            Err(MoneyError::TooPrecise { minor_units: 2, .. })
        ));
        assert!(matches!(
            Money::parse("1.5", Currency::JPY),
            Err(MoneyError::TooPrecise { minor_units: 0, .. })
        ));
        // Trailing zeros are not extra precision.
        assert_eq!(eur("1.500").amount(), dec!(1.50));
        assert_eq!(
            Money::parse("abc", Currency::EUR),
            Err(MoneyError::InvalidAmount("abc".into()))
        );
    }

    #[test]
    fn rounding_is_half_even() {
        let r = |d| Money::round_half_even(d, Currency::EUR).amount();
        assert_eq!(r(dec!(2.345)), dec!(2.34));
        assert_eq!(r(dec!(2.355)), dec!(2.36));
        assert_eq!(r(dec!(-2.345)), dec!(-2.34));
        assert_eq!(r(dec!(2.3451)), dec!(2.35));
        assert_eq!(
            Money::round_half_even(dec!(2.5), Currency::JPY).amount(),
            dec!(2)
        );
    }

    #[test]
    fn mixing_currencies_is_a_typed_error() {
        let usd = Money::parse("1.00", Currency::USD).unwrap();
        let err = MoneyError::CurrencyMismatch {
            left: Currency::EUR,
            right: Currency::USD,
        };
        assert_eq!(eur("1.00").checked_add(usd), Err(err.clone()));
        assert_eq!(eur("1.00").checked_sub(usd), Err(err.clone()));
        assert_eq!(eur("1.00").try_cmp(&usd), Err(err));
    }

    #[test]
    fn overflow_is_a_typed_error() {
        assert_eq!(
            Money::new(Decimal::MAX, Currency::JPY),
            Err(MoneyError::Overflow)
        );
        let big = Money::new(MAX_AMOUNT - Decimal::ONE, Currency::JPY).unwrap();
        assert_eq!(big.checked_add(big), Err(MoneyError::Overflow));
        assert_eq!(big.times(2), Err(MoneyError::Overflow));
    }

    #[test]
    fn allocation_spreads_leftover_cents_to_largest_remainders() {
        let parts = eur("0.05").allocate(&[3, 7]).unwrap();
        assert_eq!(parts, vec![eur("0.02"), eur("0.03")]); // 1.5 and 3.5: the tie goes to the first
        assert_eq!(
            eur("0.05").allocate(&[1, 9]).unwrap(),
            vec![eur("0.01"), eur("0.04")]
        );
        let parts = eur("-10.00").allocate(&[1, 1, 1]).unwrap();
        assert_eq!(parts, vec![eur("-3.34"), eur("-3.33"), eur("-3.33")]);
        assert_eq!(eur("1.00").allocate(&[]), Err(MoneyError::ZeroWeights));
        assert_eq!(eur("1.00").allocate(&[0, 0]), Err(MoneyError::ZeroWeights));
    }

    /// Decimal text of every size, from well inside to far beyond `MAX_AMOUNT`.
    const AMOUNT: &str = "-?[0-9]{1,30}(\\.[0-9]{1,30})?";

    fn any_currency() -> impl Strategy<Value = Currency> {
        proptest::sample::select(Currency::ALL)
    }

    fn any_money(currency: Currency) -> impl Strategy<Value = Money> {
        (-1_000_000_000_000i64..1_000_000_000_000).prop_map(move |m| Money::from_minor(m, currency))
    }

    fn same_currency_pair() -> impl Strategy<Value = (Money, Money, Money)> {
        any_currency().prop_flat_map(|c| (any_money(c), any_money(c), any_money(c)))
    }

    proptest! {
        #[test]
        fn addition_is_commutative_and_associative((a, b, c) in same_currency_pair()) {
            prop_assert_eq!(a.checked_add(b)?, b.checked_add(a)?);
            prop_assert_eq!(a.checked_add(b)?.checked_add(c)?, a.checked_add(b.checked_add(c)?)?);
        }

        #[test]
        fn subtraction_undoes_addition((a, b, _c) in same_currency_pair()) {
            prop_assert_eq!(a.checked_add(b)?.checked_sub(b)?, a);
            prop_assert_eq!(a.checked_add(Money::zero(a.currency()))?, a);
        }

        #[test]
        fn multiplication_distributes((a, b, _c) in same_currency_pair(), q in 0u32..10_000) {
            // Within MAX_AMOUNT both sides agree; beyond it each side is an overflow
            // error, never a rounded amount.
            let left = a.checked_add(b).and_then(|s| s.times(q));
            let right = a.times(q).and_then(|x| b.times(q).and_then(|y| x.checked_add(y)));
            if let (Ok(left), Ok(right)) = (&left, &right) {
                prop_assert_eq!(left, right);
            }
            for result in [left, right] {
                if let Err(err) = result {
                    prop_assert_eq!(err, MoneyError::Overflow);
                }
            }
        }

        #[test]
        fn amounts_always_sit_at_the_minor_unit((a, _b, _c) in same_currency_pair(), rate in 0u32..100_000) {
            let taxed = a.times_rate(Decimal::new(i64::from(rate), 4))?;
            prop_assert_eq!(taxed.amount().scale(), a.currency().minor_units());
            prop_assert_eq!(Money::from_minor(a.to_minor()?, a.currency()), a);
        }

        #[test]
        fn allocation_never_loses_or_creates_a_minor_unit(
            (a, _b, _c) in same_currency_pair(),
            weights in proptest::collection::vec(0u64..1_000_000, 1..20),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let parts = a.allocate(&weights)?;
            prop_assert_eq!(parts.len(), weights.len());
            prop_assert_eq!(Money::sum(a.currency(), &parts)?, a);
            // Each part is within one minor unit of its exact proportional share.
            let total: u64 = weights.iter().sum();
            for (part, w) in parts.iter().zip(&weights) {
                let exact = a.amount() * Decimal::from(*w) / Decimal::from(total);
                let unit = Decimal::new(1, a.currency().minor_units());
                prop_assert!((part.amount() - exact).abs() < unit);
                if *w == 0 { prop_assert!(part.is_zero()); }
            }
        }

        #[test]
        fn arithmetic_on_parsed_amounts_is_exact_or_a_typed_error(
            a in prop_oneof![any::<String>(), "\\PC*", AMOUNT],
            b in AMOUNT,
            q in any::<u32>(),
            weights in proptest::collection::vec(any::<u64>(), 0..8),
        ) {
            for currency in [Currency::JPY, Currency::EUR, Currency::KWD] {
                let (Ok(x), Ok(y)) = (Money::parse(&a, currency), Money::parse(&b, currency)) else {
                    continue;
                };
                match x.checked_add(y) {
                    Ok(sum) => prop_assert_eq!(sum.checked_sub(y)?, x),
                    Err(err) => prop_assert_eq!(err, MoneyError::Overflow),
                }
                match x.times(q) {
                    Ok(product) => prop_assert_eq!(product.amount(), x.amount() * Decimal::from(q)),
                    Err(err) => prop_assert_eq!(err, MoneyError::Overflow),
                }
                match x.allocate(&weights) {
                    Ok(parts) => prop_assert_eq!(Money::sum(currency, &parts)?, x),
                    Err(err) => prop_assert_eq!(err, MoneyError::ZeroWeights),
                }
            }
        }

        #[test]
        fn comparison_agrees_with_subtraction((a, b, _c) in same_currency_pair()) {
            let diff = a.checked_sub(b)?;
            let ord = a.try_cmp(&b)?;
            prop_assert_eq!(ord == std::cmp::Ordering::Less, diff.is_negative());
            prop_assert_eq!(ord == std::cmp::Ordering::Equal, diff.is_zero());
        }
    }
}
