//! Returns: their rows and lines, locked `FOR UPDATE` while they change, and the
//! units they put back onto variants' own counts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::prelude::*;
use ecom_domain::returns::refunded_by;

use crate::StoreError;
use crate::rows::{corrupt, parse_enum};
use crate::schema::{product_variants, return_lines, returns};

type ReturnRow = (
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<i64>,
    Option<String>,
    Option<bool>,
    DateTime<Utc>,
);

const RETURN_COLUMNS: (
    returns::id,
    returns::order_id,
    returns::reason,
    returns::note,
    returns::status,
    returns::location_id,
    returns::condition,
    returns::refund_shipping,
    returns::created_at,
) = (
    returns::id,
    returns::order_id,
    returns::reason,
    returns::note,
    returns::status,
    returns::location_id,
    returns::condition,
    returns::refund_shipping,
    returns::created_at,
);

/// Returns of `rows` with their lines (all of them, by return then line) and
/// what each refunded, read off the order's `payments`.
fn with_lines(
    rows: Vec<ReturnRow>,
    lines: Vec<(i64, i16, i32)>,
    currency: Currency,
    payments: &[Payment],
) -> Result<Vec<Return>, StoreError> {
    rows.into_iter()
        .map(
            |(
                id,
                order,
                reason,
                note,
                status,
                location,
                condition,
                refund_shipping,
                created_at,
            )| {
                let lines = lines
                    .iter()
                    .filter(|(r, _, _)| *r == id)
                    .map(|(_, line_no, quantity)| {
                        Ok(ReturnLine {
                            line_no: u16::try_from(*line_no)
                                .map_err(|e| corrupt("line number", e))?,
                            quantity: Quantity::new(i64::from(*quantity))
                                .map_err(|e| corrupt("returned units", e))?,
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                let receipt = match (location, condition, refund_shipping) {
                    (Some(location), Some(condition), Some(refund_shipping)) => {
                        Some(ReturnReceipt {
                            location: StockLocationId::new(location),
                            condition: parse_enum("item condition", &condition)?,
                            refund_shipping,
                        })
                    }
                    _ => None,
                };
                let status: ReturnStatus = parse_enum("return status", &status)?;
                let id = ReturnId::new(id);
                Ok(Return {
                    id,
                    order: OrderId::new(order),
                    lines,
                    reason: parse_enum("return reason", &reason)?,
                    note: note
                        .map(|n| Reason::parse(&n).map_err(|e| corrupt("return note", e)))
                        .transpose()?,
                    status,
                    receipt,
                    refunded: (status == ReturnStatus::Received)
                        .then(|| refunded_by(id, currency, payments))
                        .transpose()?,
                    created_at,
                })
            },
        )
        .collect()
}

fn lines_of(conn: &mut PgConnection, ids: &[i64]) -> Result<Vec<(i64, i16, i32)>, StoreError> {
    Ok(return_lines::table
        .filter(return_lines::return_id.eq_any(ids))
        .order((return_lines::return_id, return_lines::line_no))
        .select((
            return_lines::return_id,
            return_lines::line_no,
            return_lines::quantity,
        ))
        .load(conn)?)
}

/// An order's returns, oldest first, given its currency and payments.
pub(crate) fn order_returns(
    conn: &mut PgConnection,
    order: OrderId,
    currency: Currency,
    payments: &[Payment],
) -> Result<Vec<Return>, StoreError> {
    let rows: Vec<ReturnRow> = returns::table
        .filter(returns::order_id.eq(order.get()))
        .order(returns::id)
        .select(RETURN_COLUMNS)
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let lines = lines_of(conn, &ids)?;
    with_lines(rows, lines, currency, payments)
}

/// The order a return belongs to, unlocked: what a change locks first.
pub(crate) fn order_of(conn: &mut PgConnection, id: ReturnId) -> Result<OrderId, StoreError> {
    returns::table
        .find(id.get())
        .select(returns::order_id)
        .first::<i64>(conn)
        .optional()?
        .map(OrderId::new)
        .ok_or_else(|| DomainError::not_found("return", id).into())
}

/// Locks a return's row `FOR UPDATE` (its order locked first).
pub(crate) fn lock(conn: &mut PgConnection, id: ReturnId) -> Result<(), StoreError> {
    returns::table
        .find(id.get())
        .select(returns::id)
        .for_update()
        .first::<i64>(conn)
        .optional()?
        .ok_or_else(|| DomainError::not_found("return", id))?;
    Ok(())
}

/// Inserts a requested return of `lines` (checked by the domain).
pub(crate) fn insert(
    conn: &mut PgConnection,
    new: &NewReturn,
    lines: &[ReturnLine],
) -> Result<Return, StoreError> {
    let (id, created_at): (i64, DateTime<Utc>) = diesel::insert_into(returns::table)
        .values((
            returns::order_id.eq(new.order.get()),
            returns::reason.eq(new.reason.as_str()),
            returns::note.eq(new.note.as_ref().map(Reason::as_str)),
            returns::status.eq(ReturnStatus::Requested.as_str()),
        ))
        .returning((returns::id, returns::created_at))
        .get_result(conn)?;
    let rows = lines
        .iter()
        .map(|l| {
            Ok((
                return_lines::return_id.eq(id),
                return_lines::order_id.eq(new.order.get()),
                return_lines::line_no
                    .eq(i16::try_from(l.line_no).map_err(|e| corrupt("line number", e))?),
                return_lines::quantity.eq(i32::try_from(l.quantity.get())
                    .map_err(|_| DomainError::from(InventoryError::Overflow))?),
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    diesel::insert_into(return_lines::table)
        .values(rows)
        .execute(conn)?;
    Ok(Return {
        id: ReturnId::new(id),
        order: new.order,
        lines: lines.to_vec(),
        reason: new.reason,
        note: new.note.clone(),
        status: ReturnStatus::Requested,
        receipt: None,
        refunded: None,
        created_at,
    })
}

/// Sets a locked return's status (a decision).
pub(crate) fn set_status(
    conn: &mut PgConnection,
    id: ReturnId,
    status: ReturnStatus,
) -> Result<(), StoreError> {
    diesel::update(returns::table.find(id.get()))
        .set((
            returns::status.eq(status.as_str()),
            returns::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks a locked return received with `receipt`.
pub(crate) fn set_received(
    conn: &mut PgConnection,
    id: ReturnId,
    receipt: &ReturnReceipt,
) -> Result<(), StoreError> {
    diesel::update(returns::table.find(id.get()))
        .set((
            returns::status.eq(ReturnStatus::Received.as_str()),
            returns::location_id.eq(Some(receipt.location.get())),
            returns::condition.eq(Some(receipt.condition.as_str())),
            returns::refund_shipping.eq(Some(receipt.refund_shipping)),
            returns::received_at.eq(Some(Utc::now())),
            returns::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Puts units back onto variants' own counts, in variant order.
pub(crate) fn restock_counts(
    conn: &mut PgConnection,
    units: &[(VariantId, u32)],
) -> Result<(), StoreError> {
    for (variant, n) in units {
        let n = i32::try_from(*n).map_err(|_| DomainError::from(InventoryError::Overflow))?;
        diesel::update(product_variants::table.find(variant.get()))
            .set((
                product_variants::stock_on_hand.eq(product_variants::stock_on_hand + n),
                product_variants::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The outbox's event for a return, committed with its change.
pub(crate) fn record(
    conn: &mut PgConnection,
    ret: &Return,
    event_type: &str,
) -> Result<(), StoreError> {
    crate::outbox::record(
        conn,
        "return",
        ret.id.get(),
        event_type,
        serde_json::json!({
            "return_id": ret.id.get(),
            "order_id": ret.order.get(),
            "status": ret.status.as_str(),
            "reason": ret.reason.as_str(),
            "lines": ret.lines.iter().map(|l| serde_json::json!({
                "line_no": l.line_no,
                "quantity": l.quantity.get(),
            })).collect::<Vec<_>>(),
            "location_id": ret.receipt.map(|r| r.location.get()),
            "condition": ret.receipt.map(|r| r.condition.as_str()),
            "refunded": ret.refunded.map(|m| m.amount().to_string()),
        }),
    )
}
