//! Load on the example HTTP service: many concurrent guests each run a whole purchase
//! over HTTP (start a guest session, open a cart, add an item, check out with an
//! Idempotency-Key, then the payment provider's signed authorize and capture
//! webhooks), and the program prints purchases/s and p50/p99 latency.
//!
//! Run it with `cargo run --release -p ecom-examples --bin shop-load [-- BUYERS PURCHASES_EACH]`.
//! It starts the service in-process on the private database (or `DATABASE_URL`).

use std::error::Error;
use std::time::{Duration, Instant};

use ecom_domain::prelude::*;
use ecom_domain::webhook::WebhookSecret;
use ecom_examples::RunningService;
use ecom_examples::service::{App, Intervals, ServiceConfig, TestProvider};
use ecom_store::{PgStore, StoreConfig, build_pool, migrate_database};
use serde_json::{Value, json};

/// Products the guests spread their purchases over.
const PRODUCTS: usize = 10;

fn main() -> Result<(), Box<dyn Error>> {
    let outcome = run();
    // The pools are dropped; let their threads finish opening connections first.
    ecom_store::wait_for_opening_connections(Duration::from_secs(10));
    outcome
}

fn run() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let buyers = args.next().transpose()?.unwrap_or(8);
    let each = args.next().transpose()?.unwrap_or(25);

    let config = StoreConfig {
        pool_max_size: (buyers as u32) + 4,
        ..StoreConfig::from_env_or_dev()?
    };
    // A one-shot program: it migrates as the owner, then serves as the application role.
    migrate_database(&config)?;
    let pool = build_pool(&config)?;
    let store = PgStore::new(pool);
    let run = chrono::Utc::now().timestamp_millis();
    let products = stock_the_shelves(&store, run)?;
    // The provider's reports are signed with a secret of this run.
    let secret = WebhookSecret::parse(&format!("whsec_load-{run}-0123456789"))?;
    // Every buyer comes from 127.0.0.1: lift the per-address rate limit, which would
    // otherwise measure itself.
    let config = ServiceConfig {
        guarded_burst: u32::MAX,
        webhook_secrets: vec![secret.clone()],
        ..ServiceConfig::for_store(&store)
    };
    let service = RunningService::start_with(App::new(store, config), Intervals::default())?;
    let base = service.base_url();
    println!("{buyers} concurrent guests x {each} purchases against {base}");

    let started = Instant::now();
    let latencies = run_guests(&base, &secret, run, buyers, each, &products);
    report(latencies, started.elapsed());
    Ok(())
}

/// Products with stock no run exhausts, so every purchase measures a sale.
fn stock_the_shelves(store: &PgStore, run: i64) -> Result<Vec<i64>, Box<dyn Error>> {
    let category = store.create_category(NewCategory {
        parent_id: None,
        slug: Slug::parse(&format!("load-{run}"))?,
        name: CategoryName::parse("Load test")?,
    })?;
    let mut products = Vec::new();
    for i in 0..PRODUCTS {
        products.push(
            store
                .create_product(NewProduct {
                    sku: Sku::parse(&format!("LOAD-{run}-{i}"))?,
                    name: ProductName::parse(&format!("Load item {i}"))?,
                    description: Description::parse("")?,
                    category_id: category.id,
                    price: Money::parse("19.99", Currency::EUR)?,
                    stock_on_hand: 1_000_000,
                })?
                .id
                .get(),
        );
    }
    Ok(products)
}

/// `buyers` guests on threads of their own, each making `each` purchases one after
/// another; the latency of every purchase. A failed purchase stops the run.
fn run_guests(
    base: &str,
    secret: &WebhookSecret,
    run: i64,
    buyers: usize,
    each: usize,
    products: &[i64],
) -> Vec<Duration> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..buyers)
            .map(|buyer| {
                scope.spawn(move || -> Result<Vec<Duration>, String> {
                    let agent = ureq::Agent::new_with_defaults();
                    let provider =
                        TestProvider::new(base, secret.clone(), &format!("{run}-{buyer}"));
                    let mut times = Vec::with_capacity(each);
                    for n in 0..each {
                        let t = Instant::now();
                        let product = products[(buyer + n) % products.len()];
                        purchase(&agent, &provider, base, run, buyer, n, product)
                            .map_err(|e| format!("buyer {buyer} purchase {n}: {e}"))?;
                        times.push(t.elapsed());
                    }
                    Ok(times)
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .expect("buyer panicked")
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect()
    })
}

fn report(mut latencies: Vec<Duration>, elapsed: Duration) {
    latencies.sort();
    let percentile = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    let per_second = latencies.len() as u128 * 1_000_000 / elapsed.as_micros().max(1);
    println!(
        "{} purchases in {:.2?}: {per_second} purchases/s, p50 {:.1?}, p99 {:.1?}",
        latencies.len(),
        elapsed,
        percentile(50),
        percentile(99)
    );
}

fn post(
    agent: &ureq::Agent,
    url: &str,
    session: Option<&str>,
    key: Option<&str>,
    body: Value,
) -> Result<Value, Box<dyn Error>> {
    let mut request = agent.post(url);
    if let Some(session) = session {
        request = request.header("Authorization", &format!("Bearer {session}"));
    }
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    Ok(request.send_json(body)?.body_mut().read_json::<Value>()?)
}

/// One guest purchase over HTTP, from an empty cart to a paid order.
fn purchase(
    agent: &ureq::Agent,
    provider: &TestProvider,
    base: &str,
    run: i64,
    buyer: usize,
    n: usize,
    product: i64,
) -> Result<(), Box<dyn Error>> {
    let key = format!("load-{run}-{buyer:04}-{n:06}");
    let session = post(
        agent,
        &format!("{base}/sessions/guest"),
        None,
        None,
        json!({}),
    )?;
    let token = session["token"].as_str().ok_or("no session token")?;
    let cart = post(
        agent,
        &format!("{base}/carts"),
        Some(token),
        None,
        json!({}),
    )?;
    let cart = cart["id"].as_str().ok_or("no cart reference")?;
    post(
        agent,
        &format!("{base}/carts/{cart}/items"),
        Some(token),
        None,
        json!({ "product_id": product, "quantity": 1 }),
    )?;
    let order = post(
        agent,
        &format!("{base}/checkout"),
        Some(token),
        Some(&key),
        json!({
            "cart": cart,
            "email": "load@example.com",
            "shipping": { "recipient": "Load Tester", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE" },
        }),
    )?;
    let payment = order["payments"][0]["id"].as_i64().ok_or("no payment id")?;
    let amount = order["totals"]["grand_total"]["amount"]
        .as_str()
        .ok_or("no total")?
        .to_owned();
    provider.authorize(payment, &amount)?;
    let paid = provider.capture(payment, &amount)?;
    if paid.body["order_status"] != "paid" {
        return Err(format!("order not paid: {}", paid.body).into());
    }
    Ok(())
}
