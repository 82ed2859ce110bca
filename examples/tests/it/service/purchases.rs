//! Purchases over HTTP that go through.

use serde_json::json;

use super::{fixture, shipping};

#[test]
fn a_guest_buys_over_http_from_catalog_to_paid() {
    let f = fixture();
    let (status, page) = f.call(
        "GET",
        &format!("/categories/{}/products?limit=1", f.category),
        None,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["next"].is_i64());
    let (_, hits) = f.call("GET", "/products/search?q=matcha", None, None);
    assert_eq!(hits["items"][0]["sku"], "MATCHA");

    let cart_id = f.guest_cart();
    let (status, cart) = f.post(
        &format!("/carts/{cart_id}/items"),
        None,
        json!({ "product_id": f.products[0], "quantity": 2 }),
    );
    assert_eq!(status, 200, "{cart}");
    assert_eq!(cart["lines"][0]["quantity"], 2);

    let body = json!({ "cart_id": cart_id, "email": "ada@example.com", "shipping": shipping() });
    let (status, order) = f.post("/checkout", Some("order-1"), body.clone());
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "pending_payment");
    assert_eq!(order["totals"]["subtotal"]["amount"], "17.00");
    let (status, again) = f.post("/checkout", Some("order-1"), body);
    assert_eq!(status, 200, "a retry replays");
    assert_eq!(again["id"], order["id"]);

    let payment = order["payments"][0]["id"].as_i64().unwrap();
    let amount = order["totals"]["grand_total"]["amount"].as_str().unwrap();
    // The provider reports the payment, signed; a report delivered twice is
    // booked once.
    let (status, out) = f.report(
        "evt_auth",
        payment,
        json!({ "type": "authorize", "amount": amount, "provider_ref": "pi_1" }),
    );
    assert_eq!(status, 200, "{out}");
    let (_, out) = f.report(
        "evt_cap",
        payment,
        json!({ "type": "capture", "amount": amount }),
    );
    assert_eq!(out["order_status"], "paid");
    let (_, dup) = f.report(
        "evt_cap",
        payment,
        json!({ "type": "capture", "amount": amount }),
    );
    assert_eq!(dup["duplicate"], true);

    let (status, stored) = f.call("GET", &format!("/orders/{}", order["id"]), None, None);
    assert_eq!(status, 200);
    assert_eq!(stored["status"], "paid");
    assert_eq!(stored["payments"][0]["captured"]["amount"], amount);
    assert_eq!(stored["history"].as_array().unwrap().len(), 2);
}

#[test]
fn a_users_cart_takes_over_a_guest_cart() {
    let f = fixture();
    let (status, user) = f.post(
        "/users",
        None,
        json!({ "email": "grace@example.com", "name": "Grace", "password": "a long password" }),
    );
    assert_eq!(status, 201, "{user}");
    let (status, err) = f.post(
        "/users",
        None,
        json!({ "email": "GRACE@example.com", "name": "Grace", "password": "a long password" }),
    );
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (409, Some("already_taken"))
    );
    let (_, cart) = f.post(
        "/carts",
        None,
        json!({ "guest_token": "guest-cookie-abcdefghij" }),
    );
    let cart_id = cart["id"].as_i64().unwrap();
    f.post(
        &format!("/carts/{cart_id}/items"),
        None,
        json!({ "product_id": f.products[0], "quantity": 1 }),
    );
    let (status, attached) = f.post(
        &format!("/carts/{cart_id}/attach"),
        None,
        json!({ "user_id": user["id"] }),
    );
    assert_eq!(status, 200, "{attached}");
    let (_, mine) = f.post("/carts", None, json!({ "user_id": user["id"] }));
    assert_eq!(mine["id"], cart_id);
    let (status, _) = f.call(
        "PUT",
        &format!("/carts/{cart_id}/items/{}", f.products[0]),
        None,
        Some(r#"{"quantity": 3}"#),
    );
    assert_eq!(status, 200);
    let (status, cart) = f.call(
        "DELETE",
        &format!("/carts/{cart_id}/items/{}", f.products[0]),
        None,
        None,
    );
    assert_eq!(status, 200);
    assert!(cart["lines"].as_array().unwrap().is_empty());
}
