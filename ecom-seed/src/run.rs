//! The pipeline: the generator on its own thread, a bounded channel, and on this
//! thread the checksum and a [`Sink`] (COPY, CSV files, or nothing). The channel
//! holds at most [`CHANNEL_BATCHES`] batches of about
//! [`BATCH_BYTES`](crate::generate::BATCH_BYTES), so memory
//! stays flat whatever the scale, and generation overlaps with loading.

use std::fmt::{self, Write as _};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::SeedError;
use crate::generate::{self, Batch, Chunk};
use crate::plan::Plan;
use crate::table::Table;

/// Batches queued between the generator and the sink.
pub const CHANNEL_BATCHES: usize = 4;

/// Where generated rows go.
pub trait Sink {
    /// Takes one table's rows of a batch (whole entities, parents first).
    fn write(&mut self, chunk: &Chunk) -> Result<(), SeedError>;

    /// Called after each batch's chunks.
    fn batch_done(&mut self) -> Result<(), SeedError> {
        Ok(())
    }
}

/// Throws rows away: for checksums and generator benchmarks.
#[derive(Debug, Default)]
pub struct NullSink;

impl Sink for NullSink {
    fn write(&mut self, _chunk: &Chunk) -> Result<(), SeedError> {
        Ok(())
    }
}

/// Rows, bytes and time spent in the sink for one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Rows.
    pub rows: u64,
    /// Bytes of CSV.
    pub bytes: u64,
    /// Time the sink spent on them.
    pub busy: Duration,
}

/// The SHA-256 checksum of everything generated: per table over its CSV rows, and
/// overall over the per-table digests. Independent of batching, so two runs with the
/// same plan print the same checksum whatever they loaded into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// Per table, in [`Table::ALL`] order.
    pub tables: Vec<(Table, String)>,
    /// Over all tables.
    pub total: String,
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.total)
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Report {
    /// Per table, in [`Table::ALL`] order.
    pub tables: Vec<(Table, TableStats)>,
    /// What was generated.
    pub checksum: Checksum,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
}

impl Report {
    /// Rows over all tables.
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|(_, s)| s.rows).sum()
    }

    /// Rows of one table.
    pub fn rows(&self, table: Table) -> u64 {
        self.tables[table.index()].1.rows
    }

    /// Rows per second over the whole run.
    pub fn rows_per_sec(&self) -> u64 {
        per_sec(self.total_rows(), self.elapsed)
    }

    /// The end-of-run table: rows and rows/s per table, then the total.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{:<22} {:>12} {:>12}", "table", "rows", "rows/s");
        for (table, stats) in &self.tables {
            // Writing to nothing takes no measurable time: no rate then.
            let rate = if stats.busy.as_millis() == 0 {
                "-".to_owned()
            } else {
                per_sec(stats.rows, stats.busy).to_string()
            };
            let _ = writeln!(s, "{:<22} {:>12} {:>12}", table.name(), stats.rows, rate);
        }
        let _ = writeln!(
            s,
            "{:<22} {:>12} {:>12}   in {:.2} s",
            "total",
            self.total_rows(),
            self.rows_per_sec(),
            self.elapsed.as_secs_f64()
        );
        let _ = writeln!(s, "checksum sha256:{}", self.checksum.total);
        s
    }
}

/// `count / elapsed`, rounded down; 0 for no time.
pub fn per_sec(count: u64, elapsed: Duration) -> u64 {
    let micros = elapsed.as_micros();
    if micros == 0 {
        return 0;
    }
    u64::try_from(u128::from(count) * 1_000_000 / micros).unwrap_or(u64::MAX)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Generates `plan` on a producer thread and feeds every batch, hashed, to `sink`.
/// `progress` hears of each batch once it is written.
pub fn run(
    plan: &Plan,
    sink: &mut dyn Sink,
    progress: &mut dyn FnMut(&Batch),
) -> Result<Report, SeedError> {
    plan.validate()?;
    let started = Instant::now();
    let mut hashers: Vec<Sha256> = Table::ALL.iter().map(|_| Sha256::new()).collect();
    let mut stats = [TableStats::default(); Table::ALL.len()];
    let (tx, rx) = sync_channel::<Batch>(CHANNEL_BATCHES);
    let generated = std::thread::scope(|scope| {
        let producer = scope.spawn(move || generate::generate(plan, &mut |b| tx.send(b).is_ok()));
        let mut consume = || -> Result<(), SeedError> {
            while let Ok(batch) = rx.recv() {
                for chunk in &batch.chunks {
                    let i = chunk.table.index();
                    hashers[i].update(&chunk.bytes);
                    let t0 = Instant::now();
                    sink.write(chunk)?;
                    stats[i].busy += t0.elapsed();
                    stats[i].rows += chunk.rows;
                    stats[i].bytes += chunk.bytes.len() as u64;
                }
                sink.batch_done()?;
                progress(&batch);
            }
            Ok(())
        };
        let consumed = consume();
        // Hanging up makes the producer's next send fail, so it stops early.
        drop(rx);
        let produced = producer.join().map_err(|_| SeedError::GeneratorPanicked)?;
        consumed.and(produced)
    });
    generated?;
    let digests: Vec<(Table, String)> = Table::ALL
        .iter()
        .zip(hashers)
        .map(|(t, h)| (*t, hex(&h.finalize())))
        .collect();
    let mut total = Sha256::new();
    for (table, digest) in &digests {
        total.update(format!("{}:{digest}\n", table.name()).as_bytes());
    }
    Ok(Report {
        tables: Table::ALL.iter().copied().zip(stats).collect(),
        checksum: Checksum {
            tables: digests,
            total: hex(&total.finalize()),
        },
        elapsed: started.elapsed(),
    })
}

/// Only the checksum of a plan's data, without writing it anywhere.
pub fn checksum(plan: &Plan) -> Result<Checksum, SeedError> {
    Ok(run(plan, &mut NullSink, &mut |_| {})?.checksum)
}
