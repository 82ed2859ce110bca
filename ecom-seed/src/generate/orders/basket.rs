//! An order's draw: when it is placed, who places it, what is in it and the path it
//! will take, drawn against the stock left so nothing is sold that was not on the
//! shelf.

use chrono::{DateTime, Duration, Utc};
use ecom_domain::rules::DEFAULT_PAYMENT_WINDOW;
use ecom_domain::values::Quantity;
use rand::RngExt;

use crate::SeedError;
use crate::generate::catalog::Catalog;
use crate::generate::rng::{SeedRng, Stream, rng_for, secs};
use crate::plan::Plan;

/// A share of an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    /// All that is left.
    Rest,
    /// Half (rounded to the minor unit) of the whole.
    Half,
}

/// A step of an order's life, before amounts are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Authorize,
    Capture(Part),
    Fail,
    Ship,
    Deliver,
    Refund(Part),
    Cancel,
    Expire,
}

/// Who placed an order.
#[derive(Debug, Clone, Copy)]
pub(super) enum Buyer {
    User(i64),
    Guest,
}

/// An order's draw: when, who, what, and what happens to it.
pub(super) struct Basket {
    pub at: DateTime<Utc>,
    pub buyer: Buyer,
    /// Positions of variants in the catalog, each with its quantity; distinct
    /// variants, in order.
    pub lines: Vec<(usize, Quantity)>,
    pub steps: Vec<(Step, DateTime<Utc>)>,
}

impl Basket {
    /// Cancelled and expired orders put their stock back.
    fn restocks(&self) -> bool {
        matches!(self.steps.last(), Some((Step::Cancel | Step::Expire, _)))
    }
}

/// When a paid order's payment is authorized and captured. Drawn before the path is
/// chosen, whichever path it is, so every path consumes the same draws up to there.
#[derive(Debug, Clone, Copy)]
struct PaidAt {
    authorized: DateTime<Utc>,
    captured: DateTime<Utc>,
}

/// The steps an order placed at `at` goes through, cut at `until`: every prefix of a
/// legal path is legal, so cutting never leaves an impossible state.
fn path(rng: &mut SeedRng, at: DateTime<Utc>, until: DateTime<Utc>) -> Vec<(Step, DateTime<Utc>)> {
    let deadline = at + DEFAULT_PAYMENT_WINDOW;
    let authorized = at + secs(rng, 5..120);
    let captured = authorized + secs(rng, 1..600);
    let paid = PaidAt {
        authorized,
        captured,
    };
    let roll = rng.random_range(0..100u32);
    let mut steps = if deadline > until {
        path_within_window(rng, roll, at, paid)
    } else {
        path_past_deadline(rng, roll, at, deadline, paid)
    };
    if let Some(cut) = steps.iter().position(|(_, t)| *t > until) {
        steps.truncate(cut);
    }
    steps
}

/// Authorization then capture: in one go, or one time in ten in two halves.
fn pay(steps: &mut Vec<(Step, DateTime<Utc>)>, rng: &mut SeedRng, paid: PaidAt) {
    steps.push((Step::Authorize, paid.authorized));
    if rng.random_range(0..100u32) < 10 {
        steps.push((Step::Capture(Part::Half), paid.captured));
        steps.push((Step::Capture(Part::Rest), paid.captured + secs(rng, 1..60)));
    } else {
        steps.push((Step::Capture(Part::Rest), paid.captured));
    }
}

/// The path of an order still within its payment window when the period ends: it can
/// only have started paying (or failed to).
fn path_within_window(
    rng: &mut SeedRng,
    roll: u32,
    at: DateTime<Utc>,
    paid: PaidAt,
) -> Vec<(Step, DateTime<Utc>)> {
    let mut steps = Vec::with_capacity(6);
    match roll {
        0..40 => {}
        40..55 => steps.push((Step::Authorize, paid.authorized)),
        55..60 => steps.push((Step::Fail, at + secs(rng, 10..300))),
        _ => pay(&mut steps, rng, paid),
    }
    steps
}

/// The path of an order whose payment deadline falls in the period: expired, failed,
/// cancelled, or paid and shipped (then perhaps refunded).
fn path_past_deadline(
    rng: &mut SeedRng,
    roll: u32,
    at: DateTime<Utc>,
    deadline: DateTime<Utc>,
    paid: PaidAt,
) -> Vec<(Step, DateTime<Utc>)> {
    use Step::*;
    let shipped = paid.captured + secs(rng, 6 * 3600..48 * 3600);
    let delivered = shipped + secs(rng, 86_400..5 * 86_400);
    let refunded = delivered + secs(rng, 86_400..20 * 86_400);
    let mut steps = Vec::with_capacity(6);
    match roll {
        0..5 => steps.push((Expire, deadline + secs(rng, 1..300))),
        5..8 => {
            steps.push((Fail, at + secs(rng, 10..300)));
            steps.push((Expire, deadline + secs(rng, 300..600)));
        }
        8..11 => {
            if rng.random_range(0..2u32) == 0 {
                steps.push((Authorize, paid.authorized));
            }
            steps.push((Cancel, at + secs(rng, 300..1_500)));
        }
        11..14 => {
            pay(&mut steps, rng, paid);
            steps.push((Cancel, paid.captured + secs(rng, 3_600..20 * 3_600)));
        }
        14..18 => {
            pay(&mut steps, rng, paid);
            steps.push((Ship, shipped));
            steps.push((Deliver, delivered));
            steps.push((Refund(Part::Rest), refunded));
        }
        18..22 => {
            pay(&mut steps, rng, paid);
            steps.push((Ship, shipped));
            steps.push((Deliver, delivered));
            steps.push((Refund(Part::Half), refunded));
        }
        _ => {
            pay(&mut steps, rng, paid);
            steps.push((Ship, shipped));
            steps.push((Deliver, delivered));
        }
    }
    steps
}

/// Draws every order's basket in id order, against the stock left.
pub(super) struct Baskets<'a> {
    plan: &'a Plan,
    catalog: &'a Catalog,
    /// Per variant, the units left.
    stock: Vec<u32>,
    span: i64,
}

impl<'a> Baskets<'a> {
    /// Baskets for `plan`'s orders, against the variants' stock before any order.
    pub(super) fn new(plan: &'a Plan, catalog: &'a Catalog) -> Self {
        Self {
            plan,
            catalog,
            stock: catalog.initial_stock(),
            span: (plan.until - plan.since).num_seconds(),
        }
    }

    /// The stock left by the baskets drawn so far.
    pub(super) fn into_stock(self) -> Vec<u32> {
        self.stock
    }

    /// The basket of the `k`th order (from 0), which takes its units off the shelf
    /// unless the order ends cancelled or expired.
    pub(super) fn next(&mut self, k: u64) -> Result<Basket, SeedError> {
        let id = self.plan.ids.orders + k as i64 + 1;
        let mut rng = rng_for(self.plan.seed, Stream::Basket, id);
        // The order of the draws is part of the data: keep it when editing.
        let at = self.placed_at(k, &mut rng);
        let buyer = self.buyer(&mut rng);
        let steps = path(&mut rng, at, self.plan.until);
        let lines = self.lines(&mut rng, id)?;
        let basket = Basket {
            at,
            buyer,
            lines,
            steps,
        };
        if !basket.restocks() {
            for (v, q) in &basket.lines {
                self.stock[*v] -= q.get();
            }
        }
        Ok(basket)
    }

    /// Orders are spread evenly through the period in id order, each at a random
    /// moment of its own slot, so ids and times agree.
    fn placed_at(&self, k: u64, rng: &mut SeedRng) -> DateTime<Utc> {
        let plan = self.plan;
        let orders = i128::from(plan.sizes.orders.max(1));
        let slot = (i128::from(self.span) / orders).max(1);
        let offset = i128::from(k) * i128::from(self.span) / orders;
        let offset = i64::try_from(offset).unwrap_or(0) + rng.random_range(0..slot as i64);
        (plan.since + Duration::seconds(offset)).min(plan.until - Duration::seconds(1))
    }

    /// 85 % registered users, skewed towards low ids so some order far more than
    /// others; the rest guests.
    fn buyer(&self, rng: &mut SeedRng) -> Buyer {
        let plan = self.plan;
        if plan.sizes.users > 0 && rng.random_range(0..100u32) < 85 {
            let n = plan.sizes.users;
            let pick = rng.random_range(0..n).min(rng.random_range(0..n));
            Buyer::User(plan.ids.users + pick as i64 + 1)
        } else {
            Buyer::Guest
        }
    }

    /// One to five distinct variants with stock, in catalog order; at least one line
    /// even when every draw hits an empty shelf.
    fn lines(&self, rng: &mut SeedRng, id: i64) -> Result<Vec<(usize, Quantity)>, SeedError> {
        let wanted = match rng.random_range(0..100u32) {
            0..35 => 1,
            35..65 => 2,
            65..85 => 3,
            85..95 => 4,
            _ => 5,
        };
        let mut lines: Vec<(usize, Quantity)> = Vec::with_capacity(wanted);
        for _ in 0..wanted {
            let found = (0..8)
                .map(|_| self.popular(rng))
                .find(|v| self.available(*v, &lines));
            let Some(v) = found else { continue };
            let units = units(rng).min(self.stock[v]);
            lines.push((v, quantity(units)?));
        }
        if lines.is_empty() {
            lines.push((self.next_in_stock(rng, id)?, quantity(1)?));
        }
        lines.sort_by_key(|(v, _)| *v);
        Ok(lines)
    }

    /// A variant of a product skewed towards low ids (the min of two uniform draws),
    /// so some products sell far more than others, then of its variants the way
    /// customers pick them.
    fn popular(&self, rng: &mut SeedRng) -> usize {
        let n = self.catalog.product_count();
        let product = rng.random_range(0..n).min(rng.random_range(0..n));
        self.catalog.popular_variant(product, rng)
    }

    fn available(&self, v: usize, taken: &[(usize, Quantity)]) -> bool {
        self.catalog.is_buyable(v) && self.stock[v] > 0 && !taken.iter().any(|(t, _)| *t == v)
    }

    /// Every draw hit an empty shelf: the next variant from a random start that has
    /// stock; none at all means the plan has too few products for its orders.
    fn next_in_stock(&self, rng: &mut SeedRng, id: i64) -> Result<usize, SeedError> {
        let n = self.catalog.variant_count();
        let start = rng.random_range(0..n);
        (0..n)
            .map(|i| (start + i) % n)
            .find(|v| self.available(*v, &[]))
            .ok_or_else(|| {
                SeedError::Plan(format!(
                    "products ran out of stock at order {id}: too few products for the orders"
                ))
            })
    }
}

/// Units of one line: mostly one, rarely up to five.
fn units(rng: &mut SeedRng) -> u32 {
    match rng.random_range(0..100u32) {
        0..70 => 1,
        70..90 => 2,
        90..97 => 3,
        _ => rng.random_range(4..=5),
    }
}

fn quantity(units: u32) -> Result<Quantity, SeedError> {
    Quantity::new(i64::from(units)).map_err(|e| SeedError::invalid("quantity", e))
}
