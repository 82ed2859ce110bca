//! Returns (RMAs): units of an order that left coming back, with a reason;
//! approved or rejected by the shop; received at a stock location, where sellable
//! units go back on the shelf through the inventory ledger and the customer gets
//! back their share of what was paid.
//!
//! ```text
//! requested ──approve──▶ approved ──receive──▶ received
//!     │
//!     └──reject──▶ rejected
//! ```
//!
//! - **What may come back** ([`units_returnable`]): a line's units that left in
//!   shipments (or all of them, for an order shipped as a whole), less those in
//!   its other returns that were not rejected.
//! - **What it refunds** ([`refund_due`]): each line's part of what was paid
//!   ([`Order::paid_for_lines`]) shared equally over its units, rounded down
//!   until the line's last unit comes back, which takes the rest; so the returns of
//!   every unit give back exactly what was paid, never a cent more. With
//!   [`ReturnReceipt::refund_shipping`], the units' share of the shipping charge
//!   too, by the same rule over every unit of the order.
//! - **Exactly once**: a return is received once; receiving it again with the
//!   same receipt is a replay that changes nothing, with another is refused.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::fulfillment::{Cancellation, CancelledUnits, Shipment, line_cancelled, per_line};
use crate::ids::{OrderId, ReturnId, StockLocationId, VariantId};
use crate::inventory::Reservation;
use crate::money::{Currency, Money, MoneyError};
use crate::order::{Order, OrderLine, OrderStatus, by_line_no};
use crate::payment::Payment;
use crate::values::{IdempotencyKey, Quantity, Reason};

/// Where a return is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    /// Asked for; the shop decides.
    Requested,
    /// The shop expects the units back.
    Approved,
    /// The shop refused it: its units may be asked for again.
    Rejected,
    /// The units arrived: restocked if sellable, and refunded.
    Received,
}

crate::text_enum!(ReturnStatus {
    Requested = "requested",
    Approved = "approved",
    Rejected = "rejected",
    Received = "received",
});

/// The shop's decision on a requested return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnDecision {
    /// The units may come back.
    Approve,
    /// They may not.
    Reject,
}

crate::text_enum!(ReturnDecision {
    Approve = "approve",
    Reject = "reject",
});

/// Why the customer sends units back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    /// Arrived broken.
    Damaged,
    /// Not what was ordered.
    WrongItem,
    /// Not as the shop described it.
    NotAsDescribed,
    /// Does not fit.
    DoesNotFit,
    /// The customer changed their mind.
    ChangedMind,
    /// Something else (the note says what).
    Other,
}

crate::text_enum!(ReturnReason {
    Damaged = "damaged",
    WrongItem = "wrong_item",
    NotAsDescribed = "not_as_described",
    DoesNotFit = "does_not_fit",
    ChangedMind = "changed_mind",
    Other = "other",
});

/// The state units arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemCondition {
    /// Fit to sell again: restocked.
    Sellable,
    /// Not fit to sell: refunded, not restocked.
    Damaged,
}

crate::text_enum!(ItemCondition {
    Sellable = "sellable",
    Damaged = "damaged",
});

/// Units of one order line in a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReturnLine {
    /// The order line.
    pub line_no: u16,
    /// How many of its units.
    pub quantity: Quantity,
}

/// A return to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReturn {
    /// The order.
    pub order: OrderId,
    /// The lines and units, each line once.
    pub lines: Vec<ReturnLine>,
    /// Why.
    pub reason: ReturnReason,
    /// The customer's words, if any.
    pub note: Option<Reason>,
}

/// How a return's units arrived: where, in what state, and whether the shipping
/// charge is refunded with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnReceipt {
    /// The location that received them (and restocks them, if sellable).
    pub location: StockLocationId,
    /// Their state.
    pub condition: ItemCondition,
    /// Whether the units' share of the shipping charge is refunded too.
    pub refund_shipping: bool,
}

/// Units of an order coming back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    /// Its id.
    pub id: ReturnId,
    /// The order.
    pub order: OrderId,
    /// The lines and units, by line number.
    pub lines: Vec<ReturnLine>,
    /// Why.
    pub reason: ReturnReason,
    /// The customer's words.
    pub note: Option<Reason>,
    /// Where it is.
    pub status: ReturnStatus,
    /// How its units arrived, once received.
    pub receipt: Option<ReturnReceipt>,
    /// What it gave back, once received.
    pub refunded: Option<Money>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
}

/// A return refused, or a return's state refusing a step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    /// The order has nothing that left to send back (or it was refunded).
    #[error("order {order} is {status}: only units that left come back")]
    NotReturnable {
        /// The order.
        order: OrderId,
        /// Its status.
        status: OrderStatus,
    },
    /// A return of nothing.
    #[error("a return holds at least one line")]
    Empty,
    /// A line the order does not have.
    #[error("order {order} has no line {line_no}")]
    UnknownLine {
        /// The order.
        order: OrderId,
        /// The line asked for.
        line_no: u16,
    },
    /// A line named twice in one return.
    #[error("line {0} appears twice in the return")]
    DuplicateLine(u16),
    /// More units of a line than may come back.
    #[error("line {line_no} may return {left} more units, not {asked}")]
    TooMany {
        /// The line.
        line_no: u16,
        /// The units asked for.
        asked: u32,
        /// The units that may still come back.
        left: u32,
    },
    /// The return is not in a state for the step.
    #[error("return {id} is {status}: it cannot be {step}")]
    Step {
        /// The return.
        id: ReturnId,
        /// Its status.
        status: ReturnStatus,
        /// What was asked ("approved", "rejected", "received").
        step: &'static str,
    },
    /// Received before, with another receipt.
    #[error("return {0} was received before, with another receipt")]
    ReceivedDifferently(ReturnId),
}

impl Return {
    /// The return after the shop's decision: a requested return only.
    pub fn decided(&self, decision: ReturnDecision) -> Result<Return, ReturnError> {
        let (status, step) = match decision {
            ReturnDecision::Approve => (ReturnStatus::Approved, "approved"),
            ReturnDecision::Reject => (ReturnStatus::Rejected, "rejected"),
        };
        if self.status != ReturnStatus::Requested {
            return Err(ReturnError::Step {
                id: self.id,
                status: self.status,
                step,
            });
        }
        Ok(Return {
            status,
            ..self.clone()
        })
    }

    /// Whether `receipt` was this return's receipt already (`Ok(true)`: a replay
    /// that changes nothing), is one it may take now (`Ok(false)`: it is
    /// approved), or neither.
    pub fn check_receipt(&self, receipt: &ReturnReceipt) -> Result<bool, ReturnError> {
        match (self.status, &self.receipt) {
            (ReturnStatus::Received, Some(seen)) if seen == receipt => Ok(true),
            (ReturnStatus::Received, _) => Err(ReturnError::ReceivedDifferently(self.id)),
            (ReturnStatus::Approved, _) => Ok(false),
            (status, _) => Err(ReturnError::Step {
                id: self.id,
                status,
                step: "received",
            }),
        }
    }

    /// Whether its units count against what the order's lines may still return.
    pub fn holds_units(&self) -> bool {
        self.status != ReturnStatus::Rejected
    }
}

/// Units of `line` that left the shop: in shipments that left, or all of them
/// for an order shipped as a whole (it has no shipments that hold units).
fn units_out(line: &OrderLine, status: OrderStatus, shipments: &[Shipment]) -> u32 {
    let by_shipments = shipments.iter().any(|s| s.status.holds_units());
    if !by_shipments {
        return match status {
            OrderStatus::Shipped | OrderStatus::PartiallyDelivered | OrderStatus::Delivered => {
                line.quantity.get()
            }
            _ => 0,
        };
    }
    shipments
        .iter()
        .filter(|s| s.status.has_left())
        .flat_map(|s| &s.lines)
        .filter(|l| l.line_no == line.line_no)
        .fold(0u32, |n, l| n.saturating_add(l.quantity.get()))
}

/// Units of `line_no` in `returns` (only those that `keep`).
fn units_in(returns: &[Return], line_no: u16, keep: impl Fn(&Return) -> bool) -> u32 {
    returns
        .iter()
        .filter(|r| keep(r))
        .flat_map(|r| &r.lines)
        .filter(|l| l.line_no == line_no)
        .fold(0u32, |n, l| n.saturating_add(l.quantity.get()))
}

/// Units of `line` that may still be asked back: those that left, less those in
/// the order's returns that were not rejected.
pub fn units_returnable(
    line: &OrderLine,
    status: OrderStatus,
    shipments: &[Shipment],
    returns: &[Return],
) -> u32 {
    units_out(line, status, shipments).saturating_sub(units_in(
        returns,
        line.line_no,
        Return::holds_units,
    ))
}

/// Checks a new return against its order, the order's shipments and its returns
/// so far; the return's lines by line number.
pub fn check_return(
    new: &NewReturn,
    order: &Order,
    shipments: &[Shipment],
    returns: &[Return],
) -> Result<Vec<ReturnLine>, ReturnError> {
    use OrderStatus as S;
    if !matches!(
        order.status,
        S::PartiallyShipped | S::Shipped | S::PartiallyDelivered | S::Delivered
    ) {
        return Err(ReturnError::NotReturnable {
            order: order.id,
            status: order.status,
        });
    }
    if new.lines.is_empty() {
        return Err(ReturnError::Empty);
    }
    let sorted = by_line_no(&new.lines, |l| l.line_no).map_err(ReturnError::DuplicateLine)?;
    for wanted in &sorted {
        let line = order
            .lines
            .iter()
            .find(|l| l.line_no == wanted.line_no)
            .ok_or(ReturnError::UnknownLine {
                order: order.id,
                line_no: wanted.line_no,
            })?;
        let left = units_returnable(line, order.status, shipments, returns);
        if wanted.quantity.get() > left {
            return Err(ReturnError::TooMany {
                line_no: wanted.line_no,
                asked: wanted.quantity.get(),
                left,
            });
        }
    }
    Ok(sorted)
}

/// `paid × k / n`, rounded down, in minor units; `paid` itself when `k == n`.
fn share(paid: Money, k: u64, n: u64) -> Result<Money, MoneyError> {
    if n == 0 || k >= n {
        return Ok(paid);
    }
    let minor = i128::from(paid.to_minor()?);
    let part = minor * i128::from(k) / i128::from(n);
    let part = i64::try_from(part).map_err(|_| MoneyError::Overflow)?;
    Ok(Money::from_minor(part, paid.currency()))
}

/// The part of what was paid for `units` of each line (line number, units),
/// each line's units given back before them (`before`) counted first: shares
/// of the line's paid amount, rounded down until its last unit, which takes
/// the rest.
fn lines_share(
    order: &Order,
    units: impl Iterator<Item = (u16, u32)>,
    before: impl Fn(u16) -> u32,
) -> Result<Money, MoneyError> {
    let paid = order.paid_for_lines()?;
    let mut due = Money::zero(order.currency);
    for (line_no, k) in units {
        let Some((line, paid)) = order
            .lines
            .iter()
            .zip(&paid)
            .find(|(line, _)| line.line_no == line_no)
        else {
            continue;
        };
        let n = u64::from(line.quantity.get());
        let earlier = u64::from(before(line_no));
        let after = earlier + u64::from(k);
        due = due.checked_add(share(*paid, after, n)?.checked_sub(share(*paid, earlier, n)?)?)?;
    }
    Ok(due)
}

/// What `ret` gives back when it is received with `receipt`, given the order's
/// returns received before it and its cancellations: each of its lines' part of
/// what was paid, shared over the line's units (units cancelled or received
/// back before counted first), and with [`ReturnReceipt::refund_shipping`] the
/// units' share of the shipping charge over every unit of the order (cancelled
/// units keep theirs: the rest still shipped).
pub fn refund_due(
    order: &Order,
    ret: &Return,
    received_before: &[Return],
    cancellations: &[Cancellation],
    receipt: &ReturnReceipt,
) -> Result<Money, MoneyError> {
    let earlier = |line_no| {
        units_in(received_before, line_no, |r| {
            r.status == ReturnStatus::Received && r.id != ret.id
        })
    };
    let mut due = lines_share(
        order,
        ret.lines.iter().map(|l| (l.line_no, l.quantity.get())),
        |line_no| earlier(line_no).saturating_add(line_cancelled(cancellations, line_no)),
    )?;
    if receipt.refund_shipping {
        let n: u64 = order
            .lines
            .iter()
            .map(|l| u64::from(l.quantity.get()))
            .sum();
        let before: u64 = order
            .lines
            .iter()
            .map(|l| u64::from(earlier(l.line_no)))
            .sum();
        let these: u64 = ret.lines.iter().map(|l| u64::from(l.quantity.get())).sum();
        let shipping = order.shipping_paid()?;
        due = due.checked_add(
            share(shipping, before + these, n)?.checked_sub(share(shipping, before, n)?)?,
        )?;
    }
    Ok(due)
}

/// What cancelling `units` of `order` gives back, given its returns and its
/// earlier cancellations: each line's part of what was paid for the units, by
/// the rule of [`refund_due`], so that cancellations and returns of every unit
/// of a line give back exactly what was paid for it. The shipping charge stays:
/// the rest of the order still ships.
pub fn cancellation_refund_due(
    order: &Order,
    units: &[CancelledUnits],
    returns: &[Return],
    cancellations: &[Cancellation],
) -> Result<Money, MoneyError> {
    let by_line = per_line(units);
    lines_share(
        order,
        by_line.iter().map(|l| (l.line_no, l.quantity.get())),
        |line_no| {
            units_in(returns, line_no, |r| r.status == ReturnStatus::Received)
                .saturating_add(line_cancelled(cancellations, line_no))
        },
    )
}

/// The key a return's refund is booked under in each payment's ledger: one of
/// the store's own, which no client key can equal.
pub fn refund_key(id: ReturnId) -> IdempotencyKey {
    IdempotencyKey::reserved(&format!("return:{id}"))
}

/// Why a return's moves and refund are booked: `return {id}`, in the inventory
/// ledger and on the payment's refund event.
pub fn ledger_reason(id: ReturnId) -> Option<Reason> {
    Reason::parse(&format!("return {id}")).ok()
}

/// What return `id` refunded: the refund events booked under its
/// [`refund_key`] in its order's `payments`, in the order's `currency` (zero
/// when it refunded nothing).
pub fn refunded_by(
    id: ReturnId,
    currency: Currency,
    payments: &[Payment],
) -> Result<Money, MoneyError> {
    crate::payment::refunded_under(&refund_key(id), currency, payments)
}

/// Where a received return's units go: sellable units of lines that were
/// reserved at locations go back onto the receiving location's level (by
/// variant); sellable units of lines taken from their variants' own counts go back
/// onto those counts. Damaged units go nowhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restock {
    /// Units onto the receipt's location, by variant.
    pub at_location: Vec<(VariantId, u32)>,
    /// Units onto variants' own counts, by variant.
    pub to_count: Vec<(VariantId, u32)>,
}

/// What receiving `ret` with `receipt` puts back on the shelf.
pub fn restock(
    ret: &Return,
    receipt: &ReturnReceipt,
    lines: &[OrderLine],
    reservations: &[Reservation],
) -> Restock {
    let mut restock = Restock::default();
    if receipt.condition != ItemCondition::Sellable {
        return restock;
    }
    for l in &ret.lines {
        let Some(line) = lines.iter().find(|o| o.line_no == l.line_no) else {
            continue;
        };
        let located = reservations.iter().any(|r| r.line_no == l.line_no);
        let into = if located {
            &mut restock.at_location
        } else {
            &mut restock.to_count
        };
        match into.iter_mut().find(|(v, _)| *v == line.variant_id) {
            Some((_, n)) => *n = n.saturating_add(l.quantity.get()),
            None => into.push((line.variant_id, l.quantity.get())),
        }
    }
    restock.at_location.sort_by_key(|(v, _)| *v);
    restock.to_count.sort_by_key(|(v, _)| *v);
    restock
}

#[cfg(test)]
#[path = "returns_tests.rs"]
mod tests;
