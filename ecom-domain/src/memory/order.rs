//! Orders after checkout in the reference store.

use chrono::Utc;

use crate::catalog::{Page, PageRequest};
use crate::error::DomainError;
use crate::fulfillment::FulfillmentError;
use crate::gift_card::RefundPriority;
use crate::ids::{OrderId, PaymentId, UserId};
use crate::order::{Customer, Order, OrderEvent, OrderStatus};
use crate::payment::{Applied, Payment, PaymentEvent};
use crate::repo::{
    OrderCursor, OrderDetails, OrderReader, OrderRefund, OrderRepository, OrderSummary,
    RefundOutcome, RefundPlan,
};

use super::MemoryStore;
use super::state::State;

impl OrderReader for MemoryStore {
    type Error = DomainError;

    fn order(&self, id: OrderId) -> Result<OrderDetails, DomainError> {
        self.read(|s| {
            let order = s.order(id)?.clone();
            let payments = s
                .payments
                .values()
                .filter(|p| p.order_id == id)
                .cloned()
                .collect();
            Ok(OrderDetails { order, payments })
        })
    }

    fn orders_of_user(
        &self,
        user: UserId,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, DomainError> {
        self.read(|s| {
            s.user(user)?;
            let mut orders: Vec<OrderSummary> = s
                .orders
                .values()
                .filter(|o| o.customer == Customer::User(user))
                .map(|o| s.summary(o))
                .filter(|o| page.after.is_none_or(|after| o.cursor() < after))
                .collect();
            orders.sort_by_key(|o| std::cmp::Reverse(o.cursor()));
            Ok(paginate(orders, page.clamped_limit()))
        })
    }

    fn orders_in_status(
        &self,
        status: OrderStatus,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, DomainError> {
        self.read(|s| {
            let mut orders: Vec<OrderSummary> = s
                .orders
                .values()
                .filter(|o| o.status == status)
                .map(|o| s.summary(o))
                .filter(|o| page.after.is_none_or(|after| o.cursor() > after))
                .collect();
            orders.sort_by_key(OrderSummary::cursor);
            Ok(paginate(orders, page.clamped_limit()))
        })
    }
}

impl OrderRepository for MemoryStore {
    fn transition(
        &self,
        id: OrderId,
        event: OrderEvent,
        note: Option<String>,
    ) -> Result<Order, DomainError> {
        if !event.is_manual() {
            return Err(DomainError::NotAManualEvent(event));
        }
        self.atomically(|s| {
            if matches!(event, OrderEvent::Ship | OrderEvent::Deliver) && s.has_shipments(id) {
                return Err(FulfillmentError::HasShipments(id).into());
            }
            s.change_order(id, event, note, Utc::now())?;
            if event == OrderEvent::Ship {
                s.ship_reserved(id)?;
            }
            if event == OrderEvent::Cancel {
                s.settle_payments(id)?;
            }
            Ok(s.order(id)?.clone())
        })
    }

    fn refund(&self, id: OrderId, refund: OrderRefund) -> Result<RefundOutcome, DomainError> {
        self.atomically(|s| s.book_refund(id, &refund, self.rules.refund_priority))
    }
}

impl State {
    /// Books `refund` of order `id` over its payments, as `priority` spreads it,
    /// and moves the order to refunded when nothing is left. Shared with the
    /// receipt of a return (see `returns.rs`).
    pub(super) fn book_refund(
        &mut self,
        id: OrderId,
        refund: &OrderRefund,
        priority: RefundPriority,
    ) -> Result<RefundOutcome, DomainError> {
        let order = self.order(id)?.clone();
        let payments = self.payments_of(id);
        match refund.plan(&order, &payments, priority)? {
            RefundPlan::Replay => Ok(RefundOutcome {
                payments,
                order_status: order.status,
                applied: Applied::Duplicate,
            }),
            RefundPlan::Book(events) => self.book_events(id, events, RefundPlan::order_event),
        }
    }

    /// Books `events` on order `id`'s payments; then the order takes the event
    /// `follow` reads from its payments, if any (a refund's, or a cancellation's
    /// reduction of what an order not yet paid is due).
    pub(super) fn book_events(
        &mut self,
        id: OrderId,
        events: Vec<(PaymentId, PaymentEvent)>,
        follow: fn(&[Payment], OrderStatus) -> Option<OrderEvent>,
    ) -> Result<RefundOutcome, DomainError> {
        let now = Utc::now();
        for (payment, event) in events {
            self.book_payment_event(payment, event, now)?;
        }
        let status = self.order(id)?.status;
        if let Some(event) = follow(&self.payments_of(id), status) {
            self.change_order(id, event, None, now)?;
        }
        Ok(RefundOutcome {
            payments: self.payments_of(id),
            order_status: self.order(id)?.status,
            applied: Applied::Changed,
        })
    }
}

fn paginate(items: Vec<OrderSummary>, limit: u32) -> Page<OrderSummary, OrderCursor> {
    Page::from_overfetch(items, limit as usize, OrderSummary::cursor)
}
