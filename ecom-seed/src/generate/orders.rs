//! Orders (with their converted carts, lines, address snapshots, status history and
//! payment ledger) and the carts that never became orders.
//!
//! Each order's timing, customer, basket and path through the state machines are
//! drawn by [`Baskets`], the one stateful part: it tracks the stock left so nothing
//! is sold that was not on the shelf. It runs twice with the same results: once
//! before the products are written, to learn the stock left, and once alongside the
//! orders. The path is then walked through the domain's own machines
//! ([`OrderStatus::apply`], [`Payment::apply`], [`Payment::order_event`],
//! [`Payment::settlement_on_cancel`]), so an illegal transition is a generator error.

use chrono::{DateTime, Duration, Utc};
use ecom_domain::account::AddressKind;
use ecom_domain::catalog::Product;
use ecom_domain::ids::{OrderId, PaymentId};
use ecom_domain::memory::DEFAULT_PAYMENT_WINDOW;
use ecom_domain::money::Money;
use ecom_domain::order::{OrderEvent, OrderStatus};
use ecom_domain::payment::{Payment, PaymentAction, PaymentEvent, order_accepts};
use ecom_domain::pricing::Pricing;
use ecom_domain::values::{
    IdempotencyKey, PostalAddress, ProviderName, ProviderRef, Quantity, Reason,
};
use rand::RngExt;

use super::accounts::profile;
use super::rng::{SeedRng, Stream, rng_for};
use super::values::{self, Country};
use super::{Out, Phase};
use crate::SeedError;
use crate::plan::Plan;
use crate::table::Table;

/// A share of an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// All that is left.
    Rest,
    /// Half (rounded to the minor unit) of the whole.
    Half,
}

/// A step of an order's life, before amounts are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
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
enum Buyer {
    User(i64),
    Guest,
}

/// An order's draw: when, who, what, and what happens to it.
struct Basket {
    at: DateTime<Utc>,
    buyer: Buyer,
    /// Indexes into the product list, each with its quantity; distinct products.
    lines: Vec<(usize, Quantity)>,
    steps: Vec<(Step, DateTime<Utc>)>,
}

impl Basket {
    /// Cancelled and expired orders put their stock back.
    fn restocks(&self) -> bool {
        matches!(self.steps.last(), Some((Step::Cancel | Step::Expire, _)))
    }
}

fn secs(rng: &mut SeedRng, range: std::ops::Range<i64>) -> Duration {
    Duration::seconds(rng.random_range(range))
}

/// The steps an order placed at `at` goes through, cut at `until`: every prefix of a
/// legal path is legal, so cutting never leaves an impossible state.
fn path(rng: &mut SeedRng, at: DateTime<Utc>, until: DateTime<Utc>) -> Vec<(Step, DateTime<Utc>)> {
    use Step::*;
    let window = DEFAULT_PAYMENT_WINDOW;
    let deadline = at + window;
    let authorized = at + secs(rng, 5..120);
    let captured = authorized + secs(rng, 1..600);
    let mut steps = Vec::with_capacity(6);
    let pay = |steps: &mut Vec<(Step, DateTime<Utc>)>, rng: &mut SeedRng| {
        steps.push((Authorize, authorized));
        if rng.random_range(0..100u32) < 10 {
            steps.push((Capture(Part::Half), captured));
            steps.push((Capture(Part::Rest), captured + secs(rng, 1..60)));
        } else {
            steps.push((Capture(Part::Rest), captured));
        }
    };
    let roll = rng.random_range(0..100u32);
    if deadline > until {
        // Still within its payment window when the period ends.
        match roll {
            0..40 => {}
            40..55 => steps.push((Authorize, authorized)),
            55..60 => steps.push((Fail, at + secs(rng, 10..300))),
            _ => pay(&mut steps, rng),
        }
    } else {
        let shipped = captured + secs(rng, 6 * 3600..48 * 3600);
        let delivered = shipped + secs(rng, 86_400..5 * 86_400);
        let refunded = delivered + secs(rng, 86_400..20 * 86_400);
        match roll {
            0..5 => steps.push((Expire, deadline + secs(rng, 1..300))),
            5..8 => {
                steps.push((Fail, at + secs(rng, 10..300)));
                steps.push((Expire, deadline + secs(rng, 300..600)));
            }
            8..11 => {
                if rng.random_range(0..2u32) == 0 {
                    steps.push((Authorize, authorized));
                }
                steps.push((Cancel, at + secs(rng, 300..1_500)));
            }
            11..14 => {
                pay(&mut steps, rng);
                steps.push((Cancel, captured + secs(rng, 3_600..20 * 3_600)));
            }
            14..18 => {
                pay(&mut steps, rng);
                steps.push((Ship, shipped));
                steps.push((Deliver, delivered));
                steps.push((Refund(Part::Rest), refunded));
            }
            18..22 => {
                pay(&mut steps, rng);
                steps.push((Ship, shipped));
                steps.push((Deliver, delivered));
                steps.push((Refund(Part::Half), refunded));
            }
            _ => {
                pay(&mut steps, rng);
                steps.push((Ship, shipped));
                steps.push((Deliver, delivered));
            }
        }
    }
    if let Some(cut) = steps.iter().position(|(_, t)| *t > until) {
        steps.truncate(cut);
    }
    steps
}

/// Draws every order's basket in id order, against the stock left.
struct Baskets<'a> {
    plan: &'a Plan,
    products: &'a [Product],
    stock: Vec<u32>,
    span: i64,
}

impl<'a> Baskets<'a> {
    fn new(plan: &'a Plan, products: &'a [Product]) -> Self {
        Self {
            plan,
            products,
            stock: products.iter().map(|p| p.stock_on_hand).collect(),
            span: (plan.until - plan.since).num_seconds(),
        }
    }

    /// A product index skewed towards low ids (the min of two uniform draws), so some
    /// products sell far more than others.
    fn popular(&self, rng: &mut SeedRng) -> usize {
        let n = self.products.len();
        rng.random_range(0..n).min(rng.random_range(0..n))
    }

    fn available(&self, index: usize, taken: &[(usize, Quantity)]) -> bool {
        self.products[index].is_buyable()
            && self.stock[index] > 0
            && !taken.iter().any(|(i, _)| *i == index)
    }

    fn next(&mut self, k: u64) -> Result<Basket, SeedError> {
        let plan = self.plan;
        let id = plan.ids.orders + k as i64 + 1;
        let mut rng = rng_for(plan.seed, Stream::Basket, id);
        let orders = i128::from(plan.sizes.orders.max(1));
        let slot = (i128::from(self.span) / orders).max(1);
        let offset = i128::from(k) * i128::from(self.span) / orders;
        let offset = i64::try_from(offset).unwrap_or(0) + rng.random_range(0..slot as i64);
        let at = (plan.since + Duration::seconds(offset)).min(plan.until - Duration::seconds(1));
        let buyer = if plan.sizes.users > 0 && rng.random_range(0..100u32) < 85 {
            let n = plan.sizes.users;
            let pick = rng.random_range(0..n).min(rng.random_range(0..n));
            Buyer::User(plan.ids.users + pick as i64 + 1)
        } else {
            Buyer::Guest
        };
        let steps = path(&mut rng, at, plan.until);
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
                .map(|_| self.popular(&mut rng))
                .find(|i| self.available(*i, &lines));
            let Some(index) = found else { continue };
            let want: u32 = match rng.random_range(0..100u32) {
                0..70 => 1,
                70..90 => 2,
                90..97 => 3,
                _ => rng.random_range(4..=5),
            };
            let units = want.min(self.stock[index]);
            lines.push((index, quantity(units)?));
        }
        if lines.is_empty() {
            // Every draw hit an empty shelf: take the next product that has stock.
            let n = self.products.len();
            let start = rng.random_range(0..n);
            let index = (0..n)
                .map(|i| (start + i) % n)
                .find(|i| self.available(*i, &lines))
                .ok_or_else(|| {
                    SeedError::Plan(format!(
                        "products ran out of stock at order {id}: too few products for the orders"
                    ))
                })?;
            lines.push((index, quantity(1)?));
        }
        lines.sort_by_key(|(i, _)| *i);
        let basket = Basket {
            at,
            buyer,
            lines,
            steps,
        };
        if !basket.restocks() {
            for (index, q) in &basket.lines {
                self.stock[*index] -= q.get();
            }
        }
        Ok(basket)
    }
}

fn quantity(units: u32) -> Result<Quantity, SeedError> {
    Quantity::new(i64::from(units)).map_err(|e| SeedError::invalid("quantity", e))
}

/// The stock each product has left once every order is placed.
pub(crate) fn stock_left(plan: &Plan, products: &[Product]) -> Result<Vec<u32>, SeedError> {
    let mut baskets = Baskets::new(plan, products);
    for k in 0..plan.sizes.orders {
        baskets.next(k)?;
    }
    Ok(baskets.stock)
}

const PROVIDERS: [(&str, &str); 3] = [("stripe", "pi"), ("adyen", "psp"), ("paypal", "PAY")];
const CARRIERS: [&str; 4] = ["DHL", "UPS", "DPD", "PostNL"];
const DECLINES: [&str; 3] = ["card_declined", "insufficient_funds", "expired_card"];

struct HistoryRow {
    from: Option<OrderStatus>,
    to: OrderStatus,
    event: &'static str,
    note: Option<String>,
    at: DateTime<Utc>,
}

struct EventRow {
    event: PaymentEvent,
    at: DateTime<Utc>,
}

fn key(text: String) -> Result<IdempotencyKey, SeedError> {
    IdempotencyKey::parse(&text).map_err(|e| SeedError::invalid("idempotency key", e))
}

/// The order's and its payment's lives, walked through the domain's state machines.
struct Life {
    status: OrderStatus,
    history: Vec<HistoryRow>,
    payment: Payment,
    events: Vec<EventRow>,
}

impl Life {
    fn transition(
        &mut self,
        event: OrderEvent,
        note: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(), SeedError> {
        let to = self
            .status
            .apply(event)
            .map_err(|e| SeedError::invalid("order transition", e))?;
        self.history.push(HistoryRow {
            from: Some(self.status),
            to,
            event: event.as_str(),
            note,
            at,
        });
        self.status = to;
        Ok(())
    }

    /// Applies a provider report, then moves the order as the store does.
    fn report(&mut self, event: PaymentEvent, at: DateTime<Utc>) -> Result<(), SeedError> {
        if !order_accepts(self.status, event.action.kind()) {
            return Err(SeedError::invalid(
                "payment event",
                format!(
                    "an order that is {} takes no {}",
                    self.status,
                    event.action.kind()
                ),
            ));
        }
        self.settle(event, at)?;
        if let Some(order_event) = self.payment.order_event(self.status) {
            self.transition(order_event, None, at)?;
        }
        Ok(())
    }

    fn settle(&mut self, event: PaymentEvent, at: DateTime<Utc>) -> Result<(), SeedError> {
        self.payment
            .apply(event.clone())
            .map_err(|e| SeedError::invalid("payment event", e))?;
        self.events.push(EventRow { event, at });
        Ok(())
    }

    /// Cancellation or expiry: the order moves, then its payment is voided or refunded
    /// with the key the store uses for settlements.
    fn close(
        &mut self,
        event: OrderEvent,
        at: DateTime<Utc>,
        order_id: i64,
    ) -> Result<(), SeedError> {
        self.transition(event, None, at)?;
        if let Some(action) = self.payment.settlement_on_cancel() {
            let key = key(format!(
                "settle-{}-{}",
                OrderId::new(order_id),
                action.kind()
            ))?;
            self.settle(PaymentEvent { key, action }, at)?;
        }
        Ok(())
    }
}

fn half(amount: Money) -> Result<Money, SeedError> {
    let parts = amount
        .allocate(&[1, 1])
        .map_err(|e| SeedError::invalid("amount", e))?;
    Ok(parts[0])
}

/// Writes every order with everything that belongs to it.
pub(crate) fn orders(
    plan: &Plan,
    products: &[Product],
    out: &mut Out<'_>,
) -> Result<(), SeedError> {
    out.start(Phase::Orders);
    let pricing = Pricing::default();
    let mut baskets = Baskets::new(plan, products);
    let mut history_id = plan.ids.history;
    let mut event_id = plan.ids.payment_events;
    for k in 0..plan.sizes.orders {
        let basket = baskets.next(k)?;
        let order_id = plan.ids.orders + k as i64 + 1;
        let cart_id = plan.ids.carts + k as i64 + 1;
        let payment_id = plan.ids.payments + k as i64 + 1;
        let mut rng = rng_for(plan.seed, Stream::Order, order_id);
        let at = basket.at;

        let (user_id, guest_email, shipping, billing): (
            Option<i64>,
            Option<String>,
            PostalAddress,
            PostalAddress,
        ) = match basket.buyer {
            Buyer::User(user) => {
                let p = profile(plan, user)?;
                (Some(user), None, p.shipping().clone(), p.billing().clone())
            }
            Buyer::Guest => {
                let country = Country::pick(&mut rng);
                let (first, last) = values::person(&mut rng, country);
                let name = values::full_name(&first, &last)?;
                let email = values::email(&mut rng, &first, &last, order_id)?;
                let address = values::postal_address(&mut rng, country, &name)?;
                (
                    None,
                    Some(email.as_str().to_owned()),
                    address.clone(),
                    address,
                )
            }
        };

        let priced: Vec<(&Product, Quantity)> = basket
            .lines
            .iter()
            .map(|(i, q)| (&products[*i], *q))
            .collect();
        let draft = pricing
            .price(plan.currency, &priced, shipping.country())
            .map_err(|e| SeedError::invalid("order", e))?;
        let totals = draft.totals;

        let (provider, prefix) = PROVIDERS[rng.random_range(0..PROVIDERS.len())];
        let provider =
            ProviderName::parse(provider).map_err(|e| SeedError::invalid("provider", e))?;
        let mut life = Life {
            status: OrderStatus::PendingPayment,
            history: vec![HistoryRow {
                from: None,
                to: OrderStatus::PendingPayment,
                event: "checkout",
                note: None,
                at,
            }],
            payment: Payment::new(
                PaymentId::new(payment_id),
                OrderId::new(order_id),
                provider.clone(),
                totals.grand_total,
            ),
            events: Vec::new(),
        };
        let mut seq = 0;
        let mut next_key = |what: &str| {
            seq += 1;
            key(format!("{prefix}-{payment_id}-{what}-{seq}"))
        };
        for (step, t) in &basket.steps {
            let t = *t;
            match step {
                Step::Authorize => {
                    let reference = ProviderRef::parse(&format!(
                        "{prefix}_{payment_id:x}{:08x}",
                        rng.random::<u32>()
                    ))
                    .map_err(|e| SeedError::invalid("provider reference", e))?;
                    let amount = life.payment.amount;
                    let event = PaymentEvent {
                        key: next_key("auth")?,
                        action: PaymentAction::Authorize {
                            amount,
                            provider_ref: Some(reference),
                        },
                    };
                    life.report(event, t)?;
                }
                Step::Capture(part) => {
                    let left = life
                        .payment
                        .authorized
                        .checked_sub(life.payment.captured)
                        .map_err(|e| SeedError::invalid("amount", e))?;
                    let amount = match part {
                        Part::Half if left.to_minor().unwrap_or(0) >= 2 => half(left)?,
                        _ => left,
                    };
                    if amount.is_zero() {
                        continue;
                    }
                    let event = PaymentEvent {
                        key: next_key("capture")?,
                        action: PaymentAction::Capture { amount },
                    };
                    life.report(event, t)?;
                }
                Step::Fail => {
                    let reason = Reason::parse(DECLINES[rng.random_range(0..DECLINES.len())])
                        .map_err(|e| SeedError::invalid("reason", e))?;
                    let event = PaymentEvent {
                        key: next_key("fail")?,
                        action: PaymentAction::Fail { reason },
                    };
                    life.report(event, t)?;
                }
                Step::Ship => {
                    let carrier = CARRIERS[rng.random_range(0..CARRIERS.len())];
                    let note = format!(
                        "{carrier} {:012}",
                        rng.random_range(0..1_000_000_000_000u64)
                    );
                    life.transition(OrderEvent::Ship, Some(note), t)?;
                }
                Step::Deliver => life.transition(OrderEvent::Deliver, None, t)?,
                Step::Refund(part) => {
                    let captured = life.payment.captured;
                    let (amount, reason) = match part {
                        Part::Half if captured.to_minor().unwrap_or(0) >= 2 => {
                            (half(captured)?, "partial return")
                        }
                        _ => (
                            captured
                                .checked_sub(life.payment.refunded)
                                .map_err(|e| SeedError::invalid("amount", e))?,
                            "returned",
                        ),
                    };
                    if amount.is_zero() {
                        continue;
                    }
                    let event = PaymentEvent {
                        key: next_key("refund")?,
                        action: PaymentAction::Refund {
                            amount,
                            reason: Some(
                                Reason::parse(reason)
                                    .map_err(|e| SeedError::invalid("reason", e))?,
                            ),
                        },
                    };
                    life.report(event, t)?;
                }
                Step::Cancel => life.close(OrderEvent::Cancel, t, order_id)?,
                Step::Expire => life.close(OrderEvent::Expire, t, order_id)?,
            }
        }
        let last_change = life.history.last().map_or(at, |h| h.at);
        let last_payment = life.events.last().map_or(at, |e| e.at);

        // The cart it was checked out from.
        let cart_created = at - secs(&mut rng, 60..3_600);
        let token = match basket.buyer {
            Buyer::User(_) => None,
            Buyer::Guest => Some(values::guest_token(&mut rng, cart_id)?),
        };
        let w = out.w(Table::Carts);
        w.int(cart_id);
        w.opt_int(user_id);
        w.opt_text(token.as_ref().map(|t| t.as_str()));
        w.text(plan.currency.code());
        w.text("converted");
        w.ts(cart_created);
        w.ts(at);
        w.end();
        let step = (at - cart_created).num_seconds() / (basket.lines.len() as i64 + 1);
        for (n, (i, q)) in basket.lines.iter().enumerate() {
            let w = out.w(Table::CartLines);
            w.int(cart_id);
            w.int(products[*i].id.get());
            w.int(i64::from(q.get()));
            w.ts(cart_created + Duration::seconds(step * n as i64));
            w.end();
        }

        let w = out.w(Table::Orders);
        w.int(order_id);
        w.opt_int(user_id);
        w.opt_text(guest_email.as_deref());
        w.int(cart_id);
        w.text(plan.currency.code());
        w.money(totals.subtotal);
        w.money(totals.shipping);
        w.money(totals.tax);
        w.money(totals.grand_total);
        w.text(life.status.as_str());
        w.ts(at + DEFAULT_PAYMENT_WINDOW);
        w.int(life.history.len() as i64 - 1);
        w.ts(at);
        w.ts(last_change);
        w.end();

        for (kind, a) in [
            (AddressKind::Shipping, &shipping),
            (AddressKind::Billing, &billing),
        ] {
            let w = out.w(Table::OrderAddresses);
            w.int(order_id);
            w.text(kind.as_str());
            w.text(a.recipient().as_str());
            w.text(a.line1());
            w.opt_text(a.line2());
            w.text(a.city());
            w.opt_text(a.region());
            w.text(a.postal_code());
            w.text(a.country().as_str());
            w.end();
        }

        for (line_no, line) in (1i64..).zip(&draft.lines) {
            let w = out.w(Table::OrderLines);
            w.int(order_id);
            w.int(line_no);
            w.int(line.product_id.get());
            w.text(line.sku.as_str());
            w.text(line.name.as_str());
            w.money(line.unit_price);
            w.int(i64::from(line.quantity.get()));
            w.end();
        }

        for h in &life.history {
            history_id += 1;
            let w = out.w(Table::OrderStatusHistory);
            w.int(history_id);
            w.int(order_id);
            w.opt_text(h.from.map(OrderStatus::as_str));
            w.text(h.to.as_str());
            w.text(h.event);
            w.opt_text(h.note.as_deref());
            w.ts(h.at);
            w.end();
        }

        let p = &life.payment;
        let w = out.w(Table::Payments);
        w.int(payment_id);
        w.int(order_id);
        w.text(p.provider.as_str());
        w.opt_text(p.provider_ref.as_ref().map(|r| r.as_str()));
        w.text(plan.currency.code());
        w.money(p.amount);
        w.money(p.authorized);
        w.money(p.captured);
        w.money(p.refunded);
        w.text(p.status.as_str());
        w.int(life.events.len() as i64);
        w.ts(at);
        w.ts(last_payment);
        w.end();

        for e in &life.events {
            event_id += 1;
            // As the store records them: the provider's reference on authorizations,
            // the reason on refunds and failures, zero for events that move no money.
            let (reference, reason) = match &e.event.action {
                PaymentAction::Authorize { provider_ref, .. } => {
                    (provider_ref.as_ref().map(|r| r.as_str()), None)
                }
                PaymentAction::Refund { reason, .. } => (None, reason.as_ref().map(Reason::as_str)),
                PaymentAction::Fail { reason } => (None, Some(reason.as_str())),
                PaymentAction::Capture { .. } | PaymentAction::Void => (None, None),
            };
            let amount = e
                .event
                .action
                .amount()
                .unwrap_or_else(|| Money::zero(plan.currency));
            let w = out.w(Table::PaymentEvents);
            w.int(event_id);
            w.int(payment_id);
            w.text(e.event.action.kind().as_str());
            w.money(amount);
            w.text(e.event.key.as_str());
            w.opt_text(reference);
            w.opt_text(reason);
            w.ts(e.at);
            w.end();
        }
        if !out.done() {
            break;
        }
    }
    Ok(())
}

/// Writes the carts that never became orders: mostly abandoned, some still open (at
/// most one open cart per user or guest token).
pub(crate) fn open_and_abandoned_carts(
    plan: &Plan,
    products: &[Product],
    out: &mut Out<'_>,
) -> Result<(), SeedError> {
    out.start(Phase::Carts);
    let buyable: Vec<usize> = (0..products.len())
        .filter(|i| products[*i].is_buyable())
        .collect();
    let span = (plan.until - plan.since).num_seconds();
    let mut open_users = 0u64;
    for k in 0..plan.sizes.carts {
        let cart_id = plan.ids.carts + (plan.sizes.orders + k) as i64 + 1;
        let mut rng = rng_for(plan.seed, Stream::Cart, cart_id);
        let mut open = rng.random_range(0..100u32) < 30;
        let by_user = plan.sizes.users > 0 && rng.random_range(0..100u32) < 70;
        let user = if !by_user {
            None
        } else if open && open_users < plan.sizes.users {
            // Users take turns so that no user has two open carts.
            open_users += 1;
            Some(plan.ids.users + open_users as i64)
        } else {
            open = false;
            Some(plan.ids.users + rng.random_range(0..plan.sizes.users) as i64 + 1)
        };
        let token = match user {
            Some(_) => None,
            None => Some(values::guest_token(&mut rng, cart_id)?),
        };
        let created = plan.since + Duration::seconds(rng.random_range(0..span));
        let updated = (created + secs(&mut rng, 0..2 * 86_400)).min(plan.until);
        let w = out.w(Table::Carts);
        w.int(cart_id);
        w.opt_int(user);
        w.opt_text(token.as_ref().map(|t| t.as_str()));
        w.text(plan.currency.code());
        w.text(if open { "open" } else { "abandoned" });
        w.ts(created);
        w.ts(updated);
        w.end();
        let mut taken: Vec<usize> = Vec::with_capacity(4);
        if !buyable.is_empty() {
            for _ in 0..rng.random_range(1..=4u32) {
                let index = buyable[rng.random_range(0..buyable.len())];
                if taken.contains(&index) {
                    continue;
                }
                taken.push(index);
            }
        }
        taken.sort_unstable();
        for index in taken {
            let w = out.w(Table::CartLines);
            w.int(cart_id);
            w.int(products[index].id.get());
            w.int(rng.random_range(1..=3));
            w.ts(created);
            w.end();
        }
        if !out.done() {
            break;
        }
    }
    Ok(())
}
