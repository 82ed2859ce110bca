//! SQL scripts run by PostgreSQL's `pgbench`: the ceilings that `bench` compares the
//! store with and `shop-load` compares the service with. A script is the statements
//! the store sends, written out by hand, run over the same number of connections.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Why a pgbench run gave no figures.
#[derive(Debug, thiserror::Error)]
pub enum PgbenchError {
    /// The PostgreSQL installation has no pgbench.
    #[error("{0} is missing: install postgresql-contrib or the PostgreSQL client tools")]
    Missing(PathBuf),
    /// The installation could not be found.
    #[error("cannot find the PostgreSQL binaries: {0}")]
    Binaries(String),
    /// Writing the script, starting pgbench or reading its logs failed.
    #[error("pgbench: {0}")]
    Io(#[from] std::io::Error),
    /// pgbench exited with an error.
    #[error("pgbench failed: {0}")]
    Failed(String),
    /// pgbench finished, but some transactions failed.
    #[error("pgbench had failures: {0}")]
    FailedTransactions(String),
    /// The logs hold a different number of transactions than were asked for.
    #[error("pgbench logged {logged} of {asked} transactions")]
    Logged {
        /// Transactions in the logs.
        logged: usize,
        /// Transactions asked for.
        asked: usize,
    },
}

/// pgbench from the PostgreSQL installation the private cluster runs on.
pub fn binary() -> Result<PathBuf, PgbenchError> {
    let bin = ecom_store::dev::bin_dir()
        .map_err(|err| PgbenchError::Binaries(err.to_string()))?
        .join("pgbench");
    if !bin.exists() {
        return Err(PgbenchError::Missing(bin));
    }
    Ok(bin)
}

/// What one run measured.
#[derive(Debug)]
pub struct Measured {
    /// Every script execution's latency, as pgbench logged it.
    pub latencies: Vec<Duration>,
    /// The wall time of the whole run, connections included.
    pub wall: Duration,
    /// pgbench's own figure of executions per second, which leaves out connecting.
    pub tps: Option<u64>,
}

/// A pgbench run of `script` on `url`: `transactions` executions of the script in all
/// (rounded down to a multiple of `clients`), over `clients` connections, with
/// prepared statements, as the store sends them. Script and logs go in `work/name`.
pub fn run(
    pgbench: &Path,
    url: &str,
    work: &Path,
    name: &str,
    script: &str,
    clients: usize,
    transactions: usize,
) -> Result<Measured, PgbenchError> {
    let dir = work.join(name.replace([' ', ',', '/'], "_"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let script_path = dir.join("script.sql");
    std::fs::write(&script_path, script)?;
    let each = transactions / clients.max(1);
    let started = Instant::now();
    let output = Command::new(pgbench)
        .args(["--no-vacuum", "--protocol=prepared", "--log"])
        .arg(format!("--log-prefix={}", dir.join("tx").display()))
        .arg(format!("--client={clients}"))
        .arg(format!("--jobs={}", clients.min(2)))
        .arg(format!("--transactions={each}"))
        .arg(format!("--file={}", script_path.display()))
        .arg(url)
        .output()?;
    let wall = started.elapsed();
    let stdout = checked_stdout(&output)?;
    let latencies = logged_latencies(&dir)?;
    let _ = std::fs::remove_dir_all(&dir);
    if latencies.len() != each * clients {
        return Err(PgbenchError::Logged {
            logged: latencies.len(),
            asked: each * clients,
        });
    }
    Ok(Measured {
        latencies,
        wall,
        tps: reported_tps(&stdout),
    })
}

/// pgbench's report, once it says the run succeeded without failed transactions.
fn checked_stdout(output: &Output) -> Result<String, PgbenchError> {
    if !output.status.success() {
        return Err(PgbenchError::Failed(
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let failed = stdout
        .lines()
        .find(|l| l.starts_with("number of failed transactions"))
        .unwrap_or("");
    if !failed.is_empty() && !failed.contains(": 0 ") {
        return Err(PgbenchError::FailedTransactions(failed.to_owned()));
    }
    Ok(stdout)
}

/// Every transaction's latency from the per-client logs in `log_dir`.
fn logged_latencies(log_dir: &Path) -> Result<Vec<Duration>, PgbenchError> {
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(log_dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            continue;
        }
        for line in std::fs::read_to_string(path)?.lines() {
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
    Ok(latencies)
}

/// The `tps = ...` figure of pgbench's report, whole executions per second.
fn reported_tps(stdout: &str) -> Option<u64> {
    stdout.lines().find_map(|l| {
        l.strip_prefix("tps = ")?
            .split_whitespace()
            .next()?
            .split('.')
            .next()?
            .parse::<u64>()
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reported_rate_is_read_from_the_tps_line() {
        let report = "number of failed transactions: 0 (0.000%)\n\
                      latency average = 3.1 ms\n\
                      tps = 1287.554012 (without initial connection time)\n";
        assert_eq!(reported_tps(report), Some(1287));
        assert_eq!(reported_tps("latency average = 3.1 ms\n"), None);
    }
}
