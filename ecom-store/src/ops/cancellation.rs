//! Cancellations of part of an order: their rows and lines, read in one
//! statement, and the outbox event each one writes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::fulfillment::cancellation_refund_key;
use ecom_domain::payment::{refunded_under, released_under};
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::rows::corrupt;
use crate::schema::{order_cancellation_lines, order_cancellations};

/// A cancellation's row with one of its lines.
type UnitsRow = (
    i64,
    String,
    Option<String>,
    DateTime<Utc>,
    i16,
    Option<i64>,
    i32,
);

/// The rows of `order`'s cancellations with their lines, oldest first; none
/// for an order without (the common case, one index probe).
pub(crate) fn order_rows(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<UnitsRow>, StoreError> {
    Ok(order_cancellations::table
        .inner_join(
            order_cancellation_lines::table.on(order_cancellation_lines::cancellation_id
                .eq(order_cancellations::id)
                .and(order_cancellation_lines::order_id.eq(order_cancellations::order_id))),
        )
        .filter(order_cancellations::order_id.eq(order.get()))
        .order((
            order_cancellations::id,
            order_cancellation_lines::line_no,
            order_cancellation_lines::location_id,
        ))
        .select((
            order_cancellations::id,
            order_cancellations::idempotency_key,
            order_cancellations::reason,
            order_cancellations::created_at,
            order_cancellation_lines::line_no,
            order_cancellation_lines::location_id,
            order_cancellation_lines::quantity,
        ))
        .load(conn)?)
}

/// `order`'s cancellations from its [`order_rows`], with what each refunded
/// read from the order's `payments`.
pub(crate) fn from_rows(
    order: OrderId,
    rows: Vec<UnitsRow>,
    currency: Currency,
    payments: &[Payment],
) -> Result<Vec<Cancellation>, StoreError> {
    let mut all: Vec<Cancellation> = Vec::new();
    for (id, key, reason, created_at, line_no, location, quantity) in rows {
        let units = CancelledUnits {
            line_no: u16::try_from(line_no).map_err(|e| corrupt("line number", e))?,
            location: location.map(StockLocationId::new),
            quantity: Quantity::new(i64::from(quantity))
                .map_err(|e| corrupt("cancelled units", e))?,
        };
        let id = CancellationId::new(id);
        let key_of_store = cancellation_refund_key(id);
        match all.last_mut() {
            Some(last) if last.id == id => last.units.push(units),
            _ => all.push(Cancellation {
                id,
                order,
                key: IdempotencyKey::parse(&key).map_err(|e| corrupt("cancellation key", e))?,
                units: vec![units],
                reason: reason
                    .map(|r| Reason::parse(&r).map_err(|e| corrupt("cancellation reason", e)))
                    .transpose()?,
                refunded: refunded_under(&key_of_store, currency, payments)
                    .map_err(DomainError::from)?,
                released: released_under(&key_of_store, currency, payments)
                    .map_err(DomainError::from)?,
                created_at,
            }),
        }
    }
    Ok(all)
}

/// Inserts a cancellation of `units` and its lines; its id and time.
pub(crate) fn insert(
    conn: &mut PgConnection,
    new: &NewCancellation,
    units: &[CancelledUnits],
) -> Result<(CancellationId, DateTime<Utc>), StoreError> {
    let (id, created_at): (i64, DateTime<Utc>) = diesel::insert_into(order_cancellations::table)
        .values((
            order_cancellations::order_id.eq(new.order.get()),
            order_cancellations::idempotency_key.eq(new.key.as_str()),
            order_cancellations::reason.eq(new.reason.as_ref().map(Reason::as_str)),
        ))
        .returning((order_cancellations::id, order_cancellations::created_at))
        .get_result(conn)?;
    let rows = units
        .iter()
        .map(|u| {
            Ok((
                order_cancellation_lines::cancellation_id.eq(id),
                order_cancellation_lines::order_id.eq(new.order.get()),
                order_cancellation_lines::line_no
                    .eq(i16::try_from(u.line_no).map_err(|e| corrupt("line number", e))?),
                order_cancellation_lines::location_id.eq(u.location.map(StockLocationId::get)),
                order_cancellation_lines::quantity.eq(i32::try_from(u.quantity.get())
                    .map_err(|_| DomainError::from(InventoryError::Overflow))?),
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    diesel::insert_into(order_cancellation_lines::table)
        .values(rows)
        .execute(conn)?;
    Ok((CancellationId::new(id), created_at))
}

/// Whether any of `order`'s units were cancelled.
pub(crate) fn any(conn: &mut PgConnection, order: OrderId) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(
        order_cancellations::table.filter(order_cancellations::order_id.eq(order.get())),
    ))
    .get_result(conn)?)
}

/// The outbox event of a cancellation: `order.units_cancelled`.
pub(crate) fn record(conn: &mut PgConnection, c: &Cancellation) -> Result<(), StoreError> {
    crate::outbox::record(
        conn,
        "order",
        c.order.get(),
        "order.units_cancelled",
        serde_json::json!({
            "cancellation_id": c.id.get(),
            "order_id": c.order.get(),
            "units": c.units.iter().map(|u| serde_json::json!({
                "line_no": u.line_no,
                "location_id": u.location.map(StockLocationId::get),
                "quantity": u.quantity.get(),
            })).collect::<Vec<_>>(),
            "reason": c.reason.as_ref().map(Reason::as_str),
            "refunded": c.refunded.amount().to_string(),
            "released": c.released.amount().to_string(),
        }),
    )
}
