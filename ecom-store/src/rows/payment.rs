//! Rows of payments and their ledger, and of gift cards and theirs.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::prelude::*;
use rust_decimal::Decimal;

use super::value::{corrupt, money, parse_enum};
use crate::StoreError;
use crate::decode::PgDecimal;
use crate::schema::{gift_card_entries, gift_cards, payment_events, payments};

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
    pub gift_card_id: Option<i64>,
    #[diesel(deserialize_as = PgDecimal)]
    pub released: Decimal,
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
                    PaymentActionKind::Reduce => PaymentAction::Reduce { amount },
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
            gift_card: self.gift_card_id.map(GiftCardId::new),
            provider_ref: self
                .provider_ref
                .as_deref()
                .map(ProviderRef::parse)
                .transpose()
                .map_err(|e| corrupt("provider reference", e))?,
            amount: money(self.amount, &self.currency)?,
            released: money(self.released, &self.currency)?,
            authorized: money(self.authorized, &self.currency)?,
            captured: money(self.captured, &self.currency)?,
            refunded: money(self.refunded, &self.currency)?,
            status: parse_enum("payment status", &self.status)?,
            events,
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = gift_cards, check_for_backend(diesel::pg::Pg))]
pub(crate) struct GiftCardRow {
    pub id: i64,
    pub last_four: String,
    pub currency: String,
    #[diesel(deserialize_as = PgDecimal)]
    pub initial_value: Decimal,
    #[diesel(deserialize_as = PgDecimal)]
    pub balance: Decimal,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<GiftCardRow> for GiftCard {
    type Error = StoreError;

    fn try_from(row: GiftCardRow) -> Result<Self, StoreError> {
        Ok(GiftCard {
            id: GiftCardId::new(row.id),
            last_four: row.last_four,
            initial_value: money(row.initial_value, &row.currency)?,
            balance: money(row.balance, &row.currency)?,
            expires_at: row.expires_at,
            created_at: row.created_at,
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = gift_card_entries, check_for_backend(diesel::pg::Pg))]
pub(crate) struct GiftCardEntryRow {
    pub kind: String,
    #[diesel(deserialize_as = PgDecimal)]
    pub amount: Decimal,
    pub payment_id: Option<i64>,
    #[diesel(deserialize_as = PgDecimal)]
    pub balance_after: Decimal,
    pub at: DateTime<Utc>,
}

impl GiftCardEntryRow {
    /// The entry, in its card's currency.
    pub fn into_entry(self, currency: Currency) -> Result<GiftCardEntry, StoreError> {
        Ok(GiftCardEntry {
            kind: parse_enum("gift card entry kind", &self.kind)?,
            amount: Money::new(self.amount, currency).map_err(|e| corrupt("amount", e))?,
            payment_id: self.payment_id.map(PaymentId::new),
            balance_after: Money::new(self.balance_after, currency)
                .map_err(|e| corrupt("balance", e))?,
            at: self.at,
        })
    }
}
