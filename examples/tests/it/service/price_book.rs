//! Prices, tax and shipping as data, over HTTP: staff set up a German shop (gross
//! EUR prices, a sale, 19 % and 7 %, a zone with two methods), guests list their
//! cart's shipping options, get a quote and check out with a method, and read the
//! invoice back; every bad setting is a typed 4xx.
//!
//! The amounts are worked by hand, not by the code under test. With gross prices
//! the tax is contained: `tax = amount × rate / (1 + rate)`, rounded half-even on
//! each line; `net = amount − tax`.

use serde_json::{Value, json};

use super::{
    Fixture, admin_get, berlin, code, create, eur, fixture, new_guest, put_in, reduced_rate,
    refused, standard_rate, variant_of,
};

/// What the German shop was set up with.
pub(super) struct Shop {
    /// The shirt's one variant: 14.90 of its own, 11.90 in the spring sale, 9.90
    /// for the `b2b` group; 200 g; standard rate.
    pub(super) shirt: i64,
    /// The book's one variant: 21.40; 500 g; reduced rate.
    pub(super) book: i64,
    /// The zone covering Germany and Austria (which has no rates).
    zone: i64,
}

/// Staff set up the German shop through the back office, checking each answer.
/// Its standard shipping is 5.95 to Germany (`berlin()`), free from 100.00.
pub(super) fn german_shop(f: &Fixture) -> Shop {
    let (status, market) = f.admin_put("/admin/markets/EUR", json!({ "prices_include_tax": true }));
    assert_eq!(status, 200, "{market}");
    assert_eq!(
        market,
        json!({ "currency": "EUR", "prices_include_tax": true })
    );

    let shirt = create(
        f,
        json!({ "slug": "shirt", "name": "Shirt", "category_id": f.category,
                "variants": [{ "sku": "SHIRT", "price": "14.90", "stock": 10, "weight_grams": 200 }] }),
    );
    let book = create(
        f,
        json!({ "slug": "book", "name": "Book", "category_id": f.category,
                "variants": [{ "sku": "BOOK", "price": "21.40", "stock": 5, "weight_grams": 500 }] }),
    );
    let (status, body) = f.admin_put(
        &format!("/admin/products/{}/tax-class", book["id"]),
        json!({ "class": "reduced" }),
    );
    assert_eq!(status, 204, "{body}");
    let (shirt, book) = (variant_of(&shirt), variant_of(&book));

    let (status, sale) = f.admin_post(
        "/admin/price-lists",
        None,
        json!({ "name": "Spring sale", "currency": "EUR" }),
    );
    assert_eq!(status, 201, "{sale}");
    assert_eq!(
        (&sale["name"], &sale["group"], &sale["starts_at"]),
        (&json!("Spring sale"), &Value::Null, &Value::Null)
    );
    let (status, prices) = f.admin_put(
        &format!("/admin/price-lists/{}/prices", sale["id"]),
        json!({ "prices": [{ "variant_id": shirt, "price": "11.90" }] }),
    );
    assert_eq!(status, 200, "{prices}");
    assert_eq!(
        prices["prices"],
        json!([{ "price_list_id": sale["id"], "variant_id": shirt, "min_quantity": 1,
                 "price": { "amount": "11.90", "currency": "EUR" } }])
    );
    let (status, trade) = f.admin_post(
        "/admin/price-lists",
        None,
        json!({ "name": "Trade", "group": "b2b" }),
    );
    assert_eq!(status, 201, "{trade}");
    let (status, prices) = f.admin_put(
        &format!("/admin/price-lists/{}/prices", trade["id"]),
        json!({ "prices": [{ "variant_id": shirt, "min_quantity": 1, "price": "9.90" }] }),
    );
    assert_eq!(status, 200, "{prices}");

    for (name, class, rate) in [
        ("DE standard", "standard", "0.19"),
        ("DE reduced", "reduced", "0.07"),
    ] {
        let body = json!({ "name": name, "country": "de", "class": class, "rate": rate,
                           "valid_from": "2020-01-01T00:00:00Z" });
        let (status, added) = f.admin_post("/admin/tax-rates", None, body);
        assert_eq!(status, 201, "{added}");
        assert_eq!(
            added,
            json!({ "name": name, "country": "DE", "region": null, "class": class, "rate": rate,
                    "valid_from": "2020-01-01T00:00:00Z", "valid_until": null })
        );
    }

    let (status, zone) = f.admin_post(
        "/admin/shipping-zones",
        None,
        json!({ "name": "DACH", "areas": [{ "country": "DE" }, { "country": "AT" }] }),
    );
    assert_eq!(status, 201, "{zone}");
    assert_eq!(
        zone["areas"],
        json!([{ "country": "DE", "region": null }, { "country": "AT", "region": null }])
    );
    let zone = zone["id"].as_i64().unwrap();
    let (status, standard) = f.admin_post(
        "/admin/shipping-methods",
        None,
        json!({ "zone_id": zone, "code": "standard", "name": "Standard", "currency": "EUR",
                "rate": { "type": "flat", "price": "5.95" }, "free_from": "100.00" }),
    );
    assert_eq!(status, 201, "{standard}");
    assert_eq!(
        (
            &standard["rate"],
            &standard["free_from"],
            &standard["tax_class"]
        ),
        (
            &json!({ "type": "flat", "price": { "amount": "5.95", "currency": "EUR" } }),
            &json!({ "amount": "100.00", "currency": "EUR" }),
            &json!("standard")
        )
    );
    let (status, express) = f.admin_post(
        "/admin/shipping-methods",
        None,
        json!({ "zone_id": zone, "code": "express", "name": "Express", "currency": "EUR",
                "rate": { "type": "by_weight", "bands": [
                    { "up_to_grams": 1000, "price": "11.90" },
                    { "up_to_grams": 5000, "price": "17.85" },
                ] },
                "tax_class": "standard" }),
    );
    assert_eq!(status, 201, "{express}");
    Shop { shirt, book, zone }
}

#[test]
fn a_guest_is_quoted_and_checks_out_from_the_price_book_with_an_invoice() {
    let f = fixture();
    let shop = german_shop(&f);
    let (guest, cart) = new_guest(&f);
    put_in(&f, &guest, &cart, shop.shirt, 2);
    put_in(&f, &guest, &cart, shop.book, 1);

    // 2 × 11.90 + 21.40 = 45.20, under the 100.00 of free standard shipping;
    // 2 × 200 g + 500 g = 900 g, in express's first band.
    let (status, options) = f.call_as(
        Some(&guest),
        "GET",
        &format!("/carts/{cart}/shipping-options?country=DE&region=BE"),
        None,
        None,
    );
    assert_eq!(status, 200, "{options}");
    assert_eq!(
        options,
        json!({ "items": [
            { "code": "standard", "name": "Standard", "price": eur("5.95") },
            { "code": "express", "name": "Express", "price": eur("11.90") },
        ] }),
        "cheapest first"
    );
    let (status, nowhere) = f.call_as(
        Some(&guest),
        "GET",
        &format!("/carts/{cart}/shipping-options?country=FR"),
        None,
        None,
    );
    assert_eq!((status, &nowhere), (200, &json!({ "items": [] })));

    // Shirt: 23.80 × 0.19 / 1.19 = 3.80 tax, 20.00 net. Book: 21.40 × 0.07 / 1.07
    // = 1.40 tax, 20.00 net. Shipping: 5.95 × 0.19 / 1.19 = 0.95 tax, 5.00 net.
    // At 19 %: 20.00 + 5.00 taxed, 3.80 + 0.95 = 4.75 tax; at 7 %: 20.00, 1.40.
    // Gross prices: the total is 45.20 + 5.95 = 51.15, holding 6.15 of tax.
    let (status, quote) = f.call_as(
        Some(&guest),
        "GET",
        &format!("/carts/{cart}/quote?country=DE&method=standard"),
        None,
        None,
    );
    assert_eq!(status, 200, "{quote}");
    let shipping = json!({ "code": "standard", "name": "Standard", "amount": eur("5.95"),
                           "net": eur("5.00"), "tax": eur("0.95"), "rate": standard_rate() });
    let tax_lines = json!([
        { "rate": reduced_rate(), "taxable": eur("20.00"), "tax": eur("1.40") },
        { "rate": standard_rate(), "taxable": eur("25.00"), "tax": eur("4.75") },
    ]);
    // The shop has no promotion: nothing is taken off.
    let totals = json!({ "subtotal": eur("45.20"), "discount": eur("0.00"),
                         "shipping": eur("5.95"), "tax": eur("6.15"), "grand_total": eur("51.15") });
    assert_eq!(
        quote,
        json!({
            "currency": "EUR",
            "prices_include_tax": true,
            "lines": [
                { "variant_id": shop.shirt, "sku": "SHIRT", "name": "Shirt", "options": [],
                  "unit_price": eur("11.90"), "quantity": 2, "amount": eur("23.80"),
                  "discount": eur("0.00"), "net": eur("20.00"), "tax": eur("3.80"),
                  "rate": standard_rate() },
                { "variant_id": shop.book, "sku": "BOOK", "name": "Book", "options": [],
                  "unit_price": eur("21.40"), "quantity": 1, "amount": eur("21.40"),
                  "discount": eur("0.00"), "net": eur("20.00"), "tax": eur("1.40"),
                  "rate": reduced_rate() },
            ],
            "shipping": shipping,
            "tax_lines": tax_lines,
            "promotions": [],
            "totals": totals,
        })
    );

    let body = json!({ "cart": cart, "email": "ada@example.com", "shipping": berlin(),
                       "shipping_method": "standard" });
    let (status, order) = f.call_as(
        Some(&guest),
        "POST",
        "/checkout",
        Some("de-order-1"),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{order}");
    let invoice = json!({ "prices_include_tax": true, "shipping": shipping,
                          "tax_lines": tax_lines, "promotions": [] });
    assert_eq!(order["totals"], totals, "charged as quoted");
    assert_eq!(order["invoice"], invoice);
    assert_eq!(order["payments"][0]["amount"], eur("51.15"));
    let lines = json!([
        { "line_no": 1, "variant_id": shop.shirt, "sku": "SHIRT", "name": "Shirt", "options": [],
          "unit_price": eur("11.90"), "quantity": 2,
          "tax": { "discount": eur("0.00"), "net": eur("20.00"), "tax": eur("3.80"),
                   "rate": standard_rate() } },
        { "line_no": 2, "variant_id": shop.book, "sku": "BOOK", "name": "Book", "options": [],
          "unit_price": eur("21.40"), "quantity": 1,
          "tax": { "discount": eur("0.00"), "net": eur("20.00"), "tax": eur("1.40"),
                   "rate": reduced_rate() } },
    ]);
    assert_eq!(order["lines"], lines);

    // Read back, after staff changed the book: the order keeps what it was sold at.
    let (status, _) = f.admin_put("/admin/markets/EUR", json!({ "prices_include_tax": false }));
    assert_eq!(status, 200);
    let (status, stored) = f.call_as(
        Some(&guest),
        "GET",
        &format!("/orders/{}", order["id"].as_str().unwrap()),
        None,
        None,
    );
    assert_eq!(status, 200, "{stored}");
    assert_eq!(
        (&stored["totals"], &stored["invoice"], &stored["lines"]),
        (&totals, &invoice, &lines)
    );

    // The book as staff read it back.
    let (status, book) = admin_get(&f, "/admin/price-book");
    assert_eq!(status, 200, "{book}");
    assert_eq!(
        book["markets"],
        json!([{ "currency": "EUR", "prices_include_tax": false }])
    );
    let names = |key: &str, field: &str| -> Vec<Value> {
        book[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v[field].clone())
            .collect()
    };
    assert_eq!(
        names("price_lists", "name"),
        [json!("Spring sale"), json!("Trade")]
    );
    assert_eq!(names("prices", "price"), [eur("11.90"), eur("9.90")]);
    assert_eq!(
        names("tax_rates", "name"),
        [json!("DE standard"), json!("DE reduced")]
    );
    assert_eq!(names("shipping_zones", "id"), [json!(shop.zone)]);
    assert_eq!(
        names("shipping_methods", "code"),
        [json!("standard"), json!("express")]
    );
}

#[test]
fn another_customers_cart_has_no_options_and_no_quote_for_them() {
    let f = fixture();
    let shop = german_shop(&f);
    let (owner, cart) = new_guest(&f);
    put_in(&f, &owner, &cart, shop.shirt, 1);
    let (other, _) = new_guest(&f);
    let missing = "0b7d3f5e-6c1a-4f2e-9a55-3c8e1d2b4a60";
    for path in [
        format!("/carts/{cart}/shipping-options?country=DE"),
        format!("/carts/{cart}/quote?country=DE&method=standard"),
        format!("/carts/{missing}/shipping-options?country=DE"),
        format!("/carts/{missing}/quote?country=DE&method=standard"),
    ] {
        let answer = f.call_as(Some(&other), "GET", &path, None, None);
        assert_eq!(code(answer), (404, "not_found".to_owned()), "{path}");
    }
    // The owner's own still answers.
    let (status, options) = f.call_as(
        Some(&owner),
        "GET",
        &format!("/carts/{cart}/shipping-options?country=DE"),
        None,
        None,
    );
    assert_eq!(status, 200, "{options}");
    assert_eq!(options["items"].as_array().unwrap().len(), 2);
}

#[test]
fn a_method_that_does_not_take_the_cart_is_refused_at_quote_and_checkout() {
    let f = fixture();
    let shop = german_shop(&f);
    let (guest, cart) = new_guest(&f);
    put_in(&f, &guest, &cart, shop.book, 1);
    let quote = |query: &str| {
        code(f.call_as(
            Some(&guest),
            "GET",
            &format!("/carts/{cart}/quote?{query}"),
            None,
            None,
        ))
    };
    for (query, expected) in [
        ("country=DE&method=teleport", (422, "shipping_unavailable")),
        // No zone covers France.
        ("country=FR&method=standard", (422, "shipping_unavailable")),
        // The zone covers Austria, but the shop has no Austrian rates.
        ("country=AT&method=standard", (422, "no_tax_rate")),
        ("country=ZZ&method=standard", (422, "invalid")),
        (
            "country=DE&region=TOOLONG&method=standard",
            (422, "invalid"),
        ),
        ("country=DE&method=Not%20a%20code", (422, "invalid")),
        ("method=standard", (400, "invalid_query")),
    ] {
        assert_eq!(quote(query), (expected.0, expected.1.to_owned()), "{query}");
    }
    let (status, refused) = f.call_as(
        Some(&guest),
        "GET",
        &format!("/carts/{cart}/quote?country=AT&method=standard"),
        None,
        None,
    );
    assert_eq!(
        (status, &refused["error"]["details"]),
        (
            422,
            &json!({ "country": "AT", "region": null, "class": "reduced" })
        )
    );

    let checkout = |method: &str, key: &str| {
        let body = json!({ "cart": cart, "email": "ada@example.com", "shipping": berlin(),
                           "shipping_method": method });
        f.call_as(
            Some(&guest),
            "POST",
            "/checkout",
            Some(key),
            Some(&body.to_string()),
        )
    };
    let (status, refused) = checkout("teleport", "de-teleport");
    assert_eq!(
        (
            status,
            &refused["error"]["code"],
            &refused["error"]["details"]
        ),
        (
            422,
            &json!("shipping_unavailable"),
            &json!({ "method": "teleport" })
        )
    );
    // Refused, nothing placed: the cart still checks out by a method it has.
    let (status, order) = checkout("express", "de-express");
    assert_eq!(status, 201, "{order}");
    // 21.40 + 11.90 = 33.30; 11.90 × 0.19 / 1.19 = 1.90 of the shipping's tax.
    assert_eq!(order["totals"]["grand_total"], eur("33.30"));
    assert_eq!(order["invoice"]["shipping"]["tax"], eur("1.90"));
}

#[test]
fn a_trade_customer_pays_the_price_of_their_group() {
    let f = fixture();
    let shop = german_shop(&f);
    f.post(
        "/users",
        None,
        json!({ "email": "trade@example.com", "name": "Trader", "password": "a long password" }),
    );
    let (status, session) = f.post(
        "/sessions",
        None,
        json!({ "email": "trade@example.com", "password": "a long password" }),
    );
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().unwrap().to_owned();
    let user = session["user"]["id"].as_i64().unwrap();
    let (status, cart) = f.call_as(Some(&token), "POST", "/carts", None, Some("{}"));
    assert_eq!(status, 200, "{cart}");
    let cart = cart["id"].as_str().unwrap().to_owned();
    put_in(&f, &token, &cart, shop.shirt, 1);
    let unit_price = || {
        let (status, quote) = f.call_as(
            Some(&token),
            "GET",
            &format!("/carts/{cart}/quote?country=DE&method=standard"),
            None,
            None,
        );
        assert_eq!(status, 200, "{quote}");
        quote["lines"][0]["unit_price"].clone()
    };
    assert_eq!(unit_price(), eur("11.90"), "the sale, as for everyone");

    let (status, groups) = f.admin_put(
        &format!("/admin/users/{user}/groups"),
        json!({ "groups": ["b2b", "b2b", "staff"] }),
    );
    assert_eq!(status, 200, "{groups}");
    assert_eq!(
        groups,
        json!({ "user_id": user, "groups": ["b2b", "staff"] }),
        "repeats dropped"
    );
    assert_eq!(unit_price(), eur("9.90"), "the trade list's, the lowest");
}

#[test]
fn bad_price_book_settings_get_typed_errors_never_a_500() {
    let f = fixture();
    let shop = german_shop(&f);
    let (_, sale) = f.admin_post("/admin/price-lists", None, json!({ "name": "Autumn sale" }));
    let prices = format!("/admin/price-lists/{}/prices", sale["id"]);
    // A user for the groups' cases to reach past the 404.
    let (_, user) = {
        f.post(
            "/users",
            None,
            json!({ "email": "grace@example.com", "name": "Grace", "password": "a long password" }),
        );
        f.post(
            "/sessions",
            None,
            json!({ "email": "grace@example.com", "password": "a long password" }),
        )
    };
    let groups = format!("/admin/users/{}/groups", user["user"]["id"]);
    let (_, before) = admin_get(&f, "/admin/price-book");

    refused(
        &f,
        "PUT",
        "/admin/markets/XYZ",
        vec![(
            "an unknown currency",
            json!({ "prices_include_tax": true }),
            422,
            "invalid",
        )],
    );
    refused(
        &f,
        "PUT",
        "/admin/markets/EUR",
        vec![(
            "an unknown field",
            json!({ "prices_include_tax": true, "vat": 19 }),
            422,
            "invalid_body",
        )],
    );

    let window = json!({ "name": "Never", "starts_at": "2030-01-02T00:00:00Z",
                         "ends_at": "2030-01-01T00:00:00Z" });
    refused(
        &f,
        "POST",
        "/admin/price-lists",
        vec![
            (
                "a window ending before it starts",
                window,
                422,
                "invalid_price_list",
            ),
            (
                "a group that is no slug",
                json!({ "name": "Trade", "group": "Big Buyers" }),
                422,
                "invalid",
            ),
            (
                "a date that is no date",
                json!({ "name": "Soon", "starts_at": "tomorrow" }),
                422,
                "invalid_body",
            ),
        ],
    );
    let price = |variant: i64, tier: u32, price: &str| json!({ "variant_id": variant, "min_quantity": tier, "price": price });
    let shirt = shop.shirt;
    let too_many: Vec<Value> = (1..=1001).map(|tier| price(shirt, tier, "1")).collect();
    refused(
        &f,
        "PUT",
        &prices,
        vec![
            (
                "too many prices",
                json!({ "prices": too_many }),
                422,
                "too_many_prices",
            ),
            (
                "a price twice",
                json!({ "prices": [price(shirt, 1, "1"), price(shirt, 1, "2")] }),
                422,
                "invalid_price_list",
            ),
            (
                "a negative price",
                json!({ "prices": [price(shirt, 1, "-1.00")] }),
                422,
                "invalid_price_list",
            ),
            (
                "a tier of 0",
                json!({ "prices": [price(shirt, 0, "1")] }),
                422,
                "invalid_price_list",
            ),
            (
                "another currency",
                json!({ "currency": "USD", "prices": [price(shirt, 1, "1")] }),
                422,
                "invalid_price_list",
            ),
            (
                "no amount",
                json!({ "prices": [price(shirt, 1, "one")] }),
                422,
                "invalid",
            ),
            (
                "a variant that does not exist",
                json!({ "prices": [price(999_999, 1, "1")] }),
                404,
                "not_found",
            ),
        ],
    );
    refused(
        &f,
        "PUT",
        "/admin/price-lists/999999/prices",
        vec![(
            "a list that does not exist",
            json!({ "prices": [] }),
            404,
            "not_found",
        )],
    );

    refused(
        &f,
        "PUT",
        "/admin/products/1/tax-class",
        vec![(
            "an unknown class",
            json!({ "class": "luxury" }),
            422,
            "invalid",
        )],
    );
    refused(
        &f,
        "PUT",
        "/admin/products/999999/tax-class",
        vec![(
            "a product that does not exist",
            json!({ "class": "zero" }),
            404,
            "not_found",
        )],
    );
    let rate = |rate: Value, class: &str| {
        json!({ "name": "AT standard", "country": "AT", "class": class, "rate": rate,
                "valid_from": "2020-01-01T00:00:00Z" })
    };
    let from_2031 = json!({ "name": "DE standard 2031", "country": "DE", "class": "standard",
                            "rate": "0.21", "valid_from": "2031-01-01T00:00:00Z" });
    refused(
        &f,
        "POST",
        "/admin/tax-rates",
        vec![
            (
                "a rate of 150 %",
                rate(json!("1.5"), "standard"),
                422,
                "invalid_tax_rate",
            ),
            (
                "a negative rate",
                rate(json!("-0.1"), "standard"),
                422,
                "invalid_tax_rate",
            ),
            (
                "six decimals",
                rate(json!("0.123456"), "standard"),
                422,
                "invalid_tax_rate",
            ),
            (
                "no number",
                rate(json!("nineteen"), "standard"),
                422,
                "invalid_tax_rate",
            ),
            ("a float", rate(json!(0.2), "standard"), 422, "invalid_body"),
            (
                "the exempt class",
                rate(json!("0"), "exempt"),
                422,
                "invalid_tax_rate",
            ),
            (
                "a rate overlapping DE standard",
                from_2031,
                409,
                "tax_rate_overlap",
            ),
        ],
    );

    let areas: Vec<Value> = (0..301).map(|_| json!({ "country": "DE" })).collect();
    refused(
        &f,
        "POST",
        "/admin/shipping-zones",
        vec![
            (
                "no area",
                json!({ "name": "Nowhere", "areas": [] }),
                422,
                "invalid_shipping",
            ),
            (
                "an area twice",
                json!({ "name": "Twice", "areas": [{ "country": "DE" }, { "country": "de" }] }),
                422,
                "invalid_shipping",
            ),
            (
                "too many areas",
                json!({ "name": "Everywhere", "areas": areas }),
                422,
                "too_many_areas",
            ),
            (
                "an area's unknown field",
                json!({ "name": "Berlin", "areas": [{ "country": "DE", "city": "Berlin" }] }),
                422,
                "invalid_body",
            ),
            (
                "an unknown field",
                json!({ "name": "DE", "areas": [{ "country": "DE" }], "default": true }),
                422,
                "invalid_body",
            ),
        ],
    );
    let method = |code: &str, rate: Value| json!({ "zone_id": shop.zone, "code": code, "name": "Slow", "rate": rate });
    let bands = |grams: &[u64]| {
        json!({ "type": "by_weight",
                "bands": grams.iter().map(|g| json!({ "up_to_grams": g, "price": "1" })).collect::<Vec<_>>() })
    };
    let flat = |price: &str| json!({ "type": "flat", "price": price });
    let many: Vec<u64> = (1..=51).collect();
    let elsewhere =
        json!({ "zone_id": 999_999, "code": "slow", "name": "Slow", "rate": flat("1") });
    refused(
        &f,
        "POST",
        "/admin/shipping-methods",
        vec![
            (
                "bands out of order",
                method("slow", bands(&[5000, 1000])),
                422,
                "invalid_shipping",
            ),
            (
                "no bands",
                method("slow", bands(&[])),
                422,
                "invalid_shipping",
            ),
            (
                "too many bands",
                method("slow", bands(&many)),
                422,
                "too_many_bands",
            ),
            (
                "an unknown rate",
                method("slow", json!({ "type": "by_distance", "price": "1" })),
                422,
                "invalid_body",
            ),
            (
                "a rate's unknown field",
                method("slow", json!({ "type": "flat", "price": "1", "bands": [] })),
                422,
                "invalid_body",
            ),
            (
                "a negative price",
                method("slow", flat("-1")),
                422,
                "invalid_shipping",
            ),
            ("a zone that does not exist", elsewhere, 404, "not_found"),
            (
                "a code the zone has",
                method("standard", flat("1")),
                409,
                "already_taken",
            ),
        ],
    );

    let distinct: Vec<String> = (0..21).map(|i| format!("group-{i}")).collect();
    refused(
        &f,
        "PUT",
        &groups,
        vec![
            (
                "a group that is no slug",
                json!({ "groups": ["B2B!"] }),
                422,
                "invalid",
            ),
            (
                "too many groups",
                json!({ "groups": distinct }),
                422,
                "too_many_groups",
            ),
            (
                "too many names",
                json!({ "groups": vec!["b2b"; 101] }),
                422,
                "too_many_groups",
            ),
        ],
    );
    refused(
        &f,
        "PUT",
        "/admin/users/999999/groups",
        vec![(
            "a user that does not exist",
            json!({ "groups": ["b2b"] }),
            404,
            "not_found",
        )],
    );

    let (_, after) = admin_get(&f, "/admin/price-book");
    assert_eq!(after, before, "nothing refused was written");
    let too_many: Vec<Value> = (1..=1001).map(|tier| price(shirt, tier, "1")).collect();
    let (status, refusal) = f.admin_put(&prices, json!({ "prices": too_many }));
    assert_eq!(
        (status, &refusal["error"]["details"]),
        (422, &json!({ "count": 1001, "max": 1000 }))
    );
    // Without the token, none of it.
    let (status, _) = f.call_as(None, "GET", "/admin/price-book", None, None);
    assert_eq!(status, 401);
    let (status, _) = f.call_as(
        Some(&f.guest),
        "PUT",
        "/admin/markets/EUR",
        None,
        Some(r#"{"prices_include_tax": false}"#),
    );
    assert_eq!(status, 401);
}
