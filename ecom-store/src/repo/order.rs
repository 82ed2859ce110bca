//! Orders after checkout: transitions through the domain's state machine, and the
//! queries a shop needs.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

use crate::outbox;
use crate::repo::checkout::{StockMove, lock_order_products, move_order_stock};
use crate::repo::payment::{load_payments, settle_payments};
use crate::repo::require_user;
use crate::rows::{HistoryRow, OrderAddressRow, OrderLineRow, OrderRow, money, parse_enum};
use crate::schema::{order_addresses, order_lines, order_status_history, orders};
use crate::{PgReader, PgStore, StoreError};

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
    row.into_order(lines, addresses, history)
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
    diesel::update(orders::table.find(id.get()))
        .set((
            orders::status.eq(to.as_str()),
            orders::version.eq(orders::version + 1),
            orders::updated_at.eq(diesel::dsl::now),
        ))
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
        lock_order_products(conn, id.get())?;
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

#[derive(Debug, Queryable)]
struct SummaryRow {
    id: i64,
    status: String,
    currency: String,
    grand_total: Decimal,
    created_at: DateTime<Utc>,
}

fn summaries(
    conn: &mut PgConnection,
    rows: Vec<SummaryRow>,
) -> Result<Vec<OrderSummary>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let counts: Vec<(i64, i64)> = order_lines::table
        .filter(order_lines::order_id.eq_any(&ids))
        .group_by(order_lines::order_id)
        .select((order_lines::order_id, diesel::dsl::count_star()))
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            let count = counts
                .iter()
                .find(|(id, _)| *id == r.id)
                .map_or(0, |(_, n)| *n);
            Ok(OrderSummary {
                id: OrderId::new(r.id),
                status: parse_enum("order status", &r.status)?,
                grand_total: money(r.grand_total, &r.currency)?,
                line_count: u32::try_from(count).unwrap_or(u32::MAX),
                created_at: r.created_at,
            })
        })
        .collect()
}

const SUMMARY_COLUMNS: (
    orders::id,
    orders::status,
    orders::currency,
    orders::grand_total,
    orders::created_at,
) = (
    orders::id,
    orders::status,
    orders::currency,
    orders::grand_total,
    orders::created_at,
);

impl OrderReader for PgReader {
    type Error = StoreError;

    fn order(&self, id: OrderId) -> Result<OrderDetails, StoreError> {
        self.run(|conn| {
            let order = load_order(conn, id, false)?;
            let payments = load_payments(conn, id)?;
            Ok(OrderDetails { order, payments })
        })
    }

    fn orders_of_user(
        &self,
        user: UserId,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, StoreError> {
        let limit = page.clamped_limit();
        self.run(|conn| {
            require_user(conn, user, false)?;
            let mut query = orders::table
                .filter(orders::user_id.eq(user.get()))
                .select(SUMMARY_COLUMNS)
                .order((orders::created_at.desc(), orders::id.desc()))
                .limit(i64::from(limit) + 1)
                .into_boxed();
            if let Some(after) = page.after {
                query = query.filter(
                    orders::created_at
                        .lt(after.created_at)
                        .or(orders::created_at
                            .eq(after.created_at)
                            .and(orders::id.lt(after.id.get()))),
                );
            }
            let rows = query.load::<SummaryRow>(conn)?;
            Ok(Page::from_overfetch(
                summaries(conn, rows)?,
                limit as usize,
                OrderSummary::cursor,
            ))
        })
    }

    fn orders_in_status(
        &self,
        status: OrderStatus,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, StoreError> {
        let limit = page.clamped_limit();
        self.run(|conn| {
            let mut query = orders::table
                .filter(orders::status.eq(status.as_str()))
                .select(SUMMARY_COLUMNS)
                .order((orders::created_at.asc(), orders::id.asc()))
                .limit(i64::from(limit) + 1)
                .into_boxed();
            if let Some(after) = page.after {
                query = query.filter(
                    orders::created_at
                        .gt(after.created_at)
                        .or(orders::created_at
                            .eq(after.created_at)
                            .and(orders::id.gt(after.id.get()))),
                );
            }
            let rows = query.load::<SummaryRow>(conn)?;
            Ok(Page::from_overfetch(
                summaries(conn, rows)?,
                limit as usize,
                OrderSummary::cursor,
            ))
        })
    }
}

/// The same reads on the writer, for callers that must see the latest data.
impl OrderReader for PgStore {
    type Error = StoreError;

    fn order(&self, id: OrderId) -> Result<OrderDetails, StoreError> {
        self.writer_reader().order(id)
    }

    fn orders_of_user(
        &self,
        user: UserId,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, StoreError> {
        self.writer_reader().orders_of_user(user, page)
    }

    fn orders_in_status(
        &self,
        status: OrderStatus,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, StoreError> {
        self.writer_reader().orders_in_status(status, page)
    }
}

impl OrderRepository for PgStore {
    fn transition(
        &self,
        id: OrderId,
        event: OrderEvent,
        note: Option<String>,
    ) -> Result<Order, StoreError> {
        if !matches!(
            event,
            OrderEvent::Ship | OrderEvent::Deliver | OrderEvent::Cancel
        ) {
            return Err(DomainError::NotAManualEvent(event).into());
        }
        self.write(|conn| {
            apply_order_event(
                conn,
                OrderChange {
                    id,
                    event,
                    note: note.clone(),
                    locked: false,
                },
            )?;
            if event == OrderEvent::Cancel {
                settle_payments(conn, id)?;
            }
            load_order(conn, id, false)
        })
    }
}
