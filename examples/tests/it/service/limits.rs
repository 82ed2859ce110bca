//! The bounds a client cannot push the service past: store calls at once, password
//! hashes at once, the request timeout, and per-address rates.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::{Value, json};

use super::{Fixture, fixture_with, shipping};

/// POSTs `body` to `path`: status, `Retry-After`, and the JSON body.
fn post(shop: &Fixture, path: &str, key: Option<&str>, body: &Value) -> (u16, Option<u32>, Value) {
    let mut request = shop
        .agent
        .post(&shop.url(path))
        .header("Content-Type", "application/json")
        .header("Authorization", &format!("Bearer {}", shop.guest));
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let mut response = request.send(body.to_string()).unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let text = response.body_mut().read_to_string().unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (response.status().as_u16(), retry_after, json)
}

#[derive(QueryableByName)]
struct Waiting {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Waits until a session of the service is blocked on a lock.
fn wait_for_a_blocked_session(conn: &mut PgConnection) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let waiting = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result::<Waiting>(conn)
        .unwrap()
        .n;
        if waiting > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no checkout ever waited on the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A guest cart with one unit in it, ready to check out; its id.
fn ready_cart(shop: &Fixture) -> String {
    let cart = shop.guest_cart();
    let (status, body) = shop.post(
        &format!("/carts/{cart}/items"),
        None,
        json!({ "variant_id": shop.variants[0], "quantity": 1 }),
    );
    assert_eq!(status, 200, "{body}");
    cart
}

fn checkout_body(cart: &str) -> Value {
    json!({ "cart": cart, "email": "ada@example.com", "shipping": shipping() })
}

/// Holds the cart's row lock from outside the service until dropped (rolled back).
fn lock_cart(conn: &mut PgConnection, cart: &str) {
    diesel::sql_query("BEGIN").execute(conn).unwrap();
    diesel::sql_query("SELECT id FROM carts WHERE public_id = $1::uuid FOR UPDATE")
        .bind::<diesel::sql_types::Text, _>(cart)
        .execute(conn)
        .unwrap();
}

#[test]
fn a_full_service_answers_503_with_retry_after_instead_of_queueing() {
    let shop = fixture_with(|config| {
        config.max_store_calls = 1;
        config.queue_wait = Duration::from_millis(200);
        config.request_timeout = Duration::from_secs(120);
    });
    let cart = ready_cart(&shop);
    let mut outside = shop.db.connect();
    lock_cart(&mut outside, &cart);
    std::thread::scope(|scope| {
        // The checkout takes the only store-call permit and waits on the lock.
        let stuck = scope.spawn(|| post(&shop, "/checkout", Some("k-1"), &checkout_body(&cart)));
        wait_for_a_blocked_session(&mut outside);

        let (status, retry_after, body) = post(&shop, "/carts", None, &json!({}));
        assert_eq!((status, retry_after), (503, Some(1)), "{body}");
        assert_eq!(body["error"]["code"], "busy");

        diesel::sql_query("ROLLBACK").execute(&mut outside).unwrap();
        let (status, _, order) = stuck.join().unwrap();
        assert_eq!(status, 201, "the waiting checkout finishes: {order}");
    });
    let (status, _, metrics) = {
        let mut response = shop.agent.get(&shop.url("/metrics")).call().unwrap();
        let text = response.body_mut().read_to_string().unwrap();
        (response.status().as_u16(), (), text)
    };
    assert_eq!(status, 200);
    assert!(
        metrics.contains("service_rejected_total{bound=\"store_calls\"} 1"),
        "{metrics}"
    );
}

#[test]
fn a_request_over_its_time_gets_503_and_its_work_still_ends_cleanly() {
    let shop = fixture_with(|config| config.request_timeout = Duration::from_millis(300));
    let cart = ready_cart(&shop);
    let mut outside = shop.db.connect();
    lock_cart(&mut outside, &cart);
    // Held until the answer came: the timeout, not the lock, ends the request.
    let (status, retry_after, body) = post(&shop, "/checkout", Some("k-1"), &checkout_body(&cart));
    assert_eq!((status, retry_after), (503, Some(1)), "{body}");
    assert_eq!(body["error"]["code"], "timeout");
    diesel::sql_query("ROLLBACK").execute(&mut outside).unwrap();

    // The checkout itself ran on; a retry with the same key gets its order, once.
    let deadline = Instant::now() + Duration::from_secs(60);
    let order = loop {
        let (status, _, body) = post(&shop, "/checkout", Some("k-1"), &checkout_body(&cart));
        if status == 200 || status == 201 {
            break body;
        }
        assert!(Instant::now() < deadline, "{status}: {body}");
    };
    #[derive(QueryableByName)]
    struct Orders {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let orders = diesel::sql_query("SELECT count(*) AS n FROM orders")
        .get_result::<Orders>(&mut outside)
        .unwrap()
        .n;
    assert_eq!(orders, 1, "one order for one key: {order}");
}

#[test]
fn registrations_and_checkouts_are_rate_limited_per_address() {
    // A burst of four: the fixture's own guest session takes one.
    let shop = fixture_with(|config| {
        config.guarded_burst = 4;
        config.guarded_per_minute = 1;
    });
    let register = |n: u32| {
        post(
            &shop,
            "/users",
            None,
            &json!({ "email": format!("user{n}@example.com"), "name": "Ada", "password": "correct horse battery" }),
        )
    };
    for n in 0..3 {
        let (status, _, body) = register(n);
        assert_eq!(status, 202, "within the burst: {body}");
    }
    let (status, retry_after, body) = register(3);
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(
        retry_after.is_some_and(|s| (1..=60).contains(&s)),
        "{retry_after:?}"
    );
    // Checkout shares the budget; reads do not.
    let (status, _, _) = post(&shop, "/checkout", Some("k"), &json!({}));
    assert_eq!(status, 429);
    // So do new guests, whichever way they start.
    for start in ["/sessions/guest", "/sessions/guest/cart"] {
        let (status, _, body) = post(&shop, start, None, &json!({}));
        assert_eq!(status, 429, "{start}: {body}");
    }
    let (status, _) = shop.call("GET", "/products/search?q=tea", None, None);
    assert_eq!(status, 200);
}

#[test]
fn a_flood_of_registrations_hashes_at_most_the_bound_at_once() {
    let shop = fixture_with(|config| {
        config.max_password_hashes = 2;
        config.queue_wait = Duration::ZERO;
        config.guarded_burst = 1000;
    });
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let flood: Vec<_> = (0..24)
            .map(|n| {
                let shop = &shop;
                scope.spawn(move || {
                    let (status, _, body) = post(
                        shop,
                        "/users",
                        None,
                        &json!({ "email": format!("flood{n}@example.com"), "name": "Ada", "password": "correct horse battery" }),
                    );
                    (status, body)
                })
            })
            .collect();
        flood.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, body) in &answers {
        assert!(
            *status == 202 || (*status == 503 && body["error"]["code"] == "busy"),
            "{status}: {body}"
        );
    }
    assert!(answers.iter().any(|(s, _)| *s == 202));
    let mut response = shop.agent.get(&shop.url("/metrics")).call().unwrap();
    let metrics = response.body_mut().read_to_string().unwrap();
    let max = metrics
        .lines()
        .find_map(|l| l.strip_prefix("password_hashes_in_flight_max "))
        .and_then(|v| v.parse::<i64>().ok())
        .expect("the high-water mark");
    assert!((1..=2).contains(&max), "{max} hashes at once");
    let mut conn = shop.db.connect();
    #[derive(QueryableByName)]
    struct Users {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let users = diesel::sql_query("SELECT count(*) AS n FROM users")
        .get_result::<Users>(&mut conn)
        .unwrap()
        .n;
    let created = answers.iter().filter(|(s, _)| *s == 202).count();
    assert_eq!(
        users,
        i64::try_from(created).unwrap(),
        "a 503 registered nobody"
    );
}
