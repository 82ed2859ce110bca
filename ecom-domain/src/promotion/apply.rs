//! Applying promotions to a cart: which apply (the stacking rule of the module),
//! and how much each takes off which line.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CouponError, Discount, Promotion, Target};
use crate::ids::{CategoryId, CollectionId, ProductId, PromotionId, VariantId};
use crate::money::{Currency, Money, MoneyError};
use crate::values::{CouponCode, PromotionName, Quantity, Slug};

/// A cart line as promotions see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionLine {
    /// The variant.
    pub variant: VariantId,
    /// Its product.
    pub product: ProductId,
    /// Its product's category, when known.
    pub category: Option<CategoryId>,
    /// The collections its product is in.
    pub collections: Vec<CollectionId>,
    /// Its unit price.
    pub unit_price: Money,
    /// Units.
    pub quantity: Quantity,
}

impl PromotionLine {
    fn amount(&self) -> Result<Money, MoneyError> {
        self.unit_price.times(self.quantity.get())
    }

    fn is_targeted_by(&self, target: &Target) -> bool {
        match target {
            Target::Order => true,
            Target::Variants(ids) => ids.contains(&self.variant),
            Target::Products(ids) => ids.contains(&self.product),
            Target::Categories(ids) => self.category.is_some_and(|c| ids.contains(&c)),
            Target::Collections(ids) => self.collections.iter().any(|c| ids.contains(c)),
        }
    }
}

/// A promotion offered to a cart: an automatic one (`code: None`), or a coupon
/// promotion with the code the customer gave.
#[derive(Debug, Clone, Copy)]
pub struct Offer<'a> {
    /// The promotion.
    pub promotion: &'a Promotion,
    /// The code given for it.
    pub code: Option<&'a CouponCode>,
}

/// A promotion as an order keeps it: what it was and what it took off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedPromotion {
    /// The promotion (it may since have changed); `None` once it is deleted.
    pub promotion: Option<PromotionId>,
    /// Its name then.
    pub name: PromotionName,
    /// The code it came with, if any.
    pub code: Option<CouponCode>,
    /// Its discount then.
    pub discount: Discount,
    /// What it took off each line it touched, by variant.
    pub lines: Vec<(VariantId, Money)>,
    /// The sum of `lines`.
    pub amount: Money,
    /// What it took off the shipping charge.
    pub shipping: Money,
}

/// What the promotions took off a cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The promotions applied, in the order they applied.
    pub promotions: Vec<AppliedPromotion>,
    /// Each line's discount, in the order of the lines given.
    pub line_discounts: Vec<Money>,
    /// What came off the shipping charge.
    pub shipping_discount: Money,
}

/// The cart promotions are applied to.
#[derive(Debug, Clone, Copy)]
pub struct PromotionCart<'a> {
    /// Its currency.
    pub currency: Currency,
    /// Its lines.
    pub lines: &'a [PromotionLine],
    /// The shipping charge before promotions.
    pub shipping: Money,
    /// The customer's groups.
    pub groups: &'a [Slug],
    /// The moment of pricing.
    pub at: DateTime<Utc>,
}

/// Why promotions could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// A coupon code refused.
    #[error(transparent)]
    Coupon(#[from] CouponError),
    /// An amount out of range.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Why an offer is not a candidate.
enum Refusal {
    NotYetValid,
    Expired,
    WrongCurrency(Currency),
    NotApplicable(&'static str),
}

impl Refusal {
    /// The refusal of a coupon code.
    fn of(self, code: &CouponCode) -> CouponError {
        let code = code.clone();
        match self {
            Refusal::NotYetValid => CouponError::NotYetValid(code),
            Refusal::Expired => CouponError::Expired(code),
            Refusal::WrongCurrency(currency) => CouponError::WrongCurrency { code, currency },
            Refusal::NotApplicable(reason) => CouponError::NotApplicable { code, reason },
        }
    }
}

/// Why `p` is not a candidate for `cart`, or `None` when it is (the module's rule 1).
fn refusal(p: &Promotion, cart: &PromotionCart<'_>, subtotal: Money) -> Option<Refusal> {
    if p.starts_at.is_some_and(|s| cart.at < s) {
        return Some(Refusal::NotYetValid);
    }
    if p.ends_at.is_some_and(|e| e <= cart.at) {
        return Some(Refusal::Expired);
    }
    if let Some(currency) = p.currency
        && currency != cart.currency
    {
        return Some(Refusal::WrongCurrency(currency));
    }
    let not = |reason| Some(Refusal::NotApplicable(reason));
    if p.group.as_ref().is_some_and(|g| !cart.groups.contains(g)) {
        return not("it is for another customer group");
    }
    if p.min_subtotal
        .is_some_and(|m| subtotal.amount() < m.amount())
    {
        return not("the cart is below its minimum value");
    }
    let targeted: u64 = cart
        .lines
        .iter()
        .filter(|l| l.is_targeted_by(&p.target))
        .map(|l| u64::from(l.quantity.get()))
        .sum();
    if targeted == 0 {
        return not("no line of the cart is one it is for");
    }
    let needed = match p.discount {
        Discount::BuyXGetY { buy, get } => u64::from(buy) + u64::from(get),
        _ => 1,
    };
    if targeted < needed.max(p.min_quantity.map_or(1, u64::from)) {
        return not("the cart has fewer units than it needs");
    }
    if p.discount == Discount::FreeShipping && cart.shipping.is_zero() {
        return not("the shipping is free already");
    }
    None
}

/// Applies `offers` to `cart` by the module's rules. Fails when a coupon's
/// promotion does not apply, with the reason ([`CouponError`]); an automatic
/// promotion that does not apply is left out.
pub fn apply(cart: PromotionCart<'_>, offers: &[Offer<'_>]) -> Result<Applied, ApplyError> {
    let currency = cart.currency;
    let amounts = cart
        .lines
        .iter()
        .map(PromotionLine::amount)
        .collect::<Result<Vec<_>, _>>()?;
    let subtotal = Money::sum(currency, amounts.iter())?;

    let mut candidates: Vec<&Offer<'_>> = Vec::with_capacity(offers.len());
    for offer in offers {
        let p = offer.promotion;
        if let Some(refused) = refusal(p, &cart, subtotal) {
            match offer.code {
                Some(code) => return Err(refused.of(code).into()),
                None => continue,
            }
        }
        let again = candidates.iter().any(|c| c.promotion.id == p.id);
        match offer.code {
            // Two codes of one promotion: the first one given applies.
            Some(code) if again => {
                return Err(CouponError::NotApplicable {
                    code: code.clone(),
                    reason: "another code of its promotion is applied",
                }
                .into());
            }
            None if again || p.coupon_only => continue,
            _ => candidates.push(offer),
        }
    }
    candidates.sort_by_key(|o| (o.promotion.priority, o.promotion.id));
    let chosen: Vec<&Offer<'_>> = match candidates.first() {
        Some(first) if first.promotion.exclusive => vec![*first],
        _ => candidates
            .iter()
            .copied()
            .filter(|o| !o.promotion.exclusive)
            .collect(),
    };
    if let Some(code) = candidates
        .iter()
        .filter(|c| !chosen.iter().any(|o| o.promotion.id == c.promotion.id))
        .find_map(|c| c.code)
    {
        return Err(CouponError::NotApplicable {
            code: code.clone(),
            reason: "it does not combine with the promotions applied",
        }
        .into());
    }

    let mut left = amounts;
    let mut shipping_left = cart.shipping;
    let mut line_discounts = vec![Money::zero(currency); cart.lines.len()];
    let mut applied = Vec::with_capacity(chosen.len());
    for offer in chosen {
        let p = offer.promotion;
        let targeted: Vec<usize> = (0..cart.lines.len())
            .filter(|&i| cart.lines[i].is_targeted_by(&p.target))
            .collect();
        let mut taken = vec![Money::zero(currency); cart.lines.len()];
        let mut shipping = Money::zero(currency);
        let base = || Money::sum(currency, targeted.iter().map(|&i| &left[i]));
        match &p.discount {
            Discount::Percent { rate } => {
                let base = base()?;
                spread(
                    &mut taken,
                    &left,
                    &targeted,
                    least(base.times_rate(*rate)?, base),
                )?;
            }
            Discount::Fixed { amount } => {
                spread(&mut taken, &left, &targeted, least(*amount, base()?))?;
            }
            Discount::BuyXGetY { buy, get } => {
                free_units(&mut taken, &left, cart.lines, &targeted, *buy, *get)?;
            }
            Discount::FreeShipping => {
                shipping = shipping_left;
                shipping_left = Money::zero(currency);
            }
        }
        let mut lines = Vec::new();
        for (i, off) in taken.iter().enumerate() {
            if off.is_zero() {
                continue;
            }
            left[i] = left[i].checked_sub(*off)?;
            line_discounts[i] = line_discounts[i].checked_add(*off)?;
            lines.push((cart.lines[i].variant, *off));
        }
        lines.sort_by_key(|(v, _)| *v);
        applied.push(AppliedPromotion {
            promotion: Some(p.id),
            name: p.name.clone(),
            code: offer.code.cloned(),
            discount: p.discount.clone(),
            amount: Money::sum(currency, lines.iter().map(|(_, m)| m))?,
            lines,
            shipping,
        });
    }
    Ok(Applied {
        promotions: applied,
        line_discounts,
        shipping_discount: cart.shipping.checked_sub(shipping_left)?,
    })
}

/// The smaller of two amounts of one currency.
fn least(a: Money, b: Money) -> Money {
    if a.amount() <= b.amount() { a } else { b }
}

/// Takes `off` from the `targeted` lines in proportion to what is left of each,
/// by largest remainder (so the parts sum to `off` exactly and none exceeds what
/// is left of its line).
fn spread(
    taken: &mut [Money],
    left: &[Money],
    targeted: &[usize],
    off: Money,
) -> Result<(), MoneyError> {
    if off.is_zero() {
        return Ok(());
    }
    let weights = targeted
        .iter()
        .map(|&i| left[i].to_minor().map(|m| m.max(0) as u64))
        .collect::<Result<Vec<_>, _>>()?;
    if weights.iter().all(|w| *w == 0) {
        return Ok(());
    }
    for (&i, part) in targeted.iter().zip(off.allocate(&weights)?) {
        taken[i] = part;
    }
    Ok(())
}

/// Buy X get Y: of the targeted units, `(units / (buy + get)) × get` are free, the
/// cheapest ones (then by variant id); each line gives up its free units' price,
/// never more than is left of it.
fn free_units(
    taken: &mut [Money],
    left: &[Money],
    lines: &[PromotionLine],
    targeted: &[usize],
    buy: u32,
    get: u32,
) -> Result<(), MoneyError> {
    let units: u64 = targeted
        .iter()
        .map(|&i| u64::from(lines[i].quantity.get()))
        .sum();
    let mut free = units / (u64::from(buy) + u64::from(get)) * u64::from(get);
    let mut cheapest: Vec<usize> = targeted.to_vec();
    cheapest.sort_by(|&a, &b| {
        (lines[a].unit_price.amount(), lines[a].variant)
            .cmp(&(lines[b].unit_price.amount(), lines[b].variant))
    });
    for i in cheapest {
        if free == 0 {
            break;
        }
        let n = free.min(u64::from(lines[i].quantity.get()));
        free -= n;
        let off = lines[i].unit_price.times(n as u32)?;
        taken[i] = least(off, left[i]);
    }
    Ok(())
}
