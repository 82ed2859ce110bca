//! Shipments in the reference store.

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::fulfillment::{
    Cancellation, Fulfillment, NewCancellation, NewShipment, Shipment, ShipmentEvent,
    ShipmentStatus, Tracking, cancellation_reason, cancellation_refund_key, check_cancellation,
    check_shipment, order_events, released, units_leaving,
};
use crate::ids::{OrderId, ShipmentId};
use crate::inventory::{InventoryMove, MoveKind};
use crate::payment::{Applied, refunded_under, released_under};
use crate::repo::{
    CancellationSettlement, FulfillmentRepository, ShipmentChange, ShipmentCreated, UnitsCancelled,
    cancellation_replay, cancellation_settlement, reduction_order_event, shipment_replay,
};
use crate::values::Reason;

use super::MemoryStore;
use super::state::State;

impl State {
    fn shipment(&self, id: ShipmentId) -> Result<&Shipment, DomainError> {
        self.shipments
            .get(&id)
            .ok_or_else(|| DomainError::not_found("shipment", id))
    }

    /// An order's shipments, oldest first.
    pub(super) fn shipments_of(&self, order: OrderId) -> Vec<Shipment> {
        self.shipments
            .values()
            .filter(|s| s.order == order)
            .cloned()
            .collect()
    }

    /// An order's cancellations, oldest first.
    pub(super) fn cancellations_of(&self, order: OrderId) -> Vec<Cancellation> {
        self.cancellations
            .values()
            .filter(|c| c.order == order)
            .cloned()
            .collect()
    }

    /// Whether any of an order's shipments holds units, or some of its units were
    /// cancelled: the order is then fulfilled in parts, not shipped or delivered
    /// as a whole.
    pub(super) fn has_shipments(&self, order: OrderId) -> bool {
        self.shipments
            .values()
            .any(|s| s.order == order && s.status.holds_units())
            || self.cancellations.values().any(|c| c.order == order)
    }

    /// Cancels an order's shipments that have not left (the order is cancelled).
    pub(super) fn cancel_open_shipments(&mut self, order: OrderId) {
        for s in self.shipments.values_mut() {
            if s.order == order && s.status.holds_units() && !s.status.has_left() {
                s.status = ShipmentStatus::Cancelled;
            }
        }
    }

    /// Moves the order to where its shipments stand, each step in its history.
    fn follow_shipments(&mut self, order: OrderId, now: DateTime<Utc>) -> Result<(), DomainError> {
        let current = self.order(order)?;
        let events = order_events(
            current.status,
            &current.lines,
            &self.shipments_of(order),
            &self.cancellations_of(order),
        );
        for event in events {
            self.change_order(order, event, None, now)?;
        }
        Ok(())
    }
}

impl FulfillmentRepository for MemoryStore {
    type Error = DomainError;

    fn create_shipment(&self, new: NewShipment) -> Result<ShipmentCreated, DomainError> {
        self.atomically(|s| {
            let order = s.order(new.order)?;
            let shipments = s.shipments_of(new.order);
            if let Some(done) = shipment_replay(&new, &shipments)? {
                return Ok(ShipmentCreated {
                    shipment: done,
                    applied: Applied::Duplicate,
                });
            }
            if !s.inventory_has_location(new.location) {
                return Err(DomainError::not_found("stock location", new.location));
            }
            let lines = check_shipment(
                &new,
                &Fulfillment {
                    order: order.id,
                    status: order.status,
                    lines: &order.lines,
                    reservations: &s.reservations_of(new.order),
                    shipments: &shipments,
                    cancellations: &s.cancellations_of(new.order),
                },
            )?;
            let shipment = Shipment {
                id: s.next(),
                order: new.order,
                key: Some(new.key),
                location: new.location,
                lines,
                tracking: new.tracking,
                status: ShipmentStatus::Pending,
                created_at: Utc::now(),
            };
            s.shipments.insert(shipment.id, shipment.clone());
            Ok(ShipmentCreated {
                shipment,
                applied: Applied::Changed,
            })
        })
    }

    fn change_shipment(
        &self,
        id: ShipmentId,
        event: ShipmentEvent,
    ) -> Result<ShipmentChange, DomainError> {
        self.atomically(|s| {
            let shipment = s.shipment(id)?.clone();
            let next = shipment.status.apply(event)?;
            if next == ShipmentStatus::Shipped {
                let order = s.order(shipment.order)?;
                let leaving =
                    units_leaving(&shipment, &order.lines, &s.reservations_of(shipment.order));
                s.ship_units(shipment.location, &leaving, shipment_reason(id))?;
            }
            let now = Utc::now();
            if let Some(stored) = s.shipments.get_mut(&id) {
                stored.status = next;
            }
            s.follow_shipments(shipment.order, now)?;
            Ok(ShipmentChange {
                shipment: s.shipment(id)?.clone(),
                order_status: s.order(shipment.order)?.status,
            })
        })
    }

    fn track_shipment(&self, id: ShipmentId, tracking: Tracking) -> Result<Shipment, DomainError> {
        self.atomically(|s| {
            let tracked = s.shipment(id)?.retracked(tracking)?;
            s.shipments.insert(id, tracked.clone());
            Ok(tracked)
        })
    }

    fn shipment(&self, id: ShipmentId) -> Result<Shipment, DomainError> {
        self.read(|s| s.shipment(id).cloned())
    }

    fn order_shipments(&self, order: OrderId) -> Result<Vec<Shipment>, DomainError> {
        self.read(|s| {
            s.order(order)?;
            Ok(s.shipments_of(order))
        })
    }

    fn cancel_units(&self, new: NewCancellation) -> Result<UnitsCancelled, DomainError> {
        self.atomically(|s| {
            let order = s.order(new.order)?.clone();
            let cancellations = s.cancellations_of(order.id);
            if let Some(done) = cancellation_replay(&new, &cancellations)? {
                return Ok(UnitsCancelled {
                    cancellation: done,
                    payments: s.payments_of(order.id),
                    order_status: order.status,
                    applied: Applied::Duplicate,
                });
            }
            let units = check_cancellation(
                &new,
                &Fulfillment {
                    order: order.id,
                    status: order.status,
                    lines: &order.lines,
                    reservations: &s.reservations_of(order.id),
                    shipments: &s.shipments_of(order.id),
                    cancellations: &cancellations,
                },
            )?;
            let id = s.next();
            let reason = cancellation_reason(id);
            let back = released(&units, &order.lines);
            for (location, variant, n) in back.at_locations {
                let movement = InventoryMove {
                    kind: MoveKind::Release,
                    quantity: i64::from(n),
                };
                s.book_move(location, variant, movement, reason.clone())?;
            }
            for (variant, n) in back.to_counts {
                let stock = &mut s.variant_mut(variant)?.stock_on_hand;
                *stock = stock.saturating_add(n);
            }
            let payments = s.payments_of(order.id);
            let returns = s.returns_of(order.id);
            match cancellation_settlement(&order, &payments, id, &units, &returns, &cancellations)?
            {
                CancellationSettlement::Reduce(events) => {
                    s.book_events(order.id, events, reduction_order_event)?;
                }
                CancellationSettlement::Refund(Some(refund)) => {
                    s.book_refund(order.id, &refund, self.rules.refund_priority)?;
                }
                CancellationSettlement::Refund(None) => {}
            }
            let payments = s.payments_of(order.id);
            let key = cancellation_refund_key(id);
            let cancellation = Cancellation {
                id,
                order: order.id,
                key: new.key,
                units,
                reason: new.reason,
                refunded: refunded_under(&key, order.currency, &payments)?,
                released: released_under(&key, order.currency, &payments)?,
                created_at: Utc::now(),
            };
            s.cancellations.insert(id, cancellation.clone());
            s.follow_shipments(order.id, Utc::now())?;
            Ok(UnitsCancelled {
                cancellation,
                payments: s.payments_of(order.id),
                order_status: s.order(order.id)?.status,
                applied: Applied::Changed,
            })
        })
    }

    fn order_cancellations(&self, order: OrderId) -> Result<Vec<Cancellation>, DomainError> {
        self.read(|s| {
            s.order(order)?;
            Ok(s.cancellations_of(order))
        })
    }
}

/// The reason a shipment's moves are booked under.
pub(super) fn shipment_reason(id: ShipmentId) -> Option<Reason> {
    Reason::parse(&format!("shipment {id}")).ok()
}
