//! Probed from outside as an attacker would: for every route that takes a cart or
//! an order, a second guest and a second user get 404, a missing or ended session
//! 401, and nothing changes in the database.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::{Value, json};

use super::{Fixture, fixture, guest_session, shipping};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What the tables hold, to show that a refused call changed nothing.
fn snapshot(f: &Fixture) -> Vec<i64> {
    let mut conn = f.db.connect();
    [
        "SELECT count(*) AS n FROM carts",
        "SELECT coalesce(sum(quantity), 0)::bigint AS n FROM cart_lines",
        "SELECT count(*) AS n FROM orders",
        "SELECT count(*) AS n FROM idempotency_keys",
        "SELECT sum(stock_on_hand)::bigint AS n FROM product_variants",
    ]
    .iter()
    .map(|sql| {
        diesel::sql_query(*sql)
            .get_result::<Count>(&mut conn)
            .unwrap()
            .n
    })
    .collect()
}

#[test]
fn nobody_reads_or_changes_another_customers_cart_or_order() {
    let f = fixture();
    // The victim: a guest with an order and a cart still open.
    let placed_cart = f.guest_cart();
    let variant = f.variants[0];
    let add = json!({ "variant_id": variant, "quantity": 1 }).to_string();
    f.call(
        "POST",
        &format!("/carts/{placed_cart}/items"),
        None,
        Some(&add),
    );
    let body = json!({ "cart": placed_cart, "email": "ada@example.com", "shipping": shipping() });
    let (status, order) = f.post("/checkout", Some("victim-1"), body);
    assert_eq!(status, 201, "{order}");
    let order = order["id"].as_str().unwrap().to_owned();
    let cart = f.guest_cart();
    f.call("POST", &format!("/carts/{cart}/items"), None, Some(&add));

    // The attackers: another guest and a signed-in user, then nobody at all and a
    // session that was ended.
    let other_guest = guest_session(&f.agent, &f.service.base_url());
    f.post(
        "/users",
        None,
        json!({ "email": "mallory@example.com", "name": "Mallory", "password": "a long password" }),
    );
    let (_, session) = f.post(
        "/sessions",
        None,
        json!({ "email": "mallory@example.com", "password": "a long password" }),
    );
    let other_user = session["token"].as_str().unwrap().to_owned();
    let ended = guest_session(&f.agent, &f.service.base_url());
    let (status, _) = f.call_as(Some(&ended), "DELETE", "/sessions/current", None, None);
    assert_eq!(status, 204);

    let line = format!("/carts/{cart}/items/{variant}");
    let checkout =
        json!({ "cart": cart, "email": "m@example.com", "shipping": shipping() }).to_string();
    let routes: Vec<(&str, String, Option<String>)> = vec![
        ("GET", format!("/carts/{cart}"), None),
        ("GET", format!("/carts/{placed_cart}"), None),
        ("POST", format!("/carts/{cart}/items"), Some(add.clone())),
        (
            "PUT",
            line.clone(),
            Some(json!({ "quantity": 3 }).to_string()),
        ),
        ("DELETE", line, None),
        (
            "GET",
            format!("/carts/{cart}/shipping-options?country=GB"),
            None,
        ),
        (
            "GET",
            format!("/carts/{cart}/quote?country=GB&method=standard"),
            None,
        ),
        ("POST", "/checkout".to_owned(), Some(checkout)),
        ("GET", format!("/orders/{order}"), None),
    ];
    let before = snapshot(&f);
    for (who, token, expected) in [
        ("another guest", Some(other_guest.as_str()), 404),
        ("another user", Some(other_user.as_str()), 404),
        ("nobody", None, 401),
        ("an ended session", Some(ended.as_str()), 401),
    ] {
        for (method, path, body) in &routes {
            let (status, reply) =
                f.call_as(token, method, path, Some("attacker-key"), body.as_deref());
            assert_eq!(status, expected, "{who}: {method} {path}: {reply}");
            let code = reply["error"]["code"].as_str().unwrap_or_default();
            assert!(
                code == "not_found" || code == "unauthenticated",
                "{who}: {method} {path}: {reply}"
            );
        }
    }
    assert_eq!(snapshot(&f), before, "nothing changed");

    // The victim still has everything.
    assert_eq!(
        f.call("GET", &format!("/orders/{order}"), None, None).0,
        200
    );
    let (status, mine) = f.call("GET", &format!("/carts/{cart}"), None, None);
    assert_eq!(
        (status, mine["lines"][0]["quantity"].clone()),
        (200, Value::from(1))
    );
}

/// Forty guests check out the last seven units at the same instant, each its own
/// cart; with `sweeping`, the expiry sweep runs all the while, as in production.
fn race_for_seven_units(sweeping: bool) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    let f = fixture();
    // Seven units of the second variant (it starts with one).
    let mut conn = f.db.connect();
    diesel::sql_query("UPDATE product_variants SET stock_on_hand = 7 WHERE id = $1")
        .bind::<BigInt, _>(f.variants[1])
        .execute(&mut conn)
        .unwrap();
    let base = f.service.base_url();
    // Each guest fills a cart first; then all check out at once.
    let guests: Vec<(String, String)> = (0..40)
        .map(|_| {
            let token = guest_session(&f.agent, &base);
            let (_, cart) = f.call_as(Some(&token), "POST", "/carts", None, Some("{}"));
            let cart = cart["id"].as_str().unwrap().to_owned();
            let add = json!({ "variant_id": f.variants[1], "quantity": 1 }).to_string();
            let (status, _) = f.call_as(
                Some(&token),
                "POST",
                &format!("/carts/{cart}/items"),
                None,
                Some(&add),
            );
            assert_eq!(status, 200);
            (token, cart)
        })
        .collect();
    let start = Arc::new(Barrier::new(guests.len()));
    let racing = AtomicBool::new(true);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        if sweeping {
            let store = crate::util::store_on(f.db.pool().clone());
            let racing = &racing;
            scope.spawn(move || {
                use ecom_domain::prelude::*;
                while racing.load(Ordering::Relaxed) {
                    store.expire_unpaid_orders(chrono::Utc::now()).unwrap();
                }
            });
        }
        let handles: Vec<_> = guests
            .iter()
            .map(|(token, cart)| {
                let (f, start) = (&f, start.clone());
                scope.spawn(move || {
                    let body =
                        json!({ "cart": cart, "email": "g@example.com", "shipping": shipping() })
                            .to_string();
                    start.wait();
                    f.call_as(Some(token), "POST", "/checkout", Some("race"), Some(&body))
                        .0
                })
            })
            .collect();
        let statuses = handles.into_iter().map(|h| h.join().unwrap()).collect();
        racing.store(false, Ordering::Relaxed);
        statuses
    });
    let sold = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((sold, refused), (7, 33), "{statuses:?}");
    let left: Count =
        diesel::sql_query("SELECT stock_on_hand::bigint AS n FROM product_variants WHERE id = $1")
            .bind::<BigInt, _>(f.variants[1])
            .get_result(&mut conn)
            .unwrap();
    assert_eq!(left.n, 0);
    let orders: Count = diesel::sql_query("SELECT count(*) AS n FROM orders")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(orders.n, 7);
}

#[test]
fn forty_guests_race_for_seven_units_over_http() {
    race_for_seven_units(false);
}

#[test]
fn forty_guests_race_for_seven_units_while_the_expiry_sweep_runs() {
    race_for_seven_units(true);
}

#[test]
fn a_guest_starts_with_a_session_and_a_cart_in_one_request_and_only_it_reaches_the_cart() {
    let f = fixture();
    let (status, started) = f.call_as(None, "POST", "/sessions/guest/cart", None, Some("{}"));
    assert_eq!(status, 201, "{started}");
    let token = started["session"]["token"].as_str().unwrap().to_owned();
    let cart = started["cart"]["id"].as_str().unwrap().to_owned();
    assert_eq!(started["cart"]["lines"], json!([]), "{started}");
    assert!(started["session"]["user"].is_null(), "{started}");

    // The session is the guest's, and its open cart is this one.
    let (status, mine) = f.call_as(Some(&token), "GET", &format!("/carts/{cart}"), None, None);
    assert_eq!(status, 200, "{mine}");
    let (status, open) = f.call_as(Some(&token), "POST", "/carts", None, Some("{}"));
    assert_eq!(
        (status, open["id"].as_str()),
        (200, Some(cart.as_str())),
        "{open}"
    );

    // Another guest finds nothing; a bad currency is refused and starts nothing.
    let other = guest_session(&f.agent, &f.service.base_url());
    let (status, _) = f.call_as(Some(&other), "GET", &format!("/carts/{cart}"), None, None);
    assert_eq!(status, 404);
    let before = count(&f, "SELECT count(*) AS n FROM sessions");
    let (status, refused) = f.call_as(
        None,
        "POST",
        "/sessions/guest/cart",
        None,
        Some(r#"{"currency": "XXX"}"#),
    );
    assert_eq!(status, 422, "{refused}");
    assert_eq!(count(&f, "SELECT count(*) AS n FROM sessions"), before);
}

fn count(f: &Fixture, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(&mut f.db.connect())
        .unwrap()
        .n
}
