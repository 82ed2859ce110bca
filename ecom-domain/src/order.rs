//! Orders and their state machine.
//!
//! An order moves only through [`OrderStatus::apply`]; any other move is an
//! [`OrderTransitionError`] that names the state and the events it accepts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::OptionSelection;
use crate::ids::{CartId, OrderId, OrderRef, UserId, VariantId};
use crate::money::{Currency, Money, MoneyError};
use crate::pricing::{Invoice, LineTax, OrderDraft, Totals};
use crate::values::{Email, PostalAddress, ProductName, Quantity, Sku};

/// Where an order is in its life. See the crate documentation for the diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed, stock reserved, waiting for the payment to be captured.
    PendingPayment,
    /// Fully paid; ready to ship.
    Paid,
    /// Some of its units handed to the carrier in shipments, not all.
    PartiallyShipped,
    /// Handed to the carrier: every unit.
    Shipped,
    /// Every unit shipped, some of them received by the customer.
    PartiallyDelivered,
    /// Received by the customer: every unit.
    Delivered,
    /// Cancelled before shipping; stock went back, the payment was voided or refunded.
    Cancelled,
    /// Not paid before its deadline; stock went back.
    Expired,
    /// Its payment was refunded in full.
    Refunded,
}

crate::text_enum!(OrderStatus {
    PendingPayment = "pending_payment",
    Paid = "paid",
    PartiallyShipped = "partially_shipped",
    Shipped = "shipped",
    PartiallyDelivered = "partially_delivered",
    Delivered = "delivered",
    Cancelled = "cancelled",
    Expired = "expired",
    Refunded = "refunded",
});

/// Something that happens to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderEvent {
    /// The payment was captured in full.
    PaymentCaptured,
    /// The parcel left: every unit left, with the last of the order's shipments.
    Ship,
    /// A shipment left with some of the units, and units are left to ship.
    ShipPart,
    /// The parcel arrived: every unit arrived, with the last of the order's
    /// shipments.
    Deliver,
    /// A shipment arrived, and others are still on their way.
    DeliverPart,
    /// The customer or the shop cancelled (only before shipping).
    Cancel,
    /// The payment deadline passed unpaid.
    Expire,
    /// The payment was refunded in full.
    PaymentRefunded,
}

impl OrderEvent {
    /// Whether a shop may request the event directly (`transition`); the others
    /// follow from payments and from the payment deadline.
    pub fn is_manual(self) -> bool {
        matches!(
            self,
            OrderEvent::Ship | OrderEvent::Deliver | OrderEvent::Cancel
        )
    }
}

crate::text_enum!(OrderEvent {
    PaymentCaptured = "payment_captured",
    Ship = "ship",
    ShipPart = "ship_part",
    Deliver = "deliver",
    DeliverPart = "deliver_part",
    Cancel = "cancel",
    Expire = "expire",
    PaymentRefunded = "payment_refunded",
});

/// An event the order's current state does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {from} does not accept {event}; it accepts {}", allowed_list(.allowed))]
pub struct OrderTransitionError {
    /// The state the order is in.
    pub from: OrderStatus,
    /// The refused event.
    pub event: OrderEvent,
    /// What the state would have accepted (empty for terminal states).
    pub allowed: Vec<OrderEvent>,
}

fn allowed_list(allowed: &[OrderEvent]) -> String {
    if allowed.is_empty() {
        return "nothing (it is final)".into();
    }
    allowed
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl OrderStatus {
    /// The one transition function: the state after `event`, or why not.
    pub fn apply(self, event: OrderEvent) -> Result<OrderStatus, OrderTransitionError> {
        use OrderEvent as E;
        use OrderStatus as S;
        let next = match (self, event) {
            (S::PendingPayment, E::PaymentCaptured) => S::Paid,
            (S::PendingPayment, E::Cancel) => S::Cancelled,
            (S::PendingPayment, E::Expire) => S::Expired,
            (S::Paid | S::PartiallyShipped, E::Ship) => S::Shipped,
            (S::Paid, E::ShipPart) => S::PartiallyShipped,
            (S::Paid, E::Cancel) => S::Cancelled,
            (
                S::Paid | S::PartiallyShipped | S::Shipped | S::PartiallyDelivered | S::Delivered,
                E::PaymentRefunded,
            ) => S::Refunded,
            (S::Shipped | S::PartiallyDelivered, E::Deliver) => S::Delivered,
            (S::Shipped, E::DeliverPart) => S::PartiallyDelivered,
            _ => {
                return Err(OrderTransitionError {
                    from: self,
                    event,
                    allowed: self.allowed_events(),
                });
            }
        };
        Ok(next)
    }

    /// The events this state accepts.
    pub fn allowed_events(self) -> Vec<OrderEvent> {
        OrderEvent::ALL
            .iter()
            .copied()
            .filter(|e| self.accepts(*e))
            .collect()
    }

    fn accepts(self, event: OrderEvent) -> bool {
        use OrderEvent as E;
        use OrderStatus as S;
        matches!(
            (self, event),
            (
                S::PendingPayment,
                E::PaymentCaptured | E::Cancel | E::Expire
            ) | (
                S::Paid,
                E::Ship | E::ShipPart | E::Cancel | E::PaymentRefunded
            ) | (S::PartiallyShipped, E::Ship | E::PaymentRefunded)
                | (S::Shipped, E::Deliver | E::DeliverPart | E::PaymentRefunded)
                | (S::PartiallyDelivered, E::Deliver | E::PaymentRefunded)
                | (S::Delivered, E::PaymentRefunded)
        )
    }

    /// True for states that accept no event.
    pub fn is_terminal(self) -> bool {
        self.allowed_events().is_empty()
    }

    /// True when leaving for this state puts the reserved stock back.
    pub fn restocks(self) -> bool {
        matches!(self, OrderStatus::Cancelled | OrderStatus::Expired)
    }
}

/// One line of an order, with the variant's SKU, name, option values and price as
/// they were at checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Position in the order, from 1.
    pub line_no: u16,
    /// The variant (it may since have changed or been archived).
    pub variant_id: VariantId,
    /// SKU at checkout.
    pub sku: Sku,
    /// Product name at checkout.
    pub name: ProductName,
    /// Option values at checkout; empty for a default variant.
    pub selection: OptionSelection,
    /// Unit price at checkout.
    pub unit_price: Money,
    /// Units.
    pub quantity: Quantity,
    /// Its net, tax and rate, when the order was priced from the price book.
    pub tax: Option<LineTax>,
}

impl OrderLine {
    /// A priced draft's lines as order lines, numbered from 1: what checkout
    /// snapshots. Here rather than in pricing, which knows nothing of orders.
    pub fn from_draft(draft: &OrderDraft) -> Vec<OrderLine> {
        draft
            .lines
            .iter()
            .zip(1u16..)
            .map(|(l, line_no)| OrderLine {
                line_no,
                variant_id: l.variant_id,
                sku: l.sku.clone(),
                name: l.name.clone(),
                selection: l.selection.clone(),
                unit_price: l.unit_price,
                quantity: l.quantity,
                tax: l.tax.clone(),
            })
            .collect()
    }

    /// `unit_price × quantity`.
    pub fn line_total(&self) -> Money {
        // Checked at checkout, where the same product was computed successfully.
        self.unit_price
            .times(self.quantity.get())
            .unwrap_or(self.unit_price)
    }
}

impl Order {
    /// What the customer paid for line `line_no`, the share a refund of that line
    /// gives back: its amount less its discount, plus its tax when prices are net
    /// (with gross prices the tax is inside the amount). `None` for a line the
    /// order does not have, or an order priced by the flat rules, whose tax is not
    /// kept per line.
    pub fn paid_for_line(&self, line_no: u16) -> Option<Money> {
        let invoice = self.invoice.as_ref()?;
        let line = self.lines.iter().find(|l| l.line_no == line_no)?;
        let tax = line.tax.as_ref()?;
        let kept = line.line_total().checked_sub(tax.discount).ok()?;
        if invoice.prices_include_tax {
            Some(kept)
        } else {
            kept.checked_add(tax.tax).ok()
        }
    }

    /// What the customer paid for the shipping: its charge, with its tax when
    /// prices are net; for an order priced by the flat rules, its share of the
    /// grand total ([`Order::paid_for_lines`]).
    pub fn shipping_paid(&self) -> Result<Money, MoneyError> {
        match &self.invoice {
            Some(invoice) if !invoice.prices_include_tax => {
                invoice.shipping.amount.checked_add(invoice.shipping.tax)
            }
            Some(invoice) => Ok(invoice.shipping.amount),
            None => Ok(self.flat_shares()?.1),
        }
    }

    /// What the customer paid for each line, by line: [`Order::paid_for_line`]
    /// when the order keeps its tax per line. An order priced by the flat rules
    /// keeps one tax over its lines and shipping; its grand total is allocated
    /// over the lines and the shipping in proportion to their amounts
    /// ([`Money::allocate`]). Either way the lines and [`Order::shipping_paid`]
    /// add up to the grand total.
    pub fn paid_for_lines(&self) -> Result<Vec<Money>, MoneyError> {
        let own: Option<Vec<Money>> = self
            .lines
            .iter()
            .map(|l| self.paid_for_line(l.line_no))
            .collect();
        match own {
            Some(own) => Ok(own),
            None => Ok(self.flat_shares()?.0),
        }
    }

    /// The grand total over the lines and the shipping, by their amounts.
    fn flat_shares(&self) -> Result<(Vec<Money>, Money), MoneyError> {
        let minor = |m: Money| m.to_minor().map(|n| u64::try_from(n).unwrap_or(0));
        let mut weights = self
            .lines
            .iter()
            .map(|l| minor(l.line_total()))
            .collect::<Result<Vec<u64>, MoneyError>>()?;
        weights.push(minor(self.totals.shipping)?);
        if weights.iter().all(|w| *w == 0) {
            let zero = Money::zero(self.currency);
            return Ok((vec![zero; self.lines.len()], zero));
        }
        let mut parts = self.totals.grand_total.allocate(&weights)?;
        let shipping = parts.pop().unwrap_or(Money::zero(self.currency));
        Ok((parts, shipping))
    }
}

/// `lines` in line-number order, or the first line number named twice: what a
/// shipment's or a return's lines are checked with.
pub fn by_line_no<T: Clone>(lines: &[T], line_no: impl Fn(&T) -> u16) -> Result<Vec<T>, u16> {
    let mut sorted = lines.to_vec();
    sorted.sort_by_key(&line_no);
    match sorted
        .windows(2)
        .find(|pair| line_no(&pair[0]) == line_no(&pair[1]))
    {
        Some(pair) => Err(line_no(&pair[0])),
        None => Ok(sorted),
    }
}

/// A recorded change of status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The state before (`None` for the first entry, at checkout).
    pub from: Option<OrderStatus>,
    /// The state after.
    pub to: OrderStatus,
    /// What caused it (`None` for the first entry).
    pub event: Option<OrderEvent>,
    /// Free text, e.g. a carrier's tracking number.
    pub note: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl StatusChange {
    /// The first entry of every order's history: placed at `at`, pending payment.
    pub fn placed(at: DateTime<Utc>) -> Self {
        Self {
            from: None,
            to: OrderStatus::PendingPayment,
            event: None,
            note: None,
            at,
        }
    }
}

/// Who placed an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Customer {
    /// A registered user.
    User(UserId),
    /// A guest, reachable at this address.
    Guest(Email),
}

impl Customer {
    /// Who a use of a coupon code counts against, as the stores keep it: the user
    /// (`user:42`), or the guest's e-mail address (`guest:ada@example.com`).
    pub fn key(&self) -> String {
        match self {
            Customer::User(user) => format!("user:{user}"),
            Customer::Guest(email) => format!("guest:{}", email.normalized()),
        }
    }

    /// The registered user, if the customer is one.
    pub fn user(&self) -> Option<UserId> {
        match self {
            Customer::User(user) => Some(*user),
            Customer::Guest(_) => None,
        }
    }
}

/// An order with its lines and history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Its id.
    pub id: OrderId,
    /// How its customer names it.
    pub reference: OrderRef,
    /// Who placed it.
    pub customer: Customer,
    /// The cart it came from.
    pub cart_id: Option<CartId>,
    /// Currency of every amount.
    pub currency: Currency,
    /// Lines, by line number.
    pub lines: Vec<OrderLine>,
    /// Totals computed at checkout.
    pub totals: Totals,
    /// What its invoice is printed from, when it was priced from the price book:
    /// whether its prices include tax, the shipping method, the tax lines.
    pub invoice: Option<Invoice>,
    /// Shipping address as it was at checkout.
    pub shipping_address: PostalAddress,
    /// Billing address as it was at checkout.
    pub billing_address: PostalAddress,
    /// Current status.
    pub status: OrderStatus,
    /// Unpaid after this instant, the order expires.
    pub payment_deadline: DateTime<Utc>,
    /// Every status change, oldest first.
    pub history: Vec<StatusChange>,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_shop_requests_shipping_delivery_and_cancellation_only() {
        let manual: Vec<OrderEvent> = OrderEvent::ALL
            .iter()
            .copied()
            .filter(|e| e.is_manual())
            .collect();
        assert_eq!(
            manual,
            [OrderEvent::Ship, OrderEvent::Deliver, OrderEvent::Cancel]
        );
    }

    #[test]
    fn happy_path_reaches_delivered() {
        let s = OrderStatus::PendingPayment
            .apply(OrderEvent::PaymentCaptured)
            .and_then(|s| s.apply(OrderEvent::Ship))
            .and_then(|s| s.apply(OrderEvent::Deliver))
            .unwrap();
        assert_eq!(s, OrderStatus::Delivered);
        assert_eq!(
            s.apply(OrderEvent::PaymentRefunded).unwrap(),
            OrderStatus::Refunded
        );
    }

    #[test]
    fn cancellation_only_before_shipping() {
        assert_eq!(
            OrderStatus::PendingPayment
                .apply(OrderEvent::Cancel)
                .unwrap(),
            OrderStatus::Cancelled
        );
        assert_eq!(
            OrderStatus::Paid.apply(OrderEvent::Cancel).unwrap(),
            OrderStatus::Cancelled
        );
        let err = OrderStatus::Shipped.apply(OrderEvent::Cancel).unwrap_err();
        assert_eq!(err.from, OrderStatus::Shipped);
        assert_eq!(
            err.allowed,
            vec![
                OrderEvent::Deliver,
                OrderEvent::DeliverPart,
                OrderEvent::PaymentRefunded
            ]
        );
        assert_eq!(
            err.to_string(),
            "an order that is shipped does not accept cancel; it accepts deliver, deliver_part, payment_refunded"
        );
        assert!(
            OrderStatus::PartiallyShipped
                .apply(OrderEvent::Cancel)
                .is_err()
        );
    }

    #[test]
    fn shipments_take_an_order_through_the_partial_states() {
        let s = OrderStatus::Paid
            .apply(OrderEvent::ShipPart)
            .and_then(|s| s.apply(OrderEvent::Ship))
            .and_then(|s| s.apply(OrderEvent::DeliverPart))
            .and_then(|s| s.apply(OrderEvent::Deliver))
            .unwrap();
        assert_eq!(s, OrderStatus::Delivered);
        // A second partial shipment is no transition: the order stays partially
        // shipped until the last unit leaves.
        assert!(
            OrderStatus::PartiallyShipped
                .apply(OrderEvent::ShipPart)
                .is_err()
        );
        assert_eq!(
            OrderStatus::PartiallyDelivered
                .apply(OrderEvent::PaymentRefunded)
                .unwrap(),
            OrderStatus::Refunded
        );
    }

    #[test]
    fn terminal_states_accept_nothing() {
        for s in [
            OrderStatus::Cancelled,
            OrderStatus::Expired,
            OrderStatus::Refunded,
        ] {
            assert!(s.is_terminal());
            for e in OrderEvent::ALL {
                let err = s.apply(*e).unwrap_err();
                assert!(err.allowed.is_empty());
                assert!(err.to_string().ends_with("nothing (it is final)"));
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(s.as_str().parse::<OrderStatus>().unwrap(), *s);
        }
        assert!("lost".parse::<OrderStatus>().is_err());
    }

    proptest! {
        #[test]
        fn random_events_never_leave_the_graph(events in proptest::collection::vec(proptest::sample::select(OrderEvent::ALL), 0..30)) {
            let mut state = OrderStatus::PendingPayment;
            for e in events {
                match state.apply(e) {
                    Ok(next) => {
                        prop_assert!(state.allowed_events().contains(&e));
                        prop_assert!(!state.is_terminal());
                        // Only these edges exist.
                        let legal = matches!((state, next),
                            (OrderStatus::PendingPayment, OrderStatus::Paid | OrderStatus::Cancelled | OrderStatus::Expired)
                            | (OrderStatus::Paid, OrderStatus::PartiallyShipped | OrderStatus::Shipped | OrderStatus::Cancelled | OrderStatus::Refunded)
                            | (OrderStatus::PartiallyShipped, OrderStatus::Shipped | OrderStatus::Refunded)
                            | (OrderStatus::Shipped, OrderStatus::PartiallyDelivered | OrderStatus::Delivered | OrderStatus::Refunded)
                            | (OrderStatus::PartiallyDelivered, OrderStatus::Delivered | OrderStatus::Refunded)
                            | (OrderStatus::Delivered, OrderStatus::Refunded));
                        prop_assert!(legal, "{:?} -> {:?}", state, next);
                        state = next;
                    }
                    Err(err) => {
                        prop_assert_eq!(err.from, state);
                        prop_assert!(!err.allowed.contains(&e));
                        prop_assert_eq!(err.allowed, state.allowed_events());
                    }
                }
            }
        }
    }
}
