//! Cancelling part of an order over HTTP: staff cancel units of an order before
//! they ship, their stock comes back and their share of the order is refunded
//! (or, before it is paid, taken off what its payment is due); the customer sees
//! the cancellations, nobody else does.

use serde_json::{Value, json};

use super::shipments::{order_id, provider_pays};
use super::{ADMIN_TOKEN, Fixture, admin_get, code, fixture, new_guest, put_in, shipping};

/// A guest's order of two sencha (line 1, reserved in the Berlin warehouse, which
/// received 4) and the one matcha (line 2, counted: its stock goes to 0): the
/// guest's token, the order as placed, its back-office id and the location's.
fn sencha_and_matcha(f: &Fixture) -> (String, Value, i64, i64) {
    let (sencha, matcha) = (f.variants[0], f.variants[1]);
    let (status, berlin) = f.admin_post(
        "/admin/stock-locations",
        None,
        json!({ "name": "Berlin warehouse", "country": "DE", "priority": 1 }),
    );
    assert_eq!(status, 201, "{berlin}");
    let location = berlin["id"].as_i64().unwrap();
    let (status, level) = f.admin_post(
        &format!("/admin/stock-locations/{location}/stock"),
        None,
        json!({ "variant_id": sencha, "kind": "receipt", "quantity": 4 }),
    );
    assert_eq!(status, 200, "{level}");
    let (token, cart) = new_guest(f);
    put_in(f, &token, &cart, sencha, 2);
    put_in(f, &token, &cart, matcha, 1);
    let body = json!({ "cart": cart, "email": "ada@example.com", "shipping": shipping() });
    let (status, placed) = f.call_as(
        Some(&token),
        "POST",
        "/checkout",
        Some("cancel-1"),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{placed}");
    let id = order_id(f, &placed, "pending_payment");
    (token, placed, id, location)
}

#[test]
fn staff_cancel_units_before_they_ship_and_the_customer_sees_the_refund() {
    let f = fixture();
    let sencha = f.variants[0];
    let (token, placed, id, location) = sencha_and_matcha(&f);
    let reference = placed["id"].as_str().unwrap().to_owned();
    let path = format!("/admin/orders/{id}/cancellations");
    let cancel = |key: &str, lines: Value| {
        f.admin_post(
            &path,
            Some(key),
            json!({ "lines": lines, "reason": "sold out at the supplier" }),
        )
    };
    provider_pays(&f, &placed["payments"][0]);

    let keyless = f.call_as(
        Some(ADMIN_TOKEN),
        "POST",
        &path,
        None,
        Some(&json!({ "lines": [{ "line_no": 1, "quantity": 1 }] }).to_string()),
    );
    assert_eq!(code(keyless), (400, "idempotency_key_required".to_owned()));
    for (what, body, status, expected) in [
        (
            "no lines",
            json!({ "lines": [] }),
            422,
            "invalid_cancellation",
        ),
        (
            "no line 3",
            json!({ "lines": [{ "line_no": 3, "quantity": 1 }] }),
            422,
            "invalid_cancellation",
        ),
        (
            "line 1 twice",
            json!({ "lines": [{ "line_no": 1, "quantity": 1 }, { "line_no": 1, "quantity": 1 }] }),
            422,
            "invalid_cancellation",
        ),
        (
            "no units",
            json!({ "lines": [{ "line_no": 1, "quantity": 0 }] }),
            422,
            "invalid",
        ),
        (
            "three of two",
            json!({ "lines": [{ "line_no": 1, "quantity": 3 }] }),
            409,
            "cancellation_conflict",
        ),
        (
            "an unknown field",
            json!({ "lines": [], "why": "no" }),
            422,
            "invalid_body",
        ),
    ] {
        let answer = f.admin_post(&path, Some(&what.replace(' ', "-")), body);
        assert_eq!(code(answer), (status, expected.to_owned()), "{what}");
    }

    // 41.00 + 4.90 shipping + 20 % tax = 55.08, allocated 1700:2400:490: the
    // sencha 20.40 (10.20 each), the matcha 28.80, the shipping 5.88.
    let (status, one) = cancel("sencha-1", json!([{ "line_no": 1, "quantity": 1 }]));
    assert_eq!(status, 201, "{one}");
    assert_eq!(one["cancellation"]["refunded"]["amount"], "10.20");
    assert_eq!(one["cancellation"]["released"]["amount"], "0.00");
    assert_eq!(one["cancellation"]["units"][0]["location_id"], location);
    assert_eq!(one["cancellation"]["reason"], "sold out at the supplier");
    assert_eq!(one["order_status"], "paid");
    assert_eq!(one["changed"], true);
    // A retry changes nothing; the key for other lines is refused.
    let (status, again) = cancel("sencha-1", json!([{ "line_no": 1, "quantity": 1 }]));
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["changed"], false);
    assert_eq!(again["cancellation"], one["cancellation"]);
    let reused = cancel("sencha-1", json!([{ "line_no": 2, "quantity": 1 }]));
    assert_eq!(code(reused), (409, "idempotency_conflict".to_owned()));
    let (status, two) = cancel("matcha-1", json!([{ "line_no": 2, "quantity": 1 }]));
    assert_eq!(status, 201, "{two}");
    assert_eq!(two["cancellation"]["refunded"]["amount"], "28.80");
    assert_eq!(two["cancellation"]["units"][0]["location_id"], Value::Null);
    // The last unit is the whole order: that is the order's cancel.
    let last = cancel("sencha-2", json!([{ "line_no": 1, "quantity": 1 }]));
    assert_eq!(code(last), (409, "cancellation_conflict".to_owned()));

    // Berlin holds one sencha for the order now (4 received, 1 reserved; 1 more
    // received to read the level).
    let (_, level) = f.admin_post(
        &format!("/admin/stock-locations/{location}/stock"),
        None,
        json!({ "variant_id": sencha, "kind": "receipt", "quantity": 1 }),
    );
    assert_eq!(
        (level["on_hand"].as_u64(), level["reserved"].as_u64()),
        (Some(5), Some(1))
    );
    // The payment gave back both: 39.00 of 55.08.
    let mine = format!("/orders/{reference}");
    let (_, order) = f.call_as(Some(&token), "GET", &mine, None, None);
    assert_eq!(order["payments"][0]["refunded"]["amount"], "39.00");
    assert_eq!(order["payments"][0]["status"], "partially_refunded");

    // The customer sees them; staff see the same; another guest finds nothing.
    let listing = format!("{mine}/cancellations");
    let (status, listed) = f.call_as(Some(&token), "GET", &listing, None, None);
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["cancellations"].as_array().unwrap().len(), 2);
    assert_eq!(listed["cancellations"][1]["refunded"]["amount"], "28.80");
    let (status, staff) = admin_get(&f, &path);
    assert_eq!(status, 200, "{staff}");
    assert_eq!(staff["cancellations"], listed["cancellations"]);
    let (stranger, _) = new_guest(&f);
    let theirs = f.call_as(Some(&stranger), "GET", &listing, None, None);
    assert_eq!(code(theirs), (404, "not_found".to_owned()));
}

/// Before the order is paid, a cancellation lowers what its payment is due and
/// the authorization with it: the provider then authorizes and captures the rest,
/// and the order is paid.
#[test]
fn units_cancelled_before_payment_lower_what_the_provider_is_to_take() {
    let f = fixture();
    let (token, placed, id, _) = sencha_and_matcha(&f);
    let path = format!("/admin/orders/{id}/cancellations");
    // 55.08 in all, 10.20 a sencha (see above).
    let (status, one) = f.admin_post(
        &path,
        Some("before-payment"),
        json!({ "lines": [{ "line_no": 1, "quantity": 1 }] }),
    );
    assert_eq!(status, 201, "{one}");
    assert_eq!(one["cancellation"]["refunded"]["amount"], "0.00");
    assert_eq!(one["cancellation"]["released"]["amount"], "10.20");
    assert_eq!(one["order_status"], "pending_payment");
    let mine = format!("/orders/{}", placed["id"].as_str().unwrap());
    let (_, order) = f.call_as(Some(&token), "GET", &mine, None, None);
    let payment = &order["payments"][0];
    assert_eq!(payment["amount"]["amount"], "55.08");
    assert_eq!(payment["released"]["amount"], "10.20");
    assert_eq!(payment["due"]["amount"], "44.88");
    assert_eq!(payment["status"], "pending");
    // The provider authorizing the old amount is refused; the new one pays it.
    let payment_id = payment["id"].as_i64().unwrap();
    let old = f.report(
        "evt-old",
        payment_id,
        json!({ "type": "authorize", "amount": "55.08" }),
    );
    assert_eq!(code(old), (409, "payment_refused".to_owned()));
    provider_pays(&f, payment);
    let (_, order) = f.call_as(Some(&token), "GET", &mine, None, None);
    assert_eq!(order["status"], "paid");
    assert_eq!(order["payments"][0]["captured"]["amount"], "44.88");
}
