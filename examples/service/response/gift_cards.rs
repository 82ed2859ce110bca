//! Gift cards as JSON: a card as the back office reads it, a card just issued
//! (the one time its code is shown), its ledger, and its balance as a customer
//! holding the code reads it; and an order after a refund of it.
//!
//! A card's code is never in an answer but the one that issued it: everything
//! else names a card by its id (staff) or its last four letters (anyone).

use chrono::{DateTime, Utc};
use ecom_domain::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

use super::{MoneyView, PaymentView, one_of, order_status_schema};

fn entry_kind_schema() -> Object {
    one_of(
        GiftCardEntryKind::ALL.iter().map(|k| k.as_str()),
        "`issue` (its value), `redeem` (a checkout spent some) or `refund` (a refund, \
         a cancelled or an expired order gave some back)",
    )
}

/// A gift card, without its code.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GiftCard)]
pub(in crate::service) struct GiftCardView {
    /// The id the back office's routes take.
    id: i64,
    /// The last four letters of its code, which name it to its holder and to
    /// support without giving it away.
    #[schema(example = "P3WZ")]
    last_four: String,
    /// What it was issued with.
    initial_value: MoneyView,
    /// What is left to spend.
    balance: MoneyView,
    /// When it stops being accepted; null: never.
    #[schema(required = true)]
    expires_at: Option<DateTime<Utc>>,
    /// When it was issued.
    created_at: DateTime<Utc>,
}

impl From<&GiftCard> for GiftCardView {
    fn from(c: &GiftCard) -> Self {
        Self {
            id: c.id.get(),
            last_four: c.last_four.clone(),
            initial_value: c.initial_value.into(),
            balance: c.balance.into(),
            expires_at: c.expires_at,
            created_at: c.created_at,
        }
    }
}

/// A gift card just issued, with its code. The code is shown in this answer
/// only, never again: the store keeps its digest, not the code. Hand it to the
/// customer now; a card whose code is lost cannot be spent.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IssuedGiftCard)]
pub(in crate::service) struct IssuedGiftCardView {
    card: GiftCardView,
    /// The code, in groups of four. Shown here once and never again; customers
    /// may type it in any case, with or without the dashes.
    #[schema(example = "7KQ2-M9XD-4HTB-P3WZ")]
    code: String,
}

impl From<&IssuedGiftCard> for IssuedGiftCardView {
    fn from(issued: &IssuedGiftCard) -> Self {
        Self {
            card: (&issued.card).into(),
            code: issued.code.grouped(),
        }
    }
}

/// One change of a card's balance.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GiftCardEntry)]
pub(in crate::service) struct GiftCardEntryView {
    #[schema(schema_with = entry_kind_schema)]
    kind: &'static str,
    /// By how much, above zero: `kind` says which way.
    amount: MoneyView,
    /// The order's payment it was spent on or given back from; null for the
    /// issue.
    #[schema(required = true)]
    payment_id: Option<i64>,
    /// The card's balance after it.
    balance_after: MoneyView,
    at: DateTime<Utc>,
}

impl From<&GiftCardEntry> for GiftCardEntryView {
    fn from(e: &GiftCardEntry) -> Self {
        Self {
            kind: e.kind.as_str(),
            amount: e.amount.into(),
            payment_id: e.payment_id.map(PaymentId::get),
            balance_after: e.balance_after.into(),
            at: e.at,
        }
    }
}

/// A card's ledger, oldest first: its issue, then each redemption and refund.
/// The balance is what they sum to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GiftCardLedger)]
pub(in crate::service) struct GiftCardLedgerView {
    gift_card_id: i64,
    items: Vec<GiftCardEntryView>,
}

impl GiftCardLedgerView {
    pub(in crate::service) fn new(card: GiftCardId, entries: &[GiftCardEntry]) -> Self {
        Self {
            gift_card_id: card.get(),
            items: entries.iter().map(GiftCardEntryView::from).collect(),
        }
    }
}

/// What a customer holding a card's code may know of it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GiftCardBalance)]
pub(in crate::service) struct GiftCardBalanceView {
    /// The last four letters of its code.
    #[schema(example = "P3WZ")]
    last_four: String,
    /// What is left to spend, in the card's currency: only a cart in that
    /// currency can spend it.
    balance: MoneyView,
    /// When it stops being accepted; null: never.
    #[schema(required = true)]
    expires_at: Option<DateTime<Utc>>,
}

impl From<&GiftCard> for GiftCardBalanceView {
    fn from(c: &GiftCard) -> Self {
        Self {
            last_four: c.last_four.clone(),
            balance: c.balance.into(),
            expires_at: c.expires_at,
        }
    }
}

/// An order after a refund: its payments and its status.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OrderRefunded)]
pub(in crate::service) struct OrderRefundView {
    /// The order's id.
    order_id: i64,
    /// `refunded` once every payment is refunded in full.
    #[schema(schema_with = order_status_schema)]
    order_status: &'static str,
    /// Every payment of the order after the refund, gift cards' and the
    /// provider's, by id: their `refunded` say where the money went.
    payments: Vec<PaymentView>,
    /// True when the same refund was booked before (the same key and amount,
    /// or the same line): nothing changed this time.
    duplicate: bool,
}

impl OrderRefundView {
    pub(in crate::service) fn new(order: OrderId, out: &RefundOutcome) -> Self {
        Self {
            order_id: order.get(),
            order_status: out.order_status.as_str(),
            payments: out.payments.iter().map(PaymentView::from).collect(),
            duplicate: out.applied == Applied::Duplicate,
        }
    }
}
