//! Products with variants over HTTP: staff create them and add to them, a customer
//! buys exactly the variant chosen, only an active product's variants sell, and each
//! variant's stock is its own.

use ecom_domain::prelude::*;
use serde_json::{Value, json};

use super::{Fixture, add, check_out, code, create, fixture, listed, new_guest};
use crate::util::store_on;

/// A T-shirt with the sizes S, M and L, of which it sells S (`small` units in stock)
/// and M (`medium`), both at 19.00; M has a barcode and a weight.
fn tee(f: &Fixture, small: u32, medium: u32) -> Value {
    create(
        f,
        json!({
            "slug": "tee",
            "name": "T-shirt",
            "description": "Organic cotton.",
            "category_id": f.category,
            "options": [{ "name": "Size", "values": ["S", "M", "L"] }],
            "variants": [
                { "sku": "TEE-S", "options": [{ "option": "Size", "value": "S" }],
                  "price": "19.00", "stock": small },
                { "sku": "TEE-M", "options": [{ "option": "Size", "value": "M" }],
                  "price": "19.00", "stock": medium, "weight_grams": 180,
                  "gtin": "4006381333931" },
            ],
        }),
    )
}

/// The id of `product`'s variant of size `size`.
fn size(product: &Value, size: &str) -> i64 {
    product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["options"][0]["value"] == size)
        .and_then(|v| v["id"].as_i64())
        .unwrap_or_else(|| panic!("no size {size}: {product}"))
}

/// The product of the fixture's variant `variant`.
fn product_of(f: &Fixture, variant: i64) -> ProductId {
    let store = store_on(f.db.pool().clone());
    store
        .variant(VariantId::new(variant))
        .unwrap()
        .variant
        .product_id
}

#[test]
fn staff_add_a_variant_that_customers_then_see_and_buy() {
    let f = fixture();
    let tee = tee(&f, 3, 3);
    assert_eq!(
        (&tee["slug"], &tee["status"], &tee["options"]),
        (
            &json!("tee"),
            &json!("active"),
            &json!([{ "name": "Size", "values": ["S", "M", "L"] }])
        ),
        "{tee}"
    );
    let medium = &tee["variants"][1];
    assert_eq!(
        (
            &medium["gtin"],
            &medium["weight_grams"],
            &medium["product_id"]
        ),
        (&json!("04006381333931"), &json!(180), &tee["id"]),
        "the barcode in its 14-digit form: {medium}"
    );
    assert_eq!(tee["variants"][0]["gtin"], Value::Null);

    // The option and its value are matched ignoring case, and stored in the
    // product's spelling.
    let product = tee["id"].as_i64().unwrap();
    let (status, large) = f.admin_post(
        &format!("/admin/products/{product}/variants"),
        None,
        json!({ "sku": "tee-l", "options": [{ "option": "size", "value": "l" }],
                "price": "21.00", "stock": 2 }),
    );
    assert_eq!(status, 201, "{large}");
    assert_eq!(
        (
            &large["product_id"],
            &large["sku"],
            &large["options"],
            &large["price"],
            &large["stock"]
        ),
        (
            &tee["id"],
            &json!("TEE-L"),
            &json!([{ "option": "Size", "value": "L" }]),
            &json!({ "amount": "21.00", "currency": "EUR" }),
            &json!(2)
        ),
        "{large}"
    );
    let large_id = large["id"].as_i64().unwrap();

    // Customers see the new variant on the category page and in a search.
    let shown = listed(&f, &tee["id"]).expect("the T-shirt is listed");
    let sizes: Vec<&Value> = shown["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["options"][0]["value"])
        .collect();
    assert_eq!(sizes, [&json!("S"), &json!("M"), &json!("L")], "{shown}");
    let (_, hits) = f.call("GET", "/products/search?q=t-shirt", None, None);
    assert_eq!(hits["items"][0]["variants"][2]["id"], large_id, "{hits}");

    // A guest buys two of it: the cart and the order name the variant, and the
    // order line keeps the size it was.
    let (token, cart) = new_guest(&f);
    let (status, filled) = add(&f, &token, &cart, large_id, 2);
    assert_eq!(status, 200, "{filled}");
    assert_eq!(
        filled["lines"],
        json!([{ "variant_id": large_id, "quantity": 2 }])
    );
    let (status, order) = check_out(&f, &token, &cart, "tee-l");
    assert_eq!(status, 201, "{order}");
    assert_eq!(
        order["lines"],
        json!([{
            "line_no": 1,
            "variant_id": large_id,
            "sku": "TEE-L",
            "name": "T-shirt",
            "options": [{ "option": "Size", "value": "L" }],
            "unit_price": { "amount": "21.00", "currency": "EUR" },
            "quantity": 2,
            // Priced by the flat rules (no shipping method): no tax of its own.
            "tax": null,
        }])
    );
    assert_eq!(order["invoice"], Value::Null, "nor an invoice");
    let shown = listed(&f, &tee["id"]).unwrap();
    assert_eq!(shown["variants"][2]["stock"], 0, "{shown}");
    assert_eq!(shown["variants"][0]["stock"], 3, "its siblings' untouched");
}

#[test]
fn variants_that_break_the_rules_get_typed_refusals_and_change_nothing() {
    let f = fixture();
    let tee = tee(&f, 3, 3);
    let product = tee["id"].as_i64().unwrap();
    let sencha = product_of(&f, f.variants[0]);
    let size = |value: &str| json!([{ "option": "Size", "value": value }]);
    let variant = |sku: &str, options: Value| json!({ "sku": sku, "options": options, "price": "19.00", "stock": 1 });
    let with = |mut body: Value, field: &str, value: Value| {
        body[field] = value;
        body
    };
    for (what, path, body, expected) in [
        (
            "a size already sold",
            product,
            variant("TEE-S2", size("s")),
            (422, "invalid_options"),
        ),
        (
            "a size the product lacks",
            product,
            variant("TEE-XL", size("XL")),
            (422, "invalid_options"),
        ),
        (
            "no size",
            product,
            variant("TEE-X", json!([])),
            (422, "invalid_options"),
        ),
        (
            "an option the product lacks",
            product,
            variant(
                "TEE-X",
                json!([{ "option": "Size", "value": "L" }, { "option": "Colour", "value": "Red" }]),
            ),
            (422, "invalid_options"),
        ),
        (
            "a size named twice",
            product,
            variant(
                "TEE-X",
                json!([{ "option": "Size", "value": "L" }, { "option": "SIZE", "value": "S" }]),
            ),
            (422, "invalid_options"),
        ),
        (
            "a SKU taken",
            product,
            variant("TEE-S", size("L")),
            (409, "already_taken"),
        ),
        (
            "a barcode taken",
            product,
            with(variant("TEE-L", size("L")), "gtin", json!("04006381333931")),
            (409, "already_taken"),
        ),
        (
            "a barcode misread",
            product,
            with(variant("TEE-L", size("L")), "gtin", json!("4006381333932")),
            (422, "invalid"),
        ),
        (
            "another currency than its siblings'",
            product,
            with(variant("TEE-L", size("L")), "currency", json!("USD")),
            (422, "invalid"),
        ),
        (
            "a negative price",
            product,
            with(variant("TEE-L", size("L")), "price", json!("-1.00")),
            (422, "invalid"),
        ),
        (
            "a product that does not exist",
            999_999,
            variant("TEE-L", size("L")),
            (404, "not_found"),
        ),
        (
            "a product without options",
            // Its one variant is its default.
            sencha.get(),
            variant("SENCHA-2", json!([])),
            (422, "invalid_options"),
        ),
    ] {
        let answer = f.admin_post(&format!("/admin/products/{path}/variants"), None, body);
        assert_eq!(
            code(answer.clone()),
            (expected.0, expected.1.to_owned()),
            "{what}: {}",
            answer.1
        );
    }

    let product = |options: Value, variants: Value| {
        json!({ "slug": "mug", "name": "Mug", "category_id": f.category,
                "options": options, "variants": variants })
    };
    let mug = |sku: &str| json!({ "sku": sku, "price": "9.00", "stock": 1 });
    let colour = |value: &str| json!({ "sku": format!("MUG-{value}"), "options": [{ "option": "Colour", "value": value }], "price": "9.00", "stock": 1 });
    let colours = json!([{ "name": "Colour", "values": ["Red", "Blue"] }]);
    for (what, body, expected) in [
        (
            "two variants without options",
            product(json!([]), json!([mug("MUG-1"), mug("MUG-2")])),
            (422, "invalid_options"),
        ),
        (
            "no variant",
            product(json!([]), json!([])),
            (422, "invalid_options"),
        ),
        (
            "a combination twice",
            product(colours.clone(), json!([colour("Red"), colour("red")])),
            (422, "invalid_options"),
        ),
        (
            "an option without values",
            product(
                json!([{ "name": "Colour", "values": [] }]),
                json!([colour("Red")]),
            ),
            (422, "invalid_options"),
        ),
        (
            "a value twice",
            product(
                json!([{ "name": "Colour", "values": ["Red", "RED"] }]),
                json!([colour("Red")]),
            ),
            (422, "invalid_options"),
        ),
        (
            "one SKU for two variants",
            product(
                colours.clone(),
                json!([colour("Red"), with(colour("Blue"), "sku", json!("MUG-RED"))]),
            ),
            (409, "already_taken"),
        ),
        (
            "two currencies",
            product(
                colours.clone(),
                json!([
                    colour("Red"),
                    with(colour("Blue"), "currency", json!("USD"))
                ]),
            ),
            (422, "invalid"),
        ),
        (
            "a slug taken",
            with(
                product(json!([]), json!([mug("MUG-1")])),
                "slug",
                json!("tee"),
            ),
            (409, "already_taken"),
        ),
        (
            "a status that does not exist",
            with(
                product(json!([]), json!([mug("MUG-1")])),
                "status",
                json!("hidden"),
            ),
            (422, "invalid"),
        ),
        (
            "an unknown field",
            with(
                product(json!([]), json!([mug("MUG-1")])),
                "price",
                json!("9.00"),
            ),
            (422, "invalid_body"),
        ),
    ] {
        let answer = f.admin_post("/admin/products", None, body);
        assert_eq!(
            code(answer.clone()),
            (expected.0, expected.1.to_owned()),
            "{what}: {}",
            answer.1
        );
    }

    // Nothing above was written.
    let shown = listed(&f, &tee["id"]).unwrap();
    assert_eq!(shown["variants"].as_array().unwrap().len(), 2, "{shown}");
    let (_, page) = f.call(
        "GET",
        &format!("/categories/{}/products", f.category),
        None,
        None,
    );
    assert_eq!(page["items"].as_array().unwrap().len(), 3, "{page}");
}

#[test]
fn a_variant_of_a_draft_or_archived_product_is_not_on_sale() {
    let f = fixture();
    let lamp = |status: &str| {
        create(
            &f,
            json!({
                "slug": format!("{status}-lamp"),
                "name": "Desk lamp",
                "category_id": f.category,
                "status": status,
                "variants": [{ "sku": format!("LAMP-{status}"), "price": "39.90", "stock": 5 }],
            }),
        )
    };
    let (draft, archived) = (lamp("draft"), lamp("archived"));
    assert_eq!(
        (&draft["status"], &archived["status"]),
        (&json!("draft"), &json!("archived"))
    );

    // Neither is listed, found, or taken into a cart.
    assert_eq!(listed(&f, &draft["id"]), None);
    assert_eq!(listed(&f, &archived["id"]), None);
    let (_, hits) = f.call("GET", "/products/search?q=lamp", None, None);
    assert_eq!(hits["items"], json!([]), "{hits}");
    let (token, cart) = new_guest(&f);
    for product in [&draft, &archived] {
        let variant = product["variants"][0]["id"].as_i64().unwrap();
        let (status, refused) = add(&f, &token, &cart, variant, 1);
        assert_eq!(
            (status, refused["error"]["code"].as_str()),
            (409, Some("not_on_sale")),
            "{product}: {refused}"
        );
    }
    let (_, unchanged) = f.call_as(Some(&token), "GET", &format!("/carts/{cart}"), None, None);
    assert_eq!(unchanged["lines"], json!([]));

    // A line already in the cart when its product goes off sale: the checkout is
    // refused, and goes through once the product is back on sale.
    let sencha = f.variants[0];
    assert_eq!(add(&f, &token, &cart, sencha, 1).0, 200);
    let product = product_of(&f, sencha);
    let store = store_on(f.db.pool().clone());
    store
        .set_product_status(product, ProductStatus::Archived)
        .unwrap();
    let (status, refused) = check_out(&f, &token, &cart, "archived");
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("not_on_sale")),
        "{refused}"
    );
    store
        .set_product_status(product, ProductStatus::Active)
        .unwrap();
    let (status, order) = check_out(&f, &token, &cart, "active-again");
    assert_eq!(status, 201, "{order}");
}

#[test]
fn one_variant_sells_out_while_its_sibling_still_sells() {
    let f = fixture();
    let tee = tee(&f, 1, 2);
    let (small, medium) = (size(&tee, "S"), size(&tee, "M"));

    let (first, first_cart) = new_guest(&f);
    assert_eq!(add(&f, &first, &first_cart, small, 1).0, 200);
    let (status, order) = check_out(&f, &first, &first_cart, "first");
    assert_eq!(status, 201, "{order}");

    // The last S is gone: a checkout asking for one is refused, naming S only.
    let (second, cart) = new_guest(&f);
    assert_eq!(add(&f, &second, &cart, small, 1).0, 200);
    assert_eq!(add(&f, &second, &cart, medium, 1).0, 200);
    let (status, refused) = check_out(&f, &second, &cart, "second");
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("out_of_stock")),
        "{refused}"
    );
    assert_eq!(
        refused["error"]["details"],
        json!([{ "variant_id": small, "sku": "TEE-S", "requested": 1, "available": 0 }])
    );

    // M still sells.
    let (status, _) = f.call_as(
        Some(&second),
        "DELETE",
        &format!("/carts/{cart}/items/{small}"),
        None,
        None,
    );
    assert_eq!(status, 200);
    let (status, order) = check_out(&f, &second, &cart, "second-m");
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["lines"][0]["variant_id"], medium, "{order}");
    assert_eq!(order["lines"].as_array().unwrap().len(), 1);

    let shown = listed(&f, &tee["id"]).expect("a product with a variant sold out is listed");
    let stock: Vec<&Value> = shown["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["stock"])
        .collect();
    assert_eq!(stock, [&json!(0), &json!(1)], "{shown}");
}
