//! Payments: provider reports applied through the domain's payment machine, with
//! the order following. Locks: the order row first, then the payment row, the same
//! order every writer of either uses.

use diesel::prelude::*;
use ecom_domain::payment::{check_reported, order_accepts};
use ecom_domain::prelude::*;

use crate::ops::order::{OrderChange, apply_order_event};
use crate::ops::payment::{load_payment, save_applied};
use crate::rows::parse_enum;
use crate::schema::{orders, payments};
use crate::{PgStore, StoreError};

impl PaymentRepository for PgStore {
    type Error = StoreError;

    fn record_payment_event(
        &self,
        payment_id: PaymentId,
        event: PaymentEvent,
    ) -> Result<PaymentOutcome, StoreError> {
        check_reported(&event).map_err(DomainError::from)?;
        self.write(|conn| {
            let order_id: i64 = payments::table
                .find(payment_id.get())
                .select(payments::order_id)
                .first(conn)
                .optional()?
                .ok_or_else(|| DomainError::not_found("payment", payment_id))?;
            let status: String = orders::table
                .find(order_id)
                .select(orders::status)
                .for_update()
                .first(conn)?;
            let order_status: OrderStatus = parse_enum("order status", &status)?;
            let mut payment = load_payment(conn, payment_id, true)?;
            if payment.gift_card.is_some() {
                return Err(DomainError::GiftCardPayment(payment_id).into());
            }
            if payment.check(&event)? == Applied::Duplicate {
                return Ok(PaymentOutcome {
                    payment,
                    order_status,
                    applied: Applied::Duplicate,
                });
            }
            let order_id = OrderId::new(order_id);
            if !order_accepts(order_status, event.action.kind()) {
                return Err(DomainError::OrderNotPayable {
                    order_id,
                    status: order_status,
                }
                .into());
            }
            payment.apply(event.clone())?;
            save_applied(conn, &payment, &event)?;
            // The order's other payments (its gift cards') matter only when this
            // one would move the order.
            let mut order_event = payment.order_event(order_status, &[]);
            if order_event.is_some() {
                let others: Vec<String> = payments::table
                    .filter(payments::order_id.eq(order_id.get()))
                    .filter(payments::id.ne(payment_id.get()))
                    .select(payments::status)
                    .load(conn)?;
                let others = others
                    .iter()
                    .map(|s| parse_enum("payment status", s))
                    .collect::<Result<Vec<PaymentStatus>, _>>()?;
                order_event = payment.order_event(order_status, &others);
            }
            let order_status = match order_event {
                Some(order_event) => apply_order_event(
                    conn,
                    OrderChange {
                        id: order_id,
                        event: order_event,
                        note: None,
                        locked: true,
                    },
                )?,
                None => order_status,
            };
            Ok(PaymentOutcome {
                payment,
                order_status,
                applied: Applied::Changed,
            })
        })
    }

    fn payment(&self, id: PaymentId) -> Result<Payment, StoreError> {
        self.read(|conn| load_payment(conn, id, false))
    }

    fn payment_by_provider_ref(
        &self,
        provider: &ProviderName,
        reference: &ProviderRef,
    ) -> Result<Payment, StoreError> {
        self.read(|conn| {
            let id: i64 = payments::table
                .filter(payments::provider.eq(provider.as_str()))
                .filter(payments::provider_ref.eq(reference.as_str()))
                .select(payments::id)
                .first(conn)
                .optional()?
                .ok_or_else(|| DomainError::not_found("payment", reference.as_str()))?;
            load_payment(conn, PaymentId::new(id), false)
        })
    }
}
