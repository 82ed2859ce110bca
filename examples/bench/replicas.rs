//! What a streaming standby of the private cluster changes: catalog reads spread over
//! two servers, and reading one's own write with and without a consistency token.

use std::error::Error;
use std::time::{Duration, Instant};

use ecom_domain::prelude::*;
use ecom_store::config::with_database;
use ecom_store::dev::{PrivateCluster, Replication};
use ecom_store::{PgStore, ServedBy, StoreConfig};

use crate::fixture::PRODUCTS;
use crate::measure::{Run, drive, median, reads, summarize};
use crate::{CLIENTS, ROUNDS};

/// Engines of the replica figures; the first of each workload is the baseline.
const PRIMARY_ALONE: &str = "primary alone";
const WITH_STANDBY: &str = "primary + standby";
const READ_ON_PRIMARY: &str = "read on the primary";
const READ_NO_TOKEN: &str = "read anywhere, no token";
const READ_WITH_TOKEN: &str = "read with the write's token";

/// Catalog reads on the primary alone and spread over the primary and a streaming
/// standby of the private cluster; and a write followed by a read of it, on the
/// primary, on any replica without a token, and with the write's token.
pub(crate) fn replica_runs(
    store: &PgStore,
    url: &str,
    per_client: usize,
) -> Result<Vec<Run>, Box<dyn Error>> {
    let primary = PrivateCluster::ensure()?;
    let standby_dir = PrivateCluster::default_dir().with_file_name("ecom-pg-bench-standby");
    print!("starting a streaming standby... ");
    let t = Instant::now();
    let standby = primary.start_standby(&standby_dir, Replication::Asynchronous)?;
    println!("{:.1?}", t.elapsed());
    // The standby goes away whatever the runs did.
    let result = (|| -> Result<Vec<Run>, Box<dyn Error>> {
        let replicated = store.clone().with_replicas(&StoreConfig {
            pool_max_size: 10,
            pool_min_idle: 0,
            read_urls: vec![with_database(&standby.url("postgres"), "ecom_bench")],
            ..StoreConfig::new(url)
        })?;
        wait_for_standby(&replicated)?;
        let mut runs = catalog_reads(store, &replicated, per_client)?;
        runs.extend(read_your_writes(&replicated, per_client));
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

/// Waits until the standby has the whole fixture: until a read after a fresh write's
/// token is served by it rather than by the writer.
fn wait_for_standby(replicated: &PgStore) -> Result<(), Box<dyn Error>> {
    let session = replicated.session();
    session.restock(VariantId::new(1), 1)?;
    let token = session
        .consistency_token()
        .ok_or("a session write has a token")?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while replicated.reader_after(token).run_where(|_| Ok(()))?.1 == ServedBy::Writer {
        if Instant::now() > deadline {
            return Err("the standby did not catch up in 120 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// Category pages and name searches on the primary alone, then spread over both.
fn catalog_reads(
    store: &PgStore,
    replicated: &PgStore,
    per_client: usize,
) -> Result<Vec<Run>, Box<dyn Error>> {
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
    Ok(runs)
}

/// A restock followed by a read of the product: on the primary, on any server
/// without a token (fast, maybe stale), and with the write's token (waits for it).
fn read_your_writes(replicated: &PgStore, per_client: usize) -> Vec<Run> {
    let workload = "restock, then read the product";
    let mut runs = Vec::new();
    for clients in CLIENTS {
        let n = per_client * clients;
        let mut by_engine: Vec<Vec<Run>> = vec![Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..ROUNDS {
            for (slot, engine) in [READ_ON_PRIMARY, READ_NO_TOKEN, READ_WITH_TOKEN]
                .into_iter()
                .enumerate()
            {
                let (latencies, wall) = drive(clients, n, |i| {
                    // Each product's one variant has its id (see the fixture).
                    let id = 1 + (i as i64 * 13) % PRODUCTS;
                    let handle = if engine == READ_WITH_TOKEN {
                        replicated.session()
                    } else {
                        replicated.clone()
                    };
                    handle
                        .restock(VariantId::new(id), 1)
                        .map_err(|e| e.to_string())?;
                    let reader = match engine {
                        READ_ON_PRIMARY => handle.writer_reader(),
                        _ => handle.reader(),
                    };
                    reader
                        .product(ProductId::new(id))
                        .map(drop)
                        .map_err(|e| e.to_string())
                });
                by_engine[slot].push(summarize(workload, engine, clients, latencies, wall));
            }
        }
        runs.extend(by_engine.into_iter().map(median));
    }
    runs
}
