//! The example service driven over real HTTP: a whole guest purchase, a user's cart,
//! and every kind of bad request getting a typed JSON error.

use ecom_domain::memory::StoreRules;
use ecom_domain::prelude::*;
use ecom_examples::RunningService;
use ecom_store::PgStore;
use ecom_store::testing::TestDb;
use serde_json::{Value, json};

struct Fixture {
    _db: TestDb,
    service: RunningService,
    agent: ureq::Agent,
    category: i64,
    products: Vec<i64>,
}

fn fixture() -> Fixture {
    let db = TestDb::new();
    let cheap = HashCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let store = PgStore::with_rules(
        db.pool().clone(),
        StoreRules {
            hash_cost: cheap,
            ..StoreRules::default()
        },
    );
    let category = store
        .create_category(NewCategory {
            parent_id: None,
            slug: Slug::parse("tea").unwrap(),
            name: CategoryName::parse("Tea").unwrap(),
        })
        .unwrap();
    let products = [
        ("SENCHA", "Sencha", "8.50", 5),
        ("MATCHA", "Matcha", "24.00", 1),
    ]
    .into_iter()
    .map(|(sku, name, price, stock)| {
        store
            .create_product(NewProduct {
                sku: Sku::parse(sku).unwrap(),
                name: ProductName::parse(name).unwrap(),
                description: Description::default(),
                category_id: category.id,
                price: Money::parse(price, Currency::EUR).unwrap(),
                stock_on_hand: stock,
            })
            .unwrap()
            .id
            .get()
    })
    .collect();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    Fixture {
        _db: db,
        service: RunningService::start(store).unwrap(),
        agent,
        category: category.id.get(),
        products,
    }
}

impl Fixture {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.service.base_url())
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value) {
        let url = self.url(path);
        let mut response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => {
                let mut req = if method == "PUT" {
                    self.agent.put(&url)
                } else {
                    self.agent.post(&url)
                };
                if let Some(key) = key {
                    req = req.header("Idempotency-Key", key);
                }
                req.header("Content-Type", "application/json")
                    .send(body.unwrap_or("{}"))
            }
        }
        .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")),
        )
    }

    fn post(&self, path: &str, key: Option<&str>, body: Value) -> (u16, Value) {
        self.call("POST", path, key, Some(&body.to_string()))
    }
}

fn shipping() -> Value {
    json!({ "recipient": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB" })
}

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

    let (status, cart) = f.post(
        "/carts",
        None,
        json!({ "guest_token": "guest-cookie-0123456789" }),
    );
    assert_eq!(status, 200);
    let cart_id = cart["id"].as_i64().unwrap();
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
    let events = format!("/payments/{payment}/events");
    let (status, out) = f.post(
        &events,
        Some("auth"),
        json!({ "type": "authorize", "amount": amount, "provider_ref": "pi_1" }),
    );
    assert_eq!(status, 200, "{out}");
    let (_, out) = f.post(
        &events,
        Some("cap"),
        json!({ "type": "capture", "amount": amount }),
    );
    assert_eq!(out["order_status"], "paid");
    let (_, dup) = f.post(
        &events,
        Some("cap"),
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

#[test]
fn bad_requests_get_typed_errors_never_a_500() {
    let f = fixture();
    let (_, cart) = f.post(
        "/carts",
        None,
        json!({ "guest_token": "guest-cookie-0123456789" }),
    );
    let cart_id = cart["id"].as_i64().unwrap();
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
            Some(r#"{"product_id": "one", "quantity": 1}"#)
        )),
        (422, "invalid_body".into())
    );
    assert_eq!(
        code(f.post(
            &items,
            None,
            json!({ "product_id": f.products[0], "quantity": 0 })
        )),
        (422, "invalid".into())
    );
    assert_eq!(
        code(f.post(
            &items,
            None,
            json!({ "product_id": 999_999, "quantity": 1 })
        )),
        (404, "not_found".into())
    );
    let huge = format!(
        r#"{{"product_id": 1, "quantity": 1, "pad": "{}"}}"#,
        "x".repeat(100_000)
    );
    assert_eq!(code(f.call("POST", &items, None, Some(&huge))).0, 413);
    assert_eq!(
        code(f.post("/carts", None, json!({}))),
        (422, "invalid".into())
    );
    assert_eq!(
        code(f.post("/carts", None, json!({ "guest_token": "short" }))),
        (422, "invalid".into())
    );

    f.post(
        &items,
        None,
        json!({ "product_id": f.products[1], "quantity": 2 }),
    );
    let body = json!({ "cart_id": cart_id, "email": "ada@example.com", "shipping": shipping() });
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
        json!({ "cart_id": cart_id, "email": "ada@example.com", "shipping": { "country": "XX" } });
    assert_eq!(code(f.post("/checkout", Some("k2"), bad_address)).0, 422);
    let bad_email = json!({ "cart_id": cart_id, "email": "not-an-email", "shipping": shipping() });
    assert_eq!(
        code(f.post("/checkout", Some("k3"), bad_email)),
        (422, "invalid".into())
    );
    assert_eq!(
        code(f.call("GET", "/orders/424242", None, None)),
        (404, "not_found".into())
    );
    let money = json!({ "type": "capture", "amount": "abc" });
    assert_eq!(
        code(f.post("/payments/1/events", Some("x"), money)),
        (422, "invalid".into())
    );
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
    let (_, cart) = f.post(
        "/carts",
        None,
        json!({ "guest_token": "guest-cookie-0123456789" }),
    );
    let cart_id = cart["id"].as_i64().unwrap();
    let product = f.products[0];
    let endpoints = [
        ("POST", "/users".to_owned()),
        ("POST", "/carts".to_owned()),
        ("POST", format!("/carts/{cart_id}/items")),
        ("PUT", format!("/carts/{cart_id}/items/{product}")),
        ("POST", format!("/carts/{cart_id}/attach")),
        ("POST", "/checkout".to_owned()),
        ("POST", "/payments/1/events".to_owned()),
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
            br#"{"product_id": "one", "quantity": [1], "email": 5, "password": {}, "cart_id": true, "guest_token": 7, "amount": "lots", "kind": 3, "user_id": "x"}"#.to_vec(),
        ),
        (
            "huge numbers",
            Some("application/json"),
            br#"{"product_id": 1e400, "quantity": 99999999999999999999999, "cart_id": -9223372036854775809, "user_id": 18446744073709551616, "amount": "1e9999"}"#.to_vec(),
        ),
        (
            "negative and zero",
            Some("application/json"),
            br#"{"product_id": -1, "quantity": -5, "cart_id": 0, "user_id": -1, "amount": "-10.00"}"#.to_vec(),
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
    let good: [(BodyKind, &str); 7] = [
        (
            BodyKind::Register,
            r#"{"email": "ada@example.com", "name": "Ada", "password": "correct horse battery"}"#,
        ),
        (
            BodyKind::OpenCart,
            r#"{"guest_token": "guest-cookie-0123456789"}"#,
        ),
        (BodyKind::AddItem, r#"{"product_id": 1, "quantity": 2}"#),
        (BodyKind::SetQuantity, r#"{"quantity": 3}"#),
        (BodyKind::Attach, r#"{"user_id": 7}"#),
        (
            BodyKind::Checkout,
            r#"{"cart_id": 1, "shipping": {"recipient": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"}, "email": "ada@example.com"}"#,
        ),
        (
            BodyKind::PaymentEvent,
            r#"{"type": "capture", "amount": "10.00"}"#,
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
    let product = f.products[0];
    let (_, cart) = f.post(
        "/carts",
        None,
        json!({ "guest_token": "guest-cookie-hostile-0001" }),
    );
    let cart_id = cart["id"].as_i64().unwrap();
    let items = format!("/carts/{cart_id}/items");
    let (status, _) = f.post(
        &items,
        None,
        json!({ "product_id": product, "quantity": 1 }),
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
        (
            "token with NUL",
            json!({ "guest_token": format!("guest-cookie-{nul}-0123") }),
        ),
        (
            "token not ASCII",
            json!({ "guest_token": "ġuest-cookie-0123456789" }),
        ),
        ("token too long", json!({ "guest_token": "g".repeat(65) })),
        (
            "both owners",
            json!({ "guest_token": "guest-cookie-0123456789", "user_id": 1 }),
        ),
        ("unknown user", json!({ "user_id": i64::MAX })),
        (
            "unknown currency",
            json!({ "guest_token": "guest-cookie-0123456789", "currency": "XXX" }),
        ),
        (
            "currency with NUL",
            json!({ "guest_token": "guest-cookie-0123456789", "currency": "EU\u{0}" }),
        ),
        (
            "currency not ASCII",
            json!({ "guest_token": "guest-cookie-0123456789", "currency": "€UR" }),
        ),
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
        let body = json!({ "product_id": product, "quantity": quantity });
        assert_refused(&what, f.post(&items, None, body));
        let line = format!("{items}/{product}");
        let body = format!(r#"{{"quantity": {quantity}}}"#);
        assert_refused(&what, f.call("PUT", &line, None, Some(&body)));
    }
    for quantity in ["9223372036854775808", "1.5", "\"2\"", "1e3", "-0.0"] {
        let body = format!(r#"{{"product_id": {product}, "quantity": {quantity}}}"#);
        assert_refused(
            &format!("quantity {quantity}"),
            f.call("POST", &items, None, Some(&body)),
        );
    }
    for id in [0, -1, i64::MIN] {
        let body = json!({ "product_id": id, "quantity": 1 });
        assert_refused(&format!("product {id}"), f.post(&items, None, body));
        let body = json!({ "user_id": id });
        assert_refused(
            &format!("user {id}"),
            f.post(&format!("/carts/{cart_id}/attach"), None, body),
        );
    }
    let other = f.products[1];
    assert_refused(
        "a product not in the cart",
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
    let order = |shipping: Value| json!({ "cart_id": cart_id, "email": "ada@example.com", "shipping": shipping });
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
            json!({ "cart_id": i64::MIN, "email": "ada@example.com", "shipping": shipping() }),
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
    let events = format!("/payments/{payment}/events");
    let event = |n: usize, body: Value| f.post(&events, Some(&format!("event-{n}")), body);
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
        f.post(
            "/payments/999999999/events",
            Some("event-x"),
            json!({ "type": "void" }),
        ),
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
    let (status, stored) = f.call("GET", &format!("/orders/{}", placed["id"]), None, None);
    assert_eq!(status, 200);
    assert_eq!(stored["payments"][0]["captured"]["amount"], due.as_str());
    assert_eq!(stored["payments"][0]["refunded"]["amount"], "0.00");
}
