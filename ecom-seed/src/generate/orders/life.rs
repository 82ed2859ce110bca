//! An order's and its payment's lives: the basket's steps walked through the domain's
//! own state machines ([`OrderStatus::apply`], [`Payment::apply`],
//! [`Payment::order_event`], [`Payment::settlement_on_cancel`]), so an illegal
//! transition is a generator error, never a row.

use chrono::{DateTime, Utc};
use ecom_domain::fulfillment::ShipmentStatus;
use ecom_domain::ids::{GiftCardId, OrderId, PaymentId, ReturnId};
use ecom_domain::money::Money;
use ecom_domain::order::{OrderEvent, OrderStatus};
use ecom_domain::payment::{Payment, PaymentAction, PaymentEvent, order_accepts};
use ecom_domain::values::{IdempotencyKey, ProviderName, ProviderRef, Reason};
use rand::RngExt;

use super::OrderIds;
use super::basket::{Basket, Part, Step};
use crate::SeedError;
use crate::generate::rng::SeedRng;

const PROVIDERS: [(&str, &str); 3] = [("stripe", "pi"), ("adyen", "psp"), ("paypal", "PAY")];
const CARRIERS: [&str; 4] = ["DHL", "UPS", "DPD", "PostNL"];
const DECLINES: [&str; 3] = ["card_declined", "insufficient_funds", "expired_card"];

/// A row of `order_status_history`, without its id.
pub(super) struct HistoryRow {
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub event: &'static str,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// A row of `payment_events`, without its id.
pub(super) struct EventRow {
    pub event: PaymentEvent,
    pub at: DateTime<Utc>,
}

/// The one shipment an order that shipped left in: all of its units, from the
/// order's stock location.
pub(super) struct ShipmentRow {
    pub status: ShipmentStatus,
    pub carrier: &'static str,
    pub number: String,
    pub at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The return of every unit of an order that shipped, received damaged (nothing
/// restocked: the stock the orders were drawn against stays as it was) with its
/// shipping refunded; the refund is booked under the store's key for the return.
pub(super) struct ReturnRow {
    pub at: DateTime<Utc>,
}

/// The order's and its payment's lives, walked through the domain's state machines.
pub(super) struct Life {
    pub status: OrderStatus,
    pub history: Vec<HistoryRow>,
    pub payment: Payment,
    pub events: Vec<EventRow>,
    /// The order's return's id, should it have one.
    pub return_id: i64,
    pub shipment: Option<ShipmentRow>,
    pub ret: Option<ReturnRow>,
}

/// How the payment's provider names what it reports: references with its prefix,
/// and idempotency keys numbered in the order the events come.
struct Provider {
    prefix: &'static str,
    payment_id: i64,
    seq: u32,
}

impl Provider {
    fn key(&mut self, what: &str) -> Result<IdempotencyKey, SeedError> {
        self.seq += 1;
        key(format!(
            "{}-{}-{what}-{}",
            self.prefix, self.payment_id, self.seq
        ))
    }

    fn reference(&self, rng: &mut SeedRng) -> Result<ProviderRef, SeedError> {
        ProviderRef::parse(&format!(
            "{}_{:x}{:08x}",
            self.prefix,
            self.payment_id,
            rng.random::<u32>()
        ))
        .map_err(|e| SeedError::invalid("provider reference", e))
    }
}

fn key(text: String) -> Result<IdempotencyKey, SeedError> {
    IdempotencyKey::parse(&text).map_err(|e| SeedError::invalid("idempotency key", e))
}

fn reason(text: &str) -> Result<Reason, SeedError> {
    Reason::parse(text).map_err(|e| SeedError::invalid("reason", e))
}

fn half(amount: Money) -> Result<Money, SeedError> {
    let parts = amount
        .allocate(&[1, 1])
        .map_err(|e| SeedError::invalid("amount", e))?;
    Ok(parts[0])
}

/// Checks out an order of `grand_total` with a provider drawn from `rng`, then walks
/// the basket's steps.
pub(super) fn live(
    basket: &Basket,
    ids: &OrderIds,
    grand_total: Money,
    rng: &mut SeedRng,
) -> Result<Life, SeedError> {
    let (name, prefix) = PROVIDERS[rng.random_range(0..PROVIDERS.len())];
    let name = ProviderName::parse(name).map_err(|e| SeedError::invalid("provider", e))?;
    let mut provider = Provider {
        prefix,
        payment_id: ids.payment,
        seq: 0,
    };
    let mut life = Life {
        status: OrderStatus::PendingPayment,
        history: vec![HistoryRow {
            from: None,
            to: OrderStatus::PendingPayment,
            event: "checkout",
            note: None,
            at: basket.at,
        }],
        payment: Payment::new(
            PaymentId::new(ids.payment),
            OrderId::new(ids.order),
            name,
            grand_total,
        ),
        events: Vec::new(),
        return_id: ids.ret,
        shipment: None,
        ret: None,
    };
    for (step, at) in &basket.steps {
        life.step(*step, *at, &mut provider, rng)?;
    }
    Ok(life)
}

/// Checks out an order of `grand_total` that gift card `card` pays in full, as the
/// store does: the card's payment is authorized and captured at once under the
/// store's keys ([`Payment::from_gift_card`]) and the order is paid at checkout;
/// then the basket's steps after payment. Refunds of it are the shop's own
/// (`OrderRepository::refund`), under keys of the shop; a cancellation gives the
/// card back what it paid ([`Payment::settlement_on_cancel`]).
pub(super) fn live_on_card(
    basket: &Basket,
    ids: &OrderIds,
    grand_total: Money,
    card: GiftCardId,
    rng: &mut SeedRng,
) -> Result<Life, SeedError> {
    let payment = Payment::from_gift_card(
        PaymentId::new(ids.payment),
        OrderId::new(ids.order),
        card,
        grand_total,
    )
    .map_err(|e| SeedError::invalid("gift card payment", e))?;
    let events = payment
        .events
        .iter()
        .map(|event| EventRow {
            event: event.clone(),
            at: basket.at,
        })
        .collect();
    let mut life = Life {
        status: OrderStatus::PendingPayment,
        history: vec![HistoryRow {
            from: None,
            to: OrderStatus::PendingPayment,
            event: "checkout",
            note: None,
            at: basket.at,
        }],
        payment,
        events,
        return_id: ids.ret,
        shipment: None,
        ret: None,
    };
    if let Some(paid) = life.payment.order_event(life.status, &[]) {
        life.transition(paid, None, basket.at)?;
    }
    let mut shop = Provider {
        prefix: "shop",
        payment_id: ids.payment,
        seq: 0,
    };
    for (step, at) in &basket.steps {
        match step {
            // The card paid at checkout.
            Step::Authorize | Step::Capture(_) => {}
            Step::Fail | Step::Expire => {
                return Err(SeedError::invalid(
                    "gift card order",
                    "an order a gift card paid neither fails nor expires",
                ));
            }
            _ => life.step(*step, *at, &mut shop, rng)?,
        }
    }
    Ok(life)
}

impl Life {
    fn step(
        &mut self,
        step: Step,
        at: DateTime<Utc>,
        provider: &mut Provider,
        rng: &mut SeedRng,
    ) -> Result<(), SeedError> {
        match step {
            Step::Authorize => self.authorize(provider, rng, at),
            Step::Capture(part) => self.capture(part, provider, at),
            Step::Fail => self.fail(provider, rng, at),
            Step::Ship => self.ship(rng, at),
            Step::Deliver => {
                if let Some(shipment) = &mut self.shipment {
                    shipment.status = ShipmentStatus::Delivered;
                    shipment.updated_at = at;
                }
                self.transition(OrderEvent::Deliver, None, at)
            }
            Step::Refund(part) => self.refund(part, provider, at),
            Step::Cancel => self.close(OrderEvent::Cancel, at),
            Step::Expire => self.close(OrderEvent::Expire, at),
        }
    }

    /// The whole amount, with the provider's reference.
    fn authorize(
        &mut self,
        provider: &mut Provider,
        rng: &mut SeedRng,
        at: DateTime<Utc>,
    ) -> Result<(), SeedError> {
        let reference = provider.reference(rng)?;
        let event = PaymentEvent {
            key: provider.key("auth")?,
            action: PaymentAction::Authorize {
                amount: self.payment.amount,
                provider_ref: Some(reference),
            },
        };
        self.report(event, at)
    }

    /// Half of what is authorized and not yet captured, or all of it; nothing is
    /// reported when nothing is left (half of one cent is that cent).
    fn capture(
        &mut self,
        part: Part,
        provider: &mut Provider,
        at: DateTime<Utc>,
    ) -> Result<(), SeedError> {
        let left = self
            .payment
            .authorized
            .checked_sub(self.payment.captured)
            .map_err(|e| SeedError::invalid("amount", e))?;
        let amount = match part {
            Part::Half if left.to_minor().unwrap_or(0) >= 2 => half(left)?,
            _ => left,
        };
        if amount.is_zero() {
            return Ok(());
        }
        let event = PaymentEvent {
            key: provider.key("capture")?,
            action: PaymentAction::Capture { amount },
        };
        self.report(event, at)
    }

    /// A decline, with one of the providers' usual reasons.
    fn fail(
        &mut self,
        provider: &mut Provider,
        rng: &mut SeedRng,
        at: DateTime<Utc>,
    ) -> Result<(), SeedError> {
        let reason = reason(DECLINES[rng.random_range(0..DECLINES.len())])?;
        let event = PaymentEvent {
            key: provider.key("fail")?,
            action: PaymentAction::Fail { reason },
        };
        self.report(event, at)
    }

    /// Shipped in one shipment, with a carrier and tracking number (also the
    /// history's note).
    fn ship(&mut self, rng: &mut SeedRng, at: DateTime<Utc>) -> Result<(), SeedError> {
        let carrier = CARRIERS[rng.random_range(0..CARRIERS.len())];
        let number = format!("{:012}", rng.random_range(0..1_000_000_000_000u64));
        let note = format!("{carrier} {number}");
        self.shipment = Some(ShipmentRow {
            status: ShipmentStatus::Shipped,
            carrier,
            number,
            at,
            updated_at: at,
        });
        self.transition(OrderEvent::Ship, Some(note), at)
    }

    /// A partial return (half of what was captured) or a full one (all not yet
    /// refunded).
    fn refund(
        &mut self,
        part: Part,
        provider: &mut Provider,
        at: DateTime<Utc>,
    ) -> Result<(), SeedError> {
        let captured = self.payment.captured;
        let (amount, why) = match part {
            Part::Half if captured.to_minor().unwrap_or(0) >= 2 => {
                (half(captured)?, "partial return")
            }
            _ => (
                captured
                    .checked_sub(self.payment.refunded)
                    .map_err(|e| SeedError::invalid("amount", e))?,
                "returned",
            ),
        };
        if amount.is_zero() {
            return Ok(());
        }
        // Everything back after the units left: a return, received, whose refund
        // is what the payment still holds (all of it but an earlier partial
        // refund), under the store's key for the return.
        let returned = matches!(part, Part::Rest)
            && matches!(self.status, OrderStatus::Shipped | OrderStatus::Delivered);
        let event = if returned {
            self.ret = Some(ReturnRow { at });
            let id = ReturnId::new(self.return_id);
            PaymentEvent {
                key: ecom_domain::returns::refund_key(id),
                action: PaymentAction::Refund {
                    amount,
                    reason: Some(reason(&format!("return {id}"))?),
                },
            }
        } else {
            PaymentEvent {
                key: provider.key("refund")?,
                action: PaymentAction::Refund {
                    amount,
                    reason: Some(reason(why)?),
                },
            }
        };
        self.report(event, at)
    }

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
        if let Some(order_event) = self.payment.order_event(self.status, &[]) {
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
    fn close(&mut self, event: OrderEvent, at: DateTime<Utc>) -> Result<(), SeedError> {
        self.transition(event, None, at)?;
        if let Some(settlement) = self.payment.settlement_on_cancel() {
            self.settle(settlement, at)?;
        }
        Ok(())
    }
}
