//! What `ECOM_TRANSACTION_POOLING=1` costs: checkouts and category pages with diesel's
//! statement cache on (the default) and off, straight to PostgreSQL, and with it off
//! through a pgbouncer in transaction mode (the only way that works there: with the
//! cache on, clients sharing a server connection collide on statement names).
//! Run with `--only pooling`.

use std::error::Error;
use std::time::Instant;

use diesel::PgConnection;
use ecom_domain::rules::StoreRules;
use ecom_store::dev::{PgBouncer, PgBouncerConfig, PrivateCluster};
use ecom_store::{PgStore, StoreConfig, build_pool};

use crate::measure::{Run, median, reads, store_checkouts};
use crate::{CLIENTS, ROUNDS, fixture};

/// The workload name that selects these runs (`--only pooling`).
pub(crate) const WORKLOAD: &str = "pooling";

/// Engines, the baseline first.
const CACHE_ON: &str = "cache on, direct";
const CACHE_OFF: &str = "cache off, direct";
const THROUGH_PGBOUNCER: &str = "cache off, pgbouncer";

/// Server connections of the bench's pgbouncer: fewer than the most clients, as a
/// proxy in front of a busy writer has.
const PGBOUNCER_POOL_SIZE: u32 = 4;

/// Batches of carts of these runs start here, far above those of the other runs.
const FIRST_BATCH: usize = 1_000_000;

/// Checkouts (over all products) and category pages, each engine in turn in every
/// round; each run's ratio is the median over the rounds of its tx/s over the
/// baseline's in the same round.
pub(crate) fn pooling_runs(
    conn: &mut PgConnection,
    url: &str,
    per_client: usize,
) -> Result<Vec<Run>, Box<dyn Error>> {
    let store = |url: &str, transaction_pooling: bool| -> Result<PgStore, Box<dyn Error>> {
        let pool = build_pool(&StoreConfig {
            pool_max_size: 10,
            pool_min_idle: 0,
            transaction_pooling,
            ..StoreConfig::new(url)
        })?;
        Ok(PgStore::with_rules(pool, StoreRules::default()))
    };
    let bouncer = start_pgbouncer(url)?;
    let through = bouncer.url_as(&user_of(url), "ecom_bench");
    let engines = [
        (CACHE_ON, store(url, false)?),
        (CACHE_OFF, store(url, true)?),
        (THROUGH_PGBOUNCER, store(&through, true)?),
    ];
    let mut runs = Vec::new();
    let mut batch = FIRST_BATCH;
    for workload in ["checkout", "category page"] {
        for clients in CLIENTS {
            let transactions = per_client * clients;
            let mut by_engine: Vec<Vec<Run>> = engines.iter().map(|_| Vec::new()).collect();
            for _ in 0..ROUNDS {
                for ((engine, store), rounds) in engines.iter().zip(&mut by_engine) {
                    let mut run = if workload == "checkout" {
                        batch += 1;
                        let carts = fixture::make_carts(conn, batch, transactions, false)?;
                        store_checkouts(store, workload, clients, &carts, batch, None, &[])?
                    } else {
                        reads(workload, engine, clients, transactions, || {
                            store.writer_reader()
                        })?
                    };
                    run.engine = *engine;
                    rounds.push(run);
                }
            }
            let baseline: Vec<u64> = by_engine[0].iter().map(|r| r.tps).collect();
            for mut rounds in by_engine {
                for (round, base) in rounds.iter_mut().zip(&baseline) {
                    round.ratio_pct = Some(round.tps * 100 / (*base).max(1));
                }
                let mut ratios: Vec<u64> = rounds.iter().filter_map(|r| r.ratio_pct).collect();
                ratios.sort_unstable();
                let mut run = median(rounds);
                run.ratio_pct = ratios.get(ratios.len() / 2).copied();
                runs.push(run);
            }
        }
    }
    drop(engines);
    ecom_store::wait_for_opening_connections(std::time::Duration::from_secs(10));
    drop(bouncer);
    Ok(runs)
}

/// A pgbouncer in front of the server of `url`, admitting its user.
fn start_pgbouncer(url: &str) -> Result<PgBouncer, Box<dyn Error>> {
    let config = match std::env::var_os("DATABASE_URL").filter(|u| !u.is_empty()) {
        Some(_) => PgBouncerConfig::in_front_of(url)?,
        None => PgBouncerConfig::for_cluster(&PrivateCluster::ensure()?),
    };
    print!("starting pgbouncer ({PGBOUNCER_POOL_SIZE} server connections)... ");
    let t = Instant::now();
    let bouncer = PgBouncer::start(&config.pool_size(PGBOUNCER_POOL_SIZE))?;
    println!("{:.1?}", t.elapsed());
    Ok(bouncer)
}

/// The user name of `url` (`postgres://user@...`).
fn user_of(url: &str) -> String {
    url.split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(userinfo, _)| userinfo.split(':').next().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// The runs, each with its tx/s over the baseline's (statement cache on, direct).
pub(crate) fn print_table(runs: &[Run]) {
    if runs.is_empty() {
        return;
    }
    println!(
        "\n{:<16} {:>7} {:>22} {:>8} {:>10} {:>10} {:>13}",
        "workload", "clients", "statement cache", "tx/s", "p50", "p99", "vs cache on"
    );
    for r in runs {
        let pct = r.ratio_pct.unwrap_or(0);
        println!(
            "{:<16} {:>7} {:>22} {:>8} {:>8}µs {:>8}µs {:>10}.{:02}",
            r.workload,
            r.clients,
            r.engine,
            r.tps,
            r.p50_us,
            r.p99_us,
            pct / 100,
            pct % 100
        );
    }
}
