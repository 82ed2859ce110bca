//! Loading benchmark: ecom-seed end to end against the two usual alternatives, on the
//! same server in one run.
//!
//! ```sh
//! cargo bench -p ecom-seed --bench load -- --scale medium
//! ```
//!
//! 1. ecom-seed end to end (generation, COPY, commit), in a child process per scale so
//!    its peak memory (`VmHWM`) is its own: the small preset first for the baseline,
//!    then the chosen one;
//! 2. the ceiling: the same rows written beforehand as CSV, loaded by `psql -f
//!    load.sql` (`\copy` of every table in one transaction);
//! 3. what tutorial loaders do: one `INSERT` statement per row, in one transaction, on
//!    a smaller sample (`--insert-orders`, default 2,000 orders and what belongs to
//!    them) since only its rate matters.
//!
//! Each run gets a fresh database (`ecom_store::testing::TestDb`) on `DATABASE_URL`'s
//! server or the private cluster.

// Ratios of rates are reported as floats: measurements, not money.
#![allow(clippy::float_arithmetic)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use ecom_seed::generate::Chunk;
use ecom_seed::run::{Sink, per_sec};
use ecom_seed::{LoadOptions, Plan, Scale, SeedError};
use ecom_store::testing::TestDb;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

/// Child mode: load `scale` into a fresh database, print rows, seconds and peak RSS.
fn child(scale: Scale) {
    let db = TestDb::new();
    let mut conn = db.connect();
    let plan = Plan::new(scale);
    let started = Instant::now();
    let report = ecom_seed::load(&mut conn, &plan, &LoadOptions::default(), &mut |_| {})
        .expect("ecom-seed loads");
    let elapsed = started.elapsed();
    print!("{}", report.table());
    println!(
        "RESULT rows={} micros={} hwm_kib={}",
        report.total_rows(),
        elapsed.as_micros(),
        peak_rss_kib()
    );
}

#[derive(Debug, Clone, Copy)]
struct ChildResult {
    rows: u64,
    elapsed: Duration,
    hwm_kib: u64,
}

fn run_child(scale: Scale) -> ChildResult {
    let exe = std::env::current_exe().expect("own path");
    let output = Command::new(exe)
        .args(["--child", &scale.to_string()])
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    if scale != Scale::Small {
        print!(
            "{}",
            stdout
                .lines()
                .filter(|l| !l.starts_with("RESULT"))
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        );
    }
    let line = stdout
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .expect("a RESULT line");
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .expect("a number")
    };
    ChildResult {
        rows: field("rows"),
        elapsed: Duration::from_micros(field("micros")),
        hwm_kib: field("hwm_kib"),
    }
}

/// One `INSERT ... VALUES ('..', NULL, ...)` per CSV row, as a loader that
/// interpolates values client-side sends them.
struct InsertSink<'c> {
    conn: &'c mut PgConnection,
}

/// Splits PostgreSQL CSV into rows of fields (`None` for NULL).
fn parse_csv(bytes: &[u8]) -> Vec<Vec<Option<String>>> {
    let text = std::str::from_utf8(bytes).expect("utf-8");
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                quoted = true;
                was_quoted = true;
            }
            ',' | '\n' => {
                let value = std::mem::take(&mut field);
                row.push((was_quoted || !value.is_empty()).then_some(value));
                was_quoted = false;
                if c == '\n' {
                    rows.push(std::mem::take(&mut row));
                }
            }
            _ => field.push(c),
        }
    }
    rows
}

impl Sink for InsertSink<'_> {
    fn write(&mut self, chunk: &Chunk) -> Result<(), SeedError> {
        for row in parse_csv(&chunk.bytes) {
            let values: Vec<String> = row
                .iter()
                .map(|v| match v {
                    None => "NULL".to_owned(),
                    Some(s) => format!("'{}'", s.replace('\'', "''")),
                })
                .collect();
            // Columns named, as COPY names them: the rows leave out derived ones.
            diesel::sql_query(format!(
                "INSERT INTO {} ({}) VALUES ({})",
                chunk.table.name(),
                chunk.table.columns().join(", "),
                values.join(", ")
            ))
            .execute(self.conn)
            .map_err(SeedError::db("inserting a row"))?;
        }
        Ok(())
    }
}

/// Rows loaded and the time it took.
#[derive(Debug, Clone, Copy)]
struct Measured {
    rows: u64,
    elapsed: Duration,
}

impl Measured {
    fn rate(&self) -> u64 {
        per_sec(self.rows, self.elapsed)
    }
}

impl From<ChildResult> for Measured {
    fn from(child: ChildResult) -> Self {
        Self {
            rows: child.rows,
            elapsed: child.elapsed,
        }
    }
}

fn main() {
    if let Some(scale) = arg("--child") {
        child(scale.parse().expect("a scale"));
        return;
    }
    let scale: Scale = arg("--scale")
        .unwrap_or_else(|| "medium".into())
        .parse()
        .expect("--scale small|medium|large");
    let insert_orders: u64 = arg("--insert-orders")
        .map(|n| n.parse().expect("a number"))
        .unwrap_or(2_000);
    let plan = Plan::new(scale);
    println!(
        "ecom-seed load benchmark, scale {scale} ({} orders)",
        plan.sizes.orders
    );
    // 1. ecom-seed, end to end, in child processes: the small preset's peak memory is
    // the baseline the chosen scale's is compared with.
    let small = run_child(Scale::Small);
    let seeded = if scale == Scale::Small {
        small
    } else {
        run_child(scale)
    };
    // 2. The ceiling, 3. row by row, each into a fresh database.
    let ceiling = psql_copy(&plan, scale);
    let inserted = row_by_row(&plan, insert_orders);
    print_results(&seeded.into(), &ceiling, &inserted);
    println!(
        "peak memory (VmHWM) of the loading process: small {} MiB, {scale} {} MiB",
        small.hwm_kib / 1024,
        seeded.hwm_kib / 1024
    );
}

/// The ceiling: psql `\copy` of the same rows, written as CSV beforehand (not
/// timed).
fn psql_copy(plan: &Plan, scale: Scale) -> Measured {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("seed-bench-{scale}"));
    let _ = std::fs::remove_dir_all(&dir);
    let csv = ecom_seed::write_csv(&dir, plan, &mut |_| {}).expect("CSV written");
    let db = TestDb::new();
    let started = Instant::now();
    let status = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-o",
            "/dev/null",
            db.owner_url(),
            "-f",
            "load.sql",
        ])
        .current_dir(&dir)
        .status()
        .expect("psql runs");
    let elapsed = started.elapsed();
    assert!(status.success(), "psql failed");
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    Measured {
        rows: csv.total_rows(),
        elapsed,
    }
}

/// One `INSERT` per row in one transaction, on a sample of `orders` orders (and
/// what they need), since only the rate matters.
fn row_by_row(plan: &Plan, orders: u64) -> Measured {
    let mut sample = plan.clone();
    sample.sizes.orders = orders.min(plan.sizes.orders);
    sample.sizes.users = sample.sizes.users.min(orders);
    sample.sizes.products = sample.sizes.products.min(orders / 2 + 1);
    sample.sizes.carts = sample.sizes.carts.min(orders / 10);
    let db = TestDb::new();
    let mut conn = db.connect();
    let started = Instant::now();
    let inserted = conn
        .transaction(|conn| ecom_seed::run(&sample, &mut InsertSink { conn }, &mut |_| {}))
        .expect("inserts");
    Measured {
        rows: inserted.total_rows(),
        elapsed: started.elapsed(),
    }
}

/// The three rates side by side, then ecom-seed's against each of the others.
fn print_results(seeded: &Measured, ceiling: &Measured, inserted: &Measured) {
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    println!();
    println!(
        "{:<44} {:>10} {:>9} {:>12}",
        "method", "rows", "seconds", "rows/s"
    );
    for (method, m) in [
        ("ecom-seed end to end (generate + COPY)", seeded),
        ("psql \\copy of pre-generated CSV (ceiling)", ceiling),
        ("one INSERT per row (sample)", inserted),
    ] {
        println!(
            "{:<44} {:>10} {:>9.2} {:>12}",
            method,
            m.rows,
            m.elapsed.as_secs_f64(),
            m.rate()
        );
    }
    println!();
    println!(
        "ecom-seed / COPY ceiling: {:.2}   ecom-seed / row-by-row INSERT: {:.1}x",
        ratio(seeded.rate(), ceiling.rate()),
        ratio(seeded.rate(), inserted.rate())
    );
}
