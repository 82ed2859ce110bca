//! Driving the store from client threads, and summing calls up into runs.

use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ecom_domain::prelude::*;
use ecom_store::PgStore;

use crate::fixture::address;

/// The words the name search looks for, in turn.
const WORDS: [&str; 5] = ["chair", "lamp", "table", "mug", "kettle"];

/// One measured run: a round, or the round kept of a measurement's rounds (with all
/// of them in `rounds`).
pub(crate) struct Run {
    pub(crate) workload: &'static str,
    pub(crate) engine: &'static str,
    pub(crate) clients: usize,
    pub(crate) transactions: usize,
    pub(crate) tps: u64,
    pub(crate) p50_us: u64,
    pub(crate) p99_us: u64,
    /// On a store run: the median over the rounds of store tx/s ÷ raw tx/s of the
    /// same round, in percent. Pairs measured moments apart share the machine's
    /// mood, which a ratio of two medians would not.
    pub(crate) ratio_pct: Option<u64>,
    /// Every round of the measurement, in the order measured (empty for a single
    /// round): what the figures above were chosen from.
    pub(crate) rounds: Vec<Round>,
}

/// One round's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Round {
    pub(crate) transactions: usize,
    pub(crate) tps: u64,
    pub(crate) p50_us: u64,
    pub(crate) p99_us: u64,
    /// On a store round: its tx/s ÷ the tx/s of the raw round measured beside it,
    /// in percent.
    pub(crate) ratio_pct: Option<u64>,
}

impl Run {
    fn round(&self) -> Round {
        Round {
            transactions: self.transactions,
            tps: self.tps,
            p50_us: self.p50_us,
            p99_us: self.p99_us,
            ratio_pct: self.ratio_pct,
        }
    }
}

/// Runs `f(i)` for i in 0..n spread over `clients` threads; returns per-call
/// latencies and the wall time.
pub(crate) fn drive(
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

/// The store's median run, with the median of its per-round ratios to `raw` (round
/// `i` of the store against round `i` of `raw`); every round keeps its own ratio.
pub(crate) fn paired(mut store: Vec<Run>, raw: &[Run]) -> Run {
    for (s, r) in store.iter_mut().zip(raw) {
        s.ratio_pct = Some(s.tps * 100 / r.tps.max(1));
    }
    let mut ratios: Vec<u64> = store.iter().filter_map(|s| s.ratio_pct).collect();
    ratios.sort_unstable();
    let mut run = median(store);
    run.ratio_pct = ratios.get(ratios.len() / 2).copied();
    run
}

/// The run with the median throughput, holding every run's figures as its rounds,
/// in the order they were measured.
pub(crate) fn median(mut runs: Vec<Run>) -> Run {
    let rounds: Vec<Round> = runs.iter().map(Run::round).collect();
    runs.sort_by_key(|r| r.tps);
    let mut kept = runs.swap_remove(runs.len() / 2);
    kept.rounds = rounds;
    kept
}

/// A run of `clients` from the latency of each call and the wall time of all.
pub(crate) fn summarize(
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
        rounds: Vec::new(),
    }
}

/// `carts` checked out by the store over `clients` threads, by the flat rules or
/// by the shipping method `method`.
pub(crate) fn store_checkouts(
    store: &PgStore,
    workload: &'static str,
    clients: usize,
    carts: &[i64],
    batch: usize,
    method: Option<&str>,
    codes: &[&str],
) -> Result<Run, Box<dyn Error>> {
    let method = method.map(Slug::parse).transpose()?;
    let codes = codes
        .iter()
        .map(|c| CouponCode::parse(c))
        .collect::<Result<Vec<_>, _>>()?;
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
            shipping_method: method.clone(),
            coupon_codes: codes.clone(),
            gift_cards: vec![],
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

/// `n` category pages or name searches (by `workload`) over `clients` threads, each
/// on a reader from `reader`.
pub(crate) fn reads(
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
