//! Promotions and coupon codes over HTTP: staff set up a German shop with gross
//! EUR prices, an automatic 10 % off and a coupon-only 2.00 off with a single-use
//! code; a guest's checkout with the code shows both, line by line, worked by hand;
//! the code is then used up, and every bad code and every bad setting is a typed
//! 4xx that writes nothing.
//!
//! The amounts are worked by hand, not by the code under test. Promotions apply by
//! priority, each on what the ones before left; an amount off several lines is
//! allocated in proportion to what is left of each, in cents, the cents left over
//! going to the largest remainders. Tax is then contained in each line's amount
//! less its discount: `tax = amount × rate / (1 + rate)`, rounded half-even.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{
    Fixture, admin_get, berlin, code, create, eur, fixture, new_guest, put_in, reduced_rate,
    refused, standard_rate, variant_of,
};

/// What the shop was set up with.
struct Shop {
    /// The shirt's one variant: 11.90, standard rate.
    shirt: i64,
    /// The book's one variant: 4.28, reduced rate.
    book: i64,
    /// The automatic 10 % off everything, priority 0.
    ten_percent: i64,
    /// The coupon-only 2.00 off the order, priority 10.
    two_off: i64,
}

/// Staff set up the shop through the back office, checking each answer: gross
/// EUR prices, 19 % and 7 % in Germany, standard shipping at 4.90, the two
/// promotions and the single-use code `WELCOME-2`.
fn shop_with_promotions(f: &Fixture) -> Shop {
    let (status, market) = f.admin_put("/admin/markets/EUR", json!({ "prices_include_tax": true }));
    assert_eq!(status, 200, "{market}");
    let shirt = create(
        f,
        json!({ "slug": "shirt", "name": "Shirt", "category_id": f.category,
                "variants": [{ "sku": "SHIRT", "price": "11.90", "stock": 10 }] }),
    );
    let book = create(
        f,
        json!({ "slug": "book", "name": "Book", "category_id": f.category,
                "variants": [{ "sku": "BOOK", "price": "4.28", "stock": 10 }] }),
    );
    let (status, body) = f.admin_put(
        &format!("/admin/products/{}/tax-class", book["id"]),
        json!({ "class": "reduced" }),
    );
    assert_eq!(status, 204, "{body}");
    for (name, class, rate) in [
        ("DE standard", "standard", "0.19"),
        ("DE reduced", "reduced", "0.07"),
    ] {
        let body = json!({ "name": name, "country": "DE", "class": class, "rate": rate,
                           "valid_from": "2020-01-01T00:00:00Z" });
        let (status, added) = f.admin_post("/admin/tax-rates", None, body);
        assert_eq!(status, 201, "{added}");
    }
    let (status, zone) = f.admin_post(
        "/admin/shipping-zones",
        None,
        json!({ "name": "Germany", "areas": [{ "country": "DE" }] }),
    );
    assert_eq!(status, 201, "{zone}");
    let (status, method) = f.admin_post(
        "/admin/shipping-methods",
        None,
        json!({ "zone_id": zone["id"], "code": "standard", "name": "Standard",
                "rate": { "type": "flat", "price": "4.90" } }),
    );
    assert_eq!(status, 201, "{method}");

    let (status, ten) = f.admin_post(
        "/admin/promotions",
        None,
        json!({ "name": "10 % off everything",
                "discount": { "type": "percent", "rate": "0.10" },
                "target": { "type": "order" },
                "coupon_only": false, "exclusive": false, "priority": 0 }),
    );
    assert_eq!(status, 201, "{ten}");
    assert_eq!(
        ten,
        json!({ "id": ten["id"], "name": "10 % off everything",
                "discount": { "type": "percent", "rate": "0.1" },
                "target": { "type": "order", "ids": [] },
                "currency": null, "min_subtotal": null, "min_quantity": null, "group": null,
                "starts_at": null, "ends_at": null,
                "coupon_only": false, "exclusive": false, "priority": 0 })
    );
    let (status, two) = f.admin_post(
        "/admin/promotions",
        None,
        json!({ "name": "2.00 off", "currency": "EUR",
                "discount": { "type": "fixed", "amount": "2.00" },
                "target": { "type": "order" },
                "coupon_only": true, "exclusive": false, "priority": 10 }),
    );
    assert_eq!(status, 201, "{two}");
    assert_eq!(
        (&two["discount"], &two["currency"], &two["coupon_only"]),
        (
            &json!({ "type": "fixed", "amount": eur("2.00") }),
            &json!("EUR"),
            &json!(true)
        )
    );
    let two_off = two["id"].as_i64().unwrap();
    let (status, coupons) = f.admin_post(
        &format!("/admin/promotions/{two_off}/coupons"),
        None,
        json!({ "codes": ["welcome-2"], "max_uses": 1 }),
    );
    assert_eq!(status, 201, "{coupons}");
    assert_eq!(
        coupons,
        json!({ "promotion_id": two_off, "max_uses": 1, "per_customer": null,
                "codes": ["WELCOME-2"] }),
        "stored upper-case"
    );
    Shop {
        shirt: variant_of(&shirt),
        book: variant_of(&book),
        ten_percent: ten["id"].as_i64().unwrap(),
        two_off,
    }
}

/// `token` checks out `cart` to Berlin with the idempotency key `key`, by the
/// standard method unless `method` is false, with `codes`.
fn check_out(
    f: &Fixture,
    token: &str,
    cart: &str,
    key: &str,
    method: bool,
    codes: &[&str],
) -> (u16, Value) {
    let mut body = json!({ "cart": cart, "email": format!("{key}@example.com"),
                           "shipping": berlin(), "coupon_codes": codes });
    if method {
        body["shipping_method"] = json!("standard");
    }
    f.call_as(
        Some(token),
        "POST",
        "/checkout",
        Some(key),
        Some(&body.to_string()),
    )
}

/// A new guest whose cart holds `quantity` shirts; their token and cart.
fn guest_with_shirts(f: &Fixture, shop: &Shop, quantity: u32) -> (String, String) {
    let (guest, cart) = new_guest(f);
    put_in(f, &guest, &cart, shop.shirt, quantity);
    (guest, cart)
}

#[test]
fn a_guest_checks_out_with_an_automatic_promotion_and_a_code_worked_by_hand() {
    let f = fixture();
    let shop = shop_with_promotions(&f);
    let (guest, cart) = guest_with_shirts(&f, &shop, 2);
    put_in(&f, &guest, &cart, shop.book, 1);

    // The quote takes no code: only the automatic 10 %. 2 × 11.90 = 23.80 and
    // 4.28: 28.08, 10 % = 2.808 → 2.81. In cents, 281 × 2380 / 2808 = 238.17 and
    // 281 × 428 / 2808 = 42.83: 238 + 42 = 280, the cent left to the larger
    // remainder, the book's: 2.38 and 0.43. The shirts hold (23.80 − 2.38) ×
    // 19 / 119 = 21.42 × 0.1597 = 3.42, net 18.00; the book (4.28 − 0.43) × 7 /
    // 107 = 3.85 × 0.0654 = 0.2519 → 0.25, net 3.60; the shipping 4.90 × 19 / 119
    // = 0.7824 → 0.78, net 4.12. Total 28.08 − 2.81 + 4.90 = 30.17, holding 4.45.
    let (status, quote) = f.call_as(
        Some(&guest),
        "GET",
        &format!("/carts/{cart}/quote?country=DE&method=standard"),
        None,
        None,
    );
    assert_eq!(status, 200, "{quote}");
    let quoted = |i: usize| {
        let l = &quote["lines"][i];
        [&l["discount"], &l["net"], &l["tax"]].map(Value::clone)
    };
    assert_eq!(quoted(0), [eur("2.38"), eur("18.00"), eur("3.42")]);
    assert_eq!(quoted(1), [eur("0.43"), eur("3.60"), eur("0.25")]);
    assert_eq!(
        quote["totals"],
        json!({ "subtotal": eur("28.08"), "discount": eur("2.81"), "shipping": eur("4.90"),
                "tax": eur("4.45"), "grand_total": eur("30.17") })
    );
    assert_eq!(
        quote["promotions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (&p["name"], &p["amount"]))
            .collect::<Vec<_>>(),
        [(&json!("10 % off everything"), &eur("2.81"))]
    );

    // With the code, 2.00 comes off what the 10 % left: 21.42 and 3.85, 25.27.
    // 200 × 2142 / 2527 = 169.53 and 200 × 385 / 2527 = 30.47: 169 + 30 = 199,
    // the cent left to the shirts: 1.70 and 0.30. Discounts 2.38 + 1.70 = 4.08 and
    // 0.43 + 0.30 = 0.73, in all 4.81. The shirts: 23.80 − 4.08 = 19.72, tax
    // 19.72 × 19 / 119 = 3.1486 → 3.15, net 16.57. The book: 4.28 − 0.73 = 3.55,
    // tax 3.55 × 7 / 107 = 0.2322 → 0.23, net 3.32. Shipping as before. At 19 %:
    // 16.57 + 4.12 = 20.69 taxed, 3.15 + 0.78 = 3.93 tax; at 7 %: 3.32, 0.23.
    // Total 28.08 − 4.81 + 4.90 = 28.17, holding 3.93 + 0.23 = 4.16.
    // A quote with the code shows it before the checkout, and takes no use of it.
    let (status, quote) = f.call_as(
        Some(&guest),
        "GET",
        &format!("/carts/{cart}/quote?country=DE&method=standard&coupons=welcome-2"),
        None,
        None,
    );
    assert_eq!(status, 200, "{quote}");
    assert_eq!(quote["totals"]["discount"], eur("4.81"));
    assert_eq!(quote["totals"]["grand_total"], eur("28.17"));
    let (status, unknown) = f.call_as(
        Some(&guest),
        "GET",
        &format!("/carts/{cart}/quote?country=DE&method=standard&coupons=nope-nope"),
        None,
        None,
    );
    assert_eq!(
        (status, &unknown["error"]["code"]),
        (422, &json!("coupon_unknown"))
    );
    let (status, order) = check_out(&f, &guest, &cart, "ada", true, &["welcome-2"]);
    assert_eq!(status, 201, "{order}");
    let totals = json!({ "subtotal": eur("28.08"), "discount": eur("4.81"),
                         "shipping": eur("4.90"), "tax": eur("4.16"), "grand_total": eur("28.17") });
    let lines = json!([
        { "line_no": 1, "variant_id": shop.shirt, "sku": "SHIRT", "name": "Shirt", "options": [],
          "unit_price": eur("11.90"), "quantity": 2,
          "tax": { "discount": eur("4.08"), "net": eur("16.57"), "tax": eur("3.15"),
                   "rate": standard_rate() } },
        { "line_no": 2, "variant_id": shop.book, "sku": "BOOK", "name": "Book", "options": [],
          "unit_price": eur("4.28"), "quantity": 1,
          "tax": { "discount": eur("0.73"), "net": eur("3.32"), "tax": eur("0.23"),
                   "rate": reduced_rate() } },
    ]);
    let invoice = json!({
        "prices_include_tax": true,
        "shipping": { "code": "standard", "name": "Standard", "amount": eur("4.90"),
                      "net": eur("4.12"), "tax": eur("0.78"), "rate": standard_rate() },
        "tax_lines": [
            { "rate": reduced_rate(), "taxable": eur("3.32"), "tax": eur("0.23") },
            { "rate": standard_rate(), "taxable": eur("20.69"), "tax": eur("3.93") },
        ],
        "promotions": [
            { "promotion_id": shop.ten_percent, "name": "10 % off everything", "code": null,
              "discount": { "type": "percent", "rate": "0.1" },
              "amount": eur("2.81"), "shipping_amount": eur("0.00"),
              "lines": [{ "variant_id": shop.shirt, "amount": eur("2.38") },
                        { "variant_id": shop.book, "amount": eur("0.43") }] },
            { "promotion_id": shop.two_off, "name": "2.00 off", "code": "WELCOME-2",
              "discount": { "type": "fixed", "amount": eur("2.00") },
              "amount": eur("2.00"), "shipping_amount": eur("0.00"),
              "lines": [{ "variant_id": shop.shirt, "amount": eur("1.70") },
                        { "variant_id": shop.book, "amount": eur("0.30") }] },
        ],
    });
    assert_eq!(
        (&order["totals"], &order["lines"], &order["invoice"]),
        (&totals, &lines, &invoice)
    );
    assert_eq!(order["payments"][0]["amount"], eur("28.17"), "charged");

    // Read back as placed.
    let (status, stored) = f.call_as(
        Some(&guest),
        "GET",
        &format!("/orders/{}", order["id"].as_str().unwrap()),
        None,
        None,
    );
    assert_eq!(status, 200, "{stored}");
    assert_eq!(
        (&stored["totals"], &stored["lines"], &stored["invoice"]),
        (&totals, &lines, &invoice)
    );

    // Staff see the code used once, in any case they type it.
    let (status, coupon) = admin_get(&f, "/admin/coupons/Welcome-2");
    assert_eq!(status, 200, "{coupon}");
    assert_eq!(
        (
            &coupon["code"],
            &coupon["promotion"]["id"],
            &coupon["max_uses"],
            &coupon["per_customer"],
            &coupon["uses"]
        ),
        (
            &json!("WELCOME-2"),
            &json!(shop.two_off),
            &json!(1),
            &Value::Null,
            &json!(1)
        )
    );
}

#[test]
fn a_single_use_code_is_used_once_and_bad_codes_are_refused_by_name() {
    let f = fixture();
    let shop = shop_with_promotions(&f);
    let (first, first_cart) = guest_with_shirts(&f, &shop, 1);
    let (status, order) = check_out(&f, &first, &first_cart, "first", true, &["WELCOME-2"]);
    assert_eq!(status, 201, "{order}");

    let (second, cart) = guest_with_shirts(&f, &shop, 1);
    let mut attempt = 0;
    let mut refusal = |method: bool, codes: &[&str]| {
        attempt += 1;
        code(check_out(
            &f,
            &second,
            &cart,
            &format!("second-{attempt}"),
            method,
            codes,
        ))
    };
    let expect = |status: u16, code: &str| (status, code.to_owned());
    assert_eq!(
        refusal(true, &["WELCOME-2"]),
        expect(409, "coupon_exhausted"),
        "used up by the first guest"
    );
    assert_eq!(
        refusal(true, &["NO-SUCH-CODE"]),
        expect(422, "coupon_unknown")
    );
    // Codes take a checkout priced from the price book; a spare, unused one.
    let (status, spare) = f.admin_post(
        &format!("/admin/promotions/{}/coupons", shop.two_off),
        None,
        json!({ "codes": ["SPARE-2"], "max_uses": 1 }),
    );
    assert_eq!(status, 201, "{spare}");
    assert_eq!(
        refusal(false, &["SPARE-2"]),
        expect(422, "coupon_not_applicable"),
        "no shipping method"
    );
    let six = ["CODE-1", "CODE-2", "CODE-3", "CODE-4", "CODE-5", "CODE-6"];
    assert_eq!(refusal(true, &six), expect(422, "invalid_coupons"));
    assert_eq!(
        refusal(true, &["SPARE-2", "spare-2"]),
        expect(422, "invalid_coupons"),
        "one code twice"
    );
    assert_eq!(refusal(true, &["a b"]), expect(422, "invalid"));

    // Nothing refused took a use; the second guest still checks out, with the
    // automatic promotion alone: 11.90 − 1.19 = 10.71, + 4.90 = 15.61.
    for (code, uses) in [("WELCOME-2", 1), ("SPARE-2", 0)] {
        let (status, coupon) = admin_get(&f, &format!("/admin/coupons/{code}"));
        assert_eq!((status, &coupon["uses"]), (200, &json!(uses)), "{code}");
    }
    let (status, order) = check_out(&f, &second, &cart, "second-ok", true, &[]);
    assert_eq!(status, 201, "{order}");
    assert_eq!(
        (
            &order["totals"]["discount"],
            &order["totals"]["grand_total"]
        ),
        (&eur("1.19"), &eur("15.61"))
    );
}

#[test]
fn staff_generate_codes_that_are_distinct_and_shown_once() {
    let f = fixture();
    let shop = shop_with_promotions(&f);
    let (status, made) = f.admin_post(
        &format!("/admin/promotions/{}/coupons", shop.two_off),
        None,
        json!({ "generate": { "count": 500, "prefix": "SUMMER-", "length": 10 },
                "max_uses": 1, "per_customer": 1 }),
    );
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        (
            &made["promotion_id"],
            &made["max_uses"],
            &made["per_customer"]
        ),
        (&json!(shop.two_off), &json!(1), &json!(1))
    );
    let codes: Vec<&str> = made["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 500);
    assert_eq!(
        codes.iter().collect::<BTreeSet<_>>().len(),
        500,
        "all distinct"
    );
    // 10 letters of the alphabet without look-alikes after the prefix.
    let alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    for code in &codes {
        let letters = code
            .strip_prefix("SUMMER-")
            .unwrap_or_else(|| panic!("{code}"));
        assert_eq!(letters.len(), 10, "{code}");
        assert!(letters.chars().all(|c| alphabet.contains(c)), "{code}");
    }
    // Each is a code of the promotion, unused, with the limits given.
    let (status, one) = admin_get(&f, &format!("/admin/coupons/{}", codes[499]));
    assert_eq!(status, 200, "{one}");
    assert_eq!(
        (
            &one["promotion"]["name"],
            &one["per_customer"],
            &one["uses"]
        ),
        (&json!("2.00 off"), &json!(1), &json!(0))
    );

    // The promotions as staff list them.
    let (status, listed) = admin_get(&f, "/admin/promotions");
    assert_eq!(status, 200, "{listed}");
    let ids: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["id"])
        .collect();
    assert_eq!(ids, [&json!(shop.ten_percent), &json!(shop.two_off)]);
}

#[test]
fn bad_promotions_and_codes_get_typed_errors_and_write_nothing() {
    let f = fixture();
    let shop = shop_with_promotions(&f);
    let (_, before) = admin_get(&f, "/admin/promotions");

    // A promotion body with `change` merged in.
    let promotion = |change: Value| {
        let mut body = json!({ "name": "Bad", "discount": { "type": "percent", "rate": "0.10" },
                               "target": { "type": "order" },
                               "coupon_only": false, "exclusive": false, "priority": 0 });
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let percent = |rate: Value| json!({ "discount": { "type": "percent", "rate": rate } });
    let fixed = json!({ "discount": { "type": "fixed", "amount": "2.00" } });
    let mut unknown_field = promotion(json!({}));
    unknown_field["stackable"] = json!(true);
    let mut no_priority = promotion(json!({}));
    no_priority.as_object_mut().unwrap().remove("priority");
    refused(
        &f,
        "POST",
        "/admin/promotions",
        vec![
            (
                "a rate of 150 %",
                promotion(percent(json!("1.5"))),
                422,
                "invalid_promotion",
            ),
            (
                "a rate of 0",
                promotion(percent(json!("0"))),
                422,
                "invalid_promotion",
            ),
            (
                "five decimals",
                promotion(percent(json!("0.12345"))),
                422,
                "invalid_promotion",
            ),
            (
                "no number",
                promotion(percent(json!("ten"))),
                422,
                "invalid_promotion",
            ),
            (
                "a float",
                promotion(percent(json!(0.1))),
                422,
                "invalid_body",
            ),
            (
                "a fixed amount without a currency",
                promotion(fixed.clone()),
                422,
                "invalid_promotion",
            ),
            (
                "a negative amount",
                promotion(json!({ "currency": "EUR",
                                  "discount": { "type": "fixed", "amount": "-2.00" } })),
                422,
                "invalid_promotion",
            ),
            (
                "an amount of more cents than euros have",
                promotion(json!({ "currency": "EUR",
                                  "discount": { "type": "fixed", "amount": "2.001" } })),
                422,
                "invalid",
            ),
            (
                "a minimum subtotal without a currency",
                promotion(json!({ "min_subtotal": "50.00" })),
                422,
                "invalid_promotion",
            ),
            (
                "a negative minimum subtotal",
                promotion(json!({ "currency": "EUR", "min_subtotal": "-1.00" })),
                422,
                "invalid_promotion",
            ),
            (
                "a minimum quantity of 0",
                promotion(json!({ "min_quantity": 0 })),
                422,
                "invalid_promotion",
            ),
            (
                "a minimum quantity past what the database holds",
                promotion(json!({ "min_quantity": 3_000_000_000_u32 })),
                422,
                "invalid_promotion",
            ),
            (
                "buy 0 get 1",
                promotion(json!({ "discount": { "type": "buy_x_get_y", "buy": 0, "get": 1 } })),
                422,
                "invalid_promotion",
            ),
            (
                "free shipping off some lines",
                promotion(json!({ "discount": { "type": "free_shipping" },
                                  "target": { "type": "variants", "ids": [shop.shirt] } })),
                422,
                "invalid_promotion",
            ),
            (
                "a target of no ids",
                promotion(json!({ "target": { "type": "products", "ids": [] } })),
                422,
                "invalid_promotion",
            ),
            (
                "a target without ids",
                promotion(json!({ "target": { "type": "categories" } })),
                422,
                "invalid_promotion",
            ),
            (
                "the order with ids",
                promotion(json!({ "target": { "type": "order", "ids": [1] } })),
                422,
                "invalid_promotion",
            ),
            (
                "an unknown target",
                promotion(json!({ "target": { "type": "brands", "ids": [1] } })),
                422,
                "invalid_promotion",
            ),
            (
                "a window ending before it starts",
                promotion(json!({ "starts_at": "2030-01-02T00:00:00Z",
                                  "ends_at": "2030-01-01T00:00:00Z" })),
                422,
                "invalid_promotion",
            ),
            (
                "a group that is no slug",
                promotion(json!({ "group": "Big Buyers" })),
                422,
                "invalid",
            ),
            (
                "an unknown currency",
                promotion(json!({ "currency": "XYZ" })),
                422,
                "invalid",
            ),
            (
                "an empty name",
                promotion(json!({ "name": " " })),
                422,
                "invalid",
            ),
            (
                "an unknown discount",
                promotion(json!({ "discount": { "type": "cashback", "rate": "0.1" } })),
                422,
                "invalid_body",
            ),
            (
                "a discount's unknown field",
                promotion(json!({ "discount": { "type": "percent", "rate": "0.1", "cap": "5" } })),
                422,
                "invalid_body",
            ),
            (
                "a target's unknown field",
                promotion(json!({ "target": { "type": "order", "except": [1] } })),
                422,
                "invalid_body",
            ),
            ("an unknown field", unknown_field, 422, "invalid_body"),
            ("no priority", no_priority, 422, "invalid_body"),
        ],
    );
    let (_, after) = admin_get(&f, "/admin/promotions");
    assert_eq!(after, before, "no refused promotion was written");

    let coupons = format!("/admin/promotions/{}/coupons", shop.two_off);
    let many: Vec<String> = (0..1001).map(|i| format!("MANY-{i:04}")).collect();
    let generate = |count: u32, prefix: &str, length: u8| json!({ "generate": { "count": count, "prefix": prefix, "length": length } });
    refused(
        &f,
        "POST",
        &coupons,
        vec![
            (
                "1001 codes",
                json!({ "codes": many }),
                422,
                "too_many_coupons",
            ),
            ("no codes", json!({ "codes": [] }), 422, "invalid_coupons"),
            (
                "a code twice",
                json!({ "codes": ["TWICE-1", "twice-1"] }),
                422,
                "invalid_coupons",
            ),
            (
                "a code that is no code",
                json!({ "codes": ["NEW-CODE-1", "no spaces"] }),
                422,
                "invalid",
            ),
            ("a count of 0", generate(0, "", 10), 422, "invalid_coupons"),
            (
                "100,001 codes",
                generate(100_001, "", 10),
                422,
                "too_many_coupons",
            ),
            ("7 letters", generate(10, "", 7), 422, "invalid_coupons"),
            (
                "too long with the prefix",
                generate(10, "A-VERY-LONG-PREFIX-", 20),
                422,
                "invalid_coupons",
            ),
            (
                "a prefix that starts no code",
                generate(10, "-SALE", 10),
                422,
                "invalid_coupons",
            ),
            (
                "both codes and generate",
                json!({ "codes": ["BOTH-1"], "generate": { "count": 1, "length": 10 } }),
                422,
                "invalid_coupons",
            ),
            ("neither", json!({ "max_uses": 1 }), 422, "invalid_coupons"),
            (
                "a limit of 0",
                json!({ "codes": ["ZERO-1"], "max_uses": 0 }),
                422,
                "invalid_coupons",
            ),
            (
                "a limit past what the database holds",
                json!({ "codes": ["HUGE-1"], "per_customer": 3_000_000_000_u32 }),
                422,
                "invalid_coupons",
            ),
            (
                "an unknown field",
                json!({ "codes": ["FIELD-1"], "expires_at": "2030-01-01T00:00:00Z" }),
                422,
                "invalid_body",
            ),
            (
                "generate's unknown field",
                json!({ "generate": { "count": 1, "length": 10, "alphabet": "AB" } }),
                422,
                "invalid_body",
            ),
            (
                "a code that exists, beside a new one",
                json!({ "codes": ["NEW-CODE-1", "WELCOME-2"] }),
                409,
                "coupon_taken",
            ),
        ],
    );
    refused(
        &f,
        "POST",
        "/admin/promotions/999999/coupons",
        vec![(
            "a promotion that does not exist",
            json!({ "codes": ["ORPHAN-1"] }),
            404,
            "not_found",
        )],
    );
    let (status, refusal) = f.admin_post(&coupons, None, json!({ "codes": many }));
    assert_eq!(
        (status, &refusal["error"]["details"]),
        (422, &json!({ "count": 1001, "max": 1000 }))
    );
    // None of the codes of a refused request was made.
    for made in [
        "MANY-0000",
        "TWICE-1",
        "NEW-CODE-1",
        "ZERO-1",
        "HUGE-1",
        "ORPHAN-1",
    ] {
        let answer = admin_get(&f, &format!("/admin/coupons/{made}"));
        assert_eq!(code(answer), (404, "not_found".to_owned()), "{made}");
    }
    let answer = admin_get(&f, "/admin/coupons/no%20code");
    assert_eq!(
        code(answer),
        (404, "not_found".to_owned()),
        "no code at all"
    );

    // Without the token, none of it.
    for (method, path) in [
        ("GET", "/admin/promotions".to_owned()),
        ("GET", "/admin/coupons/WELCOME-2".to_owned()),
        ("POST", "/admin/promotions".to_owned()),
        ("POST", coupons.clone()),
    ] {
        let answer = f.call_as(Some(&f.guest), method, &path, None, Some("{}"));
        assert_eq!(code(answer).0, 401, "{method} {path}");
    }
}
