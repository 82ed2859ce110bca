//! Payments: loading them with their ledgers, and writing what the domain's payment
//! machine decided. A gift card's payment moves the card's balance with it: the
//! spend at checkout and every refund of it are booked in the card's ledger in the
//! same statement that moves the balance.

use diesel::prelude::*;
use ecom_domain::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

use crate::StoreError;
use crate::error::taken;
use crate::outbox;
use crate::rows::{PaymentEventRow, PaymentRow};
use crate::schema::{payment_events, payments};
use crate::sql::{Bind, CachedSql, keyed};

keyed! {
    /// A payment's new amounts and status, kept prepared (see `crate::sql`): every
    /// provider report runs it.
    SAVE_PAYMENT = "UPDATE payments SET authorized = $1, captured = $2, refunded = $3, status = $4, \
     provider_ref = $5, released = $6, updated_at = now() WHERE id = $7";
}

keyed! {
    /// Moves a card's balance by $2 (negative: spent) for payment $4 and books the
    /// entry of kind $3 with the balance after it. Its caller holds the card's lock
    /// (a checkout) or the order's (a refund); the balance CHECK is the last line.
    BOOK_GIFT_CARD = "\
WITH card AS (
    UPDATE gift_cards SET balance = balance + $2, updated_at = now() WHERE id = $1
    RETURNING id, balance
)
INSERT INTO gift_card_entries (gift_card_id, kind, amount, payment_id, balance_after)
SELECT id, $3, abs($2), $4, balance FROM card";
}

fn book_gift_card(
    conn: &mut PgConnection,
    card: GiftCardId,
    kind: GiftCardEntryKind,
    change: Decimal,
    payment: PaymentId,
) -> Result<(), StoreError> {
    let binds = vec![
        Bind::BigInt(card.get()),
        Bind::Numeric(change),
        Bind::Text(kind.as_str().to_owned()),
        Bind::BigInt(payment.get()),
    ];
    let booked = CachedSql::keyed::<BOOK_GIFT_CARD>(binds).execute(conn)?;
    if booked == 0 {
        return Err(DomainError::not_found("gift card", card).into());
    }
    Ok(())
}

/// A gift card's payment of `amount` for `order`: inserted captured, with its
/// events, and the card's balance taken down by as much (the caller holds the
/// card's lock and checked the balance covers it).
pub(crate) fn spend_gift_card(
    conn: &mut PgConnection,
    order: OrderId,
    card: GiftCardId,
    amount: Money,
) -> Result<Payment, StoreError> {
    let id: i64 = diesel::insert_into(payments::table)
        .values((
            payments::order_id.eq(order.get()),
            payments::provider.eq(ProviderName::GIFT_CARD),
            payments::gift_card_id.eq(card.get()),
            payments::currency.eq(amount.currency().code()),
            payments::amount.eq(amount.amount()),
            payments::authorized.eq(amount.amount()),
            payments::captured.eq(amount.amount()),
            payments::status.eq(PaymentStatus::Captured.as_str()),
        ))
        .returning(payments::id)
        .get_result(conn)?;
    let payment = Payment::from_gift_card(PaymentId::new(id), order, card, amount)?;
    let events: Vec<_> = payment
        .events
        .iter()
        .map(|e| {
            (
                payment_events::payment_id.eq(id),
                payment_events::kind.eq(e.action.kind().as_str()),
                payment_events::amount.eq(amount.amount()),
                payment_events::idempotency_key.eq(e.key.as_str()),
            )
        })
        .collect();
    diesel::insert_into(payment_events::table)
        .values(events)
        .execute(conn)?;
    book_gift_card(
        conn,
        card,
        GiftCardEntryKind::Redeem,
        -amount.amount(),
        payment.id,
    )?;
    Ok(payment)
}

fn with_events(conn: &mut PgConnection, rows: Vec<PaymentRow>) -> Result<Vec<Payment>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut events = payment_events::table
        .filter(payment_events::payment_id.eq_any(&ids))
        .order(payment_events::id)
        .select(PaymentEventRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut events)
                .into_iter()
                .partition(|e| e.payment_id == row.id);
            events = rest;
            row.into_payment(mine)
        })
        .collect()
}

/// The payments of an order, by id, with their ledgers.
pub(crate) fn load_payments(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<Payment>, StoreError> {
    let rows = payments::table
        .filter(payments::order_id.eq(order.get()))
        .order(payments::id)
        .select(PaymentRow::as_select())
        .load(conn)?;
    with_events(conn, rows)
}

/// One payment with its ledger; `lock` takes its row `FOR UPDATE`.
pub(crate) fn load_payment(
    conn: &mut PgConnection,
    id: PaymentId,
    lock: bool,
) -> Result<Payment, StoreError> {
    let query = payments::table
        .find(id.get())
        .select(PaymentRow::as_select());
    let row = if lock {
        query.for_update().first(conn)
    } else {
        query.first(conn)
    }
    .optional()?
    .ok_or_else(|| DomainError::not_found("payment", id))?;
    Ok(with_events(conn, vec![row])?.remove(0))
}

/// Writes a payment's new state and the event that produced it, plus its outbox row.
pub(crate) fn save_applied(
    conn: &mut PgConnection,
    payment: &Payment,
    event: &PaymentEvent,
) -> Result<(), StoreError> {
    let binds = vec![
        Bind::Numeric(payment.authorized.amount()),
        Bind::Numeric(payment.captured.amount()),
        Bind::Numeric(payment.refunded.amount()),
        Bind::Text(payment.status.as_str().to_owned()),
        Bind::NullableText(payment.provider_ref.as_ref().map(|r| r.as_str().to_owned())),
        Bind::Numeric(payment.released.amount()),
        Bind::BigInt(payment.id.get()),
    ];
    CachedSql::keyed::<SAVE_PAYMENT>(binds)
        .execute(conn)
        .map_err(|e| {
            let reference = payment
                .provider_ref
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default();
            taken(
                e.into(),
                "payments_provider_ref_key",
                Taken::ProviderRef,
                reference,
            )
        })?;
    let (reference, reason) = match &event.action {
        PaymentAction::Authorize { provider_ref, .. } => {
            (provider_ref.as_ref().map(|r| r.as_str().to_owned()), None)
        }
        PaymentAction::Refund { reason, .. } => {
            (None, reason.as_ref().map(|r| r.as_str().to_owned()))
        }
        PaymentAction::Fail { reason } => (None, Some(reason.as_str().to_owned())),
        PaymentAction::Capture { .. } | PaymentAction::Void | PaymentAction::Reduce { .. } => {
            (None, None)
        }
    };
    let amount = event.action.amount().map_or(Decimal::ZERO, |m| m.amount());
    if let (Some(card), PaymentAction::Refund { .. }) = (payment.gift_card, &event.action) {
        book_gift_card(conn, card, GiftCardEntryKind::Refund, amount, payment.id)?;
    }
    diesel::insert_into(payment_events::table)
        .values((
            payment_events::payment_id.eq(payment.id.get()),
            payment_events::kind.eq(event.action.kind().as_str()),
            payment_events::amount.eq(amount),
            payment_events::idempotency_key.eq(event.key.as_str()),
            payment_events::provider_event_id.eq(reference),
            payment_events::reason.eq(reason),
        ))
        .execute(conn)?;
    outbox::record(
        conn,
        "payment",
        payment.id.get(),
        &format!("payment.{}", event.action.kind()),
        json!({
            "payment_id": payment.id.get(),
            "order_id": payment.order_id.get(),
            "amount": amount.to_string(),
            "status": payment.status.as_str(),
            // What is due now: a `payment.reduce` tells the provider's integration
            // to lower the authorization to it.
            "due": payment.due().amount().to_string(),
            "authorized": payment.authorized.amount().to_string(),
            "captured": payment.captured.amount().to_string(),
            "refunded": payment.refunded.amount().to_string(),
        }),
    )
}

/// Voids or refunds the payments of an order being cancelled or expired (the order
/// row is already locked by the caller).
pub(crate) fn settle_payments(conn: &mut PgConnection, order: OrderId) -> Result<(), StoreError> {
    let ids: Vec<i64> = payments::table
        .filter(payments::order_id.eq(order.get()))
        .order(payments::id)
        .select(payments::id)
        .load(conn)?;
    for id in ids {
        let mut payment = load_payment(conn, PaymentId::new(id), true)?;
        if let Some(settlement) = payment.settlement_on_cancel() {
            payment.apply(settlement.clone())?;
            save_applied(conn, &payment, &settlement)?;
        }
    }
    Ok(())
}
