//! An order: loading it, moving it through the domain's state machine, and the
//! stock its lines hold.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Numeric, Text};
use ecom_domain::prelude::*;
use ecom_domain::promotion::AppliedPromotion;
use rust_decimal::Decimal;
use serde_json::json;

use crate::StoreError;
use crate::outbox;
use crate::rows::{
    HistoryRow, OrderAddressRow, OrderHead, OrderLineRow, OrderRow, TaxLineRow, VariantRow,
    corrupt, from_json, money, parse_enum,
};
use crate::schema::{
    order_addresses, order_lines, order_status_history, order_tax_lines, orders, product_variants,
};
use crate::sql::{Bind, CachedSql, keyed};

keyed! {
    /// An order's new status, kept prepared (see `crate::sql`): every payment capture
    /// runs it.
    SET_ORDER_STATUS = "UPDATE orders SET status = $1, updated_at = now() WHERE id = $2";
}

/// Loads an order with lines, address snapshots and history; `lock` takes the order
/// row `FOR UPDATE`.
pub(crate) fn load_order(
    conn: &mut PgConnection,
    id: OrderId,
    lock: bool,
) -> Result<Order, StoreError> {
    let (row, lines) = order_row_and_lines(conn, id, lock)?;
    let addresses = order_addresses::table
        .filter(order_addresses::order_id.eq(id.get()))
        .select(OrderAddressRow::as_select())
        .load(conn)?;
    let history = order_status_history::table
        .filter(order_status_history::order_id.eq(id.get()))
        .order(order_status_history::id)
        .select(HistoryRow::as_select())
        .load(conn)?;
    // Only an order priced from the price book has tax lines and promotions.
    let (tax_lines, promotions) = if row.shipping_method_code.is_some() {
        let tax_lines = order_tax_lines(conn, id)?;
        (tax_lines, order_promotions(conn, id, &row.currency)?)
    } else {
        (Vec::new(), Vec::new())
    };
    row.into_order(lines, addresses, history, tax_lines, promotions)
}

/// An order's row (locked `FOR UPDATE` with `lock`) and its lines, by line number.
fn order_row_and_lines(
    conn: &mut PgConnection,
    id: OrderId,
    lock: bool,
) -> Result<(OrderRow, Vec<OrderLineRow>), StoreError> {
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
    Ok((row, lines))
}

/// An order's tax lines, by rate number.
fn order_tax_lines(conn: &mut PgConnection, id: OrderId) -> Result<Vec<TaxLineRow>, StoreError> {
    Ok(order_tax_lines::table
        .filter(order_tax_lines::order_id.eq(id.get()))
        .order(order_tax_lines::rate_no)
        .select(TaxLineRow::as_select())
        .load(conn)?)
}

/// An order's head: its row (locked `FOR UPDATE` with `lock`) and lines, and its
/// tax lines when it was priced from the price book (its lines' rates); two or
/// three statements where [`load_order`] takes four to six, for the shipment
/// path, which needs no addresses, history nor invoice.
pub(crate) fn load_order_head(
    conn: &mut PgConnection,
    id: OrderId,
    lock: bool,
) -> Result<OrderHead, StoreError> {
    let (row, lines) = order_row_and_lines(conn, id, lock)?;
    let tax_lines = if row.shipping_method_code.is_some() {
        order_tax_lines(conn, id)?
    } else {
        Vec::new()
    };
    row.into_head(lines, &tax_lines)
}

keyed! {
    /// Gives back the uses of an order's coupon codes: each redemption is released
    /// once (the caller holds the order's lock).
    RELEASE_CODES = "\
WITH released AS (
    UPDATE coupon_redemptions SET released_at = now()
    WHERE order_id = $1 AND released_at IS NULL
    RETURNING code
)
UPDATE coupon_codes c SET uses = c.uses - 1 FROM released r WHERE c.code = r.code";
}

keyed! {
    /// Cancels an order's shipments that have not left: the order is cancelled.
    CANCEL_OPEN_SHIPMENTS = "\
UPDATE shipments SET status = 'cancelled', updated_at = now()
WHERE order_id = $1 AND status IN ('pending', 'packed')";
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
    CachedSql::keyed::<SET_ORDER_STATUS>(vec![
        Bind::Text(to.as_str().to_owned()),
        Bind::BigInt(id.get()),
    ])
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
        // runs exactly once per order. Codes before variants: the lock order of a
        // checkout.
        CachedSql::keyed::<RELEASE_CODES>(vec![Bind::BigInt(id.get())]).execute(conn)?;
        CachedSql::keyed::<CANCEL_OPEN_SHIPMENTS>(vec![Bind::BigInt(id.get())]).execute(conn)?;
        lock_order_variants(conn, id.get())?;
        move_order_stock(conn, id.get(), StockMove::Release)?;
        release_reservations(conn, id.get())?;
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

/// Moves the units of `order`'s lines that hold no reservation at a location (their
/// variants are kept as one count) out of stock or back, in one statement (lines of
/// one variant are summed; units cancelled before went back with their
/// cancellation). The variants must already be locked by [`lock_order_variants`].
pub(crate) fn move_order_stock(
    conn: &mut PgConnection,
    order: i64,
    direction: StockMove,
) -> Result<(), StoreError> {
    keyed! {
        RESERVE = "\
UPDATE product_variants v SET stock_on_hand = v.stock_on_hand - l.units, updated_at = now()
FROM (SELECT variant_id, sum(quantity) AS units FROM order_lines o WHERE order_id = $1
        AND NOT EXISTS (SELECT FROM order_reservations r
                        WHERE r.order_id = o.order_id AND r.line_no = o.line_no)
      GROUP BY variant_id) AS l
WHERE v.id = l.variant_id";
        RELEASE = "\
UPDATE product_variants v SET stock_on_hand = v.stock_on_hand + l.units, updated_at = now()
FROM (SELECT variant_id,
             sum(quantity - coalesce((SELECT sum(c.quantity) FROM order_cancellation_lines c
                                      WHERE c.order_id = o.order_id AND c.line_no = o.line_no),
                                     0)) AS units
      FROM order_lines o WHERE order_id = $1
        AND NOT EXISTS (SELECT FROM order_reservations r
                        WHERE r.order_id = o.order_id AND r.line_no = o.line_no)
      GROUP BY variant_id) AS l
WHERE v.id = l.variant_id";
    }
    let bind = vec![Bind::BigInt(order)];
    match direction {
        StockMove::Reserve => CachedSql::keyed::<RESERVE>(bind).execute(conn)?,
        StockMove::Release => CachedSql::keyed::<RELEASE>(bind).execute(conn)?,
    };
    Ok(())
}

keyed! {
    // The levels an order's reservations hold units at, locked in (location,
    // variant) order: the order every change of levels locks in.
    LOCK_RESERVED_LEVELS = "\
SELECT l.location_id FROM order_reservations r
JOIN inventory_levels l ON l.location_id = r.location_id AND l.variant_id = r.variant_id
WHERE r.order_id = $1
ORDER BY l.location_id, l.variant_id
FOR UPDATE OF l";
    // Their units back out of reserved, each level's change a ledger row carrying
    // the level after it (the ledger's triggers check it follows).
    // Units cancelled before went back with their cancellation.
    RELEASE_RESERVED = "\
WITH held AS (
    SELECT r.location_id, r.variant_id, sum(r.quantity - coalesce(c.units, 0))::integer AS units
    FROM order_reservations r
    LEFT JOIN (SELECT line_no, location_id, sum(quantity) AS units
               FROM order_cancellation_lines WHERE order_id = $1
               GROUP BY line_no, location_id) c
           ON c.line_no = r.line_no AND c.location_id = r.location_id
    WHERE r.order_id = $1 GROUP BY r.location_id, r.variant_id
    HAVING sum(r.quantity - coalesce(c.units, 0)) > 0
), released AS (
    UPDATE inventory_levels l SET reserved = l.reserved - h.units, updated_at = now()
    FROM held h WHERE l.location_id = h.location_id AND l.variant_id = h.variant_id
    RETURNING l.location_id, l.variant_id, h.units, l.on_hand, l.reserved
)
INSERT INTO inventory_moves
    (location_id, variant_id, kind, quantity, on_hand_after, reserved_after, reason)
SELECT location_id, variant_id, 'release', units, on_hand, reserved, 'order ' || $1
FROM released ORDER BY location_id, variant_id";
}

/// Books the units `order`'s reservations hold at locations as shipped (the order
/// shipped as a whole, without shipments): on hand and reserved both go down.
pub(crate) fn ship_reservations(conn: &mut PgConnection, order: i64) -> Result<(), StoreError> {
    keyed! {
        SHIP_RESERVED = "\
WITH held AS (
    SELECT location_id, variant_id, sum(quantity)::integer AS units
    FROM order_reservations WHERE order_id = $1 GROUP BY location_id, variant_id
), shipped AS (
    UPDATE inventory_levels l
    SET on_hand = l.on_hand - h.units, reserved = l.reserved - h.units, updated_at = now()
    FROM held h WHERE l.location_id = h.location_id AND l.variant_id = h.variant_id
    RETURNING l.location_id, l.variant_id, h.units, l.on_hand, l.reserved
)
INSERT INTO inventory_moves
    (location_id, variant_id, kind, quantity, on_hand_after, reserved_after, reason)
SELECT location_id, variant_id, 'shipment', units, on_hand, reserved, 'order ' || $1
FROM shipped ORDER BY location_id, variant_id";
    }
    let locked =
        CachedSql::keyed::<LOCK_RESERVED_LEVELS>(vec![Bind::BigInt(order)]).execute(conn)?;
    if locked > 0 {
        CachedSql::keyed::<SHIP_RESERVED>(vec![Bind::BigInt(order)]).execute(conn)?;
    }
    Ok(())
}

/// Releases the units `order`'s reservations hold at locations (a cancellation or
/// an expiry: the order row is locked and leaves for such a state once, so this
/// runs once). Nothing for an order without reservations.
fn release_reservations(conn: &mut PgConnection, order: i64) -> Result<(), StoreError> {
    let locked =
        CachedSql::keyed::<LOCK_RESERVED_LEVELS>(vec![Bind::BigInt(order)]).execute(conn)?;
    if locked > 0 {
        CachedSql::keyed::<RELEASE_RESERVED>(vec![Bind::BigInt(order)]).execute(conn)?;
    }
    Ok(())
}

keyed! {
    ORDER_PROMOTIONS = "\
SELECT promotion_id, name, code, discount, lines, amount, shipping_amount
FROM order_promotions WHERE order_id = $1 ORDER BY promotion_no";
}

#[derive(QueryableByName)]
struct OrderPromotionRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    promotion_id: Option<i64>,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    code: Option<String>,
    #[diesel(sql_type = Jsonb)]
    discount: serde_json::Value,
    #[diesel(sql_type = Jsonb)]
    lines: serde_json::Value,
    #[diesel(sql_type = Numeric)]
    amount: Decimal,
    #[diesel(sql_type = Numeric)]
    shipping_amount: Decimal,
}

#[derive(serde::Deserialize)]
struct LineAmount {
    variant_id: i64,
    amount: Decimal,
}

/// The promotions an order applied, as they were, in the order they applied.
fn order_promotions(
    conn: &mut PgConnection,
    order: OrderId,
    currency: &str,
) -> Result<Vec<AppliedPromotion>, StoreError> {
    CachedSql::keyed::<ORDER_PROMOTIONS>(vec![Bind::BigInt(order.get())])
        .load::<OrderPromotionRow>(conn)?
        .into_iter()
        .map(|r| {
            let lines: Vec<LineAmount> = from_json("promotion lines", r.lines)?;
            Ok(AppliedPromotion {
                promotion: r.promotion_id.map(PromotionId::new),
                name: PromotionName::try_from(r.name).map_err(|e| corrupt("promotion name", e))?,
                code: r
                    .code
                    .map(CouponCode::try_from)
                    .transpose()
                    .map_err(|e| corrupt("coupon code", e))?,
                discount: from_json("promotion discount", r.discount)?,
                lines: lines
                    .into_iter()
                    .map(|l| Ok((VariantId::new(l.variant_id), money(l.amount, currency)?)))
                    .collect::<Result<_, StoreError>>()?,
                amount: money(r.amount, currency)?,
                shipping: money(r.shipping_amount, currency)?,
            })
        })
        .collect()
}
