//! The results: tables on stdout, and the JSON and SVG of `docs/bench`.

use std::error::Error;
use std::fmt::Write as _;

use serde_json::json;

use crate::measure::Run;
use crate::{CLIENTS, ROUNDS};

/// Store and raw runs side by side, with the store/raw ratio.
pub(crate) fn print_table(runs: &[Run]) {
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

/// The replica runs, each against the first run of its workload and client count.
pub(crate) fn print_replica_table(runs: &[Run]) {
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

/// `docs/bench/results.json`: the command that made it, the machine, the settings,
/// and every measurement with each of its rounds.
pub(crate) fn results_json(
    runs: &[Run],
    replica_runs: &[Run],
    command: &str,
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
        "command": command,
        "machine": { "cpu": machine, "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0) },
        "transactions_per_client": per_client,
        "rounds_per_measurement": ROUNDS,
        "about": "Each entry of runs and replica_runs is one measurement: its figures are those \
                  of the round with the median tx/s, and its rounds are all of them, in the \
                  order measured. In runs, an ecom-store entry's rounds alternated with the raw \
                  entry's of the same workload and clients: round i of each is a pair, its \
                  store_over_raw_pct is floor(100 * store tps / raw tps), and the entry's \
                  store_over_raw_pct is the median of its rounds'. A replica entry's ratio is \
                  its tps over that of the first entry of its workload and clients.",
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
        "rounds": r.rounds.iter().map(|round| json!({
            "transactions": round.transactions, "tps": round.tps,
            "p50_us": round.p50_us, "p99_us": round.p99_us,
            "store_over_raw_pct": round.ratio_pct,
        })).collect::<Vec<_>>(),
    })
}

/// The checkout chart's geometry in pixels, and the throughput at its top.
struct Chart {
    width: u64,
    height: u64,
    left: u64,
    bottom: u64,
    top: u64,
    /// Room for the legend.
    right: u64,
    max: u64,
}

impl Chart {
    fn x(&self, clients: usize) -> u64 {
        let i = CLIENTS.iter().position(|c| *c == clients).unwrap_or(0) as u64;
        self.left + i * (self.width - self.left - self.right) / (CLIENTS.len() as u64 - 1)
    }

    fn y(&self, tps: u64) -> u64 {
        self.height - self.bottom - tps * (self.height - self.bottom - self.top) / self.max
    }
}

/// A line chart of tx/s against clients: one line per engine and workload.
pub(crate) fn svg(runs: &[Run]) -> String {
    let max = runs
        .iter()
        .filter(|r| r.workload.starts_with("checkout"))
        .map(|r| r.tps)
        .max()
        .unwrap_or(1)
        .max(1);
    let chart = Chart {
        width: 720,
        height: 400,
        left: 70,
        bottom: 50,
        top: 40,
        right: 230,
        max,
    };
    let mut out = String::new();
    svg_axes(&chart, &mut out);
    svg_series(&chart, runs, &mut out);
    out.push_str("</svg>\n");
    out
}

/// The opening tag, the title, both axes with their ticks and labels.
fn svg_axes(chart: &Chart, out: &mut String) {
    let Chart {
        width,
        height,
        left,
        bottom,
        top,
        right,
        max,
    } = *chart;
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
            chart.x(c),
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
            chart.y(v) + 4,
            chart.y(v),
            width - right,
            chart.y(v)
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="16" y="{}" transform="rotate(-90 16 {})" text-anchor="middle">transactions/s</text>"#,
        (top + height - bottom) / 2,
        (top + height - bottom) / 2
    );
}

/// A line per engine and checkout workload, each with its legend entry.
fn svg_series(chart: &Chart, runs: &[Run], out: &mut String) {
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
            .map(|r| format!("{},{}", chart.x(r.clients), chart.y(r.tps)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}" points="{}"/>"#,
            points.join(" ")
        );
        let ly = chart.top + 10 + i as u64 * 22;
        let lx = chart.width - chart.right + 15;
        let _ = writeln!(
            out,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/><text x="{}" y="{}">{engine}, {workload}</text>"#,
            lx + 24,
            lx + 30,
            ly + 4
        );
    }
}
