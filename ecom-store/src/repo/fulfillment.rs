//! Shipments: each change locks the order, then the shipment, then the levels its
//! units leave (in variant order at its one location), so two shipments of one
//! order queue and a shipment never waits on a checkout in a circle.

use ecom_domain::fulfillment::{check_shipment, order_events, units_leaving};
use ecom_domain::prelude::*;

use crate::ops::fulfillment as ship;
use crate::ops::inventory as stock;
use crate::ops::order::{OrderChange, apply_order_event, load_order};
use crate::{PgStore, StoreError};

impl FulfillmentRepository for PgStore {
    type Error = StoreError;

    fn create_shipment(&self, new: NewShipment) -> Result<Shipment, StoreError> {
        self.write(|conn| {
            let order = load_order(conn, new.order, true)?;
            ship::ensure_location(conn, new.location)?;
            let reservations = stock::reservations(conn, new.order)?;
            let shipments = ship::order_shipments(conn, new.order)?;
            let lines = check_shipment(&new, order.status, &order.lines, &reservations, &shipments)
                .map_err(DomainError::from)?;
            let shipment = ship::insert(conn, &new, &lines)?;
            ship::record(conn, &shipment, "shipment.created")?;
            Ok(shipment)
        })
    }

    fn change_shipment(
        &self,
        id: ShipmentId,
        event: ShipmentEvent,
    ) -> Result<ShipmentChange, StoreError> {
        self.write(|conn| {
            let order_id = ship::order_of(conn, id)?;
            let order = load_order(conn, order_id, true)?;
            let mut shipment = ship::shipment(conn, id, true)?;
            let next = shipment.status.apply(event).map_err(DomainError::from)?;
            if next == ShipmentStatus::Shipped {
                let reservations = stock::reservations(conn, order_id)?;
                let reason = Reason::parse(&format!("shipment {id}")).ok();
                for (variant, units) in units_leaving(&shipment, &order.lines, &reservations) {
                    let level = stock::lock_held_level(conn, shipment.location, variant)?;
                    let movement = InventoryMove {
                        kind: MoveKind::Shipment,
                        quantity: i64::from(units),
                    };
                    stock::book(conn, &level, movement, reason.as_ref())?;
                }
            }
            ship::set_status(conn, id, next)?;
            shipment.status = next;
            ship::record(conn, &shipment, "shipment.status_changed")?;
            let shipments = ship::order_shipments(conn, order_id)?;
            let mut order_status = order.status;
            for event in order_events(order.status, &order.lines, &shipments) {
                let change = OrderChange {
                    id: order_id,
                    event,
                    note: None,
                    locked: true,
                };
                order_status = apply_order_event(conn, change)?;
            }
            Ok(ShipmentChange {
                shipment,
                order_status,
            })
        })
    }

    fn track_shipment(&self, id: ShipmentId, tracking: Tracking) -> Result<Shipment, StoreError> {
        self.write(|conn| {
            let tracked = ship::shipment(conn, id, true)?
                .retracked(tracking.clone())
                .map_err(DomainError::from)?;
            ship::set_tracking(conn, id, &tracked.tracking)?;
            Ok(tracked)
        })
    }

    fn shipment(&self, id: ShipmentId) -> Result<Shipment, StoreError> {
        self.read(|conn| ship::shipment(conn, id, false))
    }

    fn order_shipments(&self, order: OrderId) -> Result<Vec<Shipment>, StoreError> {
        self.read(|conn| {
            load_order(conn, order, false)?;
            ship::order_shipments(conn, order)
        })
    }
}
