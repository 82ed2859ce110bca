//! Shipments: their rows and lines, locked `FOR UPDATE` while they change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::rows::{corrupt, parse_enum};
use crate::schema::{shipment_lines, shipments};

type ShipmentRow = (
    i64,
    i64,
    Option<String>,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
);

const SHIPMENT_COLUMNS: (
    shipments::id,
    shipments::order_id,
    shipments::idempotency_key,
    shipments::location_id,
    shipments::status,
    shipments::carrier,
    shipments::tracking_number,
    shipments::tracking_url,
    shipments::created_at,
) = (
    shipments::id,
    shipments::order_id,
    shipments::idempotency_key,
    shipments::location_id,
    shipments::status,
    shipments::carrier,
    shipments::tracking_number,
    shipments::tracking_url,
    shipments::created_at,
);

fn tracking(
    carrier: Option<String>,
    number: Option<String>,
    url: Option<String>,
) -> Result<Tracking, StoreError> {
    Ok(Tracking {
        carrier: carrier
            .map(|c| CarrierName::parse(&c).map_err(|e| corrupt("carrier", e)))
            .transpose()?,
        number: number
            .map(|n| TrackingNumber::parse(&n).map_err(|e| corrupt("tracking number", e)))
            .transpose()?,
        url: url
            .map(|u| TrackingUrl::parse(&u).map_err(|e| corrupt("tracking url", e)))
            .transpose()?,
    })
}

/// Shipments of `rows` with their lines (all of them, by shipment then line).
fn with_lines(
    rows: Vec<ShipmentRow>,
    lines: Vec<(i64, i16, i32)>,
) -> Result<Vec<Shipment>, StoreError> {
    rows.into_iter()
        .map(
            |(id, order, key, location, status, carrier, number, url, created_at)| {
                let lines = lines
                    .iter()
                    .filter(|(s, _, _)| *s == id)
                    .map(|(_, line_no, quantity)| {
                        Ok(ShipmentLine {
                            line_no: u16::try_from(*line_no)
                                .map_err(|e| corrupt("line number", e))?,
                            quantity: Quantity::new(i64::from(*quantity))
                                .map_err(|e| corrupt("shipped units", e))?,
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                Ok(Shipment {
                    id: ShipmentId::new(id),
                    order: OrderId::new(order),
                    key: key
                        .map(|k| IdempotencyKey::parse(&k).map_err(|e| corrupt("shipment key", e)))
                        .transpose()?,
                    location: StockLocationId::new(location),
                    lines,
                    tracking: tracking(carrier, number, url)?,
                    status: parse_enum("shipment status", &status)?,
                    created_at,
                })
            },
        )
        .collect()
}

fn lines_of(conn: &mut PgConnection, ids: &[i64]) -> Result<Vec<(i64, i16, i32)>, StoreError> {
    Ok(shipment_lines::table
        .filter(shipment_lines::shipment_id.eq_any(ids))
        .order((shipment_lines::shipment_id, shipment_lines::line_no))
        .select((
            shipment_lines::shipment_id,
            shipment_lines::line_no,
            shipment_lines::quantity,
        ))
        .load(conn)?)
}

/// An order's shipments, oldest first.
pub(crate) fn order_shipments(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<Shipment>, StoreError> {
    let rows: Vec<ShipmentRow> = shipments::table
        .filter(shipments::order_id.eq(order.get()))
        .order(shipments::id)
        .select(SHIPMENT_COLUMNS)
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let lines = lines_of(conn, &ids)?;
    with_lines(rows, lines)
}

/// A shipment; `lock` takes its row `FOR UPDATE`.
pub(crate) fn shipment(
    conn: &mut PgConnection,
    id: ShipmentId,
    lock: bool,
) -> Result<Shipment, StoreError> {
    let query = shipments::table.find(id.get()).select(SHIPMENT_COLUMNS);
    let row: ShipmentRow = if lock {
        query.for_update().first(conn)
    } else {
        query.first(conn)
    }
    .optional()?
    .ok_or_else(|| DomainError::not_found("shipment", id))?;
    let lines = lines_of(conn, &[row.0])?;
    with_lines(vec![row], lines)?
        .pop()
        .ok_or_else(|| DomainError::not_found("shipment", id).into())
}

/// The order a shipment belongs to, unlocked: what a change locks first.
pub(crate) fn order_of(conn: &mut PgConnection, id: ShipmentId) -> Result<OrderId, StoreError> {
    shipments::table
        .find(id.get())
        .select(shipments::order_id)
        .first::<i64>(conn)
        .optional()?
        .map(OrderId::new)
        .ok_or_else(|| DomainError::not_found("shipment", id).into())
}

/// Inserts a pending shipment of `lines` (checked by the domain).
pub(crate) fn insert(
    conn: &mut PgConnection,
    new: &NewShipment,
    lines: &[ShipmentLine],
) -> Result<Shipment, StoreError> {
    let (id, created_at): (i64, DateTime<Utc>) = diesel::insert_into(shipments::table)
        .values((
            shipments::order_id.eq(new.order.get()),
            shipments::idempotency_key.eq(new.key.as_str()),
            shipments::location_id.eq(new.location.get()),
            shipments::status.eq(ShipmentStatus::Pending.as_str()),
            shipments::carrier.eq(new.tracking.carrier.as_ref().map(CarrierName::as_str)),
            shipments::tracking_number.eq(new.tracking.number.as_ref().map(TrackingNumber::as_str)),
            shipments::tracking_url.eq(new.tracking.url.as_ref().map(TrackingUrl::as_str)),
        ))
        .returning((shipments::id, shipments::created_at))
        .get_result(conn)?;
    let rows = lines
        .iter()
        .map(|l| {
            Ok((
                shipment_lines::shipment_id.eq(id),
                shipment_lines::order_id.eq(new.order.get()),
                shipment_lines::line_no
                    .eq(i16::try_from(l.line_no).map_err(|e| corrupt("line number", e))?),
                shipment_lines::quantity.eq(i32::try_from(l.quantity.get())
                    .map_err(|_| DomainError::from(InventoryError::Overflow))?),
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    diesel::insert_into(shipment_lines::table)
        .values(rows)
        .execute(conn)?;
    Ok(Shipment {
        id: ShipmentId::new(id),
        order: new.order,
        key: Some(new.key.clone()),
        location: new.location,
        lines: lines.to_vec(),
        tracking: new.tracking.clone(),
        status: ShipmentStatus::Pending,
        created_at,
    })
}

/// Sets a locked shipment's status.
pub(crate) fn set_status(
    conn: &mut PgConnection,
    id: ShipmentId,
    status: ShipmentStatus,
) -> Result<(), StoreError> {
    diesel::update(shipments::table.find(id.get()))
        .set((
            shipments::status.eq(status.as_str()),
            shipments::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sets a locked shipment's carrier and tracking.
pub(crate) fn set_tracking(
    conn: &mut PgConnection,
    id: ShipmentId,
    tracking: &Tracking,
) -> Result<(), StoreError> {
    diesel::update(shipments::table.find(id.get()))
        .set((
            shipments::carrier.eq(tracking.carrier.as_ref().map(CarrierName::as_str)),
            shipments::tracking_number.eq(tracking.number.as_ref().map(TrackingNumber::as_str)),
            shipments::tracking_url.eq(tracking.url.as_ref().map(TrackingUrl::as_str)),
            shipments::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether any of an order's shipments holds units (is not cancelled).
pub(crate) fn has_shipments(conn: &mut PgConnection, order: OrderId) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        shipments::table
            .filter(shipments::order_id.eq(order.get()))
            .filter(shipments::status.ne(ShipmentStatus::Cancelled.as_str())),
    ))
    .get_result(conn)?)
}

/// Refuses an unknown location as not found.
pub(crate) fn ensure_location(
    conn: &mut PgConnection,
    location: StockLocationId,
) -> Result<(), StoreError> {
    let found: bool = diesel::select(diesel::dsl::exists(
        crate::schema::stock_locations::table.find(location.get()),
    ))
    .get_result(conn)?;
    if !found {
        return Err(DomainError::not_found("stock location", location).into());
    }
    Ok(())
}

/// The outbox's event for a shipment, committed with its change.
pub(crate) fn record(
    conn: &mut PgConnection,
    shipment: &Shipment,
    event_type: &str,
) -> Result<(), StoreError> {
    crate::outbox::record(
        conn,
        "shipment",
        shipment.id.get(),
        event_type,
        serde_json::json!({
            "shipment_id": shipment.id.get(),
            "order_id": shipment.order.get(),
            "location_id": shipment.location.get(),
            "status": shipment.status.as_str(),
            "lines": shipment.lines.iter().map(|l| serde_json::json!({
                "line_no": l.line_no,
                "quantity": l.quantity.get(),
            })).collect::<Vec<_>>(),
            "carrier": shipment.tracking.carrier.as_ref().map(CarrierName::as_str),
            "tracking_number": shipment.tracking.number.as_ref().map(TrackingNumber::as_str),
            "tracking_url": shipment.tracking.url.as_ref().map(TrackingUrl::as_str),
        }),
    )
}
