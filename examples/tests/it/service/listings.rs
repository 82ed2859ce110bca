//! The shop front's listings over HTTP: a category filtered by facets with their
//! counts and a cursor that pages on, full-text search with its typo fallback,
//! collections in their order without drafts, and every bad filter or cursor a 422
//! with its code, never a 500.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Fixture, code, create, fixture};

/// A product of one colour, sold in `sizes` at one price.
struct Garment {
    slug: &'static str,
    name: &'static str,
    colour: &'static str,
    sizes: &'static [&'static str],
    price: &'static str,
    /// Units of each size.
    stock: u32,
    status: &'static str,
    /// Its Material, when it has one.
    material: Option<&'static str>,
}

const GARMENTS: [Garment; 6] = [
    Garment {
        slug: "red-tee",
        name: "Red tee",
        colour: "Red",
        sizes: &["S", "M"],
        price: "19.00",
        stock: 3,
        status: "active",
        material: Some("Cotton"),
    },
    Garment {
        slug: "blue-tee",
        name: "Blue tee",
        colour: "Blue",
        sizes: &["M", "L"],
        price: "21.00",
        stock: 3,
        status: "active",
        material: Some("Cotton"),
    },
    Garment {
        slug: "green-tee",
        name: "Green tee",
        colour: "Green",
        sizes: &["M"],
        price: "15.00",
        stock: 3,
        status: "active",
        material: Some("Linen"),
    },
    Garment {
        slug: "red-scarf",
        name: "Red scarf",
        colour: "Red",
        sizes: &["S"],
        price: "12.00",
        stock: 3,
        status: "active",
        material: Some("Linen"),
    },
    Garment {
        slug: "red-hat",
        name: "Red hat",
        colour: "Red",
        sizes: &["M"],
        price: "60.00",
        stock: 0,
        status: "active",
        material: None,
    },
    // Blue and M like the tees, but not on sale: never listed, found or shown.
    Garment {
        slug: "blue-shirt",
        name: "Blue shirt",
        colour: "Blue",
        sizes: &["M"],
        price: "45.00",
        stock: 3,
        status: "draft",
        material: Some("Cotton"),
    },
];

/// A clothing category, a Material attribute and [`GARMENTS`], made by staff over
/// HTTP: the category's id and each product's id by slug.
fn clothing(f: &Fixture) -> (i64, HashMap<&'static str, i64>) {
    let (status, category) = f.admin_post(
        "/admin/categories",
        None,
        json!({ "slug": "clothing", "name": "Clothing" }),
    );
    assert_eq!(status, 201, "{category}");
    let category = category["id"].as_i64().unwrap();
    let (status, material) = f.admin_post(
        "/admin/attributes",
        None,
        json!({ "type": "one_of", "name": "Material", "choices": ["Cotton", "Linen"] }),
    );
    assert_eq!(status, 201, "{material}");
    let mut ids = HashMap::new();
    for g in &GARMENTS {
        let variants: Vec<Value> = g
            .sizes
            .iter()
            .map(|size| {
                json!({
                    "sku": format!("{}-{size}", g.slug.to_uppercase()),
                    "options": [{ "option": "Colour", "value": g.colour },
                                { "option": "Size", "value": size }],
                    "price": g.price,
                    "stock": g.stock,
                })
            })
            .collect();
        let product = create(
            f,
            json!({
                "slug": g.slug,
                "name": g.name,
                "category_id": category,
                "status": g.status,
                "options": [{ "name": "Colour", "values": [g.colour] },
                            { "name": "Size", "values": g.sizes }],
                "variants": variants,
            }),
        );
        let id = product["id"].as_i64().unwrap();
        if let Some(material) = g.material {
            let (status, with) = f.admin_put(
                &format!("/admin/products/{id}/attributes"),
                json!({ "attributes": [{ "type": "choice", "name": "material", "value": material }] }),
            );
            assert_eq!(status, 200, "{with}");
        }
        ids.insert(g.slug, id);
    }
    (category, ids)
}

/// A GET that must succeed; its body.
fn get(f: &Fixture, path: &str) -> Value {
    let (status, body) = f.call("GET", path, None, None);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// The slugs of a page's products, in order.
fn slugs(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            // Search hits carry their product.
            let product = if p["product"].is_object() {
                &p["product"]
            } else {
                p
            };
            product["slug"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn browse_with_two_facet_filters_lists_counts_and_pages_the_matching_products() {
    let f = fixture();
    let (category, _) = clothing(&f);
    let browse = format!("/categories/{category}/browse?facet=colour:red,BLUE&facet=Size:m");

    // Red or blue, and in M: the scarf (S only), the green tee and the draft are out.
    let first = get(&f, &format!("{browse}&sort=price_asc&limit=2"));
    assert_eq!(slugs(&first), ["red-tee", "blue-tee"], "{first}");
    assert_eq!(first["total"], 3);
    assert_eq!(
        first["facets"],
        json!([
            { "name": "colour", "value": "blue", "products": 1 },
            { "name": "colour", "value": "red", "products": 2 },
            { "name": "material", "value": "cotton", "products": 2 },
            { "name": "size", "value": "l", "products": 1 },
            { "name": "size", "value": "m", "products": 3 },
            { "name": "size", "value": "s", "products": 1 },
        ]),
        "counted over all three matching products, not the page"
    );
    let tee = &first["items"][0];
    assert_eq!(
        (
            &tee["attributes"],
            &tee["images"],
            tee["variants"].as_array().map(Vec::len)
        ),
        (
            &json!([{ "type": "choice", "name": "Material", "value": "Cotton" }]),
            &json!([]),
            Some(2)
        ),
        "a product with its attributes, images and variants: {tee}"
    );
    let next = first["next"].as_str().expect("a next cursor").to_owned();
    assert!(
        next.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "an opaque cursor that needs no escaping: {next}"
    );
    let second = get(&f, &format!("{browse}&sort=price_asc&limit=2&after={next}"));
    assert_eq!(slugs(&second), ["red-hat"]);
    assert_eq!(
        (&second["next"], &second["total"]),
        (&Value::Null, &json!(3))
    );

    // Each order, paged one by one, lists the same three without a repeat.
    for (sort, order) in [
        ("price_desc", ["red-hat", "blue-tee", "red-tee"]),
        ("name", ["blue-tee", "red-hat", "red-tee"]),
    ] {
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let page = get(&f, &format!("{browse}&sort={sort}&limit=1{after}"));
            seen.extend(slugs(&page));
            match page["next"].as_str() {
                Some(next) => after = format!("&after={next}"),
                None => break,
            }
        }
        assert_eq!(seen, order, "{sort}");
    }
    let newest = get(&f, &browse);
    assert_eq!(slugs(&newest), ["red-hat", "blue-tee", "red-tee"]);

    // A price range and stock narrow the same facets further.
    let priced = get(
        &f,
        &format!("{browse}&min_price=20.00&max_price=50.00&currency=EUR"),
    );
    assert_eq!(
        (slugs(&priced), &priced["total"]),
        (vec!["blue-tee".to_owned()], &json!(1))
    );
    let stocked = get(&f, &format!("{browse}&in_stock=true&sort=name"));
    assert_eq!(slugs(&stocked), ["blue-tee", "red-tee"]);
    let elsewhere = get(&f, &format!("{browse}&min_price=10&currency=USD"));
    assert_eq!(
        (&elsewhere["items"], &elsewhere["total"]),
        (&json!([]), &json!(0))
    );

    // The category's products with no filter, and a category that is not there.
    let all = get(&f, &format!("/categories/{category}/browse?sort=name"));
    assert_eq!(
        slugs(&all),
        ["blue-tee", "green-tee", "red-hat", "red-scarf", "red-tee"]
    );
    assert_eq!(
        code(f.call("GET", "/categories/999999/browse", None, None)),
        (404, "not_found".to_owned())
    );
}

#[test]
fn bad_filters_and_cursors_are_422_with_their_code_never_a_500() {
    let f = fixture();
    let (category, _) = clothing(&f);
    let browse = |query: &str| {
        code(f.call(
            "GET",
            &format!("/categories/{category}/browse?{query}"),
            None,
            None,
        ))
    };
    let filter = (422, "invalid_filter".to_owned());
    let cursor = (422, "invalid_cursor".to_owned());

    let eleven: Vec<String> = (0..11).map(|i| format!("facet=f{i}:v")).collect();
    assert_eq!(browse(&eleven.join("&")), filter, "too many facets");
    let ten: Vec<String> = (0..10).map(|i| format!("facet=f{i}:v")).collect();
    assert_eq!(browse(&ten.join("&")).0, 200, "ten facets are fine");
    let many_values: Vec<String> = (0..21).map(|i| format!("v{i}")).collect();
    assert_eq!(
        browse(&format!("facet=colour:{}", many_values.join(","))),
        filter
    );
    assert_eq!(browse("facet=colour"), filter, "no values");
    assert_eq!(browse("facet=colour:"), filter, "an empty value");
    assert_eq!(browse("facet=colour:red,,blue"), filter, "an empty value");
    assert_eq!(
        browse("facet=colour:red&facet=Colour:blue"),
        filter,
        "twice"
    );
    assert_eq!(browse(&format!("facet=colour:{}", "r".repeat(201))), filter);
    assert_eq!(browse("facet=colour:red%00"), filter, "a control character");
    assert_eq!(browse("min_price=50.00&max_price=10.00"), filter);
    assert_eq!(browse("sort=cheapest"), filter);
    assert_eq!(browse("min_price=lots"), (422, "invalid".to_owned()));
    assert_eq!(
        browse("currency=XYZ&min_price=1"),
        (422, "invalid".to_owned())
    );
    assert_eq!(browse("limit=-1"), (400, "invalid_query".to_owned()));
    assert_eq!(browse("limit=1&limit=2"), (400, "invalid_query".to_owned()));
    assert_eq!(browse("in_stock=yes"), (400, "invalid_query".to_owned()));

    // Cursors: made up, truncated, huge, or made for another order.
    for after in [
        "x",
        "not-a-cursor",
        "eyJzb3J0IjoibmV3ZXN0In0",
        "%00",
        &"A".repeat(5000),
    ] {
        assert_eq!(browse(&format!("after={after}")), cursor, "{after:?}");
    }
    let page = f.call(
        "GET",
        &format!("/categories/{category}/browse?sort=price_asc&limit=1"),
        None,
        None,
    );
    let next = page.1["next"].as_str().unwrap().to_owned();
    let half = &next[..next.len() / 2];
    assert_eq!(browse(&format!("sort=price_asc&after={half}")), cursor);
    assert_eq!(browse(&format!("sort=name&after={next}")), cursor);
    assert_eq!(browse(&format!("sort=price_asc&after={next}")).0, 200);

    // Search refuses what is not a query, and cursors it did not make.
    let search = |query: &str| code(f.call("GET", &format!("/search?{query}"), None, None));
    assert_eq!(search("q="), filter, "no word");
    assert_eq!(search("q=%21%3F"), filter, "no letter or digit");
    assert_eq!(search("q=a+b+c+d+e+f+g+h+i"), filter, "nine words");
    assert_eq!(search(&format!("q={}", "a".repeat(201))), filter);
    assert_eq!(search("q=tee&after=nope"), cursor);
    assert_eq!(search(&format!("q=tee&after={next}")), cursor);
    assert_eq!(search("limit=3"), (400, "invalid_query".to_owned()));

    // The service is still well.
    assert_eq!(browse("facet=colour:red").0, 200);
}

#[test]
fn search_finds_by_a_name_prefix_by_attribute_values_and_despite_a_typo() {
    let f = fixture();
    clothing(&f);

    // The last word is a prefix, as a shopper types; a draft is never a hit.
    let hits = get(&f, "/search?q=blu");
    assert_eq!(slugs(&hits), ["blue-tee"], "{hits}");
    let hit = &hits["items"][0];
    assert!(hit["score"].as_i64().unwrap() > 0, "{hit}");
    assert_eq!(hit["product"]["variants"].as_array().map(Vec::len), Some(2));
    assert_eq!(slugs(&get(&f, "/search?q=Sench")), ["sencha"]);

    // Every word must be there; attribute values are searched too.
    let mut tees = slugs(&get(&f, "/search?q=red+te"));
    tees.sort();
    assert_eq!(tees, ["red-tee"]);
    let mut linen = slugs(&get(&f, "/search?q=linen"));
    linen.sort();
    assert_eq!(linen, ["green-tee", "red-scarf"]);

    // Nothing holds "sencah": names that resemble it are the hits.
    assert_eq!(slugs(&get(&f, "/search?q=sencah")), ["sencha"]);
    let nothing = get(&f, "/search?q=zzzzzz");
    assert_eq!(
        (&nothing["items"], &nothing["next"]),
        (&json!([]), &Value::Null)
    );

    // Pages of one hit each follow the cursor through every tee, best first.
    let mut seen = Vec::new();
    let mut scores = Vec::new();
    let mut after = String::new();
    loop {
        let page = get(&f, &format!("/search?q=tee&limit=1{after}"));
        seen.extend(slugs(&page));
        scores.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["score"].as_i64().unwrap()),
        );
        match page["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["blue-tee", "green-tee", "red-tee"]);
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );
}

#[test]
fn a_collection_lists_its_active_products_in_its_order() {
    let f = fixture();
    let (_, ids) = clothing(&f);
    let (status, summer) = f.admin_post(
        "/admin/collections",
        None,
        json!({ "slug": "summer", "name": "Summer" }),
    );
    assert_eq!(status, 201, "{summer}");
    let id = summer["id"].as_i64().unwrap();
    let order = [
        ids["green-tee"],
        ids["blue-shirt"],
        ids["red-scarf"],
        ids["blue-tee"],
    ];
    let (status, filled) = f.admin_put(
        &format!("/admin/collections/{id}/products"),
        json!({ "product_ids": order }),
    );
    assert_eq!(status, 200, "{filled}");
    assert_eq!(
        filled["product_ids"],
        json!(order),
        "staff see the draft too"
    );

    let shown = get(&f, "/collections/summer");
    assert_eq!(
        shown,
        json!({ "id": id, "slug": "summer", "name": "Summer" })
    );
    let all = get(&f, "/collections/summer/products");
    assert_eq!(
        slugs(&all),
        ["green-tee", "red-scarf", "blue-tee"],
        "no draft"
    );
    assert_eq!(all["next"], Value::Null);

    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = get(&f, &format!("/collections/summer/products?limit=2{after}"));
        seen.extend(slugs(&page));
        match page["next"].as_u64() {
            Some(next) => after = format!("&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ["green-tee", "red-scarf", "blue-tee"]);
    let past = get(&f, "/collections/summer/products?after=4294967295");
    assert_eq!((&past["items"], &past["next"]), (&json!([]), &Value::Null));

    for path in [
        "/collections/winter",
        "/collections/Not%20A%20Slug",
        "/collections/winter/products",
    ] {
        assert_eq!(
            code(f.call("GET", path, None, None)),
            (404, "not_found".to_owned()),
            "{path}"
        );
    }
    assert_eq!(
        code(f.call("GET", "/collections/summer/products?after=-1", None, None)),
        (400, "invalid_query".to_owned())
    );
}
