//! Staff describe products over HTTP: attribute definitions and values, images,
//! collections and the search language, each checked (a typed 4xx, never a 500)
//! and each behind the back office's token.

use serde_json::{Value, json};

use super::{ADMIN_TOKEN, Fixture, code, create, fixture};

/// A T-shirt in Red and Blue, one size, 19.00: the product.
fn shirt(f: &Fixture) -> Value {
    let colour = |value: &str| {
        json!({ "sku": format!("SHIRT-{value}"), "options": [{ "option": "Colour", "value": value }],
                "price": "19.00", "stock": 4 })
    };
    create(
        f,
        json!({
            "slug": "shirt",
            "name": "Shirt",
            "category_id": f.category,
            "options": [{ "name": "Colour", "values": ["Red", "Blue"] }],
            "variants": [colour("Red"), colour("Blue")],
        }),
    )
}

/// Staff define Material (cotton or linen), Weight in grams and Waterproof.
fn define_attributes(f: &Fixture) {
    for definition in [
        json!({ "type": "one_of", "name": "Material", "choices": ["Cotton", "Linen"] }),
        json!({ "type": "number", "name": "Weight", "unit": "g" }),
        json!({ "type": "boolean", "name": "Waterproof" }),
    ] {
        let (status, defined) = f.admin_post("/admin/attributes", None, definition.clone());
        assert_eq!((status, &defined), (201, &definition));
    }
}

#[test]
fn attributes_are_defined_once_and_values_must_fit_their_definition() {
    let f = fixture();
    define_attributes(&f);
    let taken = f.admin_post(
        "/admin/attributes",
        None,
        json!({ "type": "text", "name": "MATERIAL" }),
    );
    assert_eq!(code(taken), (409, "already_taken".to_owned()));
    for (what, bad, expected) in [
        (
            "no choices",
            json!({ "type": "one_of", "name": "Fit", "choices": [] }),
            (422, "invalid_attributes"),
        ),
        (
            "a choice twice",
            json!({ "type": "one_of", "name": "Fit", "choices": ["Slim", "SLIM"] }),
            (422, "invalid_attributes"),
        ),
        (
            "a unit on text",
            json!({ "type": "text", "name": "Fit", "unit": "cm" }),
            (422, "invalid_body"),
        ),
        (
            "an unknown type",
            json!({ "type": "colour", "name": "Fit" }),
            (422, "invalid_body"),
        ),
        (
            "an empty name",
            json!({ "type": "text", "name": " " }),
            (422, "invalid"),
        ),
    ] {
        let answer = code(f.admin_post("/admin/attributes", None, bad));
        assert_eq!(answer, (expected.0, expected.1.to_owned()), "{what}");
    }
    let (_, listed) = f.call("GET", "/attributes", None, None);
    assert_eq!(
        listed["items"],
        json!([
            { "type": "one_of", "name": "Material", "choices": ["Cotton", "Linen"] },
            { "type": "boolean", "name": "Waterproof" },
            { "type": "number", "name": "Weight", "unit": "g" },
        ]),
        "by name"
    );

    let shirt = shirt(&f);
    let product = shirt["id"].as_i64().unwrap();
    let path = format!("/admin/products/{product}/attributes");
    let (status, described) = f.admin_put(
        &path,
        json!({ "attributes": [
            { "type": "choice", "name": "material", "value": "linen" },
            { "type": "number", "name": "Weight", "value": "180.50" },
            { "type": "boolean", "name": "Waterproof", "value": false },
        ] }),
    );
    assert_eq!(status, 200, "{described}");
    assert_eq!(
        described["attributes"],
        json!([
            { "type": "choice", "name": "Material", "value": "Linen" },
            { "type": "number", "name": "Weight", "value": "180.5" },
            { "type": "boolean", "name": "Waterproof", "value": false },
        ]),
        "named and spelt as defined, the number without trailing zeros"
    );
    for (what, attributes) in [
        (
            "an attribute never defined",
            json!([{ "type": "text", "name": "Origin", "value": "Portugal" }]),
        ),
        (
            "a value of another type",
            json!([{ "type": "text", "name": "Weight", "value": "heavy" }]),
        ),
        (
            "not a choice",
            json!([{ "type": "choice", "name": "Material", "value": "Silk" }]),
        ),
        (
            "not a number",
            json!([{ "type": "number", "name": "Weight", "value": "1e3" }]),
        ),
        (
            "twice",
            json!([{ "type": "boolean", "name": "Waterproof", "value": true },
                   { "type": "boolean", "name": "waterproof", "value": false }]),
        ),
    ] {
        let answer = code(f.admin_put(&path, json!({ "attributes": attributes })));
        assert_eq!(answer, (422, "invalid_attributes".to_owned()), "{what}");
    }
    let (_, after) = f.call("GET", "/search?q=shirt", None, None);
    assert_eq!(
        after["items"][0]["product"]["attributes"], described["attributes"],
        "a refused change changes nothing"
    );

    // A variant's own values, beside its product's.
    let red = shirt["variants"][0]["id"].as_i64().unwrap();
    let (status, variant) = f.admin_put(
        &format!("/admin/variants/{red}/attributes"),
        json!({ "attributes": [{ "type": "number", "name": "weight", "value": "175" }] }),
    );
    assert_eq!(status, 200, "{variant}");
    assert_eq!(
        variant["attributes"],
        json!([{ "type": "number", "name": "Weight", "value": "175" }])
    );
    let unknown = f.admin_put(
        &format!("/admin/variants/{red}/attributes"),
        json!({ "attributes": [{ "type": "text", "name": "Origin", "value": "Portugal" }] }),
    );
    assert_eq!(code(unknown), (422, "invalid_attributes".to_owned()));
    let nowhere = f.admin_put(
        "/admin/variants/999999/attributes",
        json!({ "attributes": [] }),
    );
    assert_eq!(code(nowhere), (404, "not_found".to_owned()));
}

#[test]
fn images_keep_their_order_and_tie_to_the_product_s_option_values() {
    let f = fixture();
    let shirt = shirt(&f);
    let path = format!("/admin/products/{}/images", shirt["id"]);
    let (status, shown) = f.admin_put(
        &path,
        json!({ "images": [
            { "url": "https://cdn.example.com/shirt/front.jpg", "alt": "The shirt" },
            { "url": "https://cdn.example.com/shirt/red.jpg", "option": { "option": "colour", "value": "RED" } },
        ] }),
    );
    assert_eq!(status, 200, "{shown}");
    assert_eq!(
        shown["images"],
        json!([
            { "url": "https://cdn.example.com/shirt/front.jpg", "alt": "The shirt", "option": null },
            { "url": "https://cdn.example.com/shirt/red.jpg", "alt": "",
              "option": { "option": "Colour", "value": "Red" } },
        ])
    );
    for (what, images, expected) in [
        (
            "a value the product lacks",
            json!([{ "url": "https://cdn.example.com/a.jpg", "option": { "option": "Colour", "value": "Pink" } }]),
            (422, "invalid_images"),
        ),
        (
            "one URL twice",
            json!([{ "url": "https://cdn.example.com/a.jpg" }, { "url": "https://cdn.example.com/a.jpg" }]),
            (422, "invalid_images"),
        ),
        (
            "not https",
            json!([{ "url": "http://cdn.example.com/a.jpg" }]),
            (422, "invalid"),
        ),
    ] {
        let answer = code(f.admin_put(&path, json!({ "images": images })));
        assert_eq!(answer, (expected.0, expected.1.to_owned()), "{what}");
    }
    let many: Vec<Value> = (0..51)
        .map(|i| json!({ "url": format!("https://cdn.example.com/{i}.jpg") }))
        .collect();
    assert_eq!(
        code(f.admin_put(&path, json!({ "images": many }))),
        (422, "invalid_images".to_owned())
    );
    let (status, cleared) = f.admin_put(&path, json!({ "images": [] }));
    assert_eq!((status, &cleared["images"]), (200, &json!([])));
}

#[test]
fn collections_take_existing_products_once_and_a_unique_slug() {
    let f = fixture();
    let shirt = shirt(&f)["id"].as_i64().unwrap();
    let (status, created) = f.admin_post(
        "/admin/collections",
        None,
        json!({ "slug": "new-in", "name": "New in" }),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["product_ids"], json!([]));
    let again = f.admin_post(
        "/admin/collections",
        None,
        json!({ "slug": "new-in", "name": "Also new" }),
    );
    assert_eq!(code(again), (409, "already_taken".to_owned()));
    let bad_slug = f.admin_post(
        "/admin/collections",
        None,
        json!({ "slug": "New In", "name": "New in" }),
    );
    assert_eq!(code(bad_slug), (422, "invalid".to_owned()));

    let path = format!("/admin/collections/{}/products", created["id"]);
    assert_eq!(
        code(f.admin_put(&path, json!({ "product_ids": [shirt, shirt] }))),
        (422, "invalid_collection".to_owned())
    );
    assert_eq!(
        code(f.admin_put(&path, json!({ "product_ids": [shirt, 999_999] }))),
        (404, "not_found".to_owned())
    );
    assert_eq!(
        code(f.admin_put(
            "/admin/collections/999999/products",
            json!({ "product_ids": [] })
        )),
        (404, "not_found".to_owned())
    );
    let (status, filled) = f.admin_put(&path, json!({ "product_ids": [shirt] }));
    assert_eq!((status, &filled["product_ids"]), (200, &json!([shirt])));
}

#[test]
fn the_search_language_is_a_configuration_the_database_has() {
    let f = fixture();
    create(
        &f,
        json!({
            "slug": "running-shoes",
            "name": "Running shoes",
            "category_id": f.category,
            "variants": [{ "sku": "RUN-1", "price": "80.00", "stock": 2 }],
        }),
    );
    let set = |language: &str| {
        code(f.admin_put("/admin/search-language", json!({ "language": language })))
    };
    let runs = || {
        let (status, hits) = f.call("GET", "/search?q=runs", None, None);
        assert_eq!(status, 200, "{hits}");
        hits["items"].as_array().unwrap().len()
    };
    // English stems "runs" and "running" alike; `simple` keeps words as they are.
    assert_eq!(runs(), 1, "english by default");
    assert_eq!(set("simple").0, 204);
    assert_eq!(runs(), 0, "the catalog is re-indexed in the new language");
    assert_eq!(set("english").0, 204);
    assert_eq!(runs(), 1);
    assert_eq!(set("klingon"), (404, "not_found".to_owned()));
    assert_eq!(set("Not a name!"), (422, "invalid".to_owned()));
}

#[test]
fn every_merchandising_route_needs_the_admin_token() {
    let f = fixture();
    let routes = [
        (
            "POST",
            "/admin/attributes",
            json!({ "type": "text", "name": "Care" }),
        ),
        (
            "PUT",
            "/admin/products/1/attributes",
            json!({ "attributes": [] }),
        ),
        (
            "PUT",
            "/admin/variants/1/attributes",
            json!({ "attributes": [] }),
        ),
        ("PUT", "/admin/products/1/images", json!({ "images": [] })),
        (
            "POST",
            "/admin/collections",
            json!({ "slug": "sale", "name": "Sale" }),
        ),
        (
            "PUT",
            "/admin/collections/1/products",
            json!({ "product_ids": [] }),
        ),
        (
            "PUT",
            "/admin/search-language",
            json!({ "language": "simple" }),
        ),
    ];
    for (method, path, body) in &routes {
        for (who, token) in [
            ("nobody", None),
            ("a customer's session", Some(f.guest.as_str())),
            (
                "a wrong token",
                Some("admin-token-0123456789abcdef-012345678X"),
            ),
        ] {
            let answer = f.call_as(token, method, path, None, Some(&body.to_string()));
            assert_eq!(
                code(answer),
                (401, "unauthenticated".to_owned()),
                "{method} {path} as {who}"
            );
        }
    }
    // Nothing was written: the first of them works with the token.
    let (status, _) = f.call_as(
        Some(ADMIN_TOKEN),
        "POST",
        "/admin/attributes",
        None,
        Some(&routes[0].2.to_string()),
    );
    assert_eq!(status, 201);
}
