//! Promotions and coupon codes: the discounts a checkout priced from the price book
//! applies, and the rules that make them deterministic.
//!
//! # Which promotions apply (the stacking rule)
//!
//! 1. A promotion is a **candidate** for a cart when it is active at the moment of
//!    pricing (its window), is for everyone or for one of the customer's groups, is
//!    in the cart's currency (a promotion with amounts has one), its conditions hold
//!    on the cart as it is (subtotal at least `min_subtotal`, at least
//!    `min_quantity` units of the lines it targets) and it targets at least one line
//!    (free shipping targets the order). A coupon promotion is a candidate only with
//!    one of its codes; an automatic one needs none.
//! 2. Candidates are ordered by priority (lower first), then id.
//! 3. If the first is **exclusive**, it alone applies. Otherwise every **stackable**
//!    candidate applies, in that order, each on what the ones before it left; the
//!    exclusive ones are skipped.
//! 4. A code given at checkout whose promotion is not applied is refused
//!    ([`CouponError::NotApplicable`]), never dropped in silence.
//!
//! # Amounts
//!
//! See [`apply`]: percentages are rounded half-even on what is left of the lines
//! they target, fixed amounts are capped at it, and an amount off several lines is
//! allocated over them by largest remainder, so the lines' discounts always sum
//! exactly to the promotion's. Nothing makes a line, the shipping or the order
//! negative. Tax is then computed on each line's discounted amount
//! ([`crate::pricing::quote`]).

mod apply;

pub use apply::{
    Applied, AppliedPromotion, ApplyError, Offer, PromotionCart, PromotionLine, apply,
};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{CategoryId, CollectionId, ProductId, PromotionId, VariantId};
use crate::money::{Currency, Money};
use crate::values::{CouponCode, PromotionName, Slug};

/// What a promotion takes off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Discount {
    /// A share of the targeted lines (`0.10` for 10 %), above 0 and at most 1.
    Percent {
        /// The share.
        rate: Decimal,
    },
    /// An amount off the targeted lines together, in the promotion's currency.
    Fixed {
        /// The amount.
        amount: Money,
    },
    /// The shipping charge.
    FreeShipping,
    /// Of every `buy + get` targeted units, `get` are free: the cheapest ones.
    BuyXGetY {
        /// Units paid for.
        buy: u32,
        /// Units free.
        get: u32,
    },
}

/// What a promotion's discount is taken off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "ids", rename_all = "snake_case")]
pub enum Target {
    /// Every line.
    Order,
    /// Lines of these variants.
    Variants(Vec<VariantId>),
    /// Lines of variants of these products.
    Products(Vec<ProductId>),
    /// Lines of products in these categories (not their subcategories).
    Categories(Vec<CategoryId>),
    /// Lines of products in these collections.
    Collections(Vec<CollectionId>),
}

/// A promotion: a discount, what it is taken off, and when it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    /// Its id.
    pub id: PromotionId,
    /// What an order shows.
    pub name: PromotionName,
    /// What it takes off.
    pub discount: Discount,
    /// Off what.
    pub target: Target,
    /// The currency of its amounts; `None`: any (a percentage, free shipping, buy
    /// X get Y without a minimum subtotal).
    pub currency: Option<Currency>,
    /// The least subtotal of the cart (before discounts).
    pub min_subtotal: Option<Money>,
    /// The least number of units of the lines it targets.
    pub min_quantity: Option<u32>,
    /// The customer group it is for; `None`: everyone.
    pub group: Option<Slug>,
    /// When it starts.
    pub starts_at: Option<DateTime<Utc>>,
    /// When it ends (exclusive).
    pub ends_at: Option<DateTime<Utc>>,
    /// True: it applies only with one of its coupon codes.
    pub coupon_only: bool,
    /// True: it applies alone (see the stacking rule).
    pub exclusive: bool,
    /// Its place in the order promotions apply in, lower first.
    pub priority: i32,
}

/// What the promotion rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromotionError {
    /// A percentage outside (0, 1], or with more than 4 decimals.
    #[error(
        "a percentage off must be above 0 and at most 1 (100 %) with at most 4 decimals, not {0}"
    )]
    Rate(Decimal),
    /// A fixed amount that is not positive.
    #[error("an amount off must be positive, not {0}")]
    Amount(Money),
    /// Buy X get Y with no unit to buy or none free.
    #[error("buy {buy} get {get}: both must be at least 1 and at most 1000")]
    BuyGet {
        /// Units paid for.
        buy: u32,
        /// Units free.
        get: u32,
    },
    /// Amounts (the discount, the minimum subtotal) in another currency than the
    /// promotion's, or amounts without a currency.
    #[error("the promotion's amounts must be in its currency, which it must name")]
    Currency,
    /// A target naming nothing, or too much.
    #[error("a target names 1 to {max} ids, not {count}")]
    Target {
        /// How many it named.
        count: usize,
        /// The most.
        max: usize,
    },
    /// Free shipping taken off lines rather than the order.
    #[error("free shipping is taken off the order, not off lines")]
    ShippingTarget,
    /// A window that ends before it starts.
    #[error("the promotion ends before it starts")]
    EmptyWindow,
    /// A minimum quantity of 0, or past [`MAX_COUNT`].
    #[error("a minimum quantity is 1 to 2147483647")]
    MinQuantity,
}

/// The largest count (of units, of uses) a promotion or a code may name: what the
/// database's integer columns hold.
pub const MAX_COUNT: u32 = i32::MAX as u32;

/// The most ids a target names.
pub const MAX_TARGET_IDS: usize = 1000;

/// What it takes to create a promotion; the store gives it its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPromotion {
    /// See [`Promotion`].
    pub name: PromotionName,
    /// See [`Promotion`].
    pub discount: Discount,
    /// See [`Promotion`].
    pub target: Target,
    /// See [`Promotion`].
    pub currency: Option<Currency>,
    /// See [`Promotion`].
    pub min_subtotal: Option<Money>,
    /// See [`Promotion`].
    pub min_quantity: Option<u32>,
    /// See [`Promotion`].
    pub group: Option<Slug>,
    /// See [`Promotion`].
    pub starts_at: Option<DateTime<Utc>>,
    /// See [`Promotion`].
    pub ends_at: Option<DateTime<Utc>>,
    /// See [`Promotion`].
    pub coupon_only: bool,
    /// See [`Promotion`].
    pub exclusive: bool,
    /// See [`Promotion`].
    pub priority: i32,
}

impl NewPromotion {
    /// Checks the discount, its currency, the target and the window.
    pub fn checked(self) -> Result<Self, PromotionError> {
        match &self.discount {
            Discount::Percent { rate } => {
                let rate = rate.normalize();
                if rate <= Decimal::ZERO || rate > Decimal::ONE || rate.scale() > 4 {
                    return Err(PromotionError::Rate(rate));
                }
            }
            Discount::Fixed { amount } => {
                if amount.is_negative() || amount.is_zero() {
                    return Err(PromotionError::Amount(*amount));
                }
                if self.currency != Some(amount.currency()) {
                    return Err(PromotionError::Currency);
                }
            }
            Discount::BuyXGetY { buy, get } => {
                if !(1..=1000).contains(buy) || !(1..=1000).contains(get) {
                    return Err(PromotionError::BuyGet {
                        buy: *buy,
                        get: *get,
                    });
                }
            }
            Discount::FreeShipping => {
                if self.target != Target::Order {
                    return Err(PromotionError::ShippingTarget);
                }
            }
        }
        if let Some(min) = self.min_subtotal {
            if self.currency != Some(min.currency()) {
                return Err(PromotionError::Currency);
            }
            if min.is_negative() {
                return Err(PromotionError::Amount(min));
            }
        }
        if self.min_quantity.is_some_and(|m| m == 0 || m > MAX_COUNT) {
            return Err(PromotionError::MinQuantity);
        }
        let ids = match &self.target {
            Target::Order => None,
            Target::Variants(ids) => Some(ids.len()),
            Target::Products(ids) => Some(ids.len()),
            Target::Categories(ids) => Some(ids.len()),
            Target::Collections(ids) => Some(ids.len()),
        };
        if let Some(count) = ids
            && !(1..=MAX_TARGET_IDS).contains(&count)
        {
            return Err(PromotionError::Target {
                count,
                max: MAX_TARGET_IDS,
            });
        }
        if let (Some(start), Some(end)) = (self.starts_at, self.ends_at)
            && end <= start
        {
            return Err(PromotionError::EmptyWindow);
        }
        let discount = match self.discount {
            Discount::Percent { rate } => Discount::Percent {
                rate: rate.normalize(),
            },
            other => other,
        };
        Ok(Self { discount, ..self })
    }

    /// The promotion, with the id the store gave it.
    pub fn with_id(self, id: PromotionId) -> Promotion {
        Promotion {
            id,
            name: self.name,
            discount: self.discount,
            target: self.target,
            currency: self.currency,
            min_subtotal: self.min_subtotal,
            min_quantity: self.min_quantity,
            group: self.group,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            coupon_only: self.coupon_only,
            exclusive: self.exclusive,
            priority: self.priority,
        }
    }
}

impl Promotion {
    /// True when it is active at `at`.
    pub fn active_at(&self, at: DateTime<Utc>) -> bool {
        self.starts_at.is_none_or(|s| s <= at) && self.ends_at.is_none_or(|e| at < e)
    }
}

/// A coupon code of a promotion and how often it may be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coupon {
    /// The code, upper-case.
    pub code: CouponCode,
    /// Its promotion.
    pub promotion: PromotionId,
    /// Uses in all (1: single-use); `None`: no limit.
    pub max_uses: Option<u32>,
    /// Uses per customer; `None`: no limit.
    pub per_customer: Option<u32>,
    /// Uses by orders that are not cancelled or expired.
    pub uses: u32,
}

/// Codes to create for a promotion: given, or generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCoupons {
    /// The promotion.
    pub promotion: PromotionId,
    /// Which codes.
    pub codes: CouponCodes,
    /// Uses in all, per code (1: single-use); `None`: no limit.
    pub max_uses: Option<u32>,
    /// Uses per customer, per code; `None`: no limit.
    pub per_customer: Option<u32>,
}

/// The codes of [`NewCoupons`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CouponCodes {
    /// These, each new.
    Given(Vec<CouponCode>),
    /// `count` random codes: `prefix` and `length` letters of
    /// [`CouponCode::ALPHABET`].
    Generated {
        /// How many.
        count: u32,
        /// What each starts with (`SUMMER-`); may be empty.
        prefix: String,
        /// Random letters after it.
        length: u8,
    },
}

/// The most codes one call creates.
pub const MAX_NEW_COUPONS: u32 = 1_000_000;
/// The most codes one checkout takes.
pub const MAX_CODES_PER_CHECKOUT: usize = 5;

impl NewCoupons {
    /// Checks the limits and the codes' number and shape before any is made.
    pub fn checked(self) -> Result<Self, CouponError> {
        let limit_ok = |limit: Option<u32>| limit.is_none_or(|n| (1..=MAX_COUNT).contains(&n));
        if !limit_ok(self.max_uses) || !limit_ok(self.per_customer) {
            return Err(CouponError::Limit);
        }
        match &self.codes {
            CouponCodes::Given(codes) => {
                if codes.is_empty() || codes.len() > MAX_NEW_COUPONS as usize {
                    return Err(CouponError::Count(codes.len() as u64));
                }
                let mut seen = std::collections::HashSet::with_capacity(codes.len());
                if let Some(again) = codes.iter().find(|c| !seen.insert(*c)) {
                    return Err(CouponError::Repeated(again.clone()));
                }
            }
            CouponCodes::Generated {
                count,
                prefix,
                length,
            } => {
                if *count == 0 || *count > MAX_NEW_COUPONS {
                    return Err(CouponError::Count(u64::from(*count)));
                }
                // 31^8 ≈ 8.5e11: eight letters keep a million codes far apart.
                let long_enough = (8..=24).contains(length);
                let fits = prefix.len() + usize::from(*length) <= CouponCode::MAX_LEN;
                // As given: a prefix with spaces would be trimmed off the codes.
                let prefix_ok = prefix.is_empty()
                    || (prefix.trim() == prefix
                        && CouponCode::parse(&format!("{prefix}XXXX")).is_ok());
                if !long_enough || !fits || !prefix_ok {
                    return Err(CouponError::Pattern);
                }
            }
        }
        Ok(self)
    }
}

/// Why a coupon code is refused; each has its own status in a service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CouponError {
    /// No such code.
    #[error("coupon code {0} is not valid")]
    Unknown(CouponCode),
    /// Its promotion has ended.
    #[error("coupon code {0} has expired")]
    Expired(CouponCode),
    /// Its promotion has not started.
    #[error("coupon code {0} is not valid yet")]
    NotYetValid(CouponCode),
    /// Its promotion is in another currency than the cart.
    #[error("coupon code {code} is for {currency} carts")]
    WrongCurrency {
        /// The code.
        code: CouponCode,
        /// The promotion's currency.
        currency: Currency,
    },
    /// Its promotion does not apply to this cart or customer (`reason` says why).
    #[error("coupon code {code} does not apply: {reason}")]
    NotApplicable {
        /// The code.
        code: CouponCode,
        /// Why.
        reason: &'static str,
    },
    /// Used as often as it may be.
    #[error("coupon code {0} has been used up")]
    Exhausted(CouponCode),
    /// Used by this customer as often as one customer may.
    #[error("coupon code {0} has been used as often as one customer may")]
    CustomerLimit(CouponCode),
    /// The same code twice, or more codes than a checkout takes.
    #[error("a checkout takes up to {max} distinct coupon codes")]
    TooMany {
        /// The most.
        max: usize,
    },
    /// A code that exists already (creating codes).
    #[error("coupon code {0} exists already")]
    Taken(CouponCode),
    /// One code given twice (creating codes; codes ignore case).
    #[error("coupon code {0} is given twice")]
    Repeated(CouponCode),
    /// Asking for no codes, or more than [`MAX_NEW_COUPONS`].
    #[error("create 1 to {MAX_NEW_COUPONS} codes at a time, not {0}")]
    Count(u64),
    /// A limit of 0 uses, or past [`MAX_COUNT`].
    #[error("a usage limit is 1 to 2147483647")]
    Limit,
    /// A prefix that is not the start of a code, or a length outside 8 to 24.
    #[error(
        "generated codes are a prefix of A-Z, 0-9 and '-' and 8 to 24 random letters, 32 in all"
    )]
    Pattern,
}

/// `n` random codes of `prefix` and `length` letters (from the operating system's
/// random source), distinct and sorted; fewer than `n` only if the prefix and
/// length make no valid code.
pub fn random_codes(prefix: &str, length: usize, n: usize) -> Vec<CouponCode> {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut codes = std::collections::BTreeSet::new();
    let mut random = vec![0u8; 4096];
    while codes.len() < n {
        OsRng.fill_bytes(&mut random);
        let mut bytes = random.iter().copied();
        while codes.len() < n {
            match CouponCode::random(prefix, length, &mut bytes) {
                Some(code) => {
                    codes.insert(code);
                }
                None if bytes.len() > length * 2 => return codes.into_iter().collect(),
                None => break,
            }
        }
    }
    codes.into_iter().collect()
}

/// Coupon codes need a checkout priced from the price book (one naming a shipping
/// method): the flat rules apply no promotion.
pub fn codes_need_a_method(codes: &[CouponCode]) -> Result<(), CouponError> {
    match codes.first() {
        None => Ok(()),
        Some(code) => Err(CouponError::NotApplicable {
            code: code.clone(),
            reason: "a checkout takes codes when it names a shipping method",
        }),
    }
}

/// The distinct codes of a checkout, at most [`MAX_CODES_PER_CHECKOUT`].
pub fn distinct_codes(codes: &[CouponCode]) -> Result<(), CouponError> {
    let distinct = codes
        .iter()
        .enumerate()
        .all(|(i, c)| !codes[..i].contains(c));
    if !distinct || codes.len() > MAX_CODES_PER_CHECKOUT {
        return Err(CouponError::TooMany {
            max: MAX_CODES_PER_CHECKOUT,
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
