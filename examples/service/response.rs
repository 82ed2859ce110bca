//! The JSON the service answers with. Money goes out as a decimal string with its
//! currency, never as a float, so no client rounds a price.

use ecom_domain::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

pub(super) fn money_json(m: Money) -> Value {
    json!({ "amount": m.amount().to_string(), "currency": m.currency().code() })
}

pub(super) fn product_json(p: &Product) -> Value {
    json!({
        "id": p.id, "sku": p.sku.as_str(), "name": p.name.as_str(), "price": money_json(p.price),
        "stock": p.stock_on_hand, "category_id": p.category_id,
    })
}

/// A session just started: its token, shown this once.
pub(super) fn session_json(s: &Session, user: Option<&User>) -> Value {
    json!({
        "token": s.token.as_str(), "expires_at": s.expires_at,
        "user": user.map(|u| json!({ "id": u.id, "email": u.email.as_str() })),
    })
}

/// A cart, named by its public reference.
pub(super) fn cart_json(c: &Cart) -> Value {
    json!({
        "id": c.reference.to_string(), "status": c.status.as_str(), "currency": c.currency.code(),
        "lines": c.lines.iter().map(|l| json!({ "product_id": l.product_id, "quantity": l.quantity.get() })).collect::<Vec<_>>(),
    })
}

pub(super) fn payment_json(p: &Payment) -> Value {
    json!({
        "id": p.id, "status": p.status.as_str(), "amount": money_json(p.amount),
        "authorized": money_json(p.authorized), "captured": money_json(p.captured), "refunded": money_json(p.refunded),
    })
}

/// An order, named by its public reference.
pub(super) fn order_json(o: &Order, payments: &[Payment]) -> Value {
    json!({
        "id": o.reference.to_string(), "status": o.status.as_str(), "currency": o.currency.code(),
        "lines": o.lines.iter().map(|l| json!({
            "line_no": l.line_no, "product_id": l.product_id, "sku": l.sku.as_str(), "name": l.name.as_str(),
            "unit_price": money_json(l.unit_price), "quantity": l.quantity.get(),
        })).collect::<Vec<_>>(),
        "totals": {
            "subtotal": money_json(o.totals.subtotal), "shipping": money_json(o.totals.shipping),
            "tax": money_json(o.totals.tax), "grand_total": money_json(o.totals.grand_total),
        },
        "payment_deadline": o.payment_deadline,
        "history": o.history.iter().map(|h| json!({
            "from": h.from.map(OrderStatus::as_str), "to": h.to.as_str(), "event": h.event.map(OrderEvent::as_str), "at": h.at,
        })).collect::<Vec<_>>(),
        "payments": payments.iter().map(payment_json).collect::<Vec<_>>(),
    })
}

/// What `POST /webhooks/payments` answers.
#[derive(Serialize)]
pub(super) struct PaymentOutcomeBody {
    pub(super) payment: Value,
    pub(super) order_status: &'static str,
    pub(super) duplicate: bool,
}
