//! An order: loading it, moving it through the domain's state machine, and the
//! stock its lines hold.

use diesel::prelude::*;
use ecom_domain::prelude::*;
use serde_json::json;

use crate::StoreError;
use crate::outbox;
use crate::rows::{
    HistoryRow, OrderAddressRow, OrderLineRow, OrderRow, TaxLineRow, VariantRow, parse_enum,
};
use crate::schema::{
    order_addresses, order_lines, order_status_history, order_tax_lines, orders, product_variants,
};
use crate::sql::{Bind, CachedSql, Statement};

/// An order's new status, kept prepared (see `crate::sql`): every payment capture
/// runs it.
static SET_ORDER_STATUS: Statement =
    Statement::new("UPDATE orders SET status = $1, updated_at = now() WHERE id = $2");

/// Loads an order with lines, address snapshots and history; `lock` takes the order
/// row `FOR UPDATE`.
pub(crate) fn load_order(
    conn: &mut PgConnection,
    id: OrderId,
    lock: bool,
) -> Result<Order, StoreError> {
    let query = orders::table.find(id.get()).select(OrderRow::as_select());
    let row = if lock {
        query.for_update().first(conn)
    } else {
        query.first(conn)
    }
    .optional()?
    .ok_or_else(|| DomainError::not_found("order", id))?;
    let lines = order_lines::table
        .filter(order_lines::order_id.eq(id.get()))
        .order(order_lines::line_no)
        .select(OrderLineRow::as_select())
        .load(conn)?;
    let addresses = order_addresses::table
        .filter(order_addresses::order_id.eq(id.get()))
        .select(OrderAddressRow::as_select())
        .load(conn)?;
    let history = order_status_history::table
        .filter(order_status_history::order_id.eq(id.get()))
        .order(order_status_history::id)
        .select(HistoryRow::as_select())
        .load(conn)?;
    // Only an order priced from the price book has tax lines.
    let tax_lines = if row.shipping_method_code.is_some() {
        order_tax_lines::table
            .filter(order_tax_lines::order_id.eq(id.get()))
            .order(order_tax_lines::rate_no)
            .select(TaxLineRow::as_select())
            .load(conn)?
    } else {
        Vec::new()
    };
    row.into_order(lines, addresses, history, tax_lines)
}

/// One order event to apply.
pub(crate) struct OrderChange {
    pub id: OrderId,
    pub event: OrderEvent,
    pub note: Option<String>,
    /// True when the caller already holds the order row's lock.
    pub locked: bool,
}

/// Applies an event through the domain's state machine: status, version, history,
/// stock (back to the shelf for cancelled and expired orders) and outbox, in the
/// caller's transaction. Returns the new status.
pub(crate) fn apply_order_event(
    conn: &mut PgConnection,
    change: OrderChange,
) -> Result<OrderStatus, StoreError> {
    let OrderChange {
        id,
        event,
        note,
        locked,
    } = change;
    let query = orders::table.find(id.get()).select(orders::status);
    let current: String = if locked {
        query.first(conn)
    } else {
        query.for_update().first(conn)
    }
    .optional()?
    .ok_or_else(|| DomainError::not_found("order", id))?;
    let from: OrderStatus = parse_enum("order status", &current)?;
    let to = from.apply(event)?;
    CachedSql::new(
        &SET_ORDER_STATUS,
        vec![Bind::Text(to.as_str().to_owned()), Bind::BigInt(id.get())],
    )
    .execute(conn)?;
    diesel::insert_into(order_status_history::table)
        .values((
            order_status_history::order_id.eq(id.get()),
            order_status_history::from_status.eq(from.as_str()),
            order_status_history::to_status.eq(to.as_str()),
            order_status_history::event.eq(event.as_str()),
            order_status_history::note.eq(&note),
        ))
        .execute(conn)?;
    if to.restocks() {
        // The order row is locked and leaves a restocking state only once, so this
        // runs exactly once per order.
        lock_order_variants(conn, id.get())?;
        move_order_stock(conn, id.get(), StockMove::Release)?;
    }
    outbox::record(
        conn,
        "order",
        id.get(),
        "order.status_changed",
        json!({ "order_id": id.get(), "from": from.as_str(), "to": to.as_str(), "event": event.as_str(), "note": note }),
    )?;
    Ok(to)
}

// Variants are found through the cart's or the order's lines, not by an array of
// ids: PostgreSQL cannot estimate `id = ANY($1)` nor `unnest($1)` for a generic plan,
// so statements written that way were planned again on every call (about 0.1 ms
// each); these keep one plan per connection.

/// Locks the variants of `order`'s lines in id order and returns them by id.
/// `FOR NO KEY UPDATE`: the lock an update of non-key columns takes, which does not
/// wait for (nor block) the key share locks that inserting rows referring to a
/// variant takes.
pub(crate) fn lock_order_variants(
    conn: &mut PgConnection,
    order: i64,
) -> Result<Vec<Variant>, StoreError> {
    product_variants::table
        .filter(
            product_variants::id.eq_any(
                order_lines::table
                    .filter(order_lines::order_id.eq(order))
                    .select(order_lines::variant_id),
            ),
        )
        .order(product_variants::id)
        .select(VariantRow::as_select())
        .for_no_key_update()
        .load(conn)?
        .into_iter()
        .map(Variant::try_from)
        .collect()
}

/// Which way [`move_order_stock`] moves an order's units.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StockMove {
    /// Out of stock, into the order (checkout).
    Reserve,
    /// Back from the order into stock (cancellation, expiry).
    Release,
}

/// Moves the units of all of `order`'s lines out of stock or back, in one statement
/// (lines of one variant are summed). The variants must already be locked by
/// [`lock_order_variants`].
pub(crate) fn move_order_stock(
    conn: &mut PgConnection,
    order: i64,
    direction: StockMove,
) -> Result<(), StoreError> {
    static MOVE: Statement = Statement::new(
        "\
UPDATE product_variants v SET stock_on_hand = v.stock_on_hand + $1 * l.units, updated_at = now()
FROM (SELECT variant_id, sum(quantity) AS units FROM order_lines WHERE order_id = $2
      GROUP BY variant_id) AS l
WHERE v.id = l.variant_id",
    );
    let sign = match direction {
        StockMove::Reserve => -1,
        StockMove::Release => 1,
    };
    CachedSql::new(&MOVE, vec![Bind::Int(sign), Bind::BigInt(order)]).execute(conn)?;
    Ok(())
}
