//! Malformed requests: each gets a 4xx with a typed error, never a 500.

use serde_json::{Value, json};

use super::{Fixture, fixture, shipping};

#[test]
fn bad_requests_get_typed_errors_never_a_500() {
    let f = fixture();
    let cart_id = f.guest_cart();
    let items = format!("/carts/{cart_id}/items");
    let code = |(status, body): (u16, Value)| {
        (
            status,
            body["error"]["code"]
                .as_str()
                .unwrap_or("<none>")
                .to_owned(),
        )
    };

    assert_eq!(
        code(f.call("POST", &items, None, Some("{not json"))),
        (400, "malformed_json".into())
    );
    assert_eq!(
        code(f.call(
            "POST",
            &items,
            None,
            Some(r#"{"variant_id": "one", "quantity": 1}"#)
        )),
        (422, "invalid_body".into())
    );
    assert_eq!(
        code(f.post(
            &items,
            None,
            json!({ "variant_id": f.variants[0], "quantity": 0 })
        )),
        (422, "invalid".into())
    );
    assert_eq!(
        code(f.post(
            &items,
            None,
            json!({ "variant_id": 999_999, "quantity": 1 })
        )),
        (404, "not_found".into())
    );
    let huge = format!(
        r#"{{"variant_id": 1, "quantity": 1, "pad": "{}"}}"#,
        "x".repeat(100_000)
    );
    assert_eq!(code(f.call("POST", &items, None, Some(&huge))).0, 413);
    assert_eq!(
        code(f.post("/carts", None, json!({ "currency": "XYZ" }))),
        (422, "invalid".into())
    );
    // No session, a malformed one, or one the store never issued: 401.
    for token in [
        None,
        Some("short"),
        Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        assert_eq!(
            code(f.call_as(token, "POST", "/carts", None, Some("{}"))),
            (401, "unauthenticated".into()),
            "{token:?}"
        );
    }

    f.post(
        &items,
        None,
        json!({ "variant_id": f.variants[1], "quantity": 2 }),
    );
    let body = json!({ "cart": cart_id, "email": "ada@example.com", "shipping": shipping() });
    assert_eq!(
        code(f.post("/checkout", None, body.clone())),
        (400, "idempotency_key_required".into())
    );
    let (status, err) = f.post("/checkout", Some("k"), body.clone());
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (409, Some("out_of_stock"))
    );
    assert_eq!(err["error"]["details"][0]["available"], 1);
    let bad_address =
        json!({ "cart": cart_id, "email": "ada@example.com", "shipping": { "country": "XX" } });
    assert_eq!(code(f.post("/checkout", Some("k2"), bad_address)).0, 422);
    let bad_email = json!({ "cart": cart_id, "email": "not-an-email", "shipping": shipping() });
    assert_eq!(
        code(f.post("/checkout", Some("k3"), bad_email)),
        (422, "invalid".into())
    );
    assert_eq!(
        code(f.call("GET", "/orders/424242", None, None)),
        (404, "not_found".into())
    );
    let money = json!({ "type": "capture", "amount": "abc" });
    assert_eq!(code(f.report("x", 1, money)), (422, "invalid".into()));
}

/// Sends raw bytes with an optional content type, returning status and parsed body.
fn raw(
    f: &Fixture,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, Value) {
    let url = f.url(path);
    // A body over the limit gets its 413 before it is read to the end; the server
    // then closes the connection, and the client, still writing, may see the reset
    // instead of the answer. Such a transport error is retried, never a status.
    let mut attempts = 0;
    let mut response = loop {
        let mut req = if method == "PUT" {
            f.agent.put(&url)
        } else {
            f.agent.post(&url)
        };
        if let Some(content_type) = content_type {
            req = req.header("Content-Type", content_type);
        }
        match req.header("Idempotency-Key", "hostile-key-0001").send(body) {
            Ok(response) => break response,
            Err(ureq::Error::Io(_)) if attempts < 20 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(err) => panic!("{method} {path}: {err}"),
        }
    };
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[test]
fn hostile_bodies_get_4xx_with_a_typed_error_on_every_json_endpoint() {
    let f = fixture();
    let cart_id = f.guest_cart();
    let variant = f.variants[0];
    let endpoints = [
        ("POST", "/users".to_owned()),
        ("POST", "/carts".to_owned()),
        ("POST", format!("/carts/{cart_id}/items")),
        ("PUT", format!("/carts/{cart_id}/items/{variant}")),
        ("POST", "/sessions".to_owned()),
        ("POST", "/checkout".to_owned()),
        ("POST", "/webhooks/payments".to_owned()),
    ];
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let oversized = format!(r#"{{"pad": "{}"}}"#, "x".repeat(80_000));
    let bodies: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        ("empty", Some("application/json"), b"".to_vec()),
        ("malformed", Some("application/json"), b"{\"quantity\": ".to_vec()),
        ("not an object", Some("application/json"), b"[1, 2, 3]".to_vec()),
        ("a string", Some("application/json"), b"\"hello\"".to_vec()),
        ("null", Some("application/json"), b"null".to_vec()),
        (
            "wrong types",
            Some("application/json"),
            br#"{"variant_id": "one", "quantity": [1], "email": 5, "password": {}, "cart_id": true, "guest_token": 7, "amount": "lots", "kind": 3, "user_id": "x"}"#.to_vec(),
        ),
        (
            "huge numbers",
            Some("application/json"),
            br#"{"variant_id": 1e400, "quantity": 99999999999999999999999, "cart_id": -9223372036854775809, "user_id": 18446744073709551616, "amount": "1e9999"}"#.to_vec(),
        ),
        (
            "negative and zero",
            Some("application/json"),
            br#"{"variant_id": -1, "quantity": -5, "cart_id": 0, "user_id": -1, "amount": "-10.00"}"#.to_vec(),
        ),
        ("invalid UTF-8", Some("application/json"), b"{\"guest_token\": \"\xff\xfe\xfd\"}".to_vec()),
        ("NUL bytes", Some("application/json"), b"{\"guest_token\": \"a\\u0000b-0123456789\"}".to_vec()),
        ("deeply nested", Some("application/json"), deep.into_bytes()),
        ("oversized", Some("application/json"), oversized.into_bytes()),
        ("no content type", None, b"{}".to_vec()),
        ("wrong content type", Some("text/plain"), b"{}".to_vec()),
    ];
    for (method, path) in &endpoints {
        for (what, content_type, body) in &bodies {
            let (status, reply) = raw(&f, method, path, *content_type, body);
            assert!(
                (400..500).contains(&status),
                "{method} {path} with {what}: {status} {reply}"
            );
            assert!(
                reply["error"]["code"].is_string() && reply["error"]["message"].is_string(),
                "{method} {path} with {what}: no typed error body: {status} {reply}"
            );
        }
    }
    // A search query is as long as a product name at most.
    let search = |n: usize| {
        f.call(
            "GET",
            &format!("/products/search?q={}", "a".repeat(n)),
            None,
            None,
        )
    };
    assert_eq!(search(200).0, 200);
    let (status, reply) = search(201);
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (422, Some("query_too_long"))
    );
    // Hostile path and query parameters, too.
    for path in [
        "/carts/abc",
        "/carts/-1",
        "/carts/99999999999999999999",
        "/orders/1e3",
        "/categories/0/products?limit=-1",
        "/categories/1/products?after=x",
        "/products/search?q=%00",
        "/products/search?limit=99999999999",
    ] {
        let (status, reply) = f.call("GET", path, None, None);
        assert!(
            (200..500).contains(&status) && status != 500,
            "GET {path}: {status} {reply}"
        );
        if status >= 400 {
            assert!(
                reply["error"]["code"].is_string(),
                "GET {path}: {status} {reply}"
            );
        }
    }
    // The service is still well.
    let (status, _) = f.call("GET", &format!("/carts/{cart_id}"), None, None);
    assert_eq!(status, 200);
}

#[test]
fn request_bodies_decode_to_domain_values_or_typed_4xx_errors() {
    use ecom_examples::{BodyKind, decode_body};
    let good: [(BodyKind, &str); 8] = [
        (
            BodyKind::Register,
            r#"{"email": "ada@example.com", "name": "Ada", "password": "correct horse battery"}"#,
        ),
        (BodyKind::OpenCart, r#"{"currency": "EUR"}"#),
        (BodyKind::AddItem, r#"{"variant_id": 1, "quantity": 2}"#),
        (BodyKind::SetQuantity, r#"{"quantity": 3}"#),
        (
            BodyKind::Login,
            r#"{"email": "ada@example.com", "password": "correct horse battery"}"#,
        ),
        (
            BodyKind::Checkout,
            r#"{"cart": "67e55044-10b1-426f-9247-bb680e5fe0c8", "shipping": {"recipient": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"}, "email": "ada@example.com", "gift_cards": ["7kq2 m9xd 4htb p3wz"]}"#,
        ),
        (
            BodyKind::PaymentEvent,
            r#"{"id": "evt_1", "payment_id": 1, "type": "capture", "amount": "10.00"}"#,
        ),
        (
            BodyKind::GiftCardBalance,
            r#"{"code": "7KQ2-M9XD-4HTB-P3WZ"}"#,
        ),
    ];
    for (kind, body) in good {
        decode_body(kind, body.as_bytes()).unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
    }
    for kind in BodyKind::ALL {
        for body in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"quantity\": -1, \"amount\": \"1e999\", \"type\": \"refund\"}",
            b"\xff\xfe",
        ] {
            let err = decode_body(kind, body).unwrap_err();
            let status = err.status().as_u16();
            assert!(!err.code().is_empty());
            assert!((400..500).contains(&status), "{kind:?}: {status}");
        }
    }
}
