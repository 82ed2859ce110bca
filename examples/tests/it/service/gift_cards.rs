//! Gift cards over HTTP: staff issue one (its code shown once), whoever holds
//! the code reads its balance, a checkout spends it (alone, or with the
//! provider paying the rest), and staff refund the order, back onto the card
//! first; the code never reaches the service's log.
//!
//! The fixture's shop prices by the flat rules unless a test sets up the price
//! book; amounts are read from the order's totals and worked with decimals.

use std::str::FromStr;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use ecom_domain::prelude::*;
use ecom_store::testing::TestDb;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::price_book::german_shop;
use super::{
    ADMIN_TOKEN, Fixture, admin_get, berlin, code, eur, fixture, new_guest, put_in, refused,
    shipping,
};
use crate::util::{self, Start, shop_service, store_on};

/// Staff issue a card of `value` euros; the answer, checked.
fn issue(f: &Fixture, value: &str) -> Value {
    let (status, issued) = f.admin_post("/admin/gift-cards", None, json!({ "value": value }));
    assert_eq!(status, 201, "{issued}");
    issued
}

/// The code of a card just issued.
fn code_of(issued: &Value) -> String {
    issued["code"].as_str().unwrap().to_owned()
}

/// The card's balance as anyone holding `code` reads it, without a session.
fn balance(f: &Fixture, code: &str) -> (u16, Value) {
    let body = json!({ "code": code }).to_string();
    f.call_as(None, "POST", "/gift-cards/balance", None, Some(&body))
}

/// The amount of a money value of an answer.
fn amount(money: &Value) -> Decimal {
    Decimal::from_str(money["amount"].as_str().unwrap()).unwrap()
}

/// `token` checks out its cart `cart` paying first with `cards`, to London by
/// the flat rules, or to Berlin by `method` from the price book.
fn check_out_with(
    f: &Fixture,
    token: &str,
    cart: &str,
    key: &str,
    cards: &[&str],
    method: Option<&str>,
) -> (u16, Value) {
    let mut body = json!({ "cart": cart, "email": "ada@example.com", "shipping": shipping(),
                           "gift_cards": cards });
    if let Some(method) = method {
        body["shipping"] = berlin();
        body["shipping_method"] = json!(method);
    }
    f.call_as(
        Some(token),
        "POST",
        "/checkout",
        Some(key),
        Some(&body.to_string()),
    )
}

/// The provider authorizes and captures `payment`'s whole amount.
fn provider_pays(f: &Fixture, payment: &Value) -> Value {
    let (id, due) = (
        payment["id"].as_i64().unwrap(),
        &payment["amount"]["amount"],
    );
    let (status, out) = f.report(
        &format!("evt-auth-{id}"),
        id,
        json!({ "type": "authorize", "amount": due }),
    );
    assert_eq!(status, 200, "{out}");
    let (status, out) = f.report(
        &format!("evt-capture-{id}"),
        id,
        json!({ "type": "capture", "amount": due }),
    );
    assert_eq!(status, 200, "{out}");
    out
}

/// The back office's id of the order whose reference `order` answered, in
/// `status`.
fn order_id(f: &Fixture, order: &Value, status: &str) -> i64 {
    let (code, listed) = admin_get(f, &format!("/admin/orders?status={status}"));
    assert_eq!(code, 200, "{listed}");
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["reference"] == order["id"])
        .unwrap_or_else(|| panic!("{} is not {status}: {listed}", order["id"]))["id"]
        .as_i64()
        .unwrap()
}

/// Staff refund `order` with `body` under the idempotency key `key`.
fn refund(f: &Fixture, order: i64, key: Option<&str>, body: Value) -> (u16, Value) {
    f.admin_post(&format!("/admin/orders/{order}/refunds"), key, body)
}

/// The payment of `order` from the card `card`, and the provider's, if any.
fn payments(order: &Value, card: &Value) -> (Value, Option<Value>) {
    let all = order["payments"].as_array().unwrap();
    let from_card = all
        .iter()
        .find(|p| p["gift_card_id"] == *card)
        .unwrap_or_else(|| panic!("no payment from card {card}: {order}"));
    let provider = all.iter().find(|p| p["gift_card_id"].is_null());
    (from_card.clone(), provider.cloned())
}

/// The `kind`, `amount` and `balance_after` of each entry of a card's ledger.
fn ledger(f: &Fixture, card: &Value) -> Vec<(String, String, String)> {
    let (status, ledger) = admin_get(f, &format!("/admin/gift-cards/{card}/ledger"));
    assert_eq!(status, 200, "{ledger}");
    assert_eq!(ledger["gift_card_id"], *card);
    ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |v: &Value| v.as_str().unwrap().to_owned();
            (
                text(&e["kind"]),
                text(&e["amount"]["amount"]),
                text(&e["balance_after"]["amount"]),
            )
        })
        .collect()
}

fn entry(kind: &str, amount: &str, after: &str) -> (String, String, String) {
    (kind.to_owned(), amount.to_owned(), after.to_owned())
}

#[test]
fn staff_issue_a_card_whose_code_is_shown_once_and_a_customer_cannot() {
    let f = fixture();
    let issued = issue(&f, "50.00");
    let secret = code_of(&issued);
    let groups: Vec<&str> = secret.split('-').collect();
    assert_eq!(groups.len(), 4, "{secret}");
    assert!(
        groups
            .iter()
            .all(|g| g.len() == 4 && g.bytes().all(|b| GiftCardCode::ALPHABET.contains(&b))),
        "four groups of four of the code's letters: {secret}"
    );
    let card = &issued["card"];
    assert_eq!(
        (
            &card["initial_value"],
            &card["balance"],
            &card["expires_at"]
        ),
        (&eur("50.00"), &eur("50.00"), &Value::Null)
    );
    assert_eq!(card["last_four"], groups[3]);

    // Read back by id: the card, and never its code.
    let id = &card["id"];
    let (status, read) = admin_get(&f, &format!("/admin/gift-cards/{id}"));
    assert_eq!((status, &read), (200, card));
    assert!(!read.to_string().contains(groups[0]), "{read}");
    assert_eq!(ledger(&f, id), [entry("issue", "50.00", "50.00")]);
    let (status, _) = admin_get(&f, "/admin/gift-cards/999999");
    assert_eq!(status, 404);
    let (status, _) = admin_get(&f, "/admin/gift-cards/999999/ledger");
    assert_eq!(status, 404);

    // A customer's session is not the back office's token.
    let body = json!({ "value": "50.00" }).to_string();
    let answer = f.call_as(
        Some(&f.guest),
        "POST",
        "/admin/gift-cards",
        None,
        Some(&body),
    );
    assert_eq!(code(answer), (401, "unauthenticated".to_owned()));
    let (status, _) = f.call("GET", &format!("/admin/gift-cards/{id}"), None, None);
    assert_eq!(status, 401);

    refused(
        &f,
        "POST",
        "/admin/gift-cards",
        vec![
            ("zero", json!({ "value": "0" }), 422, "invalid_gift_cards"),
            (
                "negative",
                json!({ "value": "-5.00" }),
                422,
                "invalid_gift_cards",
            ),
            (
                "huge",
                json!({ "value": "1000000.01" }),
                422,
                "invalid_gift_cards",
            ),
            ("not a number", json!({ "value": "lots" }), 422, "invalid"),
            ("past a cent", json!({ "value": "1.001" }), 422, "invalid"),
            (
                "no currency",
                json!({ "value": "5", "currency": "XXX" }),
                422,
                "invalid",
            ),
            (
                "expired already",
                json!({ "value": "5", "expires_at": "2020-01-01T00:00:00Z" }),
                422,
                "invalid_gift_cards",
            ),
            ("no value", json!({}), 422, "invalid_body"),
            (
                "a code of staff's choosing",
                json!({ "value": "5", "code": "AAAA-AAAA-AAAA-AAAA" }),
                422,
                "invalid_body",
            ),
        ],
    );
}

#[test]
fn whoever_holds_a_code_reads_its_balance_and_nothing_else() {
    let f = fixture();
    let (status, issued) = f.admin_post(
        "/admin/gift-cards",
        None,
        json!({ "value": "20.00", "currency": "EUR", "expires_at": "2099-12-31T00:00:00Z" }),
    );
    assert_eq!(status, 201, "{issued}");
    let secret = code_of(&issued);

    // As a person types it: any case, with spaces or no dashes.
    for typed in [
        secret.clone(),
        secret.to_lowercase(),
        secret.replace('-', ""),
        secret.replace('-', " "),
    ] {
        let (status, card) = balance(&f, &typed);
        assert_eq!(status, 200, "{typed}: {card}");
        assert_eq!(
            card,
            json!({ "last_four": issued["card"]["last_four"], "balance": eur("20.00"),
                    "expires_at": "2099-12-31T00:00:00Z" })
        );
    }

    // Another code of the right shape names no card.
    let first = secret.as_bytes()[0];
    let other = if first == b'A' { 'B' } else { 'A' };
    let unknown = format!("{other}{}", &secret[1..]);
    assert_eq!(
        code(balance(&f, &unknown)),
        (422, "gift_card_unknown".to_owned())
    );
    for malformed in ["", "ABCD", "ABCD-EFGH-JKMN-PQRU", &format!("{secret}0")] {
        assert_eq!(
            code(balance(&f, malformed)),
            (422, "invalid_gift_cards".to_owned()),
            "{malformed:?}"
        );
    }
    let answer = f.call_as(None, "POST", "/gift-cards/balance", None, Some("{}"));
    assert_eq!(code(answer), (422, "invalid_body".to_owned()));
    // Never in a URL.
    let (status, _) = f.call_as(
        None,
        "GET",
        &format!("/gift-cards/balance?code={secret}"),
        None,
        None,
    );
    assert_eq!(status, 405);
}

#[test]
fn a_checkout_pays_with_a_card_first_and_the_provider_the_rest() {
    let f = fixture();
    let issued = issue(&f, "10.00");
    let (card_code, card) = (code_of(&issued), &issued["card"]["id"]);
    let (guest, cart) = new_guest(&f);
    put_in(&f, &guest, &cart, f.variants[0], 2);

    let (status, order) = check_out_with(&f, &guest, &cart, "split-1", &[&card_code], None);
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "pending_payment");
    let grand_total = amount(&order["totals"]["grand_total"]);
    assert!(grand_total > Decimal::from(10), "{order}");
    let (from_card, provider) = payments(&order, card);
    let provider = provider.expect("the provider pays the rest");
    assert_eq!(order["payments"].as_array().unwrap().len(), 2, "{order}");
    assert_eq!(
        (
            &from_card["status"],
            &from_card["amount"],
            &from_card["captured"]
        ),
        (&json!("captured"), &eur("10.00"), &eur("10.00")),
        "a card's payment is captured at checkout"
    );
    assert_eq!(provider["status"], "pending");
    assert_eq!(
        amount(&from_card["amount"]) + amount(&provider["amount"]),
        grand_total,
        "the payments sum to the grand total"
    );
    assert_eq!(balance(&f, &card_code).1["balance"], eur("0.00"));
    assert_eq!(
        ledger(&f, card),
        [
            entry("issue", "10.00", "10.00"),
            entry("redeem", "10.00", "0.00")
        ]
    );

    // The card's payment is the shop's to book: no provider report or payment
    // refund touches it.
    let card_payment = from_card["id"].as_i64().unwrap();
    let report = f.report(
        "evt-card",
        card_payment,
        json!({ "type": "refund", "amount": "10.00" }),
    );
    assert_eq!(code(report), (409, "gift_card_payment".to_owned()));
    let answer = f.admin_post(
        &format!("/admin/payments/{card_payment}/refunds"),
        Some("card-refund"),
        json!({ "amount": "10.00" }),
    );
    assert_eq!(code(answer), (409, "gift_card_payment".to_owned()));

    // The provider takes the rest: the order is paid, and its customer sees both.
    let paid = provider_pays(&f, &provider);
    assert_eq!(paid["order_status"], "paid");
    let reference = order["id"].as_str().unwrap();
    let (status, mine) = f.call_as(
        Some(&guest),
        "GET",
        &format!("/orders/{reference}"),
        None,
        None,
    );
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["status"], "paid");
    let (from_card, provider) = payments(&mine, card);
    assert_eq!(from_card["id"], card_payment);
    assert_eq!(provider.unwrap()["status"], "captured");

    // Spent to nothing, the card pays for no other order.
    let (other, other_cart) = new_guest(&f);
    put_in(&f, &other, &other_cart, f.variants[0], 1);
    let (status, refusal) = check_out_with(&f, &other, &other_cart, "split-2", &[&card_code], None);
    assert_eq!(
        (
            status,
            &refusal["error"]["code"],
            &refusal["error"]["details"]
        ),
        (
            409,
            &json!("gift_card_empty"),
            &json!({ "last_four": issued["card"]["last_four"] })
        )
    );
    let twice = check_out_with(
        &f,
        &other,
        &other_cart,
        "split-3",
        &[&card_code, &card_code.to_lowercase()],
        None,
    );
    assert_eq!(code(twice), (422, "invalid_gift_cards".to_owned()));
}

#[test]
fn a_checkout_the_cards_pay_in_full_is_paid_at_once_without_the_provider() {
    let f = fixture();
    let issued = issue(&f, "100.00");
    let (card_code, card) = (code_of(&issued), &issued["card"]["id"]);
    let (guest, cart) = new_guest(&f);
    put_in(&f, &guest, &cart, f.variants[0], 1);

    let (status, order) = check_out_with(&f, &guest, &cart, "full-1", &[&card_code], None);
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "paid");
    let grand_total = &order["totals"]["grand_total"];
    let (from_card, provider) = payments(&order, card);
    assert_eq!(provider, None, "no provider's payment: {order}");
    assert_eq!(order["payments"].as_array().unwrap().len(), 1);
    assert_eq!(
        (&from_card["amount"], &from_card["captured"]),
        (grand_total, grand_total)
    );
    let left = Decimal::from(100) - amount(grand_total);
    assert_eq!(amount(&balance(&f, &card_code).1["balance"]), left);

    // A retry is the same order, and spends nothing more.
    let (status, again) = check_out_with(&f, &guest, &cart, "full-1", &[&card_code], None);
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (&again["id"], &again["status"], &again["payments"]),
        (&order["id"], &json!("paid"), &order["payments"])
    );
    assert_eq!(amount(&balance(&f, &card_code).1["balance"]), left);
    // The back office finds it among the paid orders, to ship.
    order_id(&f, &order, "paid");
}

#[test]
fn staff_refund_an_order_onto_its_card_first_and_a_retry_books_nothing() {
    let f = fixture();
    let issued = issue(&f, "10.00");
    let (card_code, card) = (code_of(&issued), &issued["card"]["id"]);
    let (guest, cart) = new_guest(&f);
    put_in(&f, &guest, &cart, f.variants[0], 2);
    let (status, order) = check_out_with(&f, &guest, &cart, "refund-1", &[&card_code], None);
    assert_eq!(status, 201, "{order}");
    let grand_total = amount(&order["totals"]["grand_total"]);
    let (_, provider) = payments(&order, card);
    provider_pays(&f, &provider.unwrap());
    let id = order_id(&f, &order, "paid");

    // 4.00 back: all of it onto the card.
    let body = json!({ "amount": "4.00", "reason": "one tin was dented" });
    let (status, refunded) = refund(&f, id, Some("r-1"), body.clone());
    assert_eq!(status, 201, "{refunded}");
    assert_eq!(
        (
            &refunded["order_id"],
            &refunded["order_status"],
            &refunded["duplicate"]
        ),
        (&json!(id), &json!("paid"), &json!(false))
    );
    let (from_card, provider) = payments(&refunded, card);
    assert_eq!(from_card["refunded"], eur("4.00"));
    assert_eq!(provider.unwrap()["refunded"], eur("0.00"));
    assert_eq!(balance(&f, &card_code).1["balance"], eur("4.00"));

    // The same key again: the same refund, booked once.
    let (status, replayed) = refund(&f, id, Some("r-1"), body);
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(replayed["duplicate"], true);
    assert_eq!(replayed["payments"], refunded["payments"]);
    assert_eq!(balance(&f, &card_code).1["balance"], eur("4.00"));
    let reused = refund(&f, id, Some("r-1"), json!({ "amount": "5.00" }));
    assert_eq!(code(reused), (409, "idempotency_conflict".to_owned()));

    // 8.00 more: the 6.00 the card still paid, then 2.00 from the provider.
    let (status, refunded) = refund(&f, id, Some("r-2"), json!({ "amount": "8.00" }));
    assert_eq!(status, 201, "{refunded}");
    let (from_card, provider) = payments(&refunded, card);
    assert_eq!(
        (&from_card["refunded"], &from_card["status"]),
        (&eur("10.00"), &json!("refunded"))
    );
    assert_eq!(provider.unwrap()["refunded"], eur("2.00"));
    assert_eq!(balance(&f, &card_code).1["balance"], eur("10.00"));
    assert_eq!(
        ledger(&f, card),
        [
            entry("issue", "10.00", "10.00"),
            entry("redeem", "10.00", "0.00"),
            entry("refund", "4.00", "4.00"),
            entry("refund", "6.00", "10.00"),
        ]
    );

    // Refusals change nothing.
    let rest = grand_total - Decimal::from(12);
    let too_much = (rest + Decimal::new(1, 2)).to_string();
    for (what, key, body, expected) in [
        (
            "no key",
            None,
            json!({ "amount": "1.00" }),
            (400, "idempotency_key_required"),
        ),
        (
            "more than is left",
            Some("r-3"),
            json!({ "amount": too_much }),
            (409, "payment_refused"),
        ),
        (
            "nothing",
            Some("r-3"),
            json!({ "amount": "0.00" }),
            (422, "invalid"),
        ),
        (
            "not a number",
            Some("r-3"),
            json!({ "amount": "some" }),
            (422, "invalid"),
        ),
        (
            "neither",
            Some("r-3"),
            json!({ "reason": "why not" }),
            (422, "invalid"),
        ),
        (
            "both",
            Some("r-3"),
            json!({ "amount": "1.00", "line_no": 1 }),
            (422, "invalid"),
        ),
        (
            "a line of the flat rules",
            Some("r-3"),
            json!({ "line_no": 1 }),
            (422, "no_refundable_line"),
        ),
    ] {
        let answer = refund(&f, id, key, body);
        assert_eq!(code(answer), (expected.0, expected.1.to_owned()), "{what}");
    }
    let answer = refund(&f, 999_999, Some("r-3"), json!({ "amount": "1.00" }));
    assert_eq!(code(answer), (404, "not_found".to_owned()));
    let as_customer = f.call_as(
        Some(&guest),
        "POST",
        &format!("/admin/orders/{id}/refunds"),
        Some("r-3"),
        Some(&json!({ "amount": "1.00" }).to_string()),
    );
    assert_eq!(code(as_customer), (401, "unauthenticated".to_owned()));

    // The rest: every payment refunded, and the order with them.
    let (status, refunded) = refund(&f, id, Some("r-4"), json!({ "amount": rest.to_string() }));
    assert_eq!(status, 201, "{refunded}");
    assert_eq!(refunded["order_status"], "refunded");
    assert_eq!(balance(&f, &card_code).1["balance"], eur("10.00"));
}

#[test]
fn a_line_refund_gives_back_what_the_line_cost_once() {
    let f = fixture();
    let shop = german_shop(&f);
    let issued = issue(&f, "30.00");
    let (card_code, card) = (code_of(&issued), &issued["card"]["id"]);
    let (guest, cart) = new_guest(&f);
    put_in(&f, &guest, &cart, shop.shirt, 2);
    put_in(&f, &guest, &cart, shop.book, 1);
    // 2 × 11.90 + 21.40 + 5.95 shipping = 51.15, gross: 30.00 from the card.
    let (status, order) =
        check_out_with(&f, &guest, &cart, "line-1", &[&card_code], Some("standard"));
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["totals"]["grand_total"], eur("51.15"));
    let (_, provider) = payments(&order, card);
    let provider = provider.unwrap();
    assert_eq!(provider["amount"], eur("21.15"));
    provider_pays(&f, &provider);
    let id = order_id(&f, &order, "paid");

    // The book, line 2: the 21.40 paid for it, all onto the card.
    let (status, refunded) = refund(&f, id, Some("line-2"), json!({ "line_no": 2 }));
    assert_eq!(status, 201, "{refunded}");
    let (from_card, provider) = payments(&refunded, card);
    assert_eq!(from_card["refunded"], eur("21.40"));
    assert_eq!(provider.unwrap()["refunded"], eur("0.00"));
    assert_eq!(balance(&f, &card_code).1["balance"], eur("21.40"));

    // Once, whatever the key.
    for key in ["line-2", "line-2-again"] {
        let (status, again) = refund(&f, id, Some(key), json!({ "line_no": 2 }));
        assert_eq!((status, &again["duplicate"]), (200, &json!(true)), "{key}");
        assert_eq!(again["payments"], refunded["payments"]);
    }
    assert_eq!(balance(&f, &card_code).1["balance"], eur("21.40"));
    let answer = refund(&f, id, Some("line-9"), json!({ "line_no": 9 }));
    assert_eq!(code(answer), (422, "no_refundable_line".to_owned()));

    // The shirts, line 1: 23.80, the card's last 8.60 then 15.20 from the
    // provider. The shipping is not refunded: the order stays paid.
    let (status, refunded) = refund(&f, id, Some("line-1"), json!({ "line_no": 1 }));
    assert_eq!(status, 201, "{refunded}");
    assert_eq!(refunded["order_status"], "paid");
    let (from_card, provider) = payments(&refunded, card);
    assert_eq!(from_card["refunded"], eur("30.00"));
    assert_eq!(provider.unwrap()["refunded"], eur("15.20"));
    assert_eq!(balance(&f, &card_code).1["balance"], eur("30.00"));
}

/// Every line `service` logs until its outbox has logged an `order.placed`
/// event, then the rest until it stops on SIGTERM.
fn log_through_checkout(mut service: util::Running) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut log = Vec::new();
    while !log.iter().any(|l: &String| l.contains("order.placed")) {
        match service
            .log
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(line) => log.push(line),
            Err(RecvTimeoutError::Timeout) => panic!("no order.placed logged: {log:#?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the service stopped: {log:#?}"),
        }
    }
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &service.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert!(service.child.wait().unwrap().success());
    log.extend(service.log.iter());
    log
}

#[test]
fn a_gift_card_code_never_reaches_the_services_log() {
    // `shop-service` as a process, its stderr captured at the level it runs at
    // in production (`info`): issue a card, read its balance, mistype it, pay
    // with it, and wait for the outbox to log the order.
    let db = TestDb::new();
    let store = store_on(db.pool().clone());
    let category = store
        .create_category(NewCategory {
            parent_id: None,
            slug: Slug::parse("tea").unwrap(),
            name: CategoryName::parse("Tea").unwrap(),
        })
        .unwrap();
    let product = store
        .create_product(NewProduct::single(
            Slug::parse("sencha").unwrap(),
            ProductName::parse("Sencha").unwrap(),
            category.id,
            Sku::parse("SENCHA").unwrap(),
            Money::parse("8.50", Currency::EUR).unwrap(),
            5,
        ))
        .unwrap();
    let mut command = shop_service(&[], db.url(), None);
    command.env("ADMIN_TOKEN", ADMIN_TOKEN);
    let Start::Serving(service) = util::start(command) else {
        panic!("the service did not start")
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |path: &str, token: Option<&str>, key: Option<&str>, body: Value| {
        let mut request = agent
            .post(&format!("{}{path}", service.base))
            .header("Content-Type", "application/json");
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let mut response = request.send(body.to_string()).unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_json::<Value>().unwrap())
    };

    let (status, issued) = post(
        "/admin/gift-cards",
        Some(ADMIN_TOKEN),
        None,
        json!({ "value": "5.00" }),
    );
    assert_eq!(status, 201, "{issued}");
    let code = code_of(&issued);
    let (status, _) = post("/gift-cards/balance", None, None, json!({ "code": code }));
    assert_eq!(status, 200);
    let mistyped = format!("{code}-X");
    let (status, _) = post(
        "/gift-cards/balance",
        None,
        None,
        json!({ "code": mistyped }),
    );
    assert_eq!(status, 422);
    let (status, session) = post("/sessions/guest/cart", None, None, json!({}));
    assert_eq!(status, 201, "{session}");
    let token = session["session"]["token"].as_str().unwrap();
    let cart = session["cart"]["id"].as_str().unwrap();
    let variant = product.variants[0].id.get();
    let (status, _) = post(
        &format!("/carts/{cart}/items"),
        Some(token),
        None,
        json!({ "variant_id": variant, "quantity": 1 }),
    );
    assert_eq!(status, 200);
    let checkout = json!({ "cart": cart, "email": "ada@example.com", "shipping": shipping(),
                           "gift_cards": [code] });
    // A body of the wrong shape, echoed to its sender only.
    let mut wrong = checkout.clone();
    wrong["gift_cards"] = json!(code);
    let (status, _) = post("/checkout", Some(token), Some("log-0"), wrong);
    assert_eq!(status, 422);
    let (status, order) = post("/checkout", Some(token), Some("log-1"), checkout);
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["payments"].as_array().unwrap().len(), 2, "{order}");

    let log = log_through_checkout(service);
    let plain = code.replace('-', "");
    for line in &log {
        for form in [&code, &plain, &code.to_lowercase(), &plain.to_lowercase()] {
            assert!(!line.contains(form.as_str()), "the code in the log: {line}");
        }
    }
}
