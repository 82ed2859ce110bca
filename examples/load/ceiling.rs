//! The ceiling of a purchase: the statements the store sends for each of the
//! purchase's requests, transaction by transaction, written out by hand and run by
//! pgbench over as many connections as there are buyers. What the service does
//! beyond them (HTTP, JSON, hashing tokens, signing and checking webhooks, the pool)
//! is what the ratio of the two measures.
//!
//! The statements were read from the server's log of one purchase
//! (`ALTER ROLE ecom_app SET log_min_duration_statement = 0`); when the store's
//! statements change, this script follows them. (A `:name` is a pgbench variable
//! wherever it stands, in string literals too: hence `concat_ws(':', ...)`.)

use std::error::Error;
use std::path::PathBuf;

use ecom_domain::prelude::*;
use ecom_domain::rules::StoreRules;
use ecom_examples::pgbench;
use ecom_store::StoreConfig;

use crate::purchase::Flow;
use crate::{Figures, Shelf};

/// pgbench on the service's database, as the service's role.
pub(crate) struct Ceiling {
    pgbench: PathBuf,
    url: String,
    work: PathBuf,
    flow: Flow,
    totals: Totals,
}

impl Ceiling {
    /// The ceiling of `flow`'s purchases, each of items priced like `sample`.
    pub(crate) fn new(
        config: &StoreConfig,
        flow: Flow,
        sample: &Sellable,
    ) -> Result<Self, Box<dyn Error>> {
        let quantity = Quantity::new(1)?;
        let lines: Vec<(&Sellable, Quantity)> =
            (0..flow.items()).map(|_| (sample, quantity)).collect();
        let draft = StoreRules::default().pricing.price(
            Currency::EUR,
            &lines,
            CountryCode::parse("DE")?,
        )?;
        Ok(Self {
            pgbench: pgbench::binary()?,
            url: config.database_url.clone(),
            work: std::env::temp_dir().join(format!("ecom-load-{}", std::process::id())),
            flow,
            totals: draft.totals,
        })
    }

    /// `purchases` purchases from `shelf` by pgbench over `clients` connections.
    pub(crate) fn measure(
        &self,
        shelf: &Shelf,
        clients: usize,
        purchases: usize,
    ) -> Result<Figures, Box<dyn Error>> {
        let script = script(self.flow, shelf, &self.totals);
        let measured = pgbench::run(
            &self.pgbench,
            &self.url,
            &self.work,
            &format!("{}-{clients}", shelf.name),
            &script,
            clients,
            purchases,
        )?;
        let mut figures = Figures::from_latencies(measured.latencies, measured.wall, 0);
        // pgbench's own rate leaves out connecting, as the service's pool does.
        if let Some(tps) = measured.tps {
            figures.per_second = tps;
        }
        Ok(figures)
    }
}

impl Drop for Ceiling {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// The caller's session and their cart, by reference and owner, in one statement:
/// the cart row locked.
const CALLER_AND_CART: &str = "SELECT s.user_id, c.id, c.public_id, c.user_id, c.guest_token_digest, c.currency, c.status FROM sessions s JOIN carts c ON c.public_id = :cart_ref AND (c.user_id = s.user_id OR (s.user_id IS NULL AND c.guest_token_digest = s.token_digest)) WHERE s.token_digest = decode(:digest, 'hex') AND s.revoked_at IS NULL AND s.expires_at > now() FOR UPDATE OF c;\n";

/// The caller's session and their order, by reference and owner, in one statement.
const CALLER_AND_ORDER: &str = "SELECT s.user_id, o.id FROM sessions s JOIN orders o ON o.public_id = :order_ref AND (o.user_id = s.user_id OR (s.user_id IS NULL AND o.guest_token_digest = s.token_digest)) WHERE s.token_digest = decode(:digest, 'hex') AND s.revoked_at IS NULL AND s.expires_at > now();\n";

/// The columns the store reads of a product.
const VARIANT_COLUMNS: &str = "v.id, v.product_id, v.sku, v.options, v.price, v.currency, v.stock_on_hand, v.weight_grams, v.gtin, v.attributes, v.created_at, v.updated_at";

/// A payment report from the provider: `kind` of the whole amount, then what the
/// report does to the order (`order` holds its statements).
fn report(kind: &str, status: &str, captured: &str, order: &str) -> String {
    format!(
        "BEGIN ISOLATION LEVEL READ COMMITTED;
SELECT order_id FROM payments WHERE id = :payment_id LIMIT 1;
SELECT status FROM orders WHERE id = :order_id LIMIT 1 FOR UPDATE;
SELECT id, order_id, provider, provider_ref, currency, amount, authorized, captured, refunded, status FROM payments WHERE id = :payment_id LIMIT 1 FOR UPDATE;
SELECT payment_id, kind, amount, idempotency_key, provider_event_id, reason FROM payment_events WHERE payment_id = ANY(ARRAY[:payment_id]::bigint[]) ORDER BY id;
UPDATE payments SET authorized = :grand_total, captured = {captured}, refunded = 0, status = '{status}', provider_ref = NULL, updated_at = now() WHERE id = :payment_id;
INSERT INTO payment_events (payment_id, kind, amount, idempotency_key, provider_event_id, reason) VALUES (:payment_id, '{kind}', :grand_total, 'evt_raw_' || :payment_id::text || '_{kind}', NULL, NULL);
INSERT INTO outbox_events (aggregate_type, aggregate_id, event_type, payload) VALUES ('payment', :payment_id, 'payment.{kind}', jsonb_build_object('payment_id', :payment_id::bigint, 'order_id', :order_id::bigint, 'status', '{status}', 'amount', :grand_total::text));
{order}COMMIT;
"
    )
}

/// What a capture does to the order: it is paid.
const ORDER_PAID: &str = "SELECT status FROM orders WHERE id = :order_id LIMIT 1;
UPDATE orders SET status = 'paid', updated_at = now() WHERE id = :order_id;
INSERT INTO order_status_history (order_id, from_status, to_status, event, note) VALUES (:order_id, 'pending_payment', 'paid', 'payment_captured', NULL);
INSERT INTO outbox_events (aggregate_type, aggregate_id, event_type, payload) VALUES ('order', :order_id, 'order.status_changed', jsonb_build_object('order_id', :order_id::bigint, 'from', 'pending_payment', 'to', 'paid', 'event', 'payment_captured', 'note', NULL));
";

/// The pgbench script of one purchase of `flow` from `shelf`, whose orders come to
/// `totals`: one step per request, each the transaction the store runs for it.
fn script(flow: Flow, shelf: &Shelf, totals: &Totals) -> String {
    let mut s = start_guest_cart(shelf);
    for item in 0..flow.items() {
        s.push_str(&add_item(item));
    }
    s.push_str(&check_out(flow.items(), totals));
    s.push_str(&report("authorize", "authorized", "0", ""));
    s.push_str(&report("capture", "captured", ":grand_total", ORDER_PAID));
    if flow == Flow::Full {
        s.push_str(&read_order());
    }
    s
}

/// The purchase's products, picked at random from `shelf`, and a new guest's session
/// with its cart, in one statement.
fn start_guest_cart(shelf: &Shelf) -> String {
    let (first, count) = (shelf.first, shelf.count);
    format!(
        "\\set i random(0, {last})
\\set p0 {first} + :i
\\set p1 {first} + (:i + 7) % {count}
WITH s AS (INSERT INTO sessions (token_digest, user_id, expires_at) VALUES (sha256(convert_to(random()::text || clock_timestamp()::text, 'UTF8')), NULL, now() + 2592000 * interval '1 second') RETURNING token_digest, expires_at), c AS (INSERT INTO carts (user_id, guest_token_digest, currency) SELECT NULL, token_digest, 'EUR' FROM s RETURNING id, public_id, user_id, guest_token_digest, currency, status) SELECT s.expires_at, encode(s.token_digest, 'hex') AS digest, c.id AS cart, c.public_id AS cart_ref, c.user_id, c.guest_token_digest, c.currency, c.status FROM s, c \\gset
",
        last = count - 1
    )
}

/// Product `item` (`:p0`, `:p1`...) added to the cart.
fn add_item(item: usize) -> String {
    format!(
        "BEGIN ISOLATION LEVEL READ COMMITTED;
{CALLER_AND_CART}SELECT variant_id, quantity FROM cart_lines WHERE cart_id = :cart;
SELECT {VARIANT_COLUMNS}, p.name, p.status FROM product_variants v INNER JOIN products p ON p.id = v.product_id WHERE v.id = :p{item} LIMIT 1 \\gset p{item}_
WITH lines AS (INSERT INTO cart_lines (cart_id, variant_id, quantity) SELECT :cart::bigint, * FROM unnest(ARRAY[:p{item}]::bigint[], ARRAY[1]::int[]) ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = excluded.quantity) UPDATE carts SET status = 'open', user_id = NULL, guest_token_digest = decode(:digest, 'hex'), updated_at = now() WHERE id = :cart;
COMMIT;
"
    )
}

/// The checkout of the cart's `items` products: the order, its lines, addresses and
/// payment, its event, and the stock taken.
fn check_out(items: usize, totals: &Totals) -> String {
    let list = |column: &str| {
        (0..items)
            .map(|i| format!(":p{i}_{column}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let line_numbers = (1..=items)
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "BEGIN ISOLATION LEVEL READ COMMITTED;
{CALLER_AND_CART}INSERT INTO idempotency_keys (scope, key, request_hash, expires_at) VALUES (concat_ws(':', 'checkout', 'guest', :digest::text), 'raw-' || :cart::text, sha256(convert_to(:cart_ref, 'UTF8')), now() + interval '1 day') ON CONFLICT DO NOTHING;
SELECT id, public_id, user_id, guest_token_digest, currency, status FROM carts WHERE id = :cart LIMIT 1 FOR UPDATE;
SELECT variant_id, quantity FROM cart_lines WHERE cart_id = :cart;
SELECT {VARIANT_COLUMNS}, p.name, p.status FROM product_variants v INNER JOIN products p ON p.id = v.product_id WHERE v.id = ANY(SELECT variant_id FROM cart_lines WHERE cart_id = :cart) ORDER BY v.id;
INSERT INTO orders (user_id, guest_email, guest_token_digest, cart_id, currency, subtotal, shipping, tax, grand_total, payment_deadline) VALUES (NULL, 'load@example.com', decode(:digest, 'hex'), :cart, 'EUR', {subtotal}, {shipping}, {tax}, {grand_total}, now() + 1800 * interval '1 second') RETURNING id AS order_id, public_id AS order_ref, created_at, payment_deadline \\gset
INSERT INTO order_addresses (order_id, kind, recipient, line1, line2, city, region, postal_code, country) VALUES (:order_id, 'shipping', 'Load Tester', '1 Main St', NULL, 'Berlin', NULL, '10115', 'DE'), (:order_id, 'billing', 'Load Tester', '1 Main St', NULL, 'Berlin', NULL, '10115', 'DE');
INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, unit_price, quantity, options) SELECT :order_id::bigint, l, v, s, n, p, q, o::jsonb FROM unnest(ARRAY[{line_numbers}]::smallint[], ARRAY[{ids}]::bigint[], ARRAY[{skus}]::text[], ARRAY[{names}]::text[], ARRAY[{prices}]::numeric[], ARRAY[{ones}]::int[], ARRAY[{empties}]::text[]) AS t (l, v, s, n, p, q, o);
INSERT INTO order_status_history (order_id, to_status, event, at) VALUES (:order_id, 'pending_payment', 'checkout', now());
INSERT INTO payments (order_id, provider, currency, amount) VALUES (:order_id, 'test', 'EUR', {grand_total}) RETURNING id AS payment_id, amount AS grand_total \\gset
UPDATE carts SET status = 'converted', updated_at = now() WHERE id = :cart;
UPDATE idempotency_keys SET order_id = :order_id WHERE scope = concat_ws(':', 'checkout', 'guest', :digest::text) AND key = 'raw-' || :cart::text;
INSERT INTO outbox_events (aggregate_type, aggregate_id, event_type, payload) VALUES ('order', :order_id, 'order.placed', jsonb_build_object('order_id', :order_id::bigint, 'payment_id', :payment_id::bigint, 'currency', 'EUR', 'grand_total', '{grand_total}', 'lines', jsonb_build_array({sku_texts})));
SELECT {VARIANT_COLUMNS} FROM product_variants v WHERE v.id = ANY(SELECT variant_id FROM order_lines WHERE order_id = :order_id) ORDER BY v.id FOR NO KEY UPDATE;
UPDATE product_variants v SET stock_on_hand = v.stock_on_hand + -1 * l.units, updated_at = now() FROM (SELECT variant_id, sum(quantity) AS units FROM order_lines WHERE order_id = :order_id GROUP BY variant_id) AS l WHERE v.id = l.variant_id;
COMMIT;
",
        subtotal = totals.subtotal.amount(),
        shipping = totals.shipping.amount(),
        tax = totals.tax.amount(),
        grand_total = totals.grand_total.amount(),
        ids = list("id"),
        skus = list("sku"),
        sku_texts = (0..items)
            .map(|i| format!(":p{i}_sku::text"))
            .collect::<Vec<_>>()
            .join(", "),
        names = list("name"),
        prices = list("price"),
        ones = vec!["1"; items].join(", "),
        empties = vec!["'[]'"; items].join(", "),
    )
}

/// The order read back with everything it holds.
fn read_order() -> String {
    format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
{CALLER_AND_ORDER}SELECT id, public_id, user_id, guest_email, cart_id, currency, subtotal, shipping, tax, grand_total, status, payment_deadline, created_at FROM orders WHERE id = :order_id LIMIT 1;
SELECT line_no, variant_id, sku, name, options, unit_price, quantity FROM order_lines WHERE order_id = :order_id ORDER BY line_no;
SELECT kind, recipient, line1, line2, city, region, postal_code, country FROM order_addresses WHERE order_id = :order_id;
SELECT from_status, to_status, event, note, at FROM order_status_history WHERE order_id = :order_id ORDER BY id;
SELECT id, order_id, provider, provider_ref, currency, amount, authorized, captured, refunded, status FROM payments WHERE order_id = :order_id ORDER BY id;
SELECT payment_id, kind, amount, idempotency_key, provider_event_id, reason FROM payment_events WHERE payment_id = ANY(ARRAY[:payment_id]::bigint[]) ORDER BY id;
COMMIT;
"
    )
}
