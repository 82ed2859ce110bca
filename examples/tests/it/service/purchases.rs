//! Purchases over HTTP that go through.

use serde_json::{Value, json};

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
    let matcha = &hits["items"][0];
    assert_eq!(
        (&matcha["slug"], &matcha["variants"][0]["sku"]),
        (&json!("matcha"), &json!("MATCHA")),
        "{hits}"
    );

    let cart_id = f.guest_cart();
    let (status, cart) = f.post(
        &format!("/carts/{cart_id}/items"),
        None,
        json!({ "variant_id": f.variants[0], "quantity": 2 }),
    );
    assert_eq!(status, 200, "{cart}");
    assert_eq!(
        cart["lines"],
        json!([{ "variant_id": f.variants[0], "quantity": 2 }])
    );

    let body = json!({ "cart": cart_id, "email": "ada@example.com", "shipping": shipping() });
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

    let (status, stored) = f.call(
        "GET",
        &format!("/orders/{}", order["id"].as_str().unwrap()),
        None,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(stored["status"], "paid");
    assert_eq!(stored["payments"][0]["captured"]["amount"], amount);
    assert_eq!(stored["history"].as_array().unwrap().len(), 2);
}

#[test]
fn a_user_signs_in_and_takes_over_the_guest_cart_with_both_tokens() {
    let f = fixture();
    let register = |email: &str| {
        f.post(
            "/users",
            None,
            json!({ "email": email, "name": "Grace", "password": "a long password" }),
        )
    };
    let (status, first) = register("grace@example.com");
    assert_eq!(status, 202, "{first}");
    // Taken, in another case: the same answer, so nobody learns who has an account.
    let (status, again) = register("GRACE@example.com");
    assert_eq!((status, &again), (202, &first));

    let (status, wrong) = f.post(
        "/sessions",
        None,
        json!({ "email": "grace@example.com", "password": "not the password" }),
    );
    assert_eq!(
        (status, wrong["error"]["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
    let (status, session) = f.post(
        "/sessions",
        None,
        json!({ "email": "grace@example.com", "password": "a long password" }),
    );
    assert_eq!(status, 201, "{session}");
    let user = session["token"].as_str().unwrap().to_owned();

    // The guest fills a cart, then signs in: the cart follows, with both tokens.
    let cart_id = f.guest_cart();
    f.post(
        &format!("/carts/{cart_id}/items"),
        None,
        json!({ "variant_id": f.variants[0], "quantity": 1 }),
    );
    let claim = |token: Option<&str>, guest: Option<&str>| {
        let mut req = f
            .agent
            .post(&f.url("/carts/claim"))
            .header("Content-Type", "application/json");
        if let Some(token) = token {
            req = req.header("Authorization", &format!("Bearer {token}"));
        }
        if let Some(guest) = guest {
            req = req.header("Guest-Session", guest);
        }
        let mut response = req.send("{}").unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_json::<Value>().unwrap())
    };
    assert_eq!(
        claim(Some(&user), None).0,
        422,
        "the guest's token is needed"
    );
    assert_eq!(
        claim(None, Some(&f.guest)).0,
        401,
        "the user's session is needed"
    );
    let (status, claimed) = claim(Some(&user), Some(&f.guest));
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["id"], cart_id.as_str());

    let (_, mine) = f.call_as(Some(&user), "POST", "/carts", None, Some("{}"));
    assert_eq!(mine["id"], cart_id.as_str());
    let line = format!("/carts/{cart_id}/items/{}", f.variants[0]);
    let (status, _) = f.call_as(Some(&user), "PUT", &line, None, Some(r#"{"quantity": 3}"#));
    assert_eq!(status, 200);
    // The guest no longer reaches the cart.
    let (status, _) = f.call("GET", &format!("/carts/{cart_id}"), None, None);
    assert_eq!(status, 404);
    let (status, cart) = f.call_as(Some(&user), "DELETE", &line, None, None);
    assert_eq!(status, 200);
    assert!(cart["lines"].as_array().unwrap().is_empty());

    // Signing out ends the session.
    let (status, _) = f.call_as(Some(&user), "DELETE", "/sessions/current", None, None);
    assert_eq!(status, 204);
    let (status, gone) = f.call_as(Some(&user), "GET", &format!("/carts/{cart_id}"), None, None);
    assert_eq!(
        (status, gone["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
}
