//! The ceiling: the store's statements written out by hand and run by `pgbench`
//! (extended protocol, prepared statements) at the same client counts.

use std::error::Error;

use diesel::prelude::*;
use ecom_domain::prelude::SearchQuery;
use ecom_examples::pgbench;

use crate::Bench;
use crate::measure::{Run, summarize};

/// The statements `PgStore::checkout` sends for a guest cart, written out by hand.
/// The cart id comes from a sequence over the carts made for this run.
const CHECKOUT_SQL: &str = r#"BEGIN ISOLATION LEVEL READ COMMITTED;
INSERT INTO idempotency_keys (scope, key, request_hash, expires_at) SELECT 'checkout', 'raw-' || n, '\x00'::bytea, now() + interval '1 day' FROM (SELECT nextval('bench_cart_seq') AS n) s ON CONFLICT DO NOTHING RETURNING substring(key from 5)::bigint AS cart \gset
SELECT id, public_id, user_id, encode(guest_token_digest, 'hex') AS digest, currency, status FROM carts WHERE id = :cart FOR UPDATE \gset
SELECT variant_id, quantity FROM cart_lines WHERE cart_id = :cart;
SELECT v.id, v.product_id, v.sku, v.options, v.price, v.currency, v.stock_on_hand, v.weight_grams, v.gtin, v.attributes, v.created_at, v.updated_at, p.name, p.status, EXISTS (SELECT l.variant_id FROM inventory_levels l WHERE l.variant_id = v.id) FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.id IN (SELECT variant_id FROM cart_lines WHERE cart_id = :cart) ORDER BY v.id;
INSERT INTO orders (guest_email, guest_token_digest, cart_id, currency, subtotal, shipping, tax, grand_total, payment_deadline) SELECT 'raw@example.com', decode(:digest, 'hex'), :cart, 'EUR', s, 4.90, round((s + 4.90) * 0.20, 2), s + 4.90 + round((s + 4.90) * 0.20, 2), now() + 1800 * interval '1 second' FROM (SELECT sum(v.price * l.quantity) AS s FROM cart_lines l JOIN product_variants v ON v.id = l.variant_id WHERE l.cart_id = :cart) t RETURNING id AS order_id, public_id AS order_ref, grand_total AS total, created_at AS placed_at \gset
INSERT INTO order_addresses (order_id, kind, recipient, line1, line2, city, region, postal_code, country) VALUES (:order_id, 'shipping', 'Bench Buyer', '1 Main St', NULL, 'Berlin', NULL, '10115', 'DE'), (:order_id, 'billing', 'Bench Buyer', '1 Main St', NULL, 'Berlin', NULL, '10115', 'DE');
INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, unit_price, quantity, options) SELECT :order_id, row_number() OVER (ORDER BY v.id), v.id, v.sku, p.name, v.price, l.quantity, v.options FROM cart_lines l JOIN product_variants v ON v.id = l.variant_id JOIN products p ON p.id = v.product_id WHERE l.cart_id = :cart;
INSERT INTO order_status_history (order_id, to_status, event, at) VALUES (:order_id, 'pending_payment', 'checkout', now());
INSERT INTO payments (order_id, provider, currency, amount) VALUES (:order_id, 'test', 'EUR', :total) RETURNING id AS payment_id \gset
UPDATE carts SET status = 'converted', updated_at = now() WHERE id = :cart;
UPDATE idempotency_keys SET order_id = :order_id WHERE scope = 'checkout' AND key = 'raw-' || :cart;
INSERT INTO outbox_events (aggregate_type, aggregate_id, event_type, payload) VALUES ('order', :order_id, 'order.placed', jsonb_build_object('order_id', :order_id::bigint, 'payment_id', :payment_id::bigint, 'currency', 'EUR', 'grand_total', :total::numeric::text));
SELECT id, product_id, sku, options, price, currency, stock_on_hand, weight_grams, gtin, attributes, created_at, updated_at FROM product_variants WHERE id IN (SELECT variant_id FROM order_lines WHERE order_id = :order_id) ORDER BY id FOR NO KEY UPDATE;
SELECT l.location_id, l.variant_id, l.on_hand, l.reserved, l.safety_stock, s.name, s.country, s.priority FROM inventory_levels l JOIN stock_locations s ON s.id = l.location_id WHERE l.variant_id IN (SELECT variant_id FROM order_lines WHERE order_id = :order_id) ORDER BY l.location_id, l.variant_id FOR UPDATE OF l;
UPDATE product_variants v SET stock_on_hand = v.stock_on_hand + -1 * l.units, updated_at = now() FROM (SELECT variant_id, sum(quantity) AS units FROM order_lines o WHERE order_id = :order_id AND NOT EXISTS (SELECT FROM order_reservations r WHERE r.order_id = o.order_id AND r.line_no = o.line_no) GROUP BY variant_id) AS l WHERE v.id = l.variant_id;
COMMIT;
"#;

/// The statements `PgStore::checkout` sends for a guest cart whose variants are
/// kept at locations, written out by hand: [`CHECKOUT_SQL`] with the levels read
/// before anything is written, and the reservations booked after the levels are
/// locked, their values from `bench_reservations` (see
/// `fixture::write_reservations`; the store sends them as arrays).
pub(crate) fn checkout_located_sql() -> String {
    const SELLABLES_END: &str = "WHERE cart_id = :cart) ORDER BY v.id;\n";
    const LEVELS_END: &str = "ORDER BY l.location_id, l.variant_id FOR UPDATE OF l;\n";
    assert_eq!(CHECKOUT_SQL.matches(SELLABLES_END).count(), 1);
    assert_eq!(CHECKOUT_SQL.matches(LEVELS_END).count(), 1);
    CHECKOUT_SQL
        .replace(
            SELLABLES_END,
            &format!("{SELLABLES_END}{}", r#"SELECT l.location_id, l.variant_id, l.on_hand, l.reserved, l.safety_stock, s.name, s.country, s.priority FROM inventory_levels l JOIN stock_locations s ON s.id = l.location_id WHERE l.variant_id IN (SELECT variant_id FROM cart_lines WHERE cart_id = :cart) ORDER BY l.location_id, l.variant_id;
"#),
        )
        .replace(
            LEVELS_END,
            &format!("{LEVELS_END}{}", r#"WITH r (line_no, location_id, variant_id, quantity) AS (SELECT t.* FROM bench_reservations b, unnest(b.line_nos, b.locations, b.variants, b.quantities) AS t WHERE b.cart = :cart), held AS (SELECT location_id, variant_id, sum(quantity)::integer AS units FROM r GROUP BY location_id, variant_id), reserved AS (UPDATE inventory_levels l SET reserved = l.reserved + h.units, updated_at = now() FROM held h WHERE l.location_id = h.location_id AND l.variant_id = h.variant_id RETURNING l.location_id, l.variant_id, h.units, l.on_hand, l.reserved), moves AS (INSERT INTO inventory_moves (location_id, variant_id, kind, quantity, on_hand_after, reserved_after, reason) SELECT location_id, variant_id, 'reservation', units, on_hand, reserved, 'order ' || :order_id FROM reserved ORDER BY location_id, variant_id) INSERT INTO order_reservations (order_id, line_no, location_id, variant_id, quantity) SELECT :order_id, line_no, location_id, variant_id, quantity FROM r;
"#),
        )
}

/// The code every checkout of the promotions workload gives.
pub(crate) const BENCH_CODE: &str = "BENCH-2OFF";

/// The statements `PgStore::checkout` sends for a guest cart checked out by the
/// shipping method `standard`, priced from the price book, written out by hand:
/// the checkout's reads of the price book and of the promotions offered (with
/// [`BENCH_CODE`] when `coupon`), the catalog places of its lines when promotions
/// are offered, then the order written with its invoice (and its promotions and
/// the code's use), its values from `bench_invoices` (see `invoices.rs`; the store
/// sends them as binds, its lines, tax lines and promotions as arrays).
pub(crate) fn checkout_book_sql(promotions: bool, coupon: bool) -> String {
    let codes = if coupon {
        format!("'{{{BENCH_CODE}}}'")
    } else {
        "'{}'".to_owned()
    };
    let mut script = format!(
        r#"BEGIN ISOLATION LEVEL READ COMMITTED;
INSERT INTO idempotency_keys (scope, key, request_hash, expires_at) SELECT 'checkout', 'raw-' || n, '\x00'::bytea, now() + interval '1 day' FROM (SELECT nextval('bench_cart_seq') AS n) s ON CONFLICT DO NOTHING RETURNING substring(key from 5)::bigint AS cart \gset
SELECT id, public_id, user_id, encode(guest_token_digest, 'hex') AS digest, currency, status FROM carts WHERE id = :cart FOR UPDATE \gset
SELECT variant_id, quantity FROM cart_lines WHERE cart_id = :cart;
SELECT v.id, v.product_id, v.sku, v.options, v.price, v.currency, v.stock_on_hand, v.weight_grams, v.gtin, v.attributes, v.created_at, v.updated_at, p.name, p.status, EXISTS (SELECT l.variant_id FROM inventory_levels l WHERE l.variant_id = v.id) FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.id IN (SELECT variant_id FROM cart_lines WHERE cart_id = :cart) ORDER BY v.id;
SELECT m.id, m.zone_id, m.code, m.name, m.currency, m.rate, m.free_from, m.tax_class, coalesce((SELECT k.prices_include_tax FROM markets k WHERE k.currency = m.currency), false) AS prices_include_tax FROM shipping_methods m WHERE m.code = 'standard' AND m.currency = 'EUR' AND EXISTS (SELECT FROM shipping_zone_areas a WHERE a.zone_id = m.zone_id AND a.country = 'DE' AND (a.region IS NULL OR a.region = NULL)) ORDER BY m.id LIMIT 1;
SELECT c.variant_id, p.tax_class, l.id AS list_id, l.name, l.currency, l.customer_group, l.starts_at, l.ends_at, e.min_quantity, e.price FROM cart_lines c JOIN product_variants v ON v.id = c.variant_id JOIN products p ON p.id = v.product_id LEFT JOIN (price_list_entries e JOIN price_lists l ON l.id = e.price_list_id AND l.currency = 'EUR' AND (l.starts_at IS NULL OR l.starts_at <= now()) AND (l.ends_at IS NULL OR now() < l.ends_at) AND (l.customer_group IS NULL OR l.customer_group IN (SELECT g.customer_group FROM customer_groups g WHERE g.user_id = NULL))) ON e.variant_id = c.variant_id AND e.min_quantity <= c.quantity WHERE c.cart_id = :cart ORDER BY c.variant_id, l.id, e.min_quantity;
SELECT name, country, region, class, rate, valid_from, valid_until FROM tax_rates WHERE country = 'DE' AND valid_from <= now() AND (valid_until IS NULL OR now() < valid_until) ORDER BY id;
SELECT p.id, p.name, p.discount, p.target, p.currency, p.min_subtotal, p.min_quantity, p.customer_group, p.starts_at, p.ends_at, p.coupon_only, p.exclusive, p.priority, c.code FROM promotions p LEFT JOIN coupon_codes c ON c.promotion_id = p.id AND c.code = ANY({codes}::text[]) WHERE c.code IS NOT NULL OR (NOT p.coupon_only AND (p.starts_at IS NULL OR p.starts_at <= now()) AND (p.ends_at IS NULL OR now() < p.ends_at) AND (p.currency IS NULL OR p.currency = 'EUR')) ORDER BY p.priority, p.id;
"#
    );
    if promotions {
        script.push_str(
            "SELECT v.id, p.category_id, ARRAY(SELECT cp.collection_id FROM collection_products cp WHERE cp.product_id = p.id ORDER BY cp.collection_id) AS collections FROM cart_lines c JOIN product_variants v ON v.id = c.variant_id JOIN products p ON p.id = v.product_id WHERE c.cart_id = :cart ORDER BY v.id;\n",
        );
    }
    script.push_str(r#"INSERT INTO orders (guest_email, guest_token_digest, cart_id, currency, subtotal, shipping, tax, grand_total, payment_deadline, prices_include_tax, shipping_method_code, shipping_method_name, shipping_net, shipping_tax, shipping_tax_rate_no, discount) SELECT 'raw@example.com', decode(:digest, 'hex'), :cart, 'EUR', subtotal, fee, tax, grand_total, now() + 1800 * interval '1 second', true, 'standard', 'Standard', shipping_net, shipping_tax, shipping_rate_no, discount FROM bench_invoices WHERE cart = :cart RETURNING id AS order_id, public_id AS order_ref, grand_total AS total, created_at AS placed_at \gset
INSERT INTO order_addresses (order_id, kind, recipient, line1, line2, city, region, postal_code, country) VALUES (:order_id, 'shipping', 'Bench Buyer', '1 Main St', NULL, 'Berlin', NULL, '10115', 'DE'), (:order_id, 'billing', 'Bench Buyer', '1 Main St', NULL, 'Berlin', NULL, '10115', 'DE');
INSERT INTO order_tax_lines (order_id, rate_no, name, country, region, tax_class, rate, taxable, tax) SELECT :order_id, t.n, t.name, 'DE', NULL, t.k, t.rate, t.taxable, t.tax FROM bench_invoices, unnest(t_nos, t_names, t_classes, t_rates, t_taxables, t_taxes) AS t (n, name, k, rate, taxable, tax) WHERE cart = :cart;
INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, unit_price, quantity, options, net, tax, tax_rate_no, discount) SELECT :order_id, row_number() OVER (), t.v, t.s, t.n, t.p, t.q, t.o::jsonb, t.net, t.tax, t.r, t.d FROM bench_invoices, unnest(variants, skus, names, units, quantities, options, nets, taxes, rate_nos, discounts) AS t (v, s, n, p, q, o, net, tax, r, d) WHERE cart = :cart;
"#);
    if promotions {
        script.push_str(r#"INSERT INTO order_promotions (order_id, promotion_no, promotion_id, name, code, discount, lines, amount, shipping_amount) SELECT :order_id, t.n, t.p, t.name, t.code, t.d::jsonb, t.l::jsonb, t.a, t.s FROM bench_invoices, unnest(p_nos, p_ids, p_names, p_codes, p_discounts, p_lines, p_amounts, p_shipping) AS t (n, p, name, code, d, l, a, s) WHERE cart = :cart;
"#);
    }
    script.push_str(r#"INSERT INTO order_status_history (order_id, to_status, event, at) VALUES (:order_id, 'pending_payment', 'checkout', now());
INSERT INTO payments (order_id, provider, currency, amount) VALUES (:order_id, 'test', 'EUR', :total) RETURNING id AS payment_id \gset
UPDATE carts SET status = 'converted', updated_at = now() WHERE id = :cart;
UPDATE idempotency_keys SET order_id = :order_id WHERE scope = 'checkout' AND key = 'raw-' || :cart;
INSERT INTO outbox_events (aggregate_type, aggregate_id, event_type, payload) VALUES ('order', :order_id, 'order.placed', jsonb_build_object('order_id', :order_id::bigint, 'payment_id', :payment_id::bigint, 'currency', 'EUR', 'grand_total', :total::numeric::text));
"#);
    if coupon {
        // chr(58): pgbench takes any `:name`, even in a literal, for a variable.
        script.push_str(&format!(
            "UPDATE coupon_codes SET uses = uses + 1 WHERE code = '{BENCH_CODE}' AND (max_uses IS NULL OR uses < max_uses) RETURNING per_customer;\n\
             INSERT INTO coupon_redemptions (order_id, code, customer) VALUES (:order_id, '{BENCH_CODE}', 'guest' || chr(58) || 'raw@example.com');\n"
        ));
    }
    script.push_str(r#"SELECT id, product_id, sku, options, price, currency, stock_on_hand, weight_grams, gtin, attributes, created_at, updated_at FROM product_variants WHERE id IN (SELECT variant_id FROM order_lines WHERE order_id = :order_id) ORDER BY id FOR NO KEY UPDATE;
SELECT l.location_id, l.variant_id, l.on_hand, l.reserved, l.safety_stock, s.name, s.country, s.priority FROM inventory_levels l JOIN stock_locations s ON s.id = l.location_id WHERE l.variant_id IN (SELECT variant_id FROM order_lines WHERE order_id = :order_id) ORDER BY l.location_id, l.variant_id FOR UPDATE OF l;
UPDATE product_variants v SET stock_on_hand = v.stock_on_hand + -1 * l.units, updated_at = now() FROM (SELECT variant_id, sum(quantity) AS units FROM order_lines o WHERE order_id = :order_id AND NOT EXISTS (SELECT FROM order_reservations r WHERE r.order_id = o.order_id AND r.line_no = o.line_no) GROUP BY variant_id) AS l WHERE v.id = l.variant_id;
COMMIT;
"#);
    script
}

/// The product columns of a page, as the store's `page_product_columns!` writes
/// them: the id on every row, the rest on each product's first row only.
macro_rules! page_product_columns {
    ($t:literal) => {
        page_product_columns!(@first $t; slug, name, description, category_id, status,
            options, attributes, images, created_at, updated_at)
    };
    (@first $t:literal; $($column:ident),+) => {
        concat!(
            $t, ".id",
            $(", CASE WHEN row_number() OVER by_product = 1 THEN ", $t, ".",
                stringify!($column), " END"),+
        )
    };
}

/// The window of [`page_product_columns!`], as the store's `page_product_window!`.
macro_rules! page_product_window {
    ($t:literal) => {
        concat!(
            " WINDOW by_product AS (PARTITION BY ",
            $t,
            ".id ORDER BY v.id)"
        )
    };
}

/// What `PgStore::list_products` sends for a first page of 50.
pub(crate) const CATEGORY_PAGE_SQL: &str = concat!(
    r#"\set cat random(1, 20)
BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SELECT id, parent_id, slug, name FROM categories WHERE id = :cat;
WITH RECURSIVE tree (id) AS (SELECT id FROM categories WHERE id = :cat UNION SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id), page AS (SELECT p.id, p.slug, p.name, p.description, p.category_id, p.status, p.options, p.attributes, p.images, p.created_at, p.updated_at FROM products p WHERE p.category_id IN (SELECT id FROM tree) AND p.status = 'active' ORDER BY p.id LIMIT 50 + 1) SELECT "#,
    page_product_columns!("page"),
    r#", v.id, v.product_id, v.sku, v.options, v.price, v.currency, v.stock_on_hand, v.weight_grams, v.gtin, v.attributes, v.created_at, v.updated_at FROM page JOIN product_variants v ON v.product_id = page.id"#,
    page_product_window!("page"),
    r#" ORDER BY page.id, v.id;
COMMIT;
"#
);

/// What `PgStore::search_products` sends for a one-word query.
pub(crate) const SEARCH_SQL: &str = concat!(
    r#"\set w random(1, 5)
BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
WITH page AS (SELECT p.id, p.slug, p.name, p.description, p.category_id, p.status, p.options, p.attributes, p.images, p.created_at, p.updated_at, similarity(p.name, (ARRAY['chair','lamp','table','mug','kettle'])[:w]) AS rank FROM products p WHERE p.status = 'active' AND (p.name % (ARRAY['chair','lamp','table','mug','kettle'])[:w] OR strpos(lower(p.name), lower((ARRAY['chair','lamp','table','mug','kettle'])[:w])) > 0) ORDER BY rank DESC, p.id LIMIT 20) SELECT "#,
    page_product_columns!("page"),
    r#", v.id, v.product_id, v.sku, v.options, v.price, v.currency, v.stock_on_hand, v.weight_grams, v.gtin, v.attributes, v.created_at, v.updated_at FROM page JOIN product_variants v ON v.product_id = page.id"#,
    page_product_window!("page"),
    r#" ORDER BY page.rank DESC, page.id, v.id;
COMMIT;
"#
);

/// The products a faceted listing keeps: `matching!` of `PgStore::browse`, with the
/// store's binds (`$1`...) left in for [`bound`] to fill.
const BROWSE_MATCHING: &str = r#"
WITH RECURSIVE tree (id) AS (
    SELECT id FROM categories WHERE id = $1
    UNION
    SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id
), wanted (key, grp) AS MATERIALIZED (
    SELECT catalog_facet_key(f.name, f.value), f.grp
    FROM unnest($2::text[], $3::text[], $4::int[]) f (name, value, grp)
), matching AS MATERIALIZED (
    SELECT p.id, p.created_at, p.name, p.facets, m.price_from
    FROM products p
    CROSS JOIN LATERAL (
        SELECT min(v.price) AS price_from, min(v.currency) AS currency,
               bool_or(v.stock_on_hand > 0) AS in_stock
        FROM product_variants v WHERE v.product_id = p.id
    ) m
    WHERE p.category_id = ANY (ARRAY(SELECT id FROM tree)) AND p.status = 'active'
      AND ($5::int = 0
           OR (p.facets && ARRAY(SELECT key FROM wanted)
               AND (SELECT count(DISTINCT grp) FROM wanted WHERE key = ANY (p.facets)) = $5))
      AND ($6::text IS NULL
           OR (m.currency = $6::text
               AND m.price_from >= coalesce($7::numeric, m.price_from)
               AND m.price_from <= coalesce($8::numeric, m.price_from)))
      AND (NOT $9::bool OR m.in_stock)
)
"#;

/// What `PgStore::browse` counts the facets with, after `BROWSE_MATCHING`.
const BROWSE_FACET_COUNTS: &str = r#"
SELECT NULL::text AS key, count(*) AS products FROM matching
UNION ALL
SELECT f.key, count(*) FROM matching, unnest(matching.facets) f (key) GROUP BY f.key
"#;

/// What `PgStore::browse` reads a page newest first with, after `BROWSE_MATCHING`.
const BROWSE_NEWEST_PAGE: &str = concat!(
    r#"
, page AS (
    SELECT m.id, row_number() OVER (ORDER BY m.created_at DESC, m.id DESC) AS ord
    FROM matching m
    WHERE $11::bigint IS NULL OR (m.created_at, m.id) < ($10::timestamptz, $11::bigint)
    ORDER BY m.created_at DESC, m.id DESC
    LIMIT $12
)
SELECT "#,
    page_product_columns!("p"),
    r#",
       v.id, v.product_id, v.sku, v.options, v.price, v.currency, v.stock_on_hand,
       v.weight_grams, v.gtin, v.attributes, v.created_at, v.updated_at
FROM page
JOIN products p ON p.id = page.id
JOIN product_variants v ON v.product_id = p.id"#,
    page_product_window!("p"),
    r#"
ORDER BY page.ord, v.id
"#
);

/// What `PgStore::search` sends (`SEARCH` of `ops/browse.rs`).
const FTS: &str = concat!(
    r#"
WITH q AS MATERIALIZED (
    SELECT to_tsquery(s.search_language, $1) AS query FROM catalog_settings s
), fts AS MATERIALIZED (
    SELECT p.id, round(ts_rank(p.search, q.query) * 1000000)::bigint AS score
    FROM products p, q
    WHERE p.search @@ q.query AND p.status = 'active'
), fuzzy AS (
    SELECT p.id, round(similarity(p.name, $2) * 1000000)::bigint AS score
    FROM products p
    WHERE NOT EXISTS (SELECT 1 FROM fts) AND p.name % $2 AND p.status = 'active'
), hits AS (
    SELECT id, score FROM fts
    UNION ALL
    SELECT id, score FROM fuzzy
), page AS (
    SELECT id, score, row_number() OVER (ORDER BY score DESC, id) AS ord
    FROM hits
    WHERE $4::bigint IS NULL OR score < $3::bigint OR (score = $3::bigint AND id > $4::bigint)
    ORDER BY score DESC, id
    LIMIT $5
)
SELECT page.score, "#,
    page_product_columns!("p"),
    r#",
       v.id, v.product_id, v.sku, v.options, v.price, v.currency, v.stock_on_hand,
       v.weight_grams, v.gtin, v.attributes, v.created_at, v.updated_at
FROM page
JOIN products p ON p.id = page.id
JOIN product_variants v ON v.product_id = p.id"#,
    page_product_window!("p"),
    r#"
ORDER BY page.ord, v.id
"#
);

/// `sql` with the store's binds written in: `binds[i]` for `$(i + 1)`, as SQL text.
fn bound(sql: &str, binds: &[String]) -> String {
    let mut sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    // From the last, so that `$1` does not take the start of `$12`.
    for (i, value) in binds.iter().enumerate().rev() {
        sql = sql.replace(&format!("${}", i + 1), value);
    }
    sql
}

/// A text array literal of `values`, which hold no quote or backslash (facet values
/// the bench picked).
fn text_array(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    format!("'{{{}}}'", quoted.join(","))
}

/// What `PgStore::browse` sends for the first page, newest first, of `category` in
/// `colours` and `size`, fetching `fetch` products (the page and one more): the
/// category check, the facet counts and the page, in one repeatable-read read-only
/// transaction.
pub(crate) fn browse_script(
    category: i64,
    colours: &[String; 2],
    size: &str,
    fetch: u32,
) -> String {
    let binds = [
        ":cat".to_owned(),
        text_array(&["colour", "colour", "size"]),
        text_array(&[&colours[0], &colours[1], size]),
        text_array(&["0", "0", "1"]),
        "2".to_owned(),
        "NULL".to_owned(),
        "NULL".to_owned(),
        "NULL".to_owned(),
        "false".to_owned(),
        "NULL".to_owned(),
        "NULL".to_owned(),
        fetch.to_string(),
    ];
    format!(
        "\\set cat {category}\n\
         BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n\
         SELECT EXISTS (SELECT 1 FROM categories WHERE id = :cat) AS found;\n\
         {};\n{};\nCOMMIT;\n",
        bound(&format!("{BROWSE_MATCHING}{BROWSE_FACET_COUNTS}"), &binds),
        bound(&format!("{BROWSE_MATCHING}{BROWSE_NEWEST_PAGE}"), &binds),
    )
}

/// What `PgStore::search` sends for the first page of `query`, fetching `fetch`
/// products (the page and one more): the words joined by `&`, the last a prefix,
/// and the words for the trigram fallback.
pub(crate) fn fts_script(query: &SearchQuery, fetch: u32) -> String {
    let binds = [
        format!("'{}:*'", query.words().join(" & ")),
        format!("'{}'", query.text()),
        "NULL".to_owned(),
        "NULL".to_owned(),
        fetch.to_string(),
    ];
    format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n{};\nCOMMIT;\n",
        bound(FTS, &binds)
    )
}

/// Checkouts of the carts from `first_cart` on, one per transaction: a fresh
/// sequence hands each transaction its cart.
pub(crate) fn raw_checkouts(
    bench: &mut Bench,
    workload: &'static str,
    clients: usize,
    first_cart: i64,
) -> Result<Run, Box<dyn Error>> {
    diesel::sql_query("DROP SEQUENCE IF EXISTS bench_cart_seq").execute(&mut bench.conn)?;
    diesel::sql_query(format!(
        "CREATE SEQUENCE bench_cart_seq START WITH {first_cart}"
    ))
    .execute(&mut bench.conn)?;
    let script = match workload {
        crate::BOOK_CHECKOUT | crate::PROMO_CHECKOUT => {
            let promoted = workload == crate::PROMO_CHECKOUT;
            let codes = if promoted {
                vec![ecom_domain::prelude::CouponCode::parse(BENCH_CODE)?]
            } else {
                Vec::new()
            };
            crate::invoices::write(&mut bench.conn, &bench.store, first_cart, &codes)?;
            checkout_book_sql(promoted, promoted)
        }
        crate::LOCATED_CHECKOUT => {
            crate::fixture::write_reservations(&mut bench.conn, first_cart)?;
            checkout_located_sql()
        }
        _ => CHECKOUT_SQL.to_owned(),
    };
    raw_script(
        bench,
        workload,
        clients,
        bench.per_client * clients,
        &script,
    )
}

/// Runs `script` with pgbench, `transactions` in all over `clients` connections.
pub(crate) fn raw_script(
    bench: &Bench,
    workload: &'static str,
    clients: usize,
    transactions: usize,
    script: &str,
) -> Result<Run, Box<dyn Error>> {
    raw_script_on(bench, &bench.url, workload, clients, transactions, script)
}

/// [`raw_script`] on the database of `url`.
pub(crate) fn raw_script_on(
    bench: &Bench,
    url: &str,
    workload: &'static str,
    clients: usize,
    transactions: usize,
    script: &str,
) -> Result<Run, Box<dyn Error>> {
    let measured = pgbench::run(
        &bench.pgbench,
        url,
        &bench.work,
        &format!("{workload}-{clients}"),
        script,
        clients,
        transactions,
    )?;
    let mut run = summarize(
        workload,
        "raw SQL (pgbench)",
        clients,
        measured.latencies,
        measured.wall,
    );
    // pgbench's own tps excludes connection set-up; use its figure for fairness.
    if let Some(tps) = measured.tps {
        run.tps = tps;
    }
    Ok(run)
}
