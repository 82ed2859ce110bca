//! Progress: indicatif bars on a terminal; otherwise one plain line per table, printed
//! when the phase that writes the table is done.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::generate::{Batch, Phase};
use crate::plan::Sizes;
use crate::table::Table;

/// Reports progress on standard error.
pub enum Progress {
    /// A bar per phase.
    Bars(Vec<(Phase, ProgressBar)>),
    /// A line per table when a phase is done.
    Plain {
        /// Entities per phase.
        sizes: Sizes,
        /// The phase under way.
        current: Option<PhaseRun>,
    },
    /// Nothing.
    Quiet,
}

/// A phase under way: its entities so far, the rows it wrote per table, its start.
pub struct PhaseRun {
    phase: Phase,
    done: u64,
    rows: BTreeMap<Table, u64>,
    started: Instant,
}

impl Progress {
    /// Bars when standard error is a terminal, plain lines otherwise.
    pub fn auto(sizes: Sizes) -> Self {
        if std::io::stderr().is_terminal() {
            Self::bars(sizes)
        } else {
            Progress::Plain {
                sizes,
                current: None,
            }
        }
    }

    fn bars(sizes: Sizes) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{prefix:>10} {bar:40.cyan/blue} {pos:>9}/{len:9} {per_sec:>12} {elapsed:>4}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bars = Phase::ALL
            .iter()
            .map(|phase| {
                let bar = multi.add(ProgressBar::new(phase.total(&sizes)));
                bar.set_style(style.clone());
                bar.set_prefix(phase.name());
                (*phase, bar)
            })
            .collect();
        Progress::Bars(bars)
    }

    /// A batch was written.
    pub fn advance(&mut self, batch: &Batch) {
        let (phase, units) = (batch.phase, batch.units);
        match self {
            Progress::Bars(bars) => {
                for (p, bar) in bars.iter() {
                    if *p == phase {
                        bar.inc(units);
                        if bar.position() >= bar.length().unwrap_or(0) {
                            bar.finish();
                        }
                    }
                }
            }
            Progress::Plain { sizes, current } => {
                if current.as_ref().is_none_or(|run| run.phase != phase) {
                    // A phase's clock starts when the one before it ended.
                    let started = Self::lines(current.take());
                    *current = Some(PhaseRun {
                        phase,
                        done: 0,
                        rows: BTreeMap::new(),
                        started,
                    });
                }
                if let Some(run) = current.as_mut() {
                    run.done += units;
                    for chunk in &batch.chunks {
                        *run.rows.entry(chunk.table).or_default() += chunk.rows;
                    }
                    if run.done >= phase.total(sizes) {
                        Self::lines(current.take());
                    }
                }
            }
            Progress::Quiet => {}
        }
    }

    /// Prints a line per table of a finished phase; returns the time it was printed.
    fn lines(done: Option<PhaseRun>) -> Instant {
        if let Some(run) = done {
            let elapsed = run.started.elapsed();
            let micros = elapsed.as_micros().max(1);
            for (table, rows) in &run.rows {
                eprintln!(
                    "{}: {rows} rows in {:.2} s, {} rows/s",
                    table.name(),
                    elapsed.as_secs_f64(),
                    u128::from(*rows) * 1_000_000 / micros
                );
            }
        }
        Instant::now()
    }

    /// Ends the display.
    pub fn finish(&mut self) {
        match self {
            Progress::Bars(bars) => bars.iter().for_each(|(_, b)| b.finish()),
            Progress::Plain { current, .. } => {
                Self::lines(current.take());
            }
            Progress::Quiet => {}
        }
    }
}
