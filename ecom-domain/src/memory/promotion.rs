//! Promotions and coupon codes in the reference store.

use std::collections::BTreeMap;

use crate::error::DomainError;
use crate::ids::{OrderId, PromotionId, VariantId};
use crate::order::Customer;
use crate::pricing::LinePlace;
use crate::promotion::{
    AppliedPromotion, Coupon, CouponCodes, CouponError, NewCoupons, NewPromotion, Promotion,
    distinct_codes, random_codes,
};
use crate::repo::PromotionRepository;
use crate::values::CouponCode;

use super::MemoryStore;
use super::state::State;

/// Promotions, codes and the orders that used them, as the reference store keeps
/// them.
#[derive(Debug, Clone, Default)]
pub(super) struct Promotions {
    promotions: BTreeMap<PromotionId, Promotion>,
    coupons: BTreeMap<CouponCode, Coupon>,
    redemptions: Vec<Redemption>,
}

/// One use of a code by an order; released when the order is cancelled or expires.
#[derive(Debug, Clone)]
struct Redemption {
    order: OrderId,
    code: CouponCode,
    customer: String,
    released: bool,
}

/// The automatic promotions, and each code given with its promotion.
type Offered<'a> = (Vec<&'a Promotion>, Vec<(&'a Promotion, &'a CouponCode)>);

impl State {
    /// The automatic promotions, and the promotion of each code given (a code
    /// that does not exist is [`CouponError::Unknown`]).
    pub(super) fn offered<'a>(
        &'a self,
        codes: &'a [CouponCode],
    ) -> Result<Offered<'a>, DomainError> {
        distinct_codes(codes)?;
        let automatic = self
            .promos
            .promotions
            .values()
            .filter(|p| !p.coupon_only)
            .collect();
        let coded = codes
            .iter()
            .map(|code| {
                let coupon = self
                    .promos
                    .coupons
                    .get(code)
                    .ok_or_else(|| CouponError::Unknown(code.clone()))?;
                let promotion = self
                    .promos
                    .promotions
                    .get(&coupon.promotion)
                    .ok_or_else(|| DomainError::not_found("promotion", coupon.promotion))?;
                Ok((promotion, code))
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        Ok((automatic, coded))
    }

    /// Where each variant sits in the catalog: its product's category and
    /// collections.
    pub(super) fn places(&self, variants: &[VariantId]) -> Result<Vec<LinePlace>, DomainError> {
        variants
            .iter()
            .map(|&variant| {
                let product = self.product(self.sellable(variant)?.variant.product_id)?;
                Ok(LinePlace {
                    variant,
                    category: product.category_id,
                    collections: self
                        .collections
                        .values()
                        .filter(|c| c.products.as_slice().contains(&product.id))
                        .map(|c| c.id)
                        .collect(),
                })
            })
            .collect()
    }

    /// Takes one use of each code `applied` came with for `order`: refused when a
    /// code is used up, or by this customer as often as one may.
    pub(super) fn redeem(
        &mut self,
        order: OrderId,
        customer: &Customer,
        applied: &[AppliedPromotion],
    ) -> Result<(), DomainError> {
        let customer = customer.key();
        for code in applied.iter().filter_map(|a| a.code.as_ref()) {
            let used_by_customer = self
                .promos
                .redemptions
                .iter()
                .filter(|r| !r.released && r.code == *code && r.customer == customer)
                .count() as u32;
            let coupon = self
                .promos
                .coupons
                .get_mut(code)
                .ok_or_else(|| CouponError::Unknown(code.clone()))?;
            if coupon.max_uses.is_some_and(|max| coupon.uses >= max) {
                return Err(CouponError::Exhausted(code.clone()).into());
            }
            if coupon
                .per_customer
                .is_some_and(|max| used_by_customer >= max)
            {
                return Err(CouponError::CustomerLimit(code.clone()).into());
            }
            coupon.uses += 1;
            self.promos.redemptions.push(Redemption {
                order,
                code: code.clone(),
                customer: customer.clone(),
                released: false,
            });
        }
        Ok(())
    }

    /// Gives back the uses of `order`'s codes, once.
    pub(super) fn release_codes(&mut self, order: OrderId) {
        for r in self
            .promos
            .redemptions
            .iter_mut()
            .filter(|r| r.order == order && !r.released)
        {
            r.released = true;
            if let Some(coupon) = self.promos.coupons.get_mut(&r.code) {
                coupon.uses = coupon.uses.saturating_sub(1);
            }
        }
    }
}

impl PromotionRepository for MemoryStore {
    type Error = DomainError;

    fn create_promotion(&self, new: NewPromotion) -> Result<Promotion, DomainError> {
        self.atomically(|s| {
            let promotion = new.checked()?.with_id(s.next());
            s.promos.promotions.insert(promotion.id, promotion.clone());
            Ok(promotion)
        })
    }

    fn promotions(&self) -> Result<Vec<Promotion>, DomainError> {
        self.read(|s| Ok(s.promos.promotions.values().cloned().collect()))
    }

    fn create_coupons(&self, new: NewCoupons) -> Result<Vec<CouponCode>, DomainError> {
        let new = new.checked()?;
        self.atomically(|s| {
            if !s.promos.promotions.contains_key(&new.promotion) {
                return Err(DomainError::not_found("promotion", new.promotion));
            }
            let codes = match &new.codes {
                CouponCodes::Given(codes) => {
                    if let Some(taken) = codes.iter().find(|c| s.promos.coupons.contains_key(c)) {
                        return Err(CouponError::Taken(taken.clone()).into());
                    }
                    codes.clone()
                }
                CouponCodes::Generated {
                    count,
                    prefix,
                    length,
                } => {
                    let mut made: Vec<CouponCode> = Vec::with_capacity(*count as usize);
                    while made.len() < *count as usize {
                        let want = *count as usize - made.len();
                        let fresh = random_codes(prefix, usize::from(*length), want);
                        if fresh.is_empty() {
                            return Err(CouponError::Pattern.into());
                        }
                        made.extend(
                            fresh
                                .into_iter()
                                .filter(|c| !s.promos.coupons.contains_key(c)),
                        );
                        made.sort_unstable();
                        made.dedup();
                    }
                    made
                }
            };
            for code in &codes {
                s.promos.coupons.insert(
                    code.clone(),
                    Coupon {
                        code: code.clone(),
                        promotion: new.promotion,
                        max_uses: new.max_uses,
                        per_customer: new.per_customer,
                        uses: 0,
                    },
                );
            }
            Ok(codes)
        })
    }

    fn coupon(&self, code: &CouponCode) -> Result<Coupon, DomainError> {
        self.read(|s| {
            s.promos
                .coupons
                .get(code)
                .cloned()
                .ok_or_else(|| CouponError::Unknown(code.clone()).into())
        })
    }
}
