//! The benchmark's database: a catalog and a realistic history, and carts to check out.

use std::error::Error;

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use ecom_domain::prelude::*;

/// Products in the catalog.
pub(crate) const PRODUCTS: i64 = 2000;
/// The products every client buys from in the hot workload.
const HOT_PRODUCTS: i64 = 10;
/// Orders already placed, so indexes and statistics look like a shop's that has run.
pub(crate) const PAST_ORDERS: i64 = 30_000;

/// Twenty categories (19 under the first), the products, and the past orders with
/// their lines, addresses, history, payments and published events; then fresh
/// statistics, as a shop's database would have.
pub(crate) fn fixture(conn: &mut PgConnection) -> Result<(), Box<dyn Error>> {
    let statements = [
        "INSERT INTO categories (slug, name) SELECT 'cat-' || g, 'Category ' || g FROM generate_series(1, 20) g".to_owned(),
        // Products 1..=10 are the hot ones; categories 2..=20 hang under category 1.
        "UPDATE categories SET parent_id = 1 WHERE id > 1".to_owned(),
        format!(
            "INSERT INTO products (slug, name, description, category_id) \
             SELECT 'product-' || g, initcap((ARRAY['red','blue','green','steel','oak'])[1 + g % 5]) || ' ' || \
                    (ARRAY['chair','lamp','table','mug','kettle'])[1 + (g / 5) % 5] || ' ' || g, \
                    'A fine product.', 1 + g % 20 \
             FROM generate_series(1, {PRODUCTS}) g"
        ),
        // Each product's one variant takes its id, as the migration to variants gave
        // every product of the first version.
        "INSERT INTO product_variants (id, product_id, sku, price, currency, stock_on_hand) \
         SELECT id, id, 'SKU-' || id, 5.99 + id % 95, 'EUR', 100000000 FROM products"
            .to_owned(),
        "SELECT setval(pg_get_serial_sequence('product_variants', 'id'), max(id)) FROM product_variants"
            .to_owned(),
        format!(
            "INSERT INTO orders (guest_email, currency, subtotal, shipping, tax, grand_total, status, \
                                 payment_deadline, created_at) \
             SELECT 'past' || g || '@example.com', 'EUR', 20, 4.90, 4.98, 29.88, \
                    (ARRAY['paid','shipped','delivered','cancelled','expired'])[1 + g % 5], \
                    now() - g * interval '1 minute' + interval '30 minutes', now() - g * interval '1 minute' \
             FROM generate_series(1, {PAST_ORDERS}) g"
        ),
        format!(
            "INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, unit_price, quantity) \
             SELECT id, 1, 1 + id % {PRODUCTS}, 'SKU-' || (1 + id % {PRODUCTS}), 'Past product', 20, 1 FROM orders"
        ),
        "INSERT INTO order_addresses (order_id, kind, recipient, line1, city, postal_code, country) \
         SELECT id, k, 'Past Buyer', '1 Main St', 'Berlin', '10115', 'DE' FROM orders, \
         unnest(ARRAY['shipping', 'billing']) k"
            .to_owned(),
        "INSERT INTO order_status_history (order_id, to_status, event, at) \
         SELECT id, 'pending_payment', 'checkout', created_at FROM orders"
            .to_owned(),
        "INSERT INTO payments (order_id, provider, currency, amount, authorized, captured, status) \
         SELECT id, 'test', 'EUR', grand_total, grand_total, grand_total, 'captured' FROM orders"
            .to_owned(),
        "INSERT INTO outbox_events (aggregate_type, aggregate_id, event_type, payload, published_at) \
         SELECT 'order', id, 'order.placed', jsonb_build_object('order_id', id), now() FROM orders"
            .to_owned(),
        // The price book of checkouts priced from it: gross euro prices, a members'
        // list a euro under the price of every third variant, every fourth product
        // at the reduced rate, German rates, and flat shipping free from 50.00.
        "INSERT INTO markets (currency, prices_include_tax) VALUES ('EUR', true)".to_owned(),
        "INSERT INTO price_lists (id, name, currency) VALUES (1, 'Members', 'EUR')".to_owned(),
        "INSERT INTO price_list_entries (price_list_id, variant_id, min_quantity, price) \
         SELECT 1, id, 1, price - 1 FROM product_variants WHERE id % 3 = 0"
            .to_owned(),
        "UPDATE products SET tax_class = 'reduced' WHERE id % 4 = 0".to_owned(),
        "INSERT INTO tax_rates (name, country, class, rate, valid_from) \
         VALUES ('MwSt 19 %', 'DE', 'standard', 0.19, now() - interval '1 year'), \
                ('MwSt 7 %', 'DE', 'reduced', 0.07, now() - interval '1 year')"
            .to_owned(),
        "INSERT INTO shipping_zones (id, name) VALUES (1, 'Germany')".to_owned(),
        "INSERT INTO shipping_zone_areas (zone_id, country) VALUES (1, 'DE')".to_owned(),
        "INSERT INTO shipping_methods (zone_id, code, name, currency, rate, free_from, tax_class) \
         VALUES (1, 'standard', 'Standard', 'EUR', \
                 '{\"type\": \"flat\", \"price\": {\"amount\": \"4.90\", \"currency\": \"EUR\"}}', \
                 50, 'standard')"
            .to_owned(),
        "VACUUM ANALYZE".to_owned(),
    ];
    for sql in statements {
        diesel::sql_query(sql).execute(conn)?;
    }
    Ok(())
}

/// Starts the promotions of the promotions workload: 10 % off everything, and 2.00
/// off with the code every checkout gives (no limit, so that none is refused).
pub(crate) fn start_promotions(conn: &mut PgConnection) -> Result<(), Box<dyn Error>> {
    let statements = [
        "INSERT INTO promotions (id, name, discount, target, coupon_only, exclusive, priority) \
         VALUES (1, 'Bench 10 %', '{\"type\": \"percent\", \"rate\": \"0.1\"}', \
                 '{\"type\": \"order\"}', false, false, 1) \
         ON CONFLICT (id) DO UPDATE SET ends_at = NULL"
            .to_owned(),
        "INSERT INTO promotions (id, name, discount, target, currency, coupon_only, exclusive, priority) \
         VALUES (2, 'Bench 2 off', \
                 '{\"type\": \"fixed\", \"amount\": {\"amount\": \"2.00\", \"currency\": \"EUR\"}}', \
                 '{\"type\": \"order\"}', 'EUR', true, false, 2) \
         ON CONFLICT (id) DO UPDATE SET ends_at = NULL"
            .to_owned(),
        format!(
            "INSERT INTO coupon_codes (code, promotion_id) VALUES ('{}', 2) ON CONFLICT DO NOTHING",
            crate::pgbench::BENCH_CODE
        ),
    ];
    for sql in statements {
        diesel::sql_query(sql).execute(conn)?;
    }
    Ok(())
}

/// Ends the promotions of [`start_promotions`], so that later workloads measure
/// checkouts without them.
pub(crate) fn end_promotions(conn: &mut PgConnection) -> Result<(), Box<dyn Error>> {
    diesel::sql_query("UPDATE promotions SET ends_at = now() WHERE id IN (1, 2)").execute(conn)?;
    Ok(())
}

/// Units of each variant at each location of [`start_locations`]: more than the
/// bench's checkouts take.
const UNITS_AT_LOCATIONS: i64 = 100_000_000;

/// Keeps every variant at two locations for the workload of checkouts at
/// locations: Berlin (priority 1) and Rotterdam (priority 2), each level received
/// through the ledger, so that the store's checkouts reserve there; and
/// `bench_reservations`, where the raw script finds the reservations the store
/// makes (see [`write_reservations`]). Levels stay: this workload runs after the
/// other checkouts.
pub(crate) fn start_locations(conn: &mut PgConnection) -> Result<(), Box<dyn Error>> {
    let statements = [
        "INSERT INTO stock_locations (id, name, country, priority) \
         VALUES (1, 'Berlin', 'DE', 1), (2, 'Rotterdam', 'NL', 2) ON CONFLICT DO NOTHING"
            .to_owned(),
        format!(
            "WITH received AS ( \
                 INSERT INTO inventory_levels (location_id, variant_id, on_hand) \
                 SELECT s.id, v.id, {UNITS_AT_LOCATIONS} FROM stock_locations s, product_variants v \
                 ON CONFLICT DO NOTHING RETURNING location_id, variant_id, on_hand) \
             INSERT INTO inventory_moves (location_id, variant_id, kind, quantity, on_hand_after, \
                                          reserved_after, reason) \
             SELECT location_id, variant_id, 'receipt', on_hand, on_hand, 0, 'bench' \
             FROM received ORDER BY location_id, variant_id"
        ),
        "DROP TABLE IF EXISTS bench_reservations".to_owned(),
        "CREATE UNLOGGED TABLE bench_reservations (cart bigint PRIMARY KEY, line_nos smallint[], \
         locations bigint[], variants bigint[], quantities integer[])"
            .to_owned(),
        "VACUUM ANALYZE".to_owned(),
    ];
    for sql in statements {
        diesel::sql_query(sql).execute(conn)?;
    }
    Ok(())
}

/// Writes `bench_reservations` for the carts from `first_cart` on: what the store
/// reserves for each by its default strategy (priority) with every level far
/// from empty, the whole of each line at the location of priority 1, the lines
/// numbered by variant as checkout numbers them.
pub(crate) fn write_reservations(
    conn: &mut PgConnection,
    first_cart: i64,
) -> Result<(), Box<dyn Error>> {
    diesel::sql_query(format!(
        "INSERT INTO bench_reservations \
         SELECT cart_id, array_agg(line_no ORDER BY line_no), \
                array_agg((SELECT id FROM stock_locations ORDER BY priority, id LIMIT 1) ORDER BY line_no), \
                array_agg(variant_id ORDER BY line_no), array_agg(quantity ORDER BY line_no) \
         FROM (SELECT cart_id, variant_id, quantity, \
                      row_number() OVER (PARTITION BY cart_id ORDER BY variant_id)::smallint AS line_no \
               FROM cart_lines WHERE cart_id >= {first_cart}) l \
         GROUP BY cart_id ON CONFLICT DO NOTHING"
    ))
    .execute(conn)?;
    diesel::sql_query("ANALYZE bench_reservations").execute(conn)?;
    Ok(())
}

/// The id the next order will have at least.
pub(crate) fn next_order(conn: &mut PgConnection) -> Result<i64, Box<dyn Error>> {
    Ok(diesel::select(diesel::dsl::sql::<BigInt>(
        "(SELECT coalesce(max(id), 0) + 1 FROM orders)",
    ))
    .get_result(conn)?)
}

/// Refuses a run whose orders (from `first_order` on) were not reserved at
/// locations: the workload would not measure what it says.
pub(crate) fn ensure_reserved(
    conn: &mut PgConnection,
    first_order: i64,
) -> Result<(), Box<dyn Error>> {
    let unreserved: i64 = diesel::select(diesel::dsl::sql::<BigInt>(&format!(
        "(SELECT count(*) FROM orders o WHERE o.id >= {first_order} \
          AND NOT EXISTS (SELECT FROM order_reservations r WHERE r.order_id = o.id))"
    )))
    .get_result(conn)?;
    if unreserved > 0 {
        return Err(format!("{unreserved} orders were checked out without reservations").into());
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Creates `n` guest carts with two lines each (from all products, or from the hot
/// ten) and returns their ids, which are consecutive.
pub(crate) fn make_carts(
    conn: &mut PgConnection,
    batch: usize,
    n: usize,
    hot: bool,
) -> Result<Vec<i64>, Box<dyn Error>> {
    let ids: Vec<Id> = diesel::sql_query(format!(
        "INSERT INTO carts (guest_token_digest, currency) \
         SELECT sha256(convert_to('bench-{batch}-' || lpad(g::text, 10, '0'), 'UTF8')), 'EUR' \
         FROM generate_series(1, {n}) g ORDER BY g RETURNING id"
    ))
    .load(conn)?;
    let range = if hot { HOT_PRODUCTS } else { PRODUCTS };
    let (first, last) = (ids[0].id, ids[ids.len() - 1].id);
    diesel::sql_query(format!(
        "INSERT INTO cart_lines (cart_id, variant_id, quantity) \
         SELECT c, 1 + (c * 7919) % {range}, 1 FROM generate_series({first}, {last}) c \
         UNION ALL \
         SELECT c, 1 + ((c * 7919) % {range} + 1 + c % 3) % {range}, 2 FROM generate_series({first}, {last}) c"
    ))
    .execute(conn)?;
    Ok(ids.into_iter().map(|i| i.id).collect())
}

/// The address every benchmark checkout ships to.
pub(crate) fn address() -> PostalAddress {
    PostalAddress::parse(&RawAddress {
        recipient: "Bench Buyer".into(),
        line1: "1 Main St".into(),
        city: "Berlin".into(),
        postal_code: "10115".into(),
        country: "DE".into(),
        ..RawAddress::default()
    })
    .expect("a valid address")
}
