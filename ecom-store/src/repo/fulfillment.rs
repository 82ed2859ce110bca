//! Shipments: each change locks the order, then the shipment, then the levels its
//! units leave (in variant order at its one location), so two shipments of one
//! order queue and a shipment never waits on a checkout in a circle.
//!
//! Cancellations of units lock the order, then its payments as the refund (or,
//! for an order not yet paid, the reduction of what is due) books them, then the
//! variants whose own counts get units back, then the levels reservations are
//! released from: the lock order of an order's cancellation.
//!
//! A shipment's creation looks its key up among the order's shipments, under the
//! order's lock, before anything else: a retried request finds what it made.

use diesel::PgConnection;
use ecom_domain::fulfillment::{
    Fulfillment, cancellation_reason, cancellation_refund_key, check_cancellation, check_shipment,
    order_events, released, units_leaving,
};
use ecom_domain::payment::{refunded_under, released_under};
use ecom_domain::prelude::*;
use ecom_domain::repo::{
    CancellationSettlement, cancellation_replay, cancellation_settlement, shipment_replay,
};

use crate::ops::cancellation as cancel;
use crate::ops::fulfillment as ship;
use crate::ops::inventory as stock;
use crate::ops::order::{OrderChange, apply_order_event, load_order, load_order_head};
use crate::ops::payment::load_payments;
use crate::ops::returns as rma;
use crate::{PgStore, StoreError};

impl PgStore {
    /// An order's cancellations, with what each refunded (its payments are read
    /// only when it has any).
    pub(super) fn cancellations_of_order(
        &self,
        conn: &mut PgConnection,
        order: OrderId,
        currency: Currency,
    ) -> Result<Vec<Cancellation>, StoreError> {
        let rows = cancel::order_rows(conn, order)?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let payments = load_payments(conn, order)?;
        cancel::from_rows(order, rows, currency, &payments)
    }
}

impl FulfillmentRepository for PgStore {
    type Error = StoreError;

    fn create_shipment(&self, new: NewShipment) -> Result<ShipmentCreated, StoreError> {
        self.write(|conn| {
            let order = load_order_head(conn, new.order, true)?;
            let shipments = ship::order_shipments(conn, new.order)?;
            if let Some(done) = shipment_replay(&new, &shipments)? {
                return Ok(ShipmentCreated {
                    shipment: done,
                    applied: Applied::Duplicate,
                });
            }
            ship::ensure_location(conn, new.location)?;
            let reservations = stock::reservations(conn, new.order)?;
            let cancellations = self.cancellations_of_order(conn, order.id, order.currency)?;
            let so_far = Fulfillment {
                order: order.id,
                status: order.status,
                lines: &order.lines,
                reservations: &reservations,
                shipments: &shipments,
                cancellations: &cancellations,
            };
            let lines = check_shipment(&new, &so_far).map_err(DomainError::from)?;
            let shipment = ship::insert(conn, &new, &lines)?;
            ship::record(conn, &shipment, "shipment.created")?;
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
    ) -> Result<ShipmentChange, StoreError> {
        self.write(|conn| {
            let order_id = ship::order_of(conn, id)?;
            let order = load_order_head(conn, order_id, true)?;
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
            let cancellations = self.cancellations_of_order(conn, order.id, order.currency)?;
            let mut order_status = order.status;
            for event in order_events(order.status, &order.lines, &shipments, &cancellations) {
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
            load_order_head(conn, order, false)?;
            ship::order_shipments(conn, order)
        })
    }

    fn cancel_units(&self, new: NewCancellation) -> Result<UnitsCancelled, StoreError> {
        self.write(|conn| {
            let order = load_order(conn, new.order, true)?;
            let payments = load_payments(conn, order.id)?;
            let cancellations = cancel::from_rows(
                order.id,
                cancel::order_rows(conn, order.id)?,
                order.currency,
                &payments,
            )?;
            if let Some(done) = cancellation_replay(&new, &cancellations)? {
                return Ok(UnitsCancelled {
                    cancellation: done,
                    payments,
                    order_status: order.status,
                    applied: Applied::Duplicate,
                });
            }
            let reservations = stock::reservations(conn, order.id)?;
            let shipments = ship::order_shipments(conn, order.id)?;
            let units = check_cancellation(
                &new,
                &Fulfillment {
                    order: order.id,
                    status: order.status,
                    lines: &order.lines,
                    reservations: &reservations,
                    shipments: &shipments,
                    cancellations: &cancellations,
                },
            )
            .map_err(DomainError::from)?;
            let (id, created_at) = cancel::insert(conn, &new, &units)?;
            let returns = rma::order_returns(conn, order.id, order.currency, &payments)?;
            let settlement =
                cancellation_settlement(&order, &payments, id, &units, &returns, &cancellations)?;
            let (payments, mut order_status) = match settlement {
                CancellationSettlement::Reduce(events) => {
                    let outcome = self.book_reductions(conn, &order, payments, events)?;
                    (outcome.payments, outcome.order_status)
                }
                CancellationSettlement::Refund(Some(refund)) => {
                    let outcome = self.book_refund(conn, &order, payments, &refund)?;
                    (outcome.payments, outcome.order_status)
                }
                CancellationSettlement::Refund(None) => (payments, order.status),
            };
            let key = cancellation_refund_key(id);
            let back = released(&units, &order.lines);
            rma::restock_counts(conn, &back.to_counts)?;
            let reason = cancellation_reason(id);
            for (location, variant, n) in back.at_locations {
                let level = stock::lock_held_level(conn, location, variant)?;
                let movement = InventoryMove {
                    kind: MoveKind::Release,
                    quantity: i64::from(n),
                };
                stock::book(conn, &level, movement, reason.as_ref())?;
            }
            let cancellation = Cancellation {
                id,
                order: order.id,
                key: new.key.clone(),
                units,
                reason: new.reason.clone(),
                refunded: refunded_under(&key, order.currency, &payments)
                    .map_err(DomainError::from)?,
                released: released_under(&key, order.currency, &payments)
                    .map_err(DomainError::from)?,
                created_at,
            };
            cancel::record(conn, &cancellation)?;
            let mut all = cancellations;
            all.push(cancellation.clone());
            for event in order_events(order_status, &order.lines, &shipments, &all) {
                let change = OrderChange {
                    id: order.id,
                    event,
                    note: None,
                    locked: true,
                };
                order_status = apply_order_event(conn, change)?;
            }
            Ok(UnitsCancelled {
                cancellation,
                payments,
                order_status,
                applied: Applied::Changed,
            })
        })
    }

    fn order_cancellations(&self, order: OrderId) -> Result<Vec<Cancellation>, StoreError> {
        self.read(|conn| {
            let order = load_order_head(conn, order, false)?;
            self.cancellations_of_order(conn, order.id, order.currency)
        })
    }
}
