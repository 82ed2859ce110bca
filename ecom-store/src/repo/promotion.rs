//! [`PromotionRepository`] on PostgreSQL: promotions, and their coupon codes made
//! in batches.

use ecom_domain::prelude::*;
use ecom_domain::promotion::{
    Coupon, CouponCodes, CouponError, NewCoupons, NewPromotion, Promotion, random_codes,
};

use crate::ops::promotion as ops;
use crate::{PgStore, StoreError};

/// Codes inserted per statement when generating.
const BATCH: usize = 10_000;

impl PromotionRepository for PgStore {
    type Error = StoreError;

    fn create_promotion(&self, new: NewPromotion) -> Result<Promotion, StoreError> {
        let new = new.checked().map_err(DomainError::from)?;
        let id = self.write(|conn| ops::create_promotion(conn, &new))?;
        Ok(new.with_id(id))
    }

    fn promotions(&self) -> Result<Vec<Promotion>, StoreError> {
        self.read(ops::promotions)
    }

    fn create_coupons(&self, new: NewCoupons) -> Result<Vec<CouponCode>, StoreError> {
        let new = new.checked().map_err(DomainError::from)?;
        self.write(|conn| {
            ops::require_promotion(conn, new.promotion)?;
            match &new.codes {
                CouponCodes::Given(codes) => {
                    for batch in codes.chunks(BATCH) {
                        let inserted = ops::insert_coupons(
                            conn,
                            new.promotion,
                            batch,
                            new.max_uses,
                            new.per_customer,
                        )?;
                        if inserted.len() < batch.len() {
                            // Codes are distinct (checked): one exists already.
                            let taken = batch
                                .iter()
                                .find(|c| !inserted.iter().any(|s| s == c.as_str()))
                                .unwrap_or(&batch[0]);
                            return Err(DomainError::from(CouponError::Taken(taken.clone())).into());
                        }
                    }
                    Ok(codes.clone())
                }
                CouponCodes::Generated {
                    count,
                    prefix,
                    length,
                } => generate(conn, &new, *count as usize, prefix, usize::from(*length)),
            }
        })
    }

    fn coupon(&self, code: &CouponCode) -> Result<Coupon, StoreError> {
        self.read(|conn| ops::coupon(conn, code))
    }
}

/// `count` random codes of `new`'s promotion, inserted in batches; a code that
/// exists already (a collision, rare with 8 or more letters) is drawn again.
fn generate(
    conn: &mut diesel::PgConnection,
    new: &NewCoupons,
    count: usize,
    prefix: &str,
    length: usize,
) -> Result<Vec<CouponCode>, StoreError> {
    let mut made = Vec::with_capacity(count);
    while made.len() < count {
        let batch = random_codes(prefix, length, (count - made.len()).min(BATCH));
        if batch.is_empty() {
            return Err(DomainError::from(CouponError::Pattern).into());
        }
        let inserted =
            ops::insert_coupons(conn, new.promotion, &batch, new.max_uses, new.per_customer)?;
        for code in inserted {
            made.push(
                CouponCode::try_from(code).map_err(|e| crate::rows::corrupt("coupon code", e))?,
            );
        }
    }
    Ok(made)
}
