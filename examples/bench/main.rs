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
//! products, with every client buying from the same 10 products, and priced from
//! the price book (list prices, per-line tax, a chosen shipping method), with
//! promotions, and reserved at stock locations, plus a category
//! page and a name search; then, on the catalog of the seed's large preset in a
//! database of its own, a category page with facet filters and counts and a
//! full-text search. It prints a table of transactions/s, p50 and p99 and the
//! store/raw ratio; `--write-docs` also writes `docs/bench/results.json` (every
//! round's figures, and the command that made them) and `docs/bench/throughput.svg`.
//! `--only pooling` measures instead what `ECOM_TRANSACTION_POOLING=1` costs:
//! checkouts and category pages with diesel's statement cache on and off, direct and
//! through pgbouncer in transaction mode (docs/scaling.md).

//!
//! The modules follow a run: `fixture` builds the database, `measure` drives the
//! store, `pgbench` drives the raw SQL, `catalog` loads the large catalog and
//! measures faceted pages and searches on it, `replicas` adds a standby, `pooling`
//! turns the statement cache off and adds pgbouncer, `report` prints and writes the
//! results.

mod catalog;
mod coupons;
mod fixture;
mod invoices;
mod measure;
mod pgbench;
mod pooling;
mod replicas;
mod report;
mod returns;
mod shipments;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use ecom_domain::rules::StoreRules;
use ecom_store::config::with_database;
use ecom_store::{PgStore, StoreConfig, build_pool, migrate_pool};

use measure::{Run, median, paired};

/// Client counts every workload is measured at.
pub(crate) const CLIENTS: [usize; 3] = [1, 4, 8];
/// Rounds of each measurement; the median round is shown, because shared machines
/// are noisy, and every round is written to `results.json`.
const ROUNDS: usize = 5;

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release -p ecom-examples --bin bench -- [options]

  --quick             60 transactions per client and round (default 250)
  --per-client N      N transactions per client and round
  --only WORKLOAD     one workload: checkout, \"checkout, 10 hot products\",
                      \"checkout, price book\", \"checkout, promotions\",
                      \"checkout, 2 locations\", shipments (created and
                      shipped, store alone), returns (received and
                      refunded, store alone),
                      \"coupon codes\" (100,000 codes by the store vs COPY),
                      \"category page\", \"name search\", \"category page
                      with facets\", \"full-text search\" (these two on the
                      seed's large catalog), replicas; or pooling
                      (statement cache on and off, direct and through pgbouncer,
                      measured only when asked for)
  --write-docs        also write docs/bench/results.json and throughput.svg
  --help              this text

Without DATABASE_URL it runs on the private cluster (ecom_store::dev).";

/// What the command line asks for.
struct Options {
    /// The command line, as `results.json` records it.
    command: String,
    write_docs: bool,
    per_client: usize,
    /// `--only WORKLOAD` (e.g. `--only "category page"`): that workload alone, for
    /// profiling; replica figures only with `--only replicas`.
    only: Option<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, Box<dyn Error>> {
        let per_client = match args.iter().position(|a| a == "--per-client") {
            Some(i) => args
                .get(i + 1)
                .and_then(|n| n.parse().ok())
                .ok_or("--per-client takes a number")?,
            None if args.iter().any(|a| a == "--quick") => 60,
            None => 250,
        };
        Ok(Self {
            command: command_line(args),
            write_docs: args.iter().any(|a| a == "--write-docs"),
            per_client,
            only: args
                .iter()
                .position(|a| a == "--only")
                .and_then(|i| args.get(i + 1))
                .cloned(),
        })
    }

    fn wanted(&self, workload: &str) -> bool {
        self.only.as_deref().is_none_or(|o| o == workload)
    }
}

/// The command that runs this bench with `args`, in the build profile it runs in.
fn command_line(args: &[String]) -> String {
    let profile = if cfg!(debug_assertions) {
        ""
    } else {
        " --release"
    };
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            if a.contains(' ') {
                format!("{a:?}")
            } else {
                a.clone()
            }
        })
        .collect();
    format!(
        "cargo run{profile} -p ecom-examples --bin bench -- {}",
        args.join(" ")
    )
}

/// The database, the store on it, and what the raw runs need beside it.
struct Bench {
    url: String,
    store: PgStore,
    conn: PgConnection,
    pgbench: PathBuf,
    /// pgbench's scripts and logs.
    work: PathBuf,
    per_client: usize,
}

fn main() -> Result<(), Box<dyn Error>> {
    let outcome = run();
    // The pools are dropped; let their threads finish opening connections first.
    ecom_store::wait_for_opening_connections(Duration::from_secs(10));
    outcome
}

fn run() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    let options = Options::parse(&args)?;
    let mut bench = fresh_database(options.per_client)?;
    std::fs::create_dir_all(&bench.work)?;
    let mut runs = checkout_runs(&mut bench, &options)?;
    if options.wanted(shipments::WORKLOAD) {
        runs.extend(shipments::shipment_runs(&mut bench, ROUNDS)?);
    }
    if options.wanted(returns::WORKLOAD) {
        runs.extend(returns::return_runs(&mut bench, ROUNDS)?);
    }
    if options.wanted(coupons::WORKLOAD) {
        runs.extend(coupons::coupon_runs(&mut bench, ROUNDS)?);
    }
    runs.extend(catalog_runs(&bench, &options)?);
    runs.extend(catalog::catalog_runs(&bench, &options)?);
    let pooling_runs = if options.only.as_deref() == Some(pooling::WORKLOAD) {
        pooling::pooling_runs(&mut bench.conn, &bench.url, options.per_client)?
    } else {
        Vec::new()
    };
    let _ = std::fs::remove_dir_all(&bench.work);

    let replica_runs = if std::env::var_os("DATABASE_URL").is_some_and(|u| !u.is_empty()) {
        println!("DATABASE_URL is set: no private standby, so no replica figures");
        Vec::new()
    } else if !options.wanted("replicas") {
        Vec::new()
    } else {
        replicas::replica_runs(&bench.store, &bench.url, options.per_client)?
    };

    report::print_table(&runs);
    report::print_replica_table(&replica_runs);
    pooling::print_table(&pooling_runs);
    if options.write_docs {
        write_docs(&runs, &replica_runs, &options)?;
    }
    Ok(())
}

/// Drops and recreates `ecom_bench`, migrates it and loads the fixture.
fn fresh_database(per_client: usize) -> Result<Bench, Box<dyn Error>> {
    // Creating a database and loading a fixture are the schema owner's work.
    let admin_url = StoreConfig::from_env_or_dev()?
        .url_for_migrations()
        .to_owned();
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
    print!(
        "fixture: {} products, {} past orders... ",
        fixture::PRODUCTS,
        fixture::PAST_ORDERS
    );
    let t = Instant::now();
    fixture::fixture(&mut conn)?;
    println!("{:.1?}", t.elapsed());
    Ok(Bench {
        url,
        store,
        conn,
        pgbench: ecom_examples::pgbench::binary()?,
        work: std::env::temp_dir().join(format!("ecom-bench-{}", std::process::id())),
        per_client,
    })
}

/// The workload of checkouts priced from the price book by a shipping method.
pub(crate) const BOOK_CHECKOUT: &str = "checkout, price book";
/// The workload of checkouts priced from the price book with an automatic
/// promotion and a coupon code.
pub(crate) const PROMO_CHECKOUT: &str = "checkout, promotions";

/// The workload of checkouts of variants kept at two locations, reserved there.
pub(crate) const LOCATED_CHECKOUT: &str = "checkout, 2 locations";

/// Checkouts over all products and over the hot ten, checkouts priced from the
/// price book, with promotions, and of variants kept at locations, by the store
/// and by pgbench.
/// Each measurement runs `ROUNDS` times, store and raw alternating, and the run with
/// the median throughput is kept, and the median of the rounds' store/raw ratios:
/// shared machines are noisy.
fn checkout_runs(bench: &mut Bench, options: &Options) -> Result<Vec<Run>, Box<dyn Error>> {
    let mut runs = Vec::new();
    let mut batch = 0;
    for (workload, hot) in [
        ("checkout", false),
        ("checkout, 10 hot products", true),
        (BOOK_CHECKOUT, false),
        (PROMO_CHECKOUT, false),
        (LOCATED_CHECKOUT, false),
    ] {
        if !options.wanted(workload) {
            continue;
        }
        // The promotions exist for their workload only: the others measure
        // checkouts without them.
        let promoted = workload == PROMO_CHECKOUT;
        if promoted {
            fixture::start_promotions(&mut bench.conn)?;
        }
        let located = workload == LOCATED_CHECKOUT;
        if located {
            fixture::start_locations(&mut bench.conn)?;
        }
        for clients in CLIENTS {
            let transactions = bench.per_client * clients;
            let (mut store_runs, mut raw_runs) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                batch += 1;
                let carts = fixture::make_carts(&mut bench.conn, batch, transactions, hot)?;
                let first_order = fixture::next_order(&mut bench.conn)?;
                store_runs.push(measure::store_checkouts(
                    &bench.store,
                    workload,
                    clients,
                    &carts,
                    batch,
                    (workload == BOOK_CHECKOUT || promoted).then_some("standard"),
                    if promoted {
                        &[pgbench::BENCH_CODE][..]
                    } else {
                        &[]
                    },
                )?);
                if located {
                    fixture::ensure_reserved(&mut bench.conn, first_order)?;
                }
                batch += 1;
                let carts = fixture::make_carts(&mut bench.conn, batch, transactions, hot)?;
                raw_runs.push(pgbench::raw_checkouts(bench, workload, clients, carts[0])?);
                diesel::sql_query("VACUUM ANALYZE").execute(&mut bench.conn)?;
            }
            runs.push(paired(store_runs, &raw_runs));
            runs.push(median(raw_runs));
        }
        if promoted {
            fixture::end_promotions(&mut bench.conn)?;
        }
    }
    Ok(runs)
}

/// A category page and a name search, by the store and by pgbench, in rounds as
/// [`checkout_runs`].
fn catalog_runs(bench: &Bench, options: &Options) -> Result<Vec<Run>, Box<dyn Error>> {
    // The store alone: the closures below run on client threads, and the connection
    // in `Bench` may not be shared between them.
    let store = &bench.store;
    let mut runs = Vec::new();
    for (workload, script) in [
        ("category page", pgbench::CATEGORY_PAGE_SQL),
        ("name search", pgbench::SEARCH_SQL),
    ] {
        if !options.wanted(workload) {
            continue;
        }
        for clients in CLIENTS {
            let transactions = bench.per_client * clients;
            let (mut store_runs, mut raw_runs) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                // PgStore's own catalog reads are these, on the writer.
                store_runs.push(measure::reads(
                    workload,
                    "ecom-store",
                    clients,
                    transactions,
                    || store.writer_reader(),
                )?);
                raw_runs.push(pgbench::raw_script(
                    bench,
                    workload,
                    clients,
                    transactions,
                    script,
                )?);
            }
            runs.push(paired(store_runs, &raw_runs));
            runs.push(median(raw_runs));
        }
    }
    Ok(runs)
}

/// `docs/bench/results.json` and `docs/bench/throughput.svg`.
fn write_docs(runs: &[Run], replica_runs: &[Run], options: &Options) -> Result<(), Box<dyn Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("results.json"),
        report::results_json(runs, replica_runs, &options.command, options.per_client)?,
    )?;
    std::fs::write(dir.join("throughput.svg"), report::svg(runs))?;
    println!("\nwrote {}", dir.display());
    Ok(())
}
