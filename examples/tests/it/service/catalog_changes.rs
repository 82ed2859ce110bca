//! Staff change the catalog while customers shop: a product taken off sale and put
//! back, a variant repriced. Carts hold no prices, so the next checkout is what
//! feels either change; an order placed before keeps what it was sold at.

use std::fmt::Display;

use serde_json::{Value, json};

use super::{ADMIN_TOKEN, Fixture, add, check_out, code, create, fixture, listed, new_guest};

/// A mug in red and blue, 9.00 each, five of each in stock.
fn mug(f: &Fixture) -> Value {
    let colour = |value: &str| {
        json!({ "sku": format!("MUG-{value}"), "options": [{ "option": "Colour", "value": value }],
                "price": "9.00", "stock": 5 })
    };
    create(
        f,
        json!({
            "slug": "mug",
            "name": "Mug",
            "category_id": f.category,
            "options": [{ "name": "Colour", "values": ["Red", "Blue"] }],
            "variants": [colour("Red"), colour("Blue")],
        }),
    )
}

/// A kettle priced in US dollars, 30.00, one in stock.
fn kettle(f: &Fixture) -> Value {
    create(
        f,
        json!({
            "slug": "kettle",
            "name": "Kettle",
            "category_id": f.category,
            "variants": [{ "sku": "KETTLE", "price": "30.00", "currency": "USD", "stock": 1 }],
        }),
    )
}

/// The fixture's Sencha (8.50, five in stock) as the category page lists it.
fn sencha_product(f: &Fixture) -> Value {
    let (status, page) = f.call(
        "GET",
        &format!("/categories/{}/products", f.category),
        None,
        None,
    );
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slug"] == "sencha")
        .cloned()
        .unwrap_or_else(|| panic!("Sencha is listed: {page}"))
}

/// Staff set the status of the product `id`.
fn set_status(f: &Fixture, id: impl Display, status: &str) -> (u16, Value) {
    f.admin_put(
        &format!("/admin/products/{id}/status"),
        json!({ "status": status }),
    )
}

/// Staff set the price of the variant `id` with `body`.
fn set_price(f: &Fixture, id: impl Display, body: Value) -> (u16, Value) {
    f.admin_put(&format!("/admin/variants/{id}/price"), body)
}

/// `amount` in `currency`, as the service writes money.
fn money(amount: &str, currency: &str) -> Value {
    json!({ "amount": amount, "currency": currency })
}

#[test]
fn a_product_off_sale_is_refused_in_carts_and_sells_again_once_active() {
    let f = fixture();
    let mug = mug(&f);
    let id = &mug["id"];
    let [red, blue] = [0, 1].map(|i| mug["variants"][i]["id"].as_i64().unwrap());
    let (token, cart) = new_guest(&f);
    assert_eq!(add(&f, &token, &cart, red, 1).0, 200);

    for status in ["archived", "draft"] {
        let (answered, product) = set_status(&f, id, status);
        let mut expected = mug.clone();
        expected["status"] = json!(status);
        assert_eq!(
            (answered, &product),
            (200, &expected),
            "{status}: the product with its variants, nothing else changed"
        );
        assert_eq!(listed(&f, id), None, "{status}: not listed");
        for variant in [red, blue] {
            assert_eq!(
                code(add(&f, &token, &cart, variant, 1)),
                (409, "not_on_sale".to_owned()),
                "{status}: variant {variant} is refused in a cart"
            );
        }
        assert_eq!(
            code(check_out(&f, &token, &cart, status)),
            (409, "not_on_sale".to_owned()),
            "{status}: a cart that already holds one does not check out"
        );

        let (answered, product) = set_status(&f, id, "active");
        assert_eq!((answered, &product), (200, &mug), "back on sale");
        assert_eq!(listed(&f, id).as_ref(), Some(&mug), "listed again");
        assert_eq!(
            add(&f, &token, &cart, blue, 1).0,
            200,
            "{status}, then active: it sells again"
        );
    }

    let (status, order) = check_out(&f, &token, &cart, "active");
    assert_eq!(status, 201, "{order}");
    let bought: Vec<(Value, Value)> = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| (line["variant_id"].clone(), line["quantity"].clone()))
        .collect();
    assert_eq!(
        bought,
        [(json!(red), json!(1)), (json!(blue), json!(2))],
        "{order}"
    );
}

#[test]
fn a_new_price_is_what_the_next_checkout_charges_and_a_placed_order_keeps_its_own() {
    let f = fixture();
    let sencha = f.variants[0];
    let (first, first_cart) = new_guest(&f);
    assert_eq!(add(&f, &first, &first_cart, sencha, 2).0, 200);
    let (status, placed) = check_out(&f, &first, &first_cart, "before");
    assert_eq!(status, 201, "{placed}");
    assert_eq!(placed["lines"][0]["unit_price"], money("8.50", "EUR"));
    // Another guest's cart holds Sencha when its price changes.
    let (second, cart) = new_guest(&f);
    assert_eq!(add(&f, &second, &cart, sencha, 1).0, 200);

    let (status, variant) = set_price(&f, sencha, json!({ "price": "12.34" }));
    assert_eq!(status, 200, "{variant}");
    let shown = sencha_product(&f);
    assert_eq!(variant, shown["variants"][0], "the variant as listed");
    assert_eq!(
        (
            &variant["id"],
            &variant["sku"],
            &variant["price"],
            &variant["stock"]
        ),
        (
            &json!(sencha),
            &json!("SENCHA"),
            &money("12.34", "EUR"),
            &json!(3)
        ),
        "only the price changed: {variant}"
    );

    let (status, order) = check_out(&f, &second, &cart, "after");
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["lines"][0]["unit_price"], money("12.34", "EUR"));
    assert_eq!(order["totals"]["subtotal"], money("12.34", "EUR"));

    let reference = placed["id"].as_str().unwrap();
    let (status, kept) = f.call_as(
        Some(&first),
        "GET",
        &format!("/orders/{reference}"),
        None,
        None,
    );
    assert_eq!(status, 200, "{kept}");
    assert_eq!(
        (&kept["lines"], &kept["totals"]),
        (&placed["lines"], &placed["totals"]),
        "the order placed before keeps its price"
    );

    // The currency may be named, and the amount is kept at its minor unit; a variant
    // priced in dollars is repriced in dollars.
    let (_, variant) = set_price(&f, sencha, json!({ "price": "9", "currency": "EUR" }));
    assert_eq!(variant["price"], money("9.00", "EUR"), "{variant}");
    let kettle = kettle(&f);
    let (status, variant) = set_price(
        &f,
        &kettle["variants"][0]["id"],
        json!({ "price": "32.50", "currency": "usd" }),
    );
    assert_eq!(
        (status, &variant["price"]),
        (200, &money("32.50", "USD")),
        "{variant}"
    );
}

#[test]
fn a_price_that_breaks_the_rules_is_refused_and_changes_nothing() {
    let f = fixture();
    let sencha = f.variants[0].to_string();
    let sencha = sencha.as_str();
    let kettle = kettle(&f);
    let dollars = kettle["variants"][0]["id"].to_string();
    for (what, variant, body, expected) in [
        (
            "another currency than the variant's",
            sencha,
            json!({ "price": "12.00", "currency": "USD" }),
            (422, "invalid"),
        ),
        (
            "EUR, the default, for a variant priced in dollars",
            dollars.as_str(),
            json!({ "price": "30.00" }),
            (422, "invalid"),
        ),
        (
            "a negative price",
            sencha,
            json!({ "price": "-1.00" }),
            (422, "invalid"),
        ),
        (
            "not a number",
            sencha,
            json!({ "price": "twelve" }),
            (422, "invalid"),
        ),
        (
            "finer than a cent",
            sencha,
            json!({ "price": "12.345" }),
            (422, "invalid"),
        ),
        (
            "a currency that does not exist",
            sencha,
            json!({ "price": "12.00", "currency": "XXX" }),
            (422, "invalid"),
        ),
        (
            "a number, not a decimal string",
            sencha,
            json!({ "price": 12.34 }),
            (422, "invalid_body"),
        ),
        (
            "no price",
            sencha,
            json!({ "currency": "EUR" }),
            (422, "invalid_body"),
        ),
        (
            "an unknown field",
            sencha,
            json!({ "price": "12.00", "amount": "12.00" }),
            (422, "invalid_body"),
        ),
        (
            "a variant that does not exist",
            "999999",
            json!({ "price": "12.00" }),
            (404, "not_found"),
        ),
        (
            "an id that is not a number",
            "sencha",
            json!({ "price": "12.00" }),
            (400, "invalid_path"),
        ),
    ] {
        let answer = set_price(&f, variant, body);
        assert_eq!(
            code(answer.clone()),
            (expected.0, expected.1.to_owned()),
            "{what}: {}",
            answer.1
        );
    }

    assert_eq!(
        sencha_product(&f)["variants"][0]["price"],
        money("8.50", "EUR")
    );
    assert_eq!(listed(&f, &kettle["id"]), Some(kettle));
}

#[test]
fn a_status_that_is_not_one_is_refused_and_changes_nothing() {
    let f = fixture();
    let before = sencha_product(&f);
    let id = before["id"].to_string();
    let id = id.as_str();
    for (what, product, body, expected) in [
        (
            "a status that does not exist",
            id,
            json!({ "status": "hidden" }),
            (422, "invalid"),
        ),
        ("no status", id, json!({}), (422, "invalid_body")),
        (
            "an unknown field",
            id,
            json!({ "status": "draft", "reason": "stocktaking" }),
            (422, "invalid_body"),
        ),
        (
            "a product that does not exist",
            "999999",
            json!({ "status": "draft" }),
            (404, "not_found"),
        ),
        (
            "an id that is not a number",
            "sencha",
            json!({ "status": "draft" }),
            (400, "invalid_path"),
        ),
    ] {
        let answer = f.admin_put(&format!("/admin/products/{product}/status"), body);
        assert_eq!(
            code(answer.clone()),
            (expected.0, expected.1.to_owned()),
            "{what}: {}",
            answer.1
        );
    }
    assert_eq!(sencha_product(&f), before, "still on sale, as it was");
}

#[test]
fn without_the_admin_token_neither_a_status_nor_a_price_changes() {
    let f = fixture();
    let before = sencha_product(&f);
    let status = format!("/admin/products/{}/status", before["id"]);
    let price = format!("/admin/variants/{}/price", f.variants[0]);
    let wrong = format!("{ADMIN_TOKEN}X");
    for (who, token) in [
        ("nobody", None),
        ("a customer's session", Some(f.guest.as_str())),
        ("a wrong token", Some(wrong.as_str())),
    ] {
        for (path, body) in [
            (&status, json!({ "status": "archived" })),
            (&price, json!({ "price": "0.01" })),
        ] {
            let answer = f.call_as(token, "PUT", path, None, Some(&body.to_string()));
            assert_eq!(
                code(answer),
                (401, "unauthenticated".to_owned()),
                "{who}: {path}"
            );
        }
    }
    assert_eq!(sencha_product(&f), before, "on sale at 8.50, as it was");
}
