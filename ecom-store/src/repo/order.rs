//! Orders after checkout: transitions through the domain's state machine, and the
//! queries a shop needs.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::prelude::*;
use ecom_domain::repo::{RefundPlan, reduction_order_event};
use rust_decimal::Decimal;

use crate::ops::cancellation;
use crate::ops::fulfillment::has_shipments;
use crate::ops::order::{OrderChange, apply_order_event, load_order, ship_reservations};
use crate::ops::payment::{load_payments, save_applied, settle_payments};
use crate::ops::session::{caller, caller_and_order};
use crate::ops::user::require_user;
use crate::rows::{money, parse_enum};
use crate::schema::{order_lines, orders};
use crate::{PgReader, PgStore, StoreError};

#[derive(Debug, Queryable)]
struct SummaryRow {
    id: i64,
    public_id: uuid::Uuid,
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
                reference: OrderRef::new(r.public_id.as_u128()),
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
    orders::public_id,
    orders::status,
    orders::currency,
    orders::grand_total,
    orders::created_at,
) = (
    orders::id,
    orders::public_id,
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
        self.run(|conn| {
            require_user(conn, user, false)?;
            newest_first(conn, Caller::User(user), page)
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
        if !event.is_manual() {
            return Err(DomainError::NotAManualEvent(event).into());
        }
        self.write(|conn| {
            if matches!(event, OrderEvent::Ship | OrderEvent::Deliver) {
                // The order's row first, as every change of it: its shipments
                // are then settled while this runs.
                lock_order_row(conn, id)?;
                if has_shipments(conn, id)? || cancellation::any(conn, id)? {
                    return Err(DomainError::from(FulfillmentError::HasShipments(id)).into());
                }
            }
            let cancel = event == OrderEvent::Cancel;
            if cancel {
                // The order's row, then its payments (and so its gift cards), then
                // its codes and stock as the event gives them back: the lock order
                // of a checkout, so the two never wait on each other in a circle.
                // A cancellation the order refuses rolls all of it back.
                lock_order_row(conn, id)?;
                settle_payments(conn, id)?;
            }
            apply_order_event(
                conn,
                OrderChange {
                    id,
                    event,
                    note: note.clone(),
                    locked: cancel,
                },
            )?;
            if event == OrderEvent::Ship {
                ship_reservations(conn, id.get())?;
            }
            load_order(conn, id, false)
        })
    }

    /// Under the order's lock, which every writer of its payments takes first.
    fn refund(&self, id: OrderId, refund: OrderRefund) -> Result<RefundOutcome, StoreError> {
        self.write(|conn| {
            let order = load_order(conn, id, true)?;
            let payments = load_payments(conn, id)?;
            self.book_refund(conn, &order, payments, &refund)
        })
    }
}

impl PgStore {
    /// Books `refund` of a locked `order` over its `payments`: each payment's
    /// event, and the order's move to refunded when nothing is left. Shared with
    /// the receipt of a return (see `returns.rs`).
    pub(super) fn book_refund(
        &self,
        conn: &mut PgConnection,
        order: &Order,
        payments: Vec<Payment>,
        refund: &OrderRefund,
    ) -> Result<RefundOutcome, StoreError> {
        let plan = refund.plan(order, &payments, self.rules().refund_priority)?;
        let RefundPlan::Book(events) = plan else {
            return Ok(RefundOutcome {
                payments,
                order_status: order.status,
                applied: Applied::Duplicate,
            });
        };
        book_events(conn, order, payments, events, RefundPlan::order_event)
    }

    /// Books `reductions` of what an order not yet paid is due (a cancellation's,
    /// [`CancellationSettlement::Reduce`](ecom_domain::repo::CancellationSettlement)) on
    /// its `payments`, read under the order's lock; the order is paid when what
    /// is still due was captured already.
    pub(super) fn book_reductions(
        &self,
        conn: &mut PgConnection,
        order: &Order,
        payments: Vec<Payment>,
        reductions: Vec<(PaymentId, PaymentEvent)>,
    ) -> Result<RefundOutcome, StoreError> {
        book_events(conn, order, payments, reductions, reduction_order_event)
    }
}

/// Applies `events` to the order's `payments` (read under its lock) and saves
/// each; then the order takes the event `follow` reads from its payments, if any.
fn book_events(
    conn: &mut PgConnection,
    order: &Order,
    mut payments: Vec<Payment>,
    events: Vec<(PaymentId, PaymentEvent)>,
    follow: fn(&[Payment], OrderStatus) -> Option<OrderEvent>,
) -> Result<RefundOutcome, StoreError> {
    for (payment_id, event) in events {
        let payment = payments
            .iter_mut()
            .find(|p| p.id == payment_id)
            .ok_or_else(|| DomainError::not_found("payment", payment_id))?;
        payment.apply(event.clone())?;
        save_applied(conn, payment, &event)?;
    }
    let order_status = match follow(&payments, order.status) {
        Some(event) => apply_order_event(
            conn,
            OrderChange {
                id: order.id,
                event,
                note: None,
                locked: true,
            },
        )?,
        None => order.status,
    };
    Ok(RefundOutcome {
        payments,
        order_status,
        applied: Applied::Changed,
    })
}

/// The owner-scoped order reads behind `CustomerRepository` (see `customer.rs`).
impl PgStore {
    pub(super) fn my_order(
        &self,
        who: &SessionToken,
        reference: OrderRef,
    ) -> Result<OrderDetails, StoreError> {
        self.read(|conn| {
            let (_, id) = caller_and_order(conn, who, reference)?;
            let order = load_order(conn, id, false)?;
            let payments = load_payments(conn, id)?;
            Ok(OrderDetails { order, payments })
        })
    }

    pub(super) fn my_orders(
        &self,
        who: &SessionToken,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, StoreError> {
        self.read(|conn| {
            let who = caller(conn, who)?;
            newest_first(conn, who, page)
        })
    }
}

/// A page of `owner`'s orders, newest first.
fn newest_first(
    conn: &mut PgConnection,
    owner: Caller,
    page: PageRequest<OrderCursor>,
) -> Result<Page<OrderSummary, OrderCursor>, StoreError> {
    let limit = page.clamped_limit();
    let mut query = orders::table
        .select(SUMMARY_COLUMNS)
        .order((orders::created_at.desc(), orders::id.desc()))
        .limit(i64::from(limit) + 1)
        .into_boxed();
    query = match owner {
        Caller::User(user) => query.filter(orders::user_id.eq(user.get())),
        Caller::Guest(digest) => {
            query.filter(orders::guest_token_digest.eq(digest.as_bytes().to_vec()))
        }
    };
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
}

/// Locks an order's row `FOR UPDATE`; an unknown order is not found.
fn lock_order_row(conn: &mut PgConnection, id: OrderId) -> Result<(), StoreError> {
    orders::table
        .find(id.get())
        .select(orders::id)
        .for_update()
        .first::<i64>(conn)
        .optional()?
        .ok_or_else(|| DomainError::not_found("order", id))?;
    Ok(())
}
