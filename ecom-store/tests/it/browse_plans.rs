//! The plans of the statements `browse` and `search` send use the catalog's
//! indexes, whatever a shopper types: a faceted listing reads the category's
//! products from `products_category_id_id_idx` (with `products_facets_idx`), a
//! search reads `products_search_idx` and falls back on `products_name_trgm_idx`,
//! and neither reads the whole products table. Plan shapes, not timings: the
//! statements are taken from the store's own connection (`pg_prepared_statements`)
//! and explained there with `EXPLAIN (FORMAT JSON) EXECUTE`.

use diesel::prelude::*;
use diesel::sql_types::Text;
use ecom_domain::prelude::*;
use ecom_store::testing::TestDb;
use ecom_store::{PgStore, StoreConfig, build_pool};

use crate::util::{rules, setup};

/// Products in the catalog: clothes in 4 of 12 colours and 5 sizes, under 20
/// departments of 5 subcategories each, named as shops name them (a cut, a cloth, a
/// garment and one of 143 brands), so that the statistics see names as varied as a
/// shop's.
const PRODUCTS: i64 = 4000;

/// A catalog of `PRODUCTS` products (a fifth of them drafts or single-variant
/// goods), with the statistics of a shop that has run.
fn load_catalog(db: &TestDb) {
    let mut conn = db.connect();
    for sql in [
        "INSERT INTO categories (id, slug, name) \
         SELECT g, 'dept-' || g, 'Department ' || g FROM generate_series(1, 20) g",
        "INSERT INTO categories (id, parent_id, slug, name) \
         SELECT g, 1 + g % 20, 'sub-' || g, 'Subcategory ' || g FROM generate_series(21, 120) g",
        &format!(
            "INSERT INTO products (id, slug, name, description, category_id, status, options, created_at) \
             SELECT g, 'p-' || g, \
                    (ARRAY['Slim','Classic','Organic','Relaxed'])[1 + g % 4] || ' ' || \
                    (ARRAY['Cotton','Linen','Wool','Denim','Flannel'])[1 + g / 4 % 5] || ' ' || \
                    (ARRAY['Shirt','Shorts','Dress','Jacket','Sweater','Hoodie','Skirt'])[1 + g / 20 % 7] || ' by ' || \
                    (ARRAY['Vol','Pix','Arc','Quan','Son','Nor','Kel','Bri','Mar','Tes','Lum','Zen','Ori'])[1 + g % 13] || \
                    (ARRAY['tra','elo','wave','ta','ora','dia','vik','ssa','ent','ix','ano'])[1 + g / 13 % 11], \
                    'Made to last, cut to fit.', 21 + g % 100, \
                    CASE WHEN g % 10 = 0 THEN 'draft' ELSE 'active' END, \
                    CASE WHEN g % 5 = 0 THEN '[]'::jsonb ELSE jsonb_build_array( \
                        jsonb_build_object('name', 'Colour', 'values', jsonb_build_array( \
                            c[1 + g % 12], c[1 + (g + 3) % 12], c[1 + (g + 6) % 12], c[1 + (g + 9) % 12])), \
                        jsonb_build_object('name', 'Size', 'values', '[\"XS\",\"S\",\"M\",\"L\",\"XL\"]'::jsonb)) END, \
                    now() - g * interval '1 hour' \
             FROM generate_series(1, {PRODUCTS}) g, \
                  (SELECT ARRAY['Black','Navy','White','Grey','Red','Blue','Green','Olive', \
                                'Beige','Pink','Yellow','Burgundy'] AS c) colours"
        ),
        "INSERT INTO product_variants (product_id, sku, options, price, currency, stock_on_hand) \
         SELECT p.id, 'SKU-' || p.id, '[]', 19.90 + p.id % 50, 'EUR', 10 FROM products p \
         WHERE p.options = '[]'",
        "INSERT INTO product_variants (product_id, sku, options, price, currency, stock_on_hand) \
         SELECT p.id, 'SKU-' || p.id || '-' || c.ord || '-' || s.ord, \
                jsonb_build_array(jsonb_build_object('option', 'Colour', 'value', c.value), \
                                  jsonb_build_object('option', 'Size', 'value', s.value)), \
                19.90 + p.id % 50, 'EUR', (p.id + c.ord + s.ord) % 7 \
         FROM products p, \
              jsonb_array_elements_text(p.options->0->'values') WITH ORDINALITY c (value, ord), \
              jsonb_array_elements_text(p.options->1->'values') WITH ORDINALITY s (value, ord) \
         WHERE p.options <> '[]'",
        "SELECT setval(pg_get_serial_sequence('categories', 'id'), 120)",
        "SELECT setval(pg_get_serial_sequence('products', 'id'), (SELECT max(id) FROM products))",
        "VACUUM ANALYZE",
    ] {
        setup(&mut conn, sql);
    }
}

/// A store whose pool holds one connection, so the statements it prepared can be
/// read back on the connection it lends next.
fn one_connection_store(db: &TestDb) -> PgStore {
    let pool = build_pool(&StoreConfig {
        pool_max_size: 1,
        pool_min_idle: 0,
        ..StoreConfig::new(db.url())
    })
    .unwrap();
    PgStore::with_rules(pool, rules())
}

#[derive(QueryableByName)]
struct Prepared {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    params: i32,
}

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    plan: String,
}

/// The store's statements bind each placeholder where it occurs (`$5 ... $5` is
/// two parameters once prepared): `binds[n - 1]`, the SQL literal of `$n`, for each
/// `$n` of `order`, the placeholders in the order the statement's text has them.
fn arguments(binds: &[&str], order: &[usize]) -> String {
    let args: Vec<&str> = order.iter().map(|n| binds[n - 1]).collect();
    args.join(", ")
}

/// The plan of the statement the store prepared whose text holds `marker`, for
/// `args` (SQL literals, one per parameter); with `generic`, the plan PostgreSQL
/// would reuse for any arguments.
fn plan_of(store: &PgStore, marker: &str, args: &str, generic: bool) -> serde_json::Value {
    let mut conn = store.pool().get().unwrap();
    let found: Vec<Prepared> = diesel::sql_query(
        "SELECT name, cardinality(parameter_types) AS params FROM pg_prepared_statements \
         WHERE strpos(statement, $1) > 0",
    )
    .bind::<Text, _>(marker)
    .load(&mut conn)
    .unwrap();
    assert_eq!(found.len(), 1, "one prepared statement holds {marker:?}");
    let given = args.split(", ").count();
    assert_eq!(
        found[0].params as usize, given,
        "the statement holding {marker:?} has other placeholders than the test knows: {args}"
    );
    let mode = if generic {
        "force_generic_plan"
    } else {
        "auto"
    };
    diesel::sql_query(format!("SET plan_cache_mode = {mode}"))
        .execute(&mut conn)
        .unwrap();
    let plan: Plan = diesel::sql_query(format!(
        "EXPLAIN (FORMAT JSON) EXECUTE {}({args})",
        found[0].name
    ))
    .get_result(&mut conn)
    .unwrap();
    diesel::sql_query("RESET plan_cache_mode")
        .execute(&mut conn)
        .unwrap();
    serde_json::from_str(&plan.plan).unwrap()
}

/// Every node of a plan, depth first.
fn nodes(plan: &serde_json::Value) -> Vec<&serde_json::Value> {
    let mut out = Vec::new();
    let mut stack = vec![&plan[0]["Plan"]];
    while let Some(node) = stack.pop() {
        out.push(node);
        if let Some(children) = node["Plans"].as_array() {
            stack.extend(children);
        }
    }
    out
}

/// The indexes a plan reads.
fn indexes(plan: &serde_json::Value) -> Vec<String> {
    nodes(plan)
        .iter()
        .filter_map(|n| n["Index Name"].as_str().map(str::to_owned))
        .collect()
}

/// Panics when the plan reads all of `products` (or all of its variants).
fn assert_no_full_scan(plan: &serde_json::Value, what: &str) {
    for node in nodes(plan) {
        let relation = node["Relation Name"].as_str().unwrap_or("");
        assert!(
            !(node["Node Type"] == "Seq Scan"
                && matches!(relation, "products" | "product_variants")),
            "{what} reads all of {relation}: {plan:#}"
        );
    }
}

fn assert_reads(plan: &serde_json::Value, index: &str, what: &str) {
    assert!(
        indexes(plan).iter().any(|i| i == index),
        "{what} does not read {index}: {plan:#}"
    );
}

#[test]
fn a_faceted_listing_reads_the_category_and_facet_indexes() {
    let db = TestDb::new();
    load_catalog(&db);
    let store = one_connection_store(&db);
    let request = BrowseRequest {
        category: CategoryId::new(3),
        filter: BrowseFilter {
            facets: vec![
                FacetFilter::new("Colour", &["Black", "Navy"]).unwrap(),
                FacetFilter::new("Size", &["M"]).unwrap(),
            ],
            ..BrowseFilter::default()
        },
        sort: BrowseSort::Newest,
        page: PageRequest::first(20),
    };
    let listing = store.browse(request).unwrap();
    assert!(
        listing.total > 20,
        "the listing has pages: {}",
        listing.total
    );
    assert_eq!(listing.page.items.len(), 20);

    // Department 3 (its five subcategories); colour black or navy, size M; no price
    // or stock filter; a first page of 20 and one more.
    let binds = [
        "3",
        "'{colour,colour,size}'",
        "'{black,navy,m}'",
        "'{0,0,1}'",
        "2",
        "NULL",
        "NULL",
        "NULL",
        "false",
        "NULL",
        "NULL",
        "21",
    ];
    let matching = [1, 2, 3, 4, 5, 5, 6, 6, 7, 8, 9];
    let counts_args = arguments(&binds, &matching);
    let page_args = arguments(&binds, &[&matching[..], &[11, 10, 11, 12]].concat());
    let counts = plan_of(&store, "unnest(matching.facets)", &counts_args, false);
    let page = plan_of(&store, "m.created_at DESC, m.id DESC", &page_args, false);
    for (plan, what) in [(&counts, "the facet counts"), (&page, "the page")] {
        assert_reads(plan, "products_category_id_id_idx", what);
        assert_reads(plan, "products_facets_idx", what);
        assert_no_full_scan(plan, what);
    }
    // A plan for any arguments (none known: not even whether there are facet
    // filters) still starts from the category.
    let generic = plan_of(&store, "unnest(matching.facets)", &counts_args, true);
    assert_reads(
        &generic,
        "products_category_id_id_idx",
        "the generic facet counts",
    );
    assert_no_full_scan(&generic, "the generic facet counts");
}

/// The store's arguments for `query`, as `ops/browse.rs` binds them: the words
/// joined by `&` with the last a prefix, the words for the trigram fallback, a
/// first page of 20 (and one more).
fn search_args(query: &SearchQuery) -> String {
    let quote = |s: String| format!("'{}'", s.replace('\'', "''"));
    let tsquery = quote(format!("{}:*", query.words().join(" & ")));
    let text = quote(query.text());
    arguments(
        &[&tsquery, &text, "NULL", "NULL", "21"],
        &[1, 2, 2, 4, 3, 3, 4, 5],
    )
}

#[test]
fn no_search_term_reads_the_whole_catalog() {
    let db = TestDb::new();
    load_catalog(&db);
    let store = one_connection_store(&db);
    let search = |raw: &str| {
        let query = SearchQuery::parse(raw).unwrap();
        store
            .search(SearchRequest {
                query: query.clone(),
                page: PageRequest::first(20),
            })
            .unwrap();
        query
    };
    let cotton = search("cotton sh");

    let plan = plan_of(&store, "to_tsquery", &search_args(&cotton), false);
    assert_reads(&plan, "products_search_idx", "a search");
    assert_reads(&plan, "products_name_trgm_idx", "the fallback of a search");
    assert_no_full_scan(&plan, "a search");

    let hostile = [
        // One very long word.
        "x".repeat(SearchQuery::MAX_LEN),
        // As many words as a query may have, the last one letter.
        "slim cotton linen wool denim shirt dress s".to_owned(),
        // Stop words only: the text query is empty, the fallback does the work.
        "the and of a".to_owned(),
        // Punctuation soup: one-letter words between symbols and quotes.
        "!!x??y..z;;'q'&|:*()".to_owned(),
        // One letter: a prefix of most of the catalog.
        "c".to_owned(),
    ];
    for raw in &hostile {
        let query = search(raw);
        for generic in [false, true] {
            let plan = plan_of(&store, "to_tsquery", &search_args(&query), generic);
            let what = format!("a search for {raw:?} (generic plan: {generic})");
            assert_reads(&plan, "products_search_idx", &what);
            assert_reads(&plan, "products_name_trgm_idx", &what);
            assert_no_full_scan(&plan, &what);
        }
    }
}
