//! Checkout and catalog throughput of ecom-store against its ceiling: the same SQL
//! statements, written out by hand, run by `pgbench` (extended protocol, prepared
//! statements) at the same client counts on the same database.
//!
//! ```text
//! cargo run --release -p ecom-examples --bin bench [-- --write-docs] [--quick | --per-client N] [--only WORKLOAD]
//! ```
//!
//! It builds a fresh `ecom_bench` database on the private cluster (or on the server
//! of `DATABASE_URL`) with a realistic history (30,000 past orders, fresh
//! statistics), then measures checkouts at 1, 4 and 8 clients, spread over 2,000
//! products and with every client buying from the same 10 products, plus a category
//! page and a name search. It prints a table of transactions/s, p50 and p99 and the
//! store/raw ratio; `--write-docs` also writes `docs/bench/results.json` and
//! `docs/bench/throughput.svg`.

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use ecom_domain::memory::StoreRules;
use ecom_domain::prelude::*;
use ecom_store::config::with_database;
use ecom_store::{PgStore, StoreConfig, build_pool, migrate_pool};
use serde_json::json;

const CLIENTS: [usize; 3] = [1, 4, 8];
const PRODUCTS: i64 = 2000;
const HOT_PRODUCTS: i64 = 10;
const PAST_ORDERS: i64 = 30_000;
const ROUNDS: usize = 5;
const WORDS: [&str; 5] = ["chair", "lamp", "table", "mug", "kettle"];

/// One measured run.
struct Run {
    workload: &'static str,
    engine: &'static str,
    clients: usize,
    transactions: usize,
    tps: u64,
    p50_us: u64,
    p99_us: u64,
    /// On a store run: the median over the rounds of store tx/s ÷ raw tx/s of the
    /// same round, in percent. Pairs measured moments apart share the machine's
    /// mood, which a ratio of two medians would not.
    ratio_pct: Option<u64>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let write_docs = args.iter().any(|a| a == "--write-docs");
    let per_client: usize = match args.iter().position(|a| a == "--per-client") {
        Some(i) => args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .ok_or("--per-client takes a number")?,
        None if args.iter().any(|a| a == "--quick") => 60,
        None => 250,
    };
    // `--only WORKLOAD` (e.g. `--only "category page"`): that workload alone, for
    // profiling; replica figures only with `--only replicas`.
    let only: Option<&str> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    let wanted = |workload: &str| only.is_none_or(|o| o == workload);

    let admin_url = StoreConfig::from_env_or_dev()?.database_url;
    let url = with_database(&admin_url, "ecom_bench");
    {
        let mut admin = PgConnection::establish(&admin_url)?;
        diesel::sql_query("DROP DATABASE IF EXISTS ecom_bench WITH (FORCE)").execute(&mut admin)?;
        diesel::sql_query("CREATE DATABASE ecom_bench").execute(&mut admin)?;
    }
    let pool = build_pool(&StoreConfig {
        pool_max_size: 10,
        pool_min_idle: 0,
        ..StoreConfig::new(&url)
    })?;
    migrate_pool(&pool)?;
    let store = PgStore::with_rules(pool, StoreRules::default());
    let mut conn = PgConnection::establish(&url)?;
    print!("fixture: {PRODUCTS} products, {PAST_ORDERS} past orders... ");
    let t = Instant::now();
    fixture(&mut conn)?;
    println!("{:.1?}", t.elapsed());

    let pgbench = pgbench_binary()?;
    let work = std::env::temp_dir().join(format!("ecom-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let mut runs = Vec::new();
    let mut batch = 0;
    // Each measurement runs `ROUNDS` times, store and raw alternating, and the run
    // with the median throughput is kept, and the median of the rounds' store/raw
    // ratios: shared machines are noisy.
    for (workload, hot) in [("checkout", false), ("checkout, 10 hot products", true)] {
        if !wanted(workload) {
            continue;
        }
        for clients in CLIENTS {
            let transactions = per_client * clients;
            let (mut store_runs, mut raw_runs) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                batch += 1;
                let carts = make_carts(&mut conn, batch, transactions, hot)?;
                store_runs.push(store_checkouts(&store, workload, clients, &carts, batch)?);
                batch += 1;
                let carts = make_carts(&mut conn, batch, transactions, hot)?;
                raw_runs.push(raw_checkouts(
                    &pgbench, &url, &work, &mut conn, workload, clients, carts[0], per_client,
                )?);
                diesel::sql_query("VACUUM ANALYZE").execute(&mut conn)?;
            }
            runs.push(paired(store_runs, &raw_runs));
            runs.push(median(raw_runs));
        }
    }
    for (workload, script) in [
        ("category page", CATEGORY_PAGE_SQL),
        ("name search", SEARCH_SQL),
    ] {
        if !wanted(workload) {
            continue;
        }
        for clients in CLIENTS {
            let (mut store_runs, mut raw_runs) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                // PgStore's own catalog reads are these, on the writer.
                store_runs.push(reads(
                    workload,
                    "ecom-store",
                    clients,
                    per_client * clients,
                    || store.writer_reader(),
                )?);
                raw_runs.push(raw_script(
                    &pgbench,
                    &url,
                    &work,
                    workload,
                    clients,
                    per_client * clients,
                    script,
                )?);
            }
            runs.push(paired(store_runs, &raw_runs));
            runs.push(median(raw_runs));
        }
    }
    let _ = std::fs::remove_dir_all(&work);

    let replica_runs = if std::env::var_os("DATABASE_URL").is_some_and(|u| !u.is_empty()) {
        println!("DATABASE_URL is set: no private standby, so no replica figures");
        Vec::new()
    } else if only.is_some() && only != Some("replicas") {
        Vec::new()
    } else {
        replica_runs(&store, &url, per_client)?
    };

    print_table(&runs);
    print_replica_table(&replica_runs);
    if write_docs {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/bench");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join("results.json"),
            results_json(&runs, &replica_runs, per_client)?,
        )?;
        std::fs::write(dir.join("throughput.svg"), svg(&runs))?;
        println!("\nwrote {}", dir.display());
    }
    Ok(())
}

fn fixture(conn: &mut PgConnection) -> Result<(), Box<dyn Error>> {
    let statements = [
        "INSERT INTO categories (slug, name) SELECT 'cat-' || g, 'Category ' || g FROM generate_series(1, 20) g".to_owned(),
        // Products 1..=10 are the hot ones; categories 2..=20 hang under category 1.
        "UPDATE categories SET parent_id = 1 WHERE id > 1".to_owned(),
        format!(
            "INSERT INTO products (sku, name, description, category_id, price, currency, stock_on_hand) \
             SELECT 'SKU-' || g, initcap((ARRAY['red','blue','green','steel','oak'])[1 + g % 5]) || ' ' || \
                    (ARRAY['chair','lamp','table','mug','kettle'])[1 + (g / 5) % 5] || ' ' || g, \
                    'A fine product.', 1 + g % 20, 5.99 + g % 95, 'EUR', 100000000 \
             FROM generate_series(1, {PRODUCTS}) g"
        ),
        format!(
            "INSERT INTO orders (guest_email, currency, subtotal, shipping, tax, grand_total, status, \
                                 payment_deadline, created_at) \
             SELECT 'past' || g || '@example.com', 'EUR', 20, 4.90, 4.98, 29.88, \
                    (ARRAY['paid','shipped','delivered','cancelled','expired'])[1 + g % 5], \
                    now() - g * interval '1 minute' + interval '30 minutes', now() - g * interval '1 minute' \
             FROM generate_series(1, {PAST_ORDERS}) g"
        ),
        format!(
            "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, unit_price, quantity) \
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
        "VACUUM ANALYZE".to_owned(),
    ];
    for sql in statements {
        diesel::sql_query(sql).execute(conn)?;
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
fn make_carts(
    conn: &mut PgConnection,
    batch: usize,
    n: usize,
    hot: bool,
) -> Result<Vec<i64>, Box<dyn Error>> {
    let ids: Vec<Id> = diesel::sql_query(format!(
        "INSERT INTO carts (guest_token, currency) SELECT 'bench-{batch}-' || lpad(g::text, 10, '0'), 'EUR' \
         FROM generate_series(1, {n}) g ORDER BY g RETURNING id"
    ))
    .load(conn)?;
    let range = if hot { HOT_PRODUCTS } else { PRODUCTS };
    let (first, last) = (ids[0].id, ids[ids.len() - 1].id);
    diesel::sql_query(format!(
        "INSERT INTO cart_lines (cart_id, product_id, quantity) \
         SELECT c, 1 + (c * 7919) % {range}, 1 FROM generate_series({first}, {last}) c \
         UNION ALL \
         SELECT c, 1 + ((c * 7919) % {range} + 1 + c % 3) % {range}, 2 FROM generate_series({first}, {last}) c"
    ))
    .execute(conn)?;
    Ok(ids.into_iter().map(|i| i.id).collect())
}

fn address() -> PostalAddress {
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

/// Runs `f(i)` for i in 0..n spread over `clients` threads; returns per-call
/// latencies and the wall time.
fn drive(
    clients: usize,
    n: usize,
    f: impl Fn(usize) -> Result<(), String> + Sync,
) -> (Vec<Duration>, Duration) {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let latencies = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(|| {
                    let mut times = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return times;
                        }
                        let t = Instant::now();
                        if let Err(e) = f(i) {
                            panic!("call {i} failed: {e}");
                        }
                        times.push(t.elapsed());
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("bench thread panicked"))
            .collect()
    });
    (latencies, start.elapsed())
}

/// The store's median run, with the median of its per-round ratios to `raw`.
fn paired(store: Vec<Run>, raw: &[Run]) -> Run {
    let mut ratios: Vec<u64> = store
        .iter()
        .zip(raw)
        .map(|(s, r)| s.tps * 100 / r.tps.max(1))
        .collect();
    ratios.sort_unstable();
    let mut run = median(store);
    run.ratio_pct = ratios.get(ratios.len() / 2).copied();
    run
}

/// The run with the median throughput.
fn median(mut runs: Vec<Run>) -> Run {
    runs.sort_by_key(|r| r.tps);
    runs.swap_remove(runs.len() / 2)
}

fn summarize(
    workload: &'static str,
    engine: &'static str,
    clients: usize,
    mut latencies: Vec<Duration>,
    wall: Duration,
) -> Run {
    latencies.sort();
    let at = |p: usize| {
        latencies[(latencies.len() * p / 100).min(latencies.len() - 1)].as_micros() as u64
    };
    Run {
        workload,
        engine,
        clients,
        transactions: latencies.len(),
        tps: (latencies.len() as u128 * 1_000_000 / wall.as_micros().max(1)) as u64,
        p50_us: at(50),
        p99_us: at(99),
        ratio_pct: None,
    }
}

fn store_checkouts(
    store: &PgStore,
    workload: &'static str,
    clients: usize,
    carts: &[i64],
    batch: usize,
) -> Result<Run, Box<dyn Error>> {
    let address = address();
    let email = Email::parse("bench@example.com")?;
    let provider = ProviderName::parse("test")?;
    let (latencies, wall) = drive(clients, carts.len(), |i| {
        let request = CheckoutRequest {
            cart_id: CartId::new(carts[i]),
            shipping: AddressChoice::Given(address.clone()),
            billing: AddressChoice::Given(address.clone()),
            guest_email: Some(email.clone()),
            provider: provider.clone(),
            idempotency_key: IdempotencyKey::parse(&format!("store-{batch}-{i}"))
                .map_err(|e| e.to_string())?,
        };
        store
            .checkout(&request)
            .map(drop)
            .map_err(|e| e.to_string())
    });
    Ok(summarize(workload, "ecom-store", clients, latencies, wall))
}

/// The statements `PgStore::checkout` sends for a guest cart, written out by hand.
/// The cart id comes from a sequence over the carts made for this run.
const CHECKOUT_SQL: &str = r#"BEGIN ISOLATION LEVEL READ COMMITTED;
INSERT INTO idempotency_keys (scope, key, request_hash, expires_at) SELECT 'checkout', 'raw-' || n, '\x00'::bytea, now() + interval '1 day' FROM (SELECT nextval('bench_cart_seq') AS n) s ON CONFLICT DO NOTHING RETURNING substring(key from 5)::bigint AS cart \gset
SELECT id, user_id, guest_token, currency, status FROM carts WHERE id = :cart FOR UPDATE;
SELECT product_id, quantity FROM cart_lines WHERE cart_id = :cart;
SELECT id, sku, name, description, category_id, price, currency, status, stock_on_hand, created_at, updated_at FROM products WHERE id IN (SELECT product_id FROM cart_lines WHERE cart_id = :cart) ORDER BY id;
INSERT INTO orders (guest_email, cart_id, currency, subtotal, shipping, tax, grand_total, payment_deadline) SELECT 'raw@example.com', :cart, 'EUR', s, 4.90, round((s + 4.90) * 0.20, 2), s + 4.90 + round((s + 4.90) * 0.20, 2), now() + 1800 * interval '1 second' FROM (SELECT sum(p.price * l.quantity) AS s FROM cart_lines l JOIN products p ON p.id = l.product_id WHERE l.cart_id = :cart) t RETURNING id AS order_id, grand_total AS total, created_at AS placed_at \gset
INSERT INTO order_addresses (order_id, kind, recipient, line1, line2, city, region, postal_code, country) VALUES (:order_id, 'shipping', 'Bench Buyer', '1 Main St', NULL, 'Berlin', NULL, '10115', 'DE'), (:order_id, 'billing', 'Bench Buyer', '1 Main St', NULL, 'Berlin', NULL, '10115', 'DE');
INSERT INTO order_lines (order_id, line_no, product_id, sku, name, unit_price, quantity) SELECT :order_id, row_number() OVER (ORDER BY p.id), p.id, p.sku, p.name, p.price, l.quantity FROM cart_lines l JOIN products p ON p.id = l.product_id WHERE l.cart_id = :cart;
INSERT INTO order_status_history (order_id, to_status, event, at) VALUES (:order_id, 'pending_payment', 'checkout', now());
INSERT INTO payments (order_id, provider, currency, amount) VALUES (:order_id, 'test', 'EUR', :total) RETURNING id AS payment_id \gset
UPDATE carts SET status = 'converted', updated_at = now() WHERE id = :cart;
UPDATE idempotency_keys SET order_id = :order_id WHERE scope = 'checkout' AND key = 'raw-' || :cart;
INSERT INTO outbox_events (aggregate_type, aggregate_id, event_type, payload) VALUES ('order', :order_id, 'order.placed', jsonb_build_object('order_id', :order_id::bigint, 'payment_id', :payment_id::bigint, 'currency', 'EUR', 'grand_total', :total::numeric::text));
SELECT id, sku, name, description, category_id, price, currency, status, stock_on_hand, created_at, updated_at FROM products WHERE id IN (SELECT product_id FROM order_lines WHERE order_id = :order_id) ORDER BY id FOR NO KEY UPDATE;
UPDATE products p SET stock_on_hand = p.stock_on_hand + -1 * l.units, updated_at = now() FROM (SELECT product_id, sum(quantity) AS units FROM order_lines WHERE order_id = :order_id GROUP BY product_id) AS l WHERE p.id = l.product_id;
COMMIT;
"#;

/// What `PgStore::list_products` sends for a first page of 50.
const CATEGORY_PAGE_SQL: &str = r#"\set cat random(1, 20)
BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SELECT id, parent_id, slug, name FROM categories WHERE id = :cat;
WITH RECURSIVE tree (id) AS (SELECT id FROM categories WHERE id = :cat UNION SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id) SELECT p.id, p.sku, p.name, p.description, p.category_id, p.price, p.currency, p.status, p.stock_on_hand, p.created_at, p.updated_at FROM products p WHERE p.category_id IN (SELECT id FROM tree) AND p.status = 'active' ORDER BY p.id LIMIT 51;
COMMIT;
"#;

/// What `PgStore::search_products` sends for a one-word query.
const SEARCH_SQL: &str = r#"\set w random(1, 5)
BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SELECT p.id, p.sku, p.name, p.description, p.category_id, p.price, p.currency, p.status, p.stock_on_hand, p.created_at, p.updated_at FROM products p WHERE p.status = 'active' AND (p.name % (ARRAY['chair','lamp','table','mug','kettle'])[:w] OR strpos(lower(p.name), lower((ARRAY['chair','lamp','table','mug','kettle'])[:w])) > 0) ORDER BY similarity(p.name, (ARRAY['chair','lamp','table','mug','kettle'])[:w]) DESC, p.id LIMIT 20;
COMMIT;
"#;

fn pgbench_binary() -> Result<PathBuf, Box<dyn Error>> {
    let bin = ecom_store::dev::bin_dir()?.join("pgbench");
    if !bin.exists() {
        return Err(format!(
            "{} is missing: install postgresql-contrib or the PostgreSQL client tools",
            bin.display()
        )
        .into());
    }
    Ok(bin)
}

#[allow(clippy::too_many_arguments)]
fn raw_checkouts(
    pgbench: &Path,
    url: &str,
    work: &Path,
    conn: &mut PgConnection,
    workload: &'static str,
    clients: usize,
    first_cart: i64,
    per_client: usize,
) -> Result<Run, Box<dyn Error>> {
    diesel::sql_query("DROP SEQUENCE IF EXISTS bench_cart_seq").execute(conn)?;
    diesel::sql_query(format!(
        "CREATE SEQUENCE bench_cart_seq START WITH {first_cart}"
    ))
    .execute(conn)?;
    raw_script(
        pgbench,
        url,
        work,
        workload,
        clients,
        per_client * clients,
        CHECKOUT_SQL,
    )
}

/// Runs `script` with pgbench, `transactions` in all over `clients` connections, and
/// reads each transaction's latency from pgbench's log.
fn raw_script(
    pgbench: &Path,
    url: &str,
    work: &Path,
    workload: &'static str,
    clients: usize,
    transactions: usize,
    script: &str,
) -> Result<Run, Box<dyn Error>> {
    let script_path = work.join("script.sql");
    std::fs::write(&script_path, script)?;
    let log_dir = work.join(format!(
        "log-{}-{clients}",
        workload.replace([' ', ','], "_")
    ));
    let _ = std::fs::remove_dir_all(&log_dir);
    std::fs::create_dir_all(&log_dir)?;
    let started = Instant::now();
    let output = Command::new(pgbench)
        .args(["--no-vacuum", "--protocol=prepared", "--log"])
        .arg(format!("--log-prefix={}", log_dir.join("tx").display()))
        .arg(format!("--client={clients}"))
        .arg(format!("--jobs={}", clients.min(2)))
        .arg(format!("--transactions={}", transactions / clients))
        .arg(format!("--file={}", script_path.display()))
        .arg(url)
        .output()?;
    let wall = started.elapsed();
    if !output.status.success() {
        return Err(format!(
            "pgbench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failed = stdout
        .lines()
        .find(|l| l.starts_with("number of failed transactions"))
        .unwrap_or("");
    if !failed.is_empty() && !failed.contains(": 0 ") {
        return Err(format!("pgbench had failures: {failed}").into());
    }
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(&log_dir)? {
        for line in std::fs::read_to_string(entry?.path())?.lines() {
            // client_id transaction_no time_us script_no epoch epoch_us
            if let Some(us) = line
                .split_whitespace()
                .nth(2)
                .and_then(|t| t.parse::<u64>().ok())
            {
                latencies.push(Duration::from_micros(us));
            }
        }
    }
    if latencies.len() != transactions / clients * clients {
        return Err(format!(
            "pgbench logged {} of {transactions} transactions",
            latencies.len()
        )
        .into());
    }
    // pgbench's own tps excludes connection set-up; use its figure for fairness.
    let tps = stdout.lines().find_map(|l| {
        l.strip_prefix("tps = ")?
            .split_whitespace()
            .next()?
            .split('.')
            .next()?
            .parse::<u64>()
            .ok()
    });
    let mut run = summarize(workload, "raw SQL (pgbench)", clients, latencies, wall);
    if let Some(tps) = tps {
        run.tps = tps;
    }
    Ok(run)
}

fn print_table(runs: &[Run]) {
    println!(
        "\n{:<28} {:>7} {:>18} {:>8} {:>10} {:>10} {:>11}",
        "workload", "clients", "engine", "tx/s", "p50", "p99", "store/raw"
    );
    for r in runs {
        let shown = r
            .ratio_pct
            .map_or_else(String::new, |pct| format!("{}.{:02}", pct / 100, pct % 100));
        println!(
            "{:<28} {:>7} {:>18} {:>8} {:>8}µs {:>8}µs {:>11}",
            r.workload, r.clients, r.engine, r.tps, r.p50_us, r.p99_us, shown
        );
    }
}

fn results_json(
    runs: &[Run],
    replica_runs: &[Run],
    per_client: usize,
) -> Result<String, Box<dyn Error>> {
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let value = json!({
        "command": "cargo run --release -p ecom-examples --bin bench -- --write-docs",
        "machine": { "cpu": machine, "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0) },
        "transactions_per_client": per_client,
        "runs": runs.iter().map(run_json).collect::<Vec<_>>(),
        "replica_runs": replica_runs.iter().map(run_json).collect::<Vec<_>>(),
    });
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}

fn run_json(r: &Run) -> serde_json::Value {
    json!({
        "workload": r.workload, "engine": r.engine, "clients": r.clients, "transactions": r.transactions,
        "tps": r.tps, "p50_us": r.p50_us, "p99_us": r.p99_us,
        "store_over_raw_pct": r.ratio_pct,
    })
}

/// Engines of the replica figures; the first of each workload is the baseline.
const PRIMARY_ALONE: &str = "primary alone";
const WITH_STANDBY: &str = "primary + standby";
const READ_ON_PRIMARY: &str = "read on the primary";
const READ_NO_TOKEN: &str = "read anywhere, no token";
const READ_WITH_TOKEN: &str = "read with the write's token";

/// Catalog reads on the primary alone and spread over the primary and a streaming
/// standby of the private cluster; and a write followed by a read of it, on the
/// primary, on any replica without a token, and with the write's token.
fn replica_runs(store: &PgStore, url: &str, per_client: usize) -> Result<Vec<Run>, Box<dyn Error>> {
    use ecom_store::dev::{PrivateCluster, Replication};
    let primary = PrivateCluster::ensure()?;
    let standby_dir = PrivateCluster::default_dir().with_file_name("ecom-pg-bench-standby");
    print!("starting a streaming standby... ");
    let t = Instant::now();
    let standby = primary.start_standby(&standby_dir, Replication::Asynchronous)?;
    println!("{:.1?}", t.elapsed());
    let result = (|| -> Result<Vec<Run>, Box<dyn Error>> {
        let replicated = store.clone().with_replicas(&StoreConfig {
            pool_max_size: 10,
            pool_min_idle: 0,
            read_urls: vec![with_database(&standby.url("postgres"), "ecom_bench")],
            ..StoreConfig::new(url)
        })?;
        // Wait until the standby has the whole fixture.
        let session = replicated.session();
        session.restock(ProductId::new(1), 1)?;
        let token = session
            .consistency_token()
            .ok_or("a session write has a token")?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while replicated.reader_after(token).run_where(|_| Ok(()))?.1
            == ecom_store::ServedBy::Writer
        {
            if Instant::now() > deadline {
                return Err("the standby did not catch up in 120 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut runs = Vec::new();
        for workload in ["category page", "name search"] {
            for clients in CLIENTS {
                let n = per_client * clients;
                let (mut alone, mut spread) = (Vec::new(), Vec::new());
                for _ in 0..ROUNDS {
                    alone.push(reads(workload, PRIMARY_ALONE, clients, n, || {
                        store.writer_reader()
                    })?);
                    spread.push(reads(workload, WITH_STANDBY, clients, n, || {
                        replicated.reader()
                    })?);
                }
                runs.push(median(alone));
                runs.push(median(spread));
            }
        }
        let workload = "restock, then read the product";
        for clients in CLIENTS {
            let n = per_client * clients;
            let mut by_engine: Vec<Vec<Run>> = vec![Vec::new(), Vec::new(), Vec::new()];
            for _ in 0..ROUNDS {
                for (slot, engine) in [READ_ON_PRIMARY, READ_NO_TOKEN, READ_WITH_TOKEN]
                    .into_iter()
                    .enumerate()
                {
                    let (latencies, wall) = drive(clients, n, |i| {
                        let id = ProductId::new(1 + (i as i64 * 13) % PRODUCTS);
                        let handle = if engine == READ_WITH_TOKEN {
                            replicated.session()
                        } else {
                            replicated.clone()
                        };
                        handle.restock(id, 1).map_err(|e| e.to_string())?;
                        let reader = match engine {
                            READ_ON_PRIMARY => handle.writer_reader(),
                            _ => handle.reader(),
                        };
                        reader.product(id).map(drop).map_err(|e| e.to_string())
                    });
                    by_engine[slot].push(summarize(workload, engine, clients, latencies, wall));
                }
            }
            runs.extend(by_engine.into_iter().map(median));
        }
        let served: Vec<String> = replicated
            .replica_status()
            .iter()
            .map(|r| format!("{} served {} reads", r.label, r.reads_served))
            .collect();
        println!("{}", served.join("; "));
        Ok(runs)
    })();
    primary.remove_standby(standby)?;
    result
}

fn reads(
    workload: &'static str,
    engine: &'static str,
    clients: usize,
    n: usize,
    reader: impl Fn() -> ecom_store::PgReader + Sync,
) -> Result<Run, Box<dyn Error>> {
    let (latencies, wall) = drive(clients, n, |i| {
        let reader = reader();
        let result = if workload == "category page" {
            let category = CategoryId::new(1 + (i as i64 * 7) % 20);
            reader
                .list_products(category, PageRequest::first(50))
                .map(drop)
        } else {
            reader.search_products(WORDS[i % WORDS.len()], 20).map(drop)
        };
        result.map_err(|e| e.to_string())
    });
    Ok(summarize(workload, engine, clients, latencies, wall))
}

fn print_replica_table(runs: &[Run]) {
    if runs.is_empty() {
        return;
    }
    println!(
        "\n{:<32} {:>7} {:>26} {:>8} {:>10} {:>10} {:>9}",
        "workload", "clients", "served by", "tx/s", "p50", "p99", "vs first"
    );
    for r in runs {
        let base = runs
            .iter()
            .find(|b| b.workload == r.workload && b.clients == r.clients)
            .map_or(r.tps, |b| b.tps)
            .max(1);
        println!(
            "{:<32} {:>7} {:>26} {:>8} {:>8}µs {:>8}µs {:>6}.{:02}",
            r.workload,
            r.clients,
            r.engine,
            r.tps,
            r.p50_us,
            r.p99_us,
            r.tps * 100 / base / 100,
            r.tps * 100 / base % 100
        );
    }
}

/// A line chart of tx/s against clients: one line per engine and workload.
fn svg(runs: &[Run]) -> String {
    let (width, height, left, bottom, top, right) = (720u64, 400u64, 70u64, 50u64, 40u64, 230u64);
    let max = runs
        .iter()
        .filter(|r| r.workload.starts_with("checkout"))
        .map(|r| r.tps)
        .max()
        .unwrap_or(1)
        .max(1);
    let x = |clients: usize| {
        let i = CLIENTS.iter().position(|c| *c == clients).unwrap_or(0) as u64;
        left + i * (width - left - right) / (CLIENTS.len() as u64 - 1)
    };
    let y = |tps: u64| height - bottom - tps * (height - bottom - top) / max;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="{width}" height="{height}" fill="white"/>"#
    );
    let _ = writeln!(
        out,
        r#"<text x="{left}" y="22" font-size="15">Checkout throughput: ecom-store vs the same SQL in pgbench</text>"#
    );
    let _ = writeln!(
        out,
        r#"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="black"/>"#,
        height - bottom,
        width - right,
        height - bottom
    );
    let _ = writeln!(
        out,
        r#"<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="black"/>"#,
        height - bottom
    );
    for c in CLIENTS {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle">{c}</text>"#,
            x(c),
            height - bottom + 18
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">clients</text>"#,
        (left + width - right) / 2,
        height - 12
    );
    for step in 0..=4 {
        let v = max * step / 4;
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" text-anchor="end">{v}</text><line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>"##,
            left - 6,
            y(v) + 4,
            y(v),
            width - right,
            y(v)
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="16" y="{}" transform="rotate(-90 16 {})" text-anchor="middle">transactions/s</text>"#,
        (top + height - bottom) / 2,
        (top + height - bottom) / 2
    );
    let series = [
        ("checkout", "ecom-store", "#1f77b4", ""),
        ("checkout", "raw SQL (pgbench)", "#1f77b4", "6,4"),
        ("checkout, 10 hot products", "ecom-store", "#d62728", ""),
        (
            "checkout, 10 hot products",
            "raw SQL (pgbench)",
            "#d62728",
            "6,4",
        ),
    ];
    for (i, (workload, engine, color, dash)) in series.iter().enumerate() {
        let points: Vec<String> = runs
            .iter()
            .filter(|r| r.workload == *workload && r.engine == *engine)
            .map(|r| format!("{},{}", x(r.clients), y(r.tps)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}" points="{}"/>"#,
            points.join(" ")
        );
        let ly = top + 10 + i as u64 * 22;
        let lx = width - right + 15;
        let _ = writeln!(
            out,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/><text x="{}" y="{}">{engine}, {workload}</text>"#,
            lx + 24,
            lx + 30,
            ly + 4
        );
    }
    out.push_str("</svg>\n");
    out
}
