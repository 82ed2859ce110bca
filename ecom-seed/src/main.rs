//! `ecom-seed`: fills an ecom-dms database with realistic, deterministic sample data.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, NaiveDate, Utc};
use clap::Parser;
use diesel::{Connection, PgConnection, RunQueryDsl};
use ecom_domain::money::Currency;
use ecom_seed::progress::Progress;
use ecom_seed::{Existing, LoadOptions, Plan, Scale, SeedError};
use ecom_store::StoreConfig;

/// Fill an ecom-dms database with realistic sample data, deterministically, with COPY.
///
/// It connects as the owner of the schema: DATABASE_MIGRATION_URL, else DATABASE_URL;
/// without either, the project's private PostgreSQL cluster.
/// Every generated user's password is "ecom-demo-password".
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// The random seed: the same seed and sizes give byte-identical data.
    #[arg(long, default_value_t = Plan::DEFAULT_SEED)]
    seed: u64,
    /// Size preset (large is 1,000,000 orders); the size flags below override it.
    #[arg(long, default_value = "small", value_parser = parse_scale)]
    scale: Scale,
    /// Categories.
    #[arg(long)]
    categories: Option<u64>,
    /// Products (each with one or more variants: clothes in colours and sizes...).
    #[arg(long)]
    products: Option<u64>,
    /// Users (each with one to three addresses).
    #[arg(long)]
    users: Option<u64>,
    /// Orders (each with its cart, 1-5 lines, history and payment).
    #[arg(long)]
    orders: Option<u64>,
    /// Carts that were never checked out (abandoned or still open).
    #[arg(long)]
    carts: Option<u64>,
    /// Collections ("Summer sale", "New arrivals"...), each an ordered list of products.
    #[arg(long)]
    collections: Option<u64>,
    /// First day of the period orders are spread over (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day, default_value = "2025-01-01")]
    since: DateTime<Utc>,
    /// Day after the last day of the period (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day, default_value = "2026-01-01")]
    until: DateTime<Utc>,
    /// The shop's currency.
    #[arg(long, value_parser = parse_currency, default_value = "EUR")]
    currency: Currency,
    /// Write CSV files (and a load.sql for psql) into this directory instead of loading.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Add to a database that already holds data.
    #[arg(long, conflicts_with = "truncate")]
    append: bool,
    /// Empty the database's tables first (in the same transaction as the load).
    #[arg(long)]
    truncate: bool,
    /// Do not run the embedded migrations first.
    #[arg(long)]
    no_migrate: bool,
    /// Only generate and print the checksum; write nothing.
    #[arg(long, conflicts_with_all = ["out", "append", "truncate"])]
    checksum_only: bool,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_scale(s: &str) -> Result<Scale, String> {
    s.parse().map_err(|e: SeedError| e.to_string())
}

fn parse_day(s: &str) -> Result<DateTime<Utc>, String> {
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("{s:?}: {e}"))?;
    Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

fn parse_currency(s: &str) -> Result<Currency, String> {
    Currency::from_code(s).map_err(|e| e.to_string())
}

impl Cli {
    fn plan(&self) -> Plan {
        let mut plan = Plan::new(self.scale);
        plan.seed = self.seed;
        let s = &mut plan.sizes;
        s.categories = self.categories.unwrap_or(s.categories);
        s.products = self.products.unwrap_or(s.products);
        s.users = self.users.unwrap_or(s.users);
        s.orders = self.orders.unwrap_or(s.orders);
        s.carts = self.carts.unwrap_or(s.carts);
        s.collections = self.collections.unwrap_or(s.collections);
        plan.since = self.since;
        plan.until = self.until;
        plan.currency = self.currency;
        plan
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ecom-seed: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), SeedError> {
    let plan = cli.plan();
    plan.validate()?;
    let mut progress = if cli.quiet {
        Progress::Quiet
    } else {
        Progress::auto(plan.sizes)
    };
    let mut advance = |batch: &ecom_seed::generate::Batch| progress.advance(batch);
    let report = if cli.checksum_only {
        ecom_seed::run(&plan, &mut ecom_seed::run::NullSink, &mut advance)?
    } else if let Some(dir) = &cli.out {
        let report = ecom_seed::write_csv(dir, &plan, &mut advance)?;
        eprintln!(
            "wrote CSV files to {}; load them with: cd {} && psql \"$DATABASE_URL\" -f load.sql",
            dir.display(),
            dir.display()
        );
        report
    } else {
        let config = StoreConfig::from_env_or_dev()?;
        // COPY, TRUNCATE and migrating are the schema owner's: DATABASE_MIGRATION_URL,
        // else DATABASE_URL.
        let url = config.url_for_migrations();
        let mut conn = PgConnection::establish(url).map_err(|e| {
            SeedError::Plan(format!(
                "cannot connect to {}: {e}",
                ecom_store::config::redact_url(url)
            ))
        })?;
        // A large load is one long transaction of many statements: lift the limits a
        // service connection would have.
        diesel::sql_query("SET statement_timeout = 0")
            .execute(&mut conn)
            .map_err(SeedError::db("configuring the session"))?;
        let options = LoadOptions {
            existing: match (cli.append, cli.truncate) {
                (true, _) => Existing::Append,
                (_, true) => Existing::Truncate,
                _ => Existing::Refuse,
            },
            no_migrate: cli.no_migrate,
            fail_after_batches: None,
        };
        ecom_seed::load(&mut conn, &plan, &options, &mut advance)?
    };
    progress.finish();
    print!("{}", report.table());
    Ok(())
}
