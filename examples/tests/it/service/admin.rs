//! The back office: its own token, the store's privileged API, and no way in for a
//! customer.

use serde_json::{Value, json};

use super::{ADMIN_TOKEN, fixture, fixture_with, shipping};

#[test]
fn only_the_admin_token_opens_the_back_office() {
    let f = fixture();
    let body = json!({ "slug": "lamps", "name": "Lamps" }).to_string();
    for (who, token) in [
        ("nobody", None),
        ("a customer's session", Some(f.guest.as_str())),
        (
            "a wrong token",
            Some("admin-token-0123456789abcdef-012345678X"),
        ),
    ] {
        let (status, reply) = f.call_as(token, "POST", "/admin/categories", None, Some(&body));
        assert_eq!(
            (status, reply["error"]["code"].as_str()),
            (401, Some("unauthenticated")),
            "{who}"
        );
        let (status, _) = f.call_as(token, "GET", "/admin/orders?status=paid", None, None);
        assert_eq!(status, 401, "{who}");
    }
    let closed = fixture_with(|config| config.admin_token = None);
    let (status, reply) = closed.call_as(
        Some(ADMIN_TOKEN),
        "POST",
        "/admin/categories",
        None,
        Some(&body),
    );
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (503, Some("admin_not_configured"))
    );
}

#[test]
fn staff_stock_a_variant_then_ship_and_refund_what_a_guest_bought() {
    let f = fixture();
    let admin = |method: &str, path: &str, key: Option<&str>, body: Value| {
        f.call_as(
            Some(ADMIN_TOKEN),
            method,
            path,
            key,
            Some(&body.to_string()),
        )
    };
    let (status, category) = admin(
        "POST",
        "/admin/categories",
        None,
        json!({ "slug": "lamps", "name": "Lamps" }),
    );
    assert_eq!(status, 201, "{category}");
    let (status, product) = admin(
        "POST",
        "/admin/products",
        None,
        json!({
            "slug": "desk-lamp",
            "name": "Desk lamp",
            "category_id": category["id"],
            "variants": [{ "sku": "LAMP-1", "price": "39.90", "stock": 1 }],
        }),
    );
    assert_eq!(status, 201, "{product}");
    assert_eq!(
        (&product["slug"], &product["status"], &product["options"]),
        (&json!("desk-lamp"), &json!("active"), &json!([])),
        "active when not said otherwise, and without options"
    );
    let variant = &product["variants"][0];
    assert_eq!(
        (&variant["sku"], &variant["options"], &variant["stock"]),
        (&json!("LAMP-1"), &json!([]), &json!(1)),
        "one default variant: {product}"
    );
    let id = variant["id"].as_i64().unwrap();
    let (status, restocked) = admin(
        "POST",
        &format!("/admin/variants/{id}/restock"),
        None,
        json!({ "units": 2 }),
    );
    assert_eq!((status, restocked["stock"].as_i64()), (200, Some(3)));
    let (status, refused) = admin(
        "POST",
        "/admin/products",
        None,
        json!({
            "slug": "desk-lamp-2",
            "name": "Desk lamp",
            "category_id": category["id"],
            "variants": [{ "sku": "LAMP-2", "price": "-1", "stock": 1 }],
        }),
    );
    assert_eq!(status, 422, "{refused}");

    // A guest buys one; the provider reports it paid.
    let cart = f.guest_cart();
    let add = json!({ "variant_id": id, "quantity": 1 }).to_string();
    assert_eq!(
        f.call("POST", &format!("/carts/{cart}/items"), None, Some(&add))
            .0,
        200
    );
    let body = json!({ "cart": cart, "email": "ada@example.com", "shipping": shipping() });
    let (status, order) = f.post("/checkout", Some("k"), body);
    assert_eq!(status, 201, "{order}");
    let payment = order["payments"][0]["id"].as_i64().unwrap();
    let amount = order["totals"]["grand_total"]["amount"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, paid) = f.report(
        "evt_a",
        payment,
        json!({ "type": "authorize", "amount": amount }),
    );
    assert_eq!(paid["order_status"], "pending_payment");
    let (_, paid) = f.report(
        "evt_c",
        payment,
        json!({ "type": "capture", "amount": amount }),
    );
    assert_eq!(paid["order_status"], "paid");

    // Staff find it among the paid orders, ship it, and refund it.
    let (status, listed) = f.call_as(
        Some(ADMIN_TOKEN),
        "GET",
        "/admin/orders?status=paid",
        None,
        None,
    );
    assert_eq!(status, 200, "{listed}");
    let item = &listed["items"][0];
    assert_eq!(item["reference"], order["id"]);
    let order_id = item["id"].as_i64().unwrap();
    let (status, shipped) = admin(
        "POST",
        &format!("/admin/orders/{order_id}/events"),
        None,
        json!({ "event": "ship" }),
    );
    assert_eq!((status, shipped["status"].as_str()), (200, Some("shipped")));
    let (status, wrong) = admin(
        "POST",
        &format!("/admin/orders/{order_id}/events"),
        None,
        json!({ "event": "teleport" }),
    );
    assert_eq!(status, 422, "{wrong}");
    let (status, again) = admin(
        "POST",
        &format!("/admin/orders/{order_id}/events"),
        None,
        json!({ "event": "ship" }),
    );
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("illegal_transition"))
    );
    let refund = json!({ "amount": amount, "reason": "damaged in transit" });
    let (status, refunded) = admin(
        "POST",
        &format!("/admin/payments/{payment}/refunds"),
        Some("refund-1"),
        refund.clone(),
    );
    assert_eq!(status, 200, "{refunded}");
    assert_eq!(refunded["payment"]["status"], "refunded");
    let (_, replayed) = admin(
        "POST",
        &format!("/admin/payments/{payment}/refunds"),
        Some("refund-1"),
        refund,
    );
    assert_eq!(
        replayed["duplicate"], true,
        "a retried refund is booked once"
    );
    // The customer sees it.
    let (_, mine) = f.call(
        "GET",
        &format!("/orders/{}", order["id"].as_str().unwrap()),
        None,
        None,
    );
    assert_eq!(mine["payments"][0]["refunded"]["amount"], amount.as_str());
}
