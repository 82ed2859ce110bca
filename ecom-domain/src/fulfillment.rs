//! Fulfillment: an order leaves in one or more shipments, each from one stock
//! location, with some of its lines' units, a carrier and a tracking number.
//!
//! A shipment is pending, then packed, then shipped (its located units leave their
//! levels through the ledger: on hand and reserved both go down), then delivered
//! or returned to sender; before it ships it may be cancelled, and it is when its
//! order is. The order's status follows its shipments ([`order_events`]):
//!
//! ```text
//! paid ──ship_part──▶ partially_shipped ──ship──▶ shipped ──deliver_part──▶ partially_delivered
//!   │                                               ▲  │                            │
//!   └────────────────────────ship───────────────────┘  └──deliver──▶ delivered ◀──deliver
//! ```
//!
//! Units a line may still ship from a location: for a line reserved at locations,
//! its units reserved there less those in the shipments from there and those
//! cancelled there; for a line taken from its variant's own count (no
//! reservation), its units less those in any shipment and those cancelled.
//! Cancelled shipments count for nothing.
//!
//! **Cancelling part of an order** ([`check_cancellation`]): before they ship,
//! some units of an order's lines may be cancelled, while it waits for payment, is
//! paid or partially shipped. Their reservations are released (from the locations
//! holding the most units still to ship first), units taken from a variant's own
//! count go back onto it, and their share of the order's price (see
//! [`cancellation_refund_due`](crate::returns::cancellation_refund_due)) is given
//! back: refunded once the order is paid; taken off what its provider's payment is
//! due while it is not ([`PaymentAction::Reduce`](crate::payment::PaymentAction),
//! which lowers an authorization above it, so it is never voided). The order then
//! ships the rest in shipments; when nothing is left to ship its status follows its
//! shipments. Cancelling every unit is cancelling the order, which is
//! [`OrderEvent::Cancel`]'s work.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CancellationId, OrderId, ShipmentId, StockLocationId, VariantId};
use crate::inventory::Reservation;
use crate::order::{OrderEvent, OrderLine, OrderStatus, by_line_no};
use crate::values::{CarrierName, IdempotencyKey, Quantity, Reason, TrackingNumber, TrackingUrl};

/// Where a shipment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// Created: its units are picked from its location's reservations.
    Pending,
    /// Packed, waiting for the carrier.
    Packed,
    /// Handed to the carrier: its units left the location.
    Shipped,
    /// Received by the customer.
    Delivered,
    /// The carrier brought it back (its units come back through a return).
    ReturnedToSender,
    /// Cancelled before it shipped: its units are the order's to ship again.
    Cancelled,
}

crate::text_enum!(ShipmentStatus {
    Pending = "pending",
    Packed = "packed",
    Shipped = "shipped",
    Delivered = "delivered",
    ReturnedToSender = "returned_to_sender",
    Cancelled = "cancelled",
});

/// Something that happens to a shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentEvent {
    /// Packed.
    Pack,
    /// Handed to the carrier.
    Ship,
    /// Received by the customer.
    Deliver,
    /// Brought back by the carrier.
    ReturnToSender,
    /// Given up before it shipped.
    Cancel,
}

crate::text_enum!(ShipmentEvent {
    Pack = "pack",
    Ship = "ship",
    Deliver = "deliver",
    ReturnToSender = "return_to_sender",
    Cancel = "cancel",
});

impl ShipmentStatus {
    /// The state after `event`, or why not.
    pub fn apply(self, event: ShipmentEvent) -> Result<ShipmentStatus, FulfillmentError> {
        self.next(event)
            .ok_or_else(|| FulfillmentError::Transition {
                from: self,
                event,
                allowed: self.allowed_events(),
            })
    }

    /// The events this state accepts.
    pub fn allowed_events(self) -> Vec<ShipmentEvent> {
        ShipmentEvent::ALL
            .iter()
            .copied()
            .filter(|e| self.next(*e).is_some())
            .collect()
    }

    /// The one transition table.
    fn next(self, event: ShipmentEvent) -> Option<ShipmentStatus> {
        use ShipmentEvent as E;
        use ShipmentStatus as S;
        match (self, event) {
            (S::Pending, E::Pack) => Some(S::Packed),
            (S::Pending | S::Packed, E::Ship) => Some(S::Shipped),
            (S::Pending | S::Packed, E::Cancel) => Some(S::Cancelled),
            (S::Shipped, E::Deliver) => Some(S::Delivered),
            (S::Shipped, E::ReturnToSender) => Some(S::ReturnedToSender),
            _ => None,
        }
    }

    /// Whether its units count against what the order's lines may still ship.
    pub fn holds_units(self) -> bool {
        self != ShipmentStatus::Cancelled
    }

    /// Whether its units have left their location.
    pub fn has_left(self) -> bool {
        matches!(
            self,
            ShipmentStatus::Shipped | ShipmentStatus::Delivered | ShipmentStatus::ReturnedToSender
        )
    }
}

/// Units of one order line in a shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ShipmentLine {
    /// The order line.
    pub line_no: u16,
    /// How many of its units.
    pub quantity: Quantity,
}

/// Who carries a shipment and how to follow it; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    /// The carrier ("DHL", "UPS").
    pub carrier: Option<CarrierName>,
    /// The carrier's number for the parcel.
    pub number: Option<TrackingNumber>,
    /// Where the customer follows it.
    pub url: Option<TrackingUrl>,
}

/// A shipment to create: units of an order's lines, from one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShipment {
    /// The order.
    pub order: OrderId,
    /// The caller's id for it, unique per order: a retry with the same key (and
    /// the same location and units) is the same shipment, not a second parcel.
    pub key: IdempotencyKey,
    /// Where its units leave from.
    pub location: StockLocationId,
    /// The lines and units, each line once.
    pub lines: Vec<ShipmentLine>,
    /// The carrier and tracking, if known yet.
    pub tracking: Tracking,
}

/// Units of an order leaving one location together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// Its id.
    pub id: ShipmentId,
    /// The order.
    pub order: OrderId,
    /// The caller's id for it, unique per order (none for a shipment created
    /// before shipments took keys).
    pub key: Option<IdempotencyKey>,
    /// Where its units leave from.
    pub location: StockLocationId,
    /// The lines and units, by line number.
    pub lines: Vec<ShipmentLine>,
    /// The carrier and tracking.
    pub tracking: Tracking,
    /// Where it is.
    pub status: ShipmentStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl Shipment {
    /// The shipment with `tracking` instead of its own: until it is delivered,
    /// returned or cancelled, after which its tracking is history.
    pub fn retracked(&self, tracking: Tracking) -> Result<Shipment, FulfillmentError> {
        match self.status {
            ShipmentStatus::Pending | ShipmentStatus::Packed | ShipmentStatus::Shipped => {
                Ok(Shipment {
                    tracking,
                    ..self.clone()
                })
            }
            status => Err(FulfillmentError::Closed {
                shipment: self.id,
                status,
            }),
        }
    }
}

/// A shipment refused, or a shipment's state machine refusing an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FulfillmentError {
    /// The order is not one to ship from (not paid, or already all shipped).
    #[error("order {order} is {status}: only a paid or partially shipped order ships")]
    NotShippable {
        /// The order.
        order: OrderId,
        /// Its status.
        status: OrderStatus,
    },
    /// A shipment or a cancellation of nothing.
    #[error("a shipment or a cancellation names at least one line")]
    Empty,
    /// A line the order does not have.
    #[error("order {order} has no line {line_no}")]
    UnknownLine {
        /// The order.
        order: OrderId,
        /// The line asked for.
        line_no: u16,
    },
    /// A line named twice in one shipment or cancellation.
    #[error("line {0} appears twice")]
    DuplicateLine(u16),
    /// More units of a line than it may still ship from the location.
    #[error("line {line_no} may ship {left} more units from location {location}, not {asked}")]
    TooMany {
        /// The line.
        line_no: u16,
        /// Where from.
        location: StockLocationId,
        /// The units asked for.
        asked: u32,
        /// The units it may still ship from there.
        left: u32,
    },
    /// The shipment's state does not take the event.
    #[error("a shipment that is {from} does not accept {event}; it accepts {}", list(.allowed))]
    Transition {
        /// Its state.
        from: ShipmentStatus,
        /// The refused event.
        event: ShipmentEvent,
        /// What it would take (empty for final states).
        allowed: Vec<ShipmentEvent>,
    },
    /// A change of the tracking of a shipment that is over.
    #[error("shipment {shipment} is {status}: its tracking no longer changes")]
    Closed {
        /// The shipment.
        shipment: ShipmentId,
        /// Its status.
        status: ShipmentStatus,
    },
    /// Shipping or delivery asked of an order as a whole once it has shipments
    /// or cancelled units.
    #[error(
        "order {0} is fulfilled in parts (it has shipments or cancelled units): ship and deliver its shipments"
    )]
    HasShipments(OrderId),
    /// Part of an order cancelled when it is cancelled, expired or refunded
    /// already, or everything left to ship is on its way.
    #[error(
        "order {order} is {status}: only an order waiting for payment, paid or partially shipped cancels units"
    )]
    NotCancellable {
        /// The order.
        order: OrderId,
        /// Its status.
        status: OrderStatus,
    },
    /// More units of a line cancelled than it has still to ship (units in
    /// shipments are the shipments' to cancel).
    #[error("line {line_no} has {left} units not yet in a shipment, not {asked}")]
    TooManyToCancel {
        /// The line.
        line_no: u16,
        /// The units asked for.
        asked: u32,
        /// The units not yet in a shipment nor cancelled.
        left: u32,
    },
    /// A cancellation of every unit the order has: cancel the order instead.
    #[error("this cancels every unit of order {0}: cancel the order instead")]
    WholeOrder(OrderId),
}

fn list(allowed: &[ShipmentEvent]) -> String {
    if allowed.is_empty() {
        return "nothing (it is final)".into();
    }
    allowed
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Units of `line` that may still ship from `location`, given the order's
/// reservations, its shipments and its cancellations so far.
pub fn units_left(
    line: &OrderLine,
    location: StockLocationId,
    reservations: &[Reservation],
    shipments: &[Shipment],
    cancellations: &[Cancellation],
) -> u32 {
    let reserved_somewhere = reservations.iter().any(|r| r.line_no == line.line_no);
    if !reserved_somewhere {
        return unclaimed(line, None, reservations, shipments, cancellations);
    }
    unclaimed(line, Some(location), reservations, shipments, cancellations)
}

/// Units of `line` neither in a shipment that holds units nor cancelled: at
/// `location` (`Some`), for a line reserved at locations; in all (`None`), for a
/// line taken from its variant's own count.
fn unclaimed(
    line: &OrderLine,
    location: Option<StockLocationId>,
    reservations: &[Reservation],
    shipments: &[Shipment],
    cancellations: &[Cancellation],
) -> u32 {
    let here = |at: StockLocationId| location.is_none_or(|l| l == at);
    let available = match location {
        Some(location) => reservations
            .iter()
            .filter(|r| r.line_no == line.line_no && r.location == location)
            .fold(0u32, |n, r| n.saturating_add(r.quantity)),
        None => line.quantity.get(),
    };
    let shipped = shipments
        .iter()
        .filter(|s| s.status.holds_units() && here(s.location))
        .flat_map(|s| &s.lines)
        .filter(|l| l.line_no == line.line_no)
        .fold(0u32, |n, l| n.saturating_add(l.quantity.get()));
    let cancelled = match location {
        Some(location) => cancelled_at(cancellations, line.line_no, location),
        None => line_cancelled(cancellations, line.line_no),
    };
    available.saturating_sub(shipped).saturating_sub(cancelled)
}

/// What an order's shipments and cancellations are checked against: its status
/// and lines, where checkout reserved its units, and its shipments and
/// cancellations so far.
#[derive(Debug, Clone, Copy)]
pub struct Fulfillment<'a> {
    /// The order.
    pub order: OrderId,
    /// Its status.
    pub status: OrderStatus,
    /// Its lines.
    pub lines: &'a [OrderLine],
    /// Its reservations at locations.
    pub reservations: &'a [Reservation],
    /// Its shipments so far.
    pub shipments: &'a [Shipment],
    /// Its cancellations so far.
    pub cancellations: &'a [Cancellation],
}

/// Checks a new shipment against its order's fulfillment so far; the
/// shipment's lines by line number.
pub fn check_shipment(
    new: &NewShipment,
    so_far: &Fulfillment<'_>,
) -> Result<Vec<ShipmentLine>, FulfillmentError> {
    let Fulfillment {
        status,
        lines,
        reservations,
        shipments,
        cancellations,
        ..
    } = *so_far;
    if !matches!(status, OrderStatus::Paid | OrderStatus::PartiallyShipped) {
        return Err(FulfillmentError::NotShippable {
            order: new.order,
            status,
        });
    }
    if new.lines.is_empty() {
        return Err(FulfillmentError::Empty);
    }
    let sorted = by_line_no(&new.lines, |l| l.line_no).map_err(FulfillmentError::DuplicateLine)?;
    for wanted in &sorted {
        let line = lines.iter().find(|l| l.line_no == wanted.line_no).ok_or(
            FulfillmentError::UnknownLine {
                order: new.order,
                line_no: wanted.line_no,
            },
        )?;
        let left = units_left(line, new.location, reservations, shipments, cancellations);
        if wanted.quantity.get() > left {
            return Err(FulfillmentError::TooMany {
                line_no: wanted.line_no,
                location: new.location,
                asked: wanted.quantity.get(),
                left,
            });
        }
    }
    Ok(sorted)
}

/// The units a shipment takes out of its location's levels as it ships: the
/// units of its lines that were reserved at locations, summed per variant (lines
/// taken from their variants' own counts left them at checkout).
pub fn units_leaving(
    shipment: &Shipment,
    lines: &[OrderLine],
    reservations: &[Reservation],
) -> Vec<(VariantId, u32)> {
    let mut leaving: Vec<(VariantId, u32)> = Vec::new();
    for l in &shipment.lines {
        let reserved = reservations.iter().any(|r| r.line_no == l.line_no);
        let Some(line) = lines.iter().find(|o| o.line_no == l.line_no) else {
            continue;
        };
        if !reserved {
            continue;
        }
        match leaving.iter_mut().find(|(v, _)| *v == line.variant_id) {
            Some((_, n)) => *n = n.saturating_add(l.quantity.get()),
            None => leaving.push((line.variant_id, l.quantity.get())),
        }
    }
    leaving.sort_by_key(|(v, _)| *v);
    leaving
}

/// Where an order stands by its shipments, of its units not cancelled: none
/// shipped (`None`), some shipped, all shipped, some delivered, all delivered.
fn fulfilled(
    lines: &[OrderLine],
    shipments: &[Shipment],
    cancellations: &[Cancellation],
) -> Option<OrderStatus> {
    let units = |keep: fn(ShipmentStatus) -> bool| {
        shipments
            .iter()
            .filter(|s| keep(s.status))
            .flat_map(|s| &s.lines)
            .fold(0u64, |n, l| n + u64::from(l.quantity.get()))
    };
    let ordered: u64 = lines.iter().map(|l| u64::from(l.quantity.get())).sum();
    let total = ordered.saturating_sub(units_cancelled(cancellations));
    let shipped = units(ShipmentStatus::has_left);
    let delivered = units(|s| s == ShipmentStatus::Delivered);
    Some(match () {
        _ if shipped == 0 => return None,
        _ if shipped < total => OrderStatus::PartiallyShipped,
        _ if delivered == 0 => OrderStatus::Shipped,
        _ if delivered < total => OrderStatus::PartiallyDelivered,
        _ => OrderStatus::Delivered,
    })
}

/// The events that take an order in `status` to where its shipments stand, of
/// its units not cancelled, in order (none for an order that is not being
/// fulfilled, e.g. refunded).
pub fn order_events(
    status: OrderStatus,
    lines: &[OrderLine],
    shipments: &[Shipment],
    cancellations: &[Cancellation],
) -> Vec<OrderEvent> {
    use OrderStatus as S;
    let rank = |s: OrderStatus| match s {
        S::Paid => Some(0),
        S::PartiallyShipped => Some(1),
        S::Shipped => Some(2),
        S::PartiallyDelivered => Some(3),
        S::Delivered => Some(4),
        _ => None,
    };
    let (Some(target), Some(mut at)) = (fulfilled(lines, shipments, cancellations), rank(status))
    else {
        return Vec::new();
    };
    let Some(goal) = rank(target) else {
        return Vec::new();
    };
    let mut events = Vec::new();
    while at < goal {
        let (event, next) = match at {
            0 if goal == 1 => (OrderEvent::ShipPart, 1),
            0 | 1 => (OrderEvent::Ship, 2),
            2 if goal == 3 => (OrderEvent::DeliverPart, 3),
            _ => (OrderEvent::Deliver, 4),
        };
        events.push(event);
        at = next;
    }
    events
}

/// Units of one order line to cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CancellationLine {
    /// The order line.
    pub line_no: u16,
    /// How many of its units.
    pub quantity: Quantity,
}

/// Units of one order line cancelled, and where they were held: at a location
/// for a line reserved at locations (released there), `None` for a line taken
/// from its variant's own count (put back onto it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CancelledUnits {
    /// The order line.
    pub line_no: u16,
    /// Where they were held, for a line reserved at locations.
    pub location: Option<StockLocationId>,
    /// How many.
    pub quantity: Quantity,
}

/// Units of an order to cancel before they ship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCancellation {
    /// The order.
    pub order: OrderId,
    /// The caller's id for this cancellation: a retry with the same key and
    /// lines is a replay that cancels and refunds nothing twice.
    pub key: IdempotencyKey,
    /// The lines and units, each line once.
    pub lines: Vec<CancellationLine>,
    /// Why, for the records.
    pub reason: Option<Reason>,
}

/// Units of an order cancelled before they shipped: released, and refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancellation {
    /// Its id.
    pub id: CancellationId,
    /// The order.
    pub order: OrderId,
    /// The caller's id for it, unique per order.
    pub key: IdempotencyKey,
    /// The units, by line number and location.
    pub units: Vec<CancelledUnits>,
    /// Why.
    pub reason: Option<Reason>,
    /// What it refunded: the refund events booked under its
    /// [`cancellation_refund_key`] (zero when the payments held nothing, or the
    /// order was not paid yet).
    pub refunded: crate::money::Money,
    /// What it took off the amount due of an order not paid yet: the reductions
    /// booked under its [`cancellation_refund_key`] (zero for a paid order).
    pub released: crate::money::Money,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Every unit cancelled in `cancellations`.
fn units_cancelled(cancellations: &[Cancellation]) -> u64 {
    cancellations
        .iter()
        .flat_map(|c| &c.units)
        .map(|u| u64::from(u.quantity.get()))
        .sum()
}

/// Units of `line_no` cancelled in `cancellations`, wherever they were held.
pub fn line_cancelled(cancellations: &[Cancellation], line_no: u16) -> u32 {
    cancelled_where(cancellations, line_no, |_| true)
}

/// Units of `line_no` cancelled in `cancellations` and released at `location`.
pub fn cancelled_at(
    cancellations: &[Cancellation],
    line_no: u16,
    location: StockLocationId,
) -> u32 {
    cancelled_where(cancellations, line_no, |at| at == Some(location))
}

fn cancelled_where(
    cancellations: &[Cancellation],
    line_no: u16,
    held: impl Fn(Option<StockLocationId>) -> bool,
) -> u32 {
    cancellations
        .iter()
        .flat_map(|c| &c.units)
        .filter(|u| u.line_no == line_no && held(u.location))
        .fold(0u32, |n, u| n.saturating_add(u.quantity.get()))
}

/// `units` by line, each line's locations summed, in line order: a line's units
/// released at several locations are one run of its units.
pub fn per_line(units: &[CancelledUnits]) -> Vec<CancellationLine> {
    let mut lines: Vec<CancellationLine> = Vec::new();
    for u in units {
        match lines.iter_mut().find(|l| l.line_no == u.line_no) {
            // At most the line's units, themselves a quantity.
            Some(l) => l.quantity = l.quantity.checked_add(u.quantity).unwrap_or(l.quantity),
            None => lines.push(CancellationLine {
                line_no: u.line_no,
                quantity: u.quantity,
            }),
        }
    }
    lines.sort_by_key(|l| l.line_no);
    lines
}

/// Checks a cancellation of units of an order against its fulfillment so far,
/// and says where each line's units are released: for a line reserved at
/// locations, from the location holding the most of its units still to ship
/// first (the lower id on a tie), so that what is left ships in fewer parcels.
pub fn check_cancellation(
    new: &NewCancellation,
    so_far: &Fulfillment<'_>,
) -> Result<Vec<CancelledUnits>, FulfillmentError> {
    let Fulfillment {
        order,
        status,
        lines,
        reservations,
        shipments,
        cancellations,
    } = *so_far;
    if !matches!(
        status,
        OrderStatus::PendingPayment | OrderStatus::Paid | OrderStatus::PartiallyShipped
    ) {
        return Err(FulfillmentError::NotCancellable { order, status });
    }
    if new.lines.is_empty() {
        return Err(FulfillmentError::Empty);
    }
    let sorted = by_line_no(&new.lines, |l| l.line_no).map_err(FulfillmentError::DuplicateLine)?;
    let mut units = Vec::new();
    for wanted in &sorted {
        let line = lines.iter().find(|l| l.line_no == wanted.line_no).ok_or(
            FulfillmentError::UnknownLine {
                order,
                line_no: wanted.line_no,
            },
        )?;
        // A reservation per line and location.
        let mut held: Vec<(Option<StockLocationId>, u32)> = reservations
            .iter()
            .filter(|r| r.line_no == line.line_no)
            .map(|r| {
                let at = Some(r.location);
                (
                    at,
                    unclaimed(line, at, reservations, shipments, cancellations),
                )
            })
            .collect();
        if held.is_empty() {
            held.push((
                None,
                unclaimed(line, None, reservations, shipments, cancellations),
            ));
        }
        let left = held.iter().fold(0u32, |n, (_, u)| n.saturating_add(*u));
        let asked = wanted.quantity.get();
        if asked > left {
            return Err(FulfillmentError::TooManyToCancel {
                line_no: line.line_no,
                asked,
                left,
            });
        }
        held.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut rest = asked;
        for (location, here) in held {
            let take = rest.min(here);
            if take == 0 {
                continue;
            }
            // 1 ≤ take ≤ asked, itself a quantity.
            let quantity =
                Quantity::new(i64::from(take)).map_err(|_| FulfillmentError::TooManyToCancel {
                    line_no: line.line_no,
                    asked,
                    left,
                })?;
            units.push(CancelledUnits {
                line_no: line.line_no,
                location,
                quantity,
            });
            rest -= take;
        }
    }
    let ordered: u64 = lines.iter().map(|l| u64::from(l.quantity.get())).sum();
    let cancelling: u64 = units.iter().map(|u| u64::from(u.quantity.get())).sum();
    if units_cancelled(cancellations) + cancelling >= ordered {
        return Err(FulfillmentError::WholeOrder(order));
    }
    Ok(units)
}

impl Cancellation {
    /// Its units by line, each line's locations summed, in line order.
    pub fn lines(&self) -> Vec<CancellationLine> {
        per_line(&self.units)
    }
}

/// The units a cancellation puts back: released from reservations at
/// locations, by (location, variant); onto variants' own counts, by variant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Released {
    /// Units out of a level's reserved count, by location and variant.
    pub at_locations: Vec<(StockLocationId, VariantId, u32)>,
    /// Units back onto a variant's own count, by variant.
    pub to_counts: Vec<(VariantId, u32)>,
}

/// What cancelling `units` of an order with `lines` puts back.
pub fn released(units: &[CancelledUnits], lines: &[OrderLine]) -> Released {
    let mut released = Released::default();
    for u in units {
        let Some(line) = lines.iter().find(|l| l.line_no == u.line_no) else {
            continue;
        };
        let n = u.quantity.get();
        match u.location {
            Some(location) => {
                let key = (location, line.variant_id);
                match released
                    .at_locations
                    .iter_mut()
                    .find(|(l, v, _)| (*l, *v) == key)
                {
                    Some((_, _, units)) => *units = units.saturating_add(n),
                    None => released.at_locations.push((location, line.variant_id, n)),
                }
            }
            None => match released
                .to_counts
                .iter_mut()
                .find(|(v, _)| *v == line.variant_id)
            {
                Some((_, units)) => *units = units.saturating_add(n),
                None => released.to_counts.push((line.variant_id, n)),
            },
        }
    }
    released.at_locations.sort();
    released.to_counts.sort();
    released
}

/// The key a cancellation's refund, or its reduction of what an order not yet
/// paid is due, is booked under in each payment's ledger: one of the store's own,
/// which no client key can equal.
pub fn cancellation_refund_key(id: CancellationId) -> IdempotencyKey {
    IdempotencyKey::reserved(&format!("cancellation:{id}"))
}

/// Why a cancellation's moves and refund are booked: `cancellation {id}`, in the
/// inventory ledger and on the payment's refund event.
pub fn cancellation_reason(id: CancellationId) -> Option<Reason> {
    Reason::parse(&format!("cancellation {id}")).ok()
}

#[cfg(test)]
#[path = "fulfillment_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "cancellation_tests.rs"]
mod cancellation_tests;
