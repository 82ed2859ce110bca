//! Payments move only on the provider's signed reports: unsigned, forged, stale and
//! replayed reports change nothing; a rotated secret works during the overlap.

use chrono::{Duration, Utc};
use ecom_domain::webhook::WebhookSecret;
use ecom_examples::service::TestProvider;
use serde_json::{Value, json};

use super::{Fixture, fixture, fixture_with, provider_secret, shipping};

/// A placed order: its payment id and amount due.
fn placed(f: &Fixture) -> (i64, String) {
    let cart = f.guest_cart();
    let (status, _) = f.post(
        &format!("/carts/{cart}/items"),
        None,
        json!({ "variant_id": f.variants[0], "quantity": 1 }),
    );
    assert_eq!(status, 200);
    let (status, order) = f.post(
        "/checkout",
        Some("k"),
        json!({ "cart": cart, "email": "ada@example.com", "shipping": shipping() }),
    );
    assert_eq!(status, 201, "{order}");
    (
        order["payments"][0]["id"].as_i64().unwrap(),
        order["totals"]["grand_total"]["amount"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

fn payment_status(f: &Fixture, payment: i64) -> String {
    let mut conn = f.db.connect();
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Status {
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
    }
    diesel::sql_query("SELECT status FROM payments WHERE id = $1")
        .bind::<diesel::sql_types::BigInt, _>(payment)
        .get_result::<Status>(&mut conn)
        .unwrap()
        .status
}

fn body(id: &str, payment: i64, amount: &str) -> Vec<u8> {
    json!({ "id": id, "payment_id": payment, "type": "authorize", "amount": amount })
        .to_string()
        .into_bytes()
}

fn code(answer: &ecom_examples::service::provider::Answer) -> (u16, &str) {
    (
        answer.status,
        answer.body["error"]["code"].as_str().unwrap_or(""),
    )
}

#[test]
fn unsigned_forged_stale_and_tampered_reports_change_nothing() {
    let f = fixture();
    let (payment, amount) = placed(&f);
    let report = body("evt_1", payment, &amount);
    let now = Utc::now();

    let unsigned = f.provider.send_with(&report, None).unwrap();
    assert_eq!(code(&unsigned), (400, "malformed_signature"));

    let forger = WebhookSecret::parse("whsec_not-the-shops-secret").unwrap();
    let forged = f.provider.send(&report, &forger, now).unwrap();
    assert_eq!(code(&forged), (400, "bad_signature"));

    let stale = f
        .provider
        .send(&report, &provider_secret(), now - Duration::minutes(6))
        .unwrap();
    assert_eq!(code(&stale), (400, "stale_signature"));

    // Signed, then changed on the way: the amount is not what was signed.
    let signature = provider_secret().sign(&report, now);
    let tampered = body("evt_1", payment, "0.01");
    let changed = f.provider.send_with(&tampered, Some(&signature)).unwrap();
    assert_eq!(code(&changed), (400, "bad_signature"));

    assert_eq!(payment_status(&f, payment), "pending", "nothing was booked");

    let genuine = f.provider.send(&report, &provider_secret(), now).unwrap();
    assert_eq!(genuine.status, 200, "{}", genuine.body);
    assert_eq!(genuine.body["duplicate"], false);
    assert_eq!(payment_status(&f, payment), "authorized");
}

#[test]
fn a_replayed_report_is_booked_once() {
    let f = fixture();
    let (payment, amount) = placed(&f);
    let capture = json!({ "type": "capture", "amount": amount });
    assert_eq!(
        f.report(
            "evt_a",
            payment,
            json!({ "type": "authorize", "amount": amount })
        )
        .0,
        200
    );
    let (status, first) = f.report("evt_c", payment, capture.clone());
    assert_eq!((status, &first["duplicate"]), (200, &Value::Bool(false)));
    assert_eq!(first["order_status"], "paid");
    // The provider delivers the same event again, freshly signed.
    let (status, again) = f.report("evt_c", payment, capture);
    assert_eq!((status, &again["duplicate"]), (200, &Value::Bool(true)));
    assert_eq!(again["payment"]["captured"], first["payment"]["captured"]);
    // A client cannot sign, so the old client route is gone.
    let (status, _) = f.call(
        "POST",
        &format!("/payments/{payment}/events"),
        Some("k"),
        None,
    );
    assert_eq!(status, 404);
}

#[test]
fn during_a_rotation_both_secrets_are_believed() {
    let new = WebhookSecret::parse("whsec_new-0123456789abcdef").unwrap();
    let f = fixture_with({
        let new = new.clone();
        move |config| config.webhook_secrets = vec![new, provider_secret()]
    });
    let (payment, amount) = placed(&f);
    let old_provider = &f.provider;
    let new_provider = TestProvider::new(&f.service.base_url(), new, "new");
    assert_eq!(
        old_provider.authorize(payment, &amount).unwrap().status,
        200
    );
    let paid = new_provider.capture(payment, &amount).unwrap();
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["order_status"], "paid");
}

#[test]
fn without_a_secret_no_report_is_taken() {
    let f = fixture_with(|config| config.webhook_secrets.clear());
    let (payment, amount) = placed(&f);
    let answer = f.provider.authorize(payment, &amount).unwrap();
    assert_eq!(code(&answer), (503, "webhooks_not_configured"));
    assert_eq!(payment_status(&f, payment), "pending");
}
