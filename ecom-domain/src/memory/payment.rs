//! Payments in the reference store.

use chrono::Utc;

use crate::error::{DomainError, Taken};
use crate::ids::PaymentId;
use crate::payment::{
    Applied, Payment, PaymentEvent, check_reported, order_accepts, other_statuses,
};
use crate::repo::{PaymentOutcome, PaymentRepository};
use crate::values::{ProviderName, ProviderRef};

use super::MemoryStore;

impl PaymentRepository for MemoryStore {
    type Error = DomainError;

    fn record_payment_event(
        &self,
        payment_id: PaymentId,
        event: PaymentEvent,
    ) -> Result<PaymentOutcome, DomainError> {
        self.atomically(|s| {
            check_reported(&event)?;
            let mut payment = s.payment(payment_id)?.clone();
            if payment.gift_card.is_some() {
                return Err(DomainError::GiftCardPayment(payment_id));
            }
            let order = s.order(payment.order_id)?.clone();
            if payment.check(&event)? == Applied::Duplicate {
                return Ok(PaymentOutcome {
                    payment,
                    order_status: order.status,
                    applied: Applied::Duplicate,
                });
            }
            if !order_accepts(order.status, event.action.kind()) {
                return Err(DomainError::OrderNotPayable {
                    order_id: order.id,
                    status: order.status,
                });
            }
            if let crate::payment::PaymentAction::Authorize {
                provider_ref: Some(reference),
                ..
            } = &event.action
            {
                let taken = s.payments.values().any(|p| {
                    p.id != payment_id
                        && p.provider == payment.provider
                        && p.provider_ref.as_ref() == Some(reference)
                });
                if taken {
                    return Err(DomainError::AlreadyTaken {
                        what: Taken::ProviderRef,
                        value: reference.as_str().to_owned(),
                    });
                }
            }
            payment.apply(event)?;
            let others = other_statuses(&s.payments_of(order.id), payment_id);
            if let Some(order_event) = payment.order_event(order.status, &others) {
                s.change_order(order.id, order_event, None, Utc::now())?;
            }
            s.payments.insert(payment_id, payment.clone());
            Ok(PaymentOutcome {
                payment,
                order_status: s.order(order.id)?.status,
                applied: Applied::Changed,
            })
        })
    }

    fn payment(&self, id: PaymentId) -> Result<Payment, DomainError> {
        self.read(|s| s.payment(id).cloned())
    }

    fn payment_by_provider_ref(
        &self,
        provider: &ProviderName,
        reference: &ProviderRef,
    ) -> Result<Payment, DomainError> {
        self.read(|s| {
            s.payments
                .values()
                .find(|p| p.provider == *provider && p.provider_ref.as_ref() == Some(reference))
                .cloned()
                .ok_or_else(|| DomainError::not_found("payment", reference.as_str()))
        })
    }
}
