//! Load on the example HTTP service: concurrent guests each make whole purchases over
//! HTTP (a guest session with its cart, two items, checkout with an Idempotency-Key, the
//! payment provider's signed authorize and capture webhooks, reading the order), at
//! 1, 4, 8 and 16 buyers, spread over a thousand products and on ten hot ones. Beside
//! each run, its ceiling: the same transactions' statements as a pgbench script at
//! the same client count. It prints purchases/s, p50, p99 and errors (which must be
//! none: the program fails otherwise) for both, and the service's share of the ceiling.
//!
//! ```text
//! cargo run --release -p ecom-examples --bin shop-load -- [--buyers 1,4,8,16]
//!     [--each 40] [--rounds 3] [--flow full|basic] [--only spread|hot] [--no-ceiling]
//!     [--steps]
//! ```
//!
//! It starts the service in-process on the private database (or `DATABASE_URL`).

mod ceiling;
mod purchase;

use std::error::Error;
use std::time::{Duration, Instant};

use ecom_domain::prelude::*;
use ecom_domain::webhook::WebhookSecret;
use ecom_examples::RunningService;
use ecom_examples::service::{App, Intervals, ServiceConfig, TestProvider};
use ecom_store::{PgStore, StoreConfig, build_pool, migrate_database};

use crate::purchase::{Buyer, Flow, Steps};

/// Products the spread workload buys from.
const SPREAD: usize = 1000;
/// Products the hot workload buys from.
const HOT: usize = 10;

fn main() -> Result<(), Box<dyn Error>> {
    let outcome = run();
    // The pools are dropped; let their threads finish opening connections first.
    ecom_store::wait_for_opening_connections(Duration::from_secs(10));
    outcome
}

/// What the command line asks for.
struct Options {
    buyers: Vec<usize>,
    each: usize,
    rounds: usize,
    flow: Flow,
    only: Option<String>,
    ceiling: bool,
    /// `--steps`: also print the mean time of each step of a purchase, per run.
    steps: bool,
}

impl Options {
    fn parse() -> Result<Self, Box<dyn Error>> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let value = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .map(|i| args.get(i + 1).ok_or(format!("{name} takes a value")))
                .transpose()
        };
        let number = |name: &str, default: usize| -> Result<usize, Box<dyn Error>> {
            Ok(match value(name)? {
                Some(n) => n
                    .parse()
                    .map_err(|_| format!("{name}: not a number: {n}"))?,
                None => default,
            })
        };
        let buyers = match value("--buyers")? {
            Some(list) => list
                .split(',')
                .map(|n| {
                    n.parse::<usize>()
                        .map_err(|_| format!("--buyers: not a number: {n}"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => vec![1, 4, 8, 16],
        };
        if buyers.contains(&0) {
            return Err("--buyers: at least one buyer".into());
        }
        let flow = match value("--flow")?.map(String::as_str) {
            None | Some("full") => Flow::Full,
            Some("basic") => Flow::Basic,
            Some(other) => return Err(format!("--flow: full or basic, not {other}").into()),
        };
        let only = value("--only")?.cloned();
        if let Some(only) = &only
            && only != "spread"
            && only != "hot"
        {
            return Err(format!("--only: spread or hot, not {only}").into());
        }
        Ok(Self {
            buyers,
            each: number("--each", 40)?.max(1),
            rounds: number("--rounds", 3)?.max(1),
            flow,
            only,
            ceiling: !args.iter().any(|a| a == "--no-ceiling"),
            steps: args.iter().any(|a| a == "--steps"),
        })
    }
}

/// Products of one workload: ids `first..first + count`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shelf {
    pub(crate) name: &'static str,
    pub(crate) first: i64,
    pub(crate) count: usize,
}

impl Shelf {
    /// The products purchase `n` of `buyer` takes: `items` different ones, spread
    /// evenly and the same from run to run.
    fn pick(&self, buyer: usize, n: usize, items: usize) -> Vec<i64> {
        let start = mix(buyer as u64 * 1_000_003 + n as u64) as usize % self.count;
        (0..items)
            .map(|i| self.first + ((start + i * 7) % self.count) as i64)
            .collect()
    }
}

/// A fixed 64-bit mixer (splitmix64's finaliser): well spread, and deterministic.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn run() -> Result<(), Box<dyn Error>> {
    let options = Options::parse()?;
    let most = options.buyers.iter().copied().max().unwrap_or(1);
    let config = StoreConfig {
        pool_max_size: (most as u32) + 4,
        ..StoreConfig::from_env_or_dev()?
    };
    // A one-shot program: it migrates as the owner, then serves as the application role.
    migrate_database(&config)?;
    let pool = build_pool(&config)?;
    let store = PgStore::new(pool);
    let run = chrono::Utc::now().timestamp_millis();
    // Only the shelves asked for: stocking a thousand products takes a while.
    let mut shelves = Vec::new();
    let mut sample = None;
    for (name, count) in [("spread", SPREAD), ("hot", HOT)] {
        if options.only.as_deref().is_none_or(|o| o == name) {
            let (shelf, product) = stock_the_shelf(&store, run, name, count)?;
            shelves.push(shelf);
            sample.get_or_insert(product);
        }
    }
    let sample = sample.ok_or("no shelf to buy from")?;
    // The provider's reports are signed with a secret of this run.
    let secret = WebhookSecret::parse(&format!("whsec_load-{run}-0123456789"))?;
    // Every buyer comes from 127.0.0.1: lift the per-address rate limit, which would
    // otherwise measure itself.
    let service_config = ServiceConfig {
        guarded_burst: u32::MAX,
        webhook_secrets: vec![secret.clone()],
        ..ServiceConfig::for_store(&store)
    };
    let service =
        RunningService::start_with(App::new(store, service_config), Intervals::default())?;
    let base = service.base_url();
    let ceiling = match options.ceiling {
        true => Some(ceiling::Ceiling::new(&config, options.flow, &sample)?),
        false => None,
    };
    println!(
        "{} purchase, {} rounds of {} purchases per buyer, against {base}",
        options.flow.name(),
        options.rounds,
        options.each
    );
    println!(
        "| products | buyers | service purchases/s | p50 ms | p99 ms | errors | pgbench purchases/s | p50 ms | p99 ms | service / pgbench |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut errors = Vec::new();
    for shelf in &shelves {
        for &buyers in &options.buyers {
            let mut served = Vec::new();
            let mut raw = Vec::new();
            for round in 0..options.rounds {
                let tag = format!("{run}-{}-{buyers}-{round}", shelf.name);
                let outcome = load(&base, &secret, &tag, buyers, &options, shelf);
                errors.extend(outcome.errors.iter().cloned());
                if options.steps {
                    print_steps(shelf, buyers, &outcome.steps);
                }
                served.push(outcome.figures);
                if let Some(ceiling) = &ceiling {
                    raw.push(ceiling.measure(shelf, buyers, buyers * options.each)?);
                }
            }
            print_row(shelf, buyers, &served, &raw);
        }
    }
    drop(service);
    if !errors.is_empty() {
        for error in errors.iter().take(5) {
            eprintln!("error: {error}");
        }
        return Err(format!("{} purchases failed", errors.len()).into());
    }
    Ok(())
}

/// Products with stock no run exhausts, so every purchase measures a sale.
fn stock_the_shelf(
    store: &PgStore,
    run: i64,
    name: &'static str,
    count: usize,
) -> Result<(Shelf, Sellable), Box<dyn Error>> {
    let category = store.create_category(NewCategory {
        parent_id: None,
        slug: Slug::parse(&format!("load-{run}-{name}"))?,
        name: CategoryName::parse(&format!("Load test, {name}"))?,
    })?;
    let mut ids = Vec::with_capacity(count);
    let mut sample = None;
    for i in 0..count {
        let product = store.create_product(NewProduct::single(
            Slug::parse(&format!("load-{run}-{name}-{i}"))?,
            ProductName::parse(&format!("Load item {i}"))?,
            category.id,
            Sku::parse(&format!("LOAD-{run}-{name}-{i}"))?,
            Money::parse("19.99", Currency::EUR)?,
            1_000_000,
        ))?;
        let variant = product.variants[0].clone();
        ids.push(variant.id.get());
        sample.get_or_insert(Sellable::of(&product, variant));
    }
    let first = ids[0];
    // The pgbench script names variants by a range of ids.
    if ids
        .iter()
        .enumerate()
        .any(|(i, id)| *id != first + i as i64)
    {
        return Err(
            "the variants' ids are not consecutive: another writer is on this database".into(),
        );
    }
    let sample = sample.ok_or("a shelf holds at least one product")?;
    Ok((Shelf { name, first, count }, sample))
}

/// What one round measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Figures {
    pub(crate) per_second: u64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    pub(crate) errors: usize,
}

impl Figures {
    pub(crate) fn from_latencies(
        mut latencies: Vec<Duration>,
        wall: Duration,
        errors: usize,
    ) -> Self {
        latencies.sort();
        let at = |p: usize| {
            latencies
                .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Self {
            per_second: (latencies.len() as u128 * 1_000_000 / wall.as_micros().max(1)) as u64,
            p50: at(50),
            p99: at(99),
            errors,
        }
    }
}

struct Outcome {
    figures: Figures,
    errors: Vec<String>,
    steps: Steps,
}

/// `buyers` guests on threads of their own, each making `options.each` purchases one
/// after another. A failed purchase is counted and the guest goes on.
fn load(
    base: &str,
    secret: &WebhookSecret,
    tag: &str,
    buyers: usize,
    options: &Options,
    shelf: &Shelf,
) -> Outcome {
    let started = Instant::now();
    let results: Vec<(Vec<Duration>, Vec<String>, Steps)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..buyers)
            .map(|b| {
                scope.spawn(move || {
                    let buyer = Buyer {
                        agent: ureq::Agent::config_builder()
                            .http_status_as_error(false)
                            .build()
                            .into(),
                        provider: TestProvider::new(base, secret.clone(), &format!("{tag}-{b}")),
                        base,
                        steps: Default::default(),
                    };
                    let mut times = Vec::with_capacity(options.each);
                    let mut errors = Vec::new();
                    for n in 0..options.each {
                        let products = shelf.pick(b, n, options.flow.items());
                        let key = format!("load-{tag}-{b:04}-{n:06}");
                        let t = Instant::now();
                        match buyer.purchase(options.flow, &key, &products) {
                            Ok(()) => times.push(t.elapsed()),
                            Err(e) => errors.push(format!("buyer {b} purchase {n}: {e}")),
                        }
                    }
                    (times, errors, buyer.steps.into_inner())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    (
                        Vec::new(),
                        vec!["a buyer's thread panicked".into()],
                        Steps::default(),
                    )
                })
            })
            .collect()
    });
    let wall = started.elapsed();
    let (mut latencies, mut errors, mut steps) = (Vec::new(), Vec::new(), Steps::default());
    for (times, errs, taken) in results {
        latencies.extend(times);
        errors.extend(errs);
        steps.merge(taken);
    }
    Outcome {
        figures: Figures::from_latencies(latencies, wall, errors.len()),
        errors,
        steps,
    }
}

/// One line of the table: the service's median round and the ceiling's, and the median
/// of the rounds' ratios (a round and its ceiling run moments apart share the
/// machine's mood, which a ratio of two medians would not).
fn print_row(shelf: &Shelf, buyers: usize, served: &[Figures], raw: &[Figures]) {
    let errors: usize = served.iter().map(|f| f.errors).sum();
    let served_median = median(served);
    let mut row = format!(
        "| {} | {buyers} | {} | {} | {} | {errors} |",
        shelf.name,
        served_median.per_second,
        ms(served_median.p50),
        ms(served_median.p99)
    );
    match raw.is_empty() {
        true => row.push_str(" - | - | - | - |"),
        false => {
            let raw_median = median(raw);
            let mut ratios: Vec<u64> = served
                .iter()
                .zip(raw)
                .map(|(s, r)| s.per_second * 100 / r.per_second.max(1))
                .collect();
            ratios.sort_unstable();
            let ratio = ratios[ratios.len() / 2];
            row.push_str(&format!(
                " {} | {} | {} | {}.{:02} |",
                raw_median.per_second,
                ms(raw_median.p50),
                ms(raw_median.p99),
                ratio / 100,
                ratio % 100
            ));
        }
    }
    println!("{row}");
}

/// The mean time of each step of one run's purchases.
fn print_steps(shelf: &Shelf, buyers: usize, steps: &Steps) {
    let means: Vec<String> = steps
        .0
        .iter()
        .map(|(step, total, count)| format!("{step} {}", ms(*total / (*count).max(1))))
        .collect();
    println!(
        "  {} x {buyers}, mean ms per step: {}",
        shelf.name,
        means.join(", ")
    );
}

/// Milliseconds with one decimal.
fn ms(d: Duration) -> String {
    let tenths = d.as_micros() / 100;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// The round with the median throughput.
fn median(rounds: &[Figures]) -> Figures {
    let mut sorted = rounds.to_vec();
    sorted.sort_by_key(|f| f.per_second);
    sorted[sorted.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purchase_takes_different_products_from_its_shelf() {
        let shelf = Shelf {
            name: "hot",
            first: 100,
            count: 10,
        };
        for buyer in 0..16 {
            for n in 0..50 {
                let picked = shelf.pick(buyer, n, 2);
                assert_eq!(picked.len(), 2);
                assert_ne!(picked[0], picked[1]);
                assert!(
                    picked.iter().all(|id| (100..110).contains(id)),
                    "{picked:?}"
                );
                assert_eq!(picked, shelf.pick(buyer, n, 2));
            }
        }
    }

    #[test]
    fn purchases_spread_over_the_whole_shelf() {
        let shelf = Shelf {
            name: "spread",
            first: 1,
            count: 1000,
        };
        let mut seen = std::collections::HashSet::new();
        for buyer in 0..16 {
            for n in 0..200 {
                seen.extend(shelf.pick(buyer, n, 1));
            }
        }
        // 3,200 draws from 1,000 products miss few of them.
        assert!(seen.len() > 900, "{}", seen.len());
    }
}
