//! Well-formed JSON with hostile values: each gets a 4xx with a typed error.

use serde_json::{Value, json};

use super::{fixture, shipping};

/// Asserts a 4xx with a typed error body, naming the request when it is not.
fn assert_refused(what: &str, (status, reply): (u16, Value)) {
    assert!(
        (400..500).contains(&status) && reply["error"]["code"].is_string(),
        "{what}: {status} {reply}"
    );
}

#[test]
fn well_formed_bodies_with_hostile_values_get_4xx_on_every_json_endpoint() {
    let f = fixture();
    let variant = f.variants[0];
    let (_, cart) = f.post("/carts", None, json!({}));
    let cart_id = cart["id"].as_str().unwrap().to_owned();
    let items = format!("/carts/{cart_id}/items");
    let (status, _) = f.post(
        &items,
        None,
        json!({ "variant_id": variant, "quantity": 1 }),
    );
    assert_eq!(status, 200);

    let long = "x".repeat(50_000);
    let nul = "a\u{0}b";
    let user = |email: &str, name: &str, password: &str| json!({ "email": email, "name": name, "password": password });
    for (what, body) in [
        (
            "e-mail with NUL",
            user("a\u{0}@example.com", "Ada", "a long password"),
        ),
        (
            "e-mail too long",
            user(&format!("{long}@example.com"), "Ada", "a long password"),
        ),
        (
            "name with a newline",
            user("ada@example.com", "Ada\nLovelace", "a long password"),
        ),
        (
            "name too long",
            user("ada@example.com", &long, "a long password"),
        ),
        (
            "password too short",
            user("ada@example.com", "Ada", "short"),
        ),
        ("password too long", user("ada@example.com", "Ada", &long)),
    ] {
        assert_refused(what, f.post("/users", None, body));
    }

    for (what, body) in [
        ("unknown currency", json!({ "currency": "XXX" })),
        ("currency with NUL", json!({ "currency": "EU\u{0}" })),
        ("currency not ASCII", json!({ "currency": "€UR" })),
        ("currency not a string", json!({ "currency": 978 })),
    ] {
        assert_refused(what, f.post("/carts", None, body));
    }

    for quantity in [
        json!(0),
        json!(-1),
        json!(1000),
        json!(i64::MAX),
        json!(i64::MIN),
    ] {
        let what = format!("quantity {quantity}");
        let body = json!({ "variant_id": variant, "quantity": quantity });
        assert_refused(&what, f.post(&items, None, body));
        let line = format!("{items}/{variant}");
        let body = format!(r#"{{"quantity": {quantity}}}"#);
        assert_refused(&what, f.call("PUT", &line, None, Some(&body)));
    }
    for quantity in ["9223372036854775808", "1.5", "\"2\"", "1e3", "-0.0"] {
        let body = format!(r#"{{"variant_id": {variant}, "quantity": {quantity}}}"#);
        assert_refused(
            &format!("quantity {quantity}"),
            f.call("POST", &items, None, Some(&body)),
        );
    }
    for id in [0, -1, i64::MIN] {
        let body = json!({ "variant_id": id, "quantity": 1 });
        assert_refused(&format!("variant {id}"), f.post(&items, None, body));
    }
    let other = f.variants[1];
    assert_refused(
        "a variant not in the cart",
        f.call(
            "PUT",
            &format!("{items}/{other}"),
            None,
            Some(r#"{"quantity": 1}"#),
        ),
    );

    let address = |field: &str, value: &str| {
        let mut a = shipping();
        a[field] = json!(value);
        a
    };
    let order = |shipping: Value| json!({ "cart": cart_id, "email": "ada@example.com", "shipping": shipping });
    let mut checkouts = vec![
        ("recipient with NUL", order(address("recipient", nul))),
        ("line1 too long", order(address("line1", &long))),
        (
            "city with a control character",
            order(address("city", "Lon\u{7}don")),
        ),
        (
            "postal code with NUL",
            order(address("postal_code", "SW1Y\u{0}4JH")),
        ),
        ("full-width country", order(address("country", "ＧＢ"))),
        ("unknown saved address", order(json!({ "address_id": -1 }))),
        (
            "unknown cart",
            json!({ "cart": i64::MIN, "email": "ada@example.com", "shipping": shipping() }),
        ),
    ];
    for (what, field, value) in [
        ("bad billing address", "billing", json!({ "country": "XX" })),
        ("e-mail with NUL", "email", json!("ada\u{0}@example.com")),
        ("provider with NUL", "provider", json!(nul)),
        ("provider too long", "provider", json!("p".repeat(51))),
    ] {
        let mut body = order(shipping());
        body[field] = value;
        checkouts.push((what, body));
    }
    for (n, (what, body)) in checkouts.into_iter().enumerate() {
        assert_refused(
            what,
            f.post("/checkout", Some(&format!("hostile-{n}")), body),
        );
    }
    for (what, key) in [
        ("key too long", "k".repeat(129)),
        ("blank key", "   ".to_owned()),
    ] {
        assert_refused(what, f.post("/checkout", Some(&key), order(shipping())));
    }

    let (status, placed) = f.post("/checkout", Some("hostile-order"), order(shipping()));
    assert_eq!(status, 201, "{placed}");
    let payment = placed["payments"][0]["id"].as_i64().unwrap();
    let due = placed["totals"]["grand_total"]["amount"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = |n: usize, body: Value| f.report(&format!("event-{n}"), payment, body);
    let pending = [
        (
            "failure reason with NUL",
            json!({ "type": "fail", "reason": format!("declined{nul}") }),
        ),
        (
            "amount 1e30",
            json!({ "type": "authorize", "amount": "1e30" }),
        ),
        (
            "amount of 35 digits",
            json!({ "type": "authorize", "amount": "9".repeat(35) }),
        ),
        (
            "amount NaN",
            json!({ "type": "authorize", "amount": "NaN" }),
        ),
        (
            "amount in hex",
            json!({ "type": "authorize", "amount": "0x10" }),
        ),
        (
            "amount in full-width digits",
            json!({ "type": "authorize", "amount": "１.００" }),
        ),
        (
            "amount with spaces",
            json!({ "type": "authorize", "amount": " 1.00" }),
        ),
        (
            "amount finer than a cent",
            json!({ "type": "authorize", "amount": "1.001" }),
        ),
        (
            "negative amount",
            json!({ "type": "authorize", "amount": "-1.00" }),
        ),
        ("zero amount", json!({ "type": "authorize", "amount": "0" })),
        (
            "more than due",
            json!({ "type": "authorize", "amount": "100000.00" }),
        ),
        (
            "another currency",
            json!({ "type": "authorize", "amount": due, "currency": "USD" }),
        ),
        (
            "unknown currency",
            json!({ "type": "authorize", "amount": due, "currency": "XXX" }),
        ),
        (
            "provider ref with NUL",
            json!({ "type": "authorize", "amount": due, "provider_ref": nul }),
        ),
        (
            "provider ref too long",
            json!({ "type": "authorize", "amount": due, "provider_ref": "r".repeat(201) }),
        ),
        (
            "capital type",
            json!({ "type": "Authorize", "amount": due }),
        ),
        ("no amount", json!({ "type": "capture" })),
        (
            "capture before authorize",
            json!({ "type": "capture", "amount": due }),
        ),
    ];
    for (n, (what, body)) in pending.into_iter().enumerate() {
        assert_refused(what, event(n, body));
    }
    assert_refused(
        "unknown payment",
        f.report("event-x", 999_999_999, json!({ "type": "void" })),
    );
    let (status, out) = event(100, json!({ "type": "authorize", "amount": due }));
    assert_eq!(status, 200, "{out}");
    let (status, out) = event(101, json!({ "type": "capture", "amount": due }));
    assert_eq!(status, 200, "{out}");
    let captured = [
        (
            "refund reason with NUL",
            json!({ "type": "refund", "amount": "1.00", "reason": format!("oops{nul}") }),
        ),
        (
            "refund of more than captured",
            json!({ "type": "refund", "amount": "100000.00" }),
        ),
        (
            "negative refund",
            json!({ "type": "refund", "amount": "-1.00" }),
        ),
    ];
    for (n, (what, body)) in captured.into_iter().enumerate() {
        assert_refused(what, event(200 + n, body));
    }

    // Nothing above changed the payment.
    let (status, stored) = f.call(
        "GET",
        &format!("/orders/{}", placed["id"].as_str().unwrap()),
        None,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(stored["payments"][0]["captured"]["amount"], due.as_str());
    assert_eq!(stored["payments"][0]["refunded"]["amount"], "0.00");
}
