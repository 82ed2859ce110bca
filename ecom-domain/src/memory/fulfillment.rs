//! Shipments in the reference store.

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::fulfillment::{
    NewShipment, Shipment, ShipmentEvent, ShipmentStatus, Tracking, check_shipment, order_events,
    units_leaving,
};
use crate::ids::{OrderId, ShipmentId};
use crate::repo::{FulfillmentRepository, ShipmentChange};
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

    /// Whether any of an order's shipments holds units: the order is then
    /// fulfilled by them, not shipped or delivered as a whole.
    pub(super) fn has_shipments(&self, order: OrderId) -> bool {
        self.shipments
            .values()
            .any(|s| s.order == order && s.status.holds_units())
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
        let events = order_events(current.status, &current.lines, &self.shipments_of(order));
        for event in events {
            self.change_order(order, event, None, now)?;
        }
        Ok(())
    }
}

impl FulfillmentRepository for MemoryStore {
    type Error = DomainError;

    fn create_shipment(&self, new: NewShipment) -> Result<Shipment, DomainError> {
        self.atomically(|s| {
            let order = s.order(new.order)?;
            if !s.inventory_has_location(new.location) {
                return Err(DomainError::not_found("stock location", new.location));
            }
            let lines = check_shipment(
                &new,
                order.status,
                &order.lines,
                &s.reservations_of(new.order),
                &s.shipments_of(new.order),
            )?;
            let shipment = Shipment {
                id: s.next(),
                order: new.order,
                location: new.location,
                lines,
                tracking: new.tracking,
                status: ShipmentStatus::Pending,
                created_at: Utc::now(),
            };
            s.shipments.insert(shipment.id, shipment.clone());
            Ok(shipment)
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
}

/// The reason a shipment's moves are booked under.
pub(super) fn shipment_reason(id: ShipmentId) -> Option<Reason> {
    Reason::parse(&format!("shipment {id}")).ok()
}
