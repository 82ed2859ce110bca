//! Rows of payments and their ledger.

use diesel::prelude::*;
use ecom_domain::prelude::*;
use rust_decimal::Decimal;

use super::value::{corrupt, money, parse_enum};
use crate::StoreError;
use crate::decode::PgDecimal;
use crate::schema::{payment_events, payments};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = payments, check_for_backend(diesel::pg::Pg))]
pub(crate) struct PaymentRow {
    pub id: i64,
    pub order_id: i64,
    pub provider: String,
    pub provider_ref: Option<String>,
    pub currency: String,
    #[diesel(deserialize_as = PgDecimal)]
    pub amount: Decimal,
    #[diesel(deserialize_as = PgDecimal)]
    pub authorized: Decimal,
    #[diesel(deserialize_as = PgDecimal)]
    pub captured: Decimal,
    #[diesel(deserialize_as = PgDecimal)]
    pub refunded: Decimal,
    pub status: String,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = payment_events, check_for_backend(diesel::pg::Pg))]
pub(crate) struct PaymentEventRow {
    pub payment_id: i64,
    pub kind: String,
    #[diesel(deserialize_as = PgDecimal)]
    pub amount: Decimal,
    pub idempotency_key: String,
    pub provider_event_id: Option<String>,
    pub reason: Option<String>,
}

// An authorization's provider reference is kept in its ledger row's
// `provider_event_id`, so that a replayed authorization compares equal.

impl PaymentRow {
    /// The payment with its ledger, oldest event first.
    pub fn into_payment(self, events: Vec<PaymentEventRow>) -> Result<Payment, StoreError> {
        let events = events
            .into_iter()
            .map(|e| {
                let amount = money(e.amount, &self.currency)?;
                let kind: PaymentActionKind = parse_enum("payment event kind", &e.kind)?;
                let reason = e
                    .reason
                    .map(Reason::try_from)
                    .transpose()
                    .map_err(|err| corrupt("reason", err))?;
                let action = match kind {
                    PaymentActionKind::Authorize => PaymentAction::Authorize {
                        amount,
                        provider_ref: e
                            .provider_event_id
                            .as_deref()
                            .map(ProviderRef::parse)
                            .transpose()
                            .map_err(|err| corrupt("provider reference", err))?,
                    },
                    PaymentActionKind::Capture => PaymentAction::Capture { amount },
                    PaymentActionKind::Void => PaymentAction::Void,
                    PaymentActionKind::Refund => PaymentAction::Refund { amount, reason },
                    PaymentActionKind::Fail => PaymentAction::Fail {
                        reason: reason.unwrap_or_default(),
                    },
                };
                let key = IdempotencyKey::stored(&e.idempotency_key)
                    .map_err(|err| corrupt("idempotency key", err))?;
                Ok(PaymentEvent { key, action })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Payment {
            id: PaymentId::new(self.id),
            order_id: OrderId::new(self.order_id),
            provider: ProviderName::parse(&self.provider).map_err(|e| corrupt("provider", e))?,
            provider_ref: self
                .provider_ref
                .as_deref()
                .map(ProviderRef::parse)
                .transpose()
                .map_err(|e| corrupt("provider reference", e))?,
            amount: money(self.amount, &self.currency)?,
            authorized: money(self.authorized, &self.currency)?,
            captured: money(self.captured, &self.currency)?,
            refunded: money(self.refunded, &self.currency)?,
            status: parse_enum("payment status", &self.status)?,
            events,
        })
    }
}
