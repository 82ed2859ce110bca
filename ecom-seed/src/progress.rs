//! Progress: indicatif bars on a terminal, one plain line per phase otherwise.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::generate::Phase;
use crate::plan::Sizes;

/// Reports progress on standard error.
pub enum Progress {
    /// A bar per phase.
    Bars(Vec<(Phase, ProgressBar)>),
    /// A line when a phase is done.
    Plain {
        /// Entities per phase.
        sizes: Sizes,
        /// The phase under way, its count so far and when it started.
        current: Option<(Phase, u64, Instant)>,
    },
    /// Nothing.
    Quiet,
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

    /// `units` more entities of `phase` are done.
    pub fn advance(&mut self, phase: Phase, units: u64) {
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
                match current {
                    Some((p, done, _)) if *p == phase => *done += units,
                    _ => {
                        // A phase's clock starts when the one before it ended.
                        let started = Self::line(current.take());
                        *current = Some((phase, units, started));
                    }
                }
                if let Some((p, done, _)) = current
                    && *done >= p.total(sizes)
                {
                    Self::line(current.take());
                }
            }
            Progress::Quiet => {}
        }
    }

    /// Prints the line of a finished phase; returns the time it was printed.
    fn line(done: Option<(Phase, u64, Instant)>) -> Instant {
        if let Some((phase, count, started)) = done {
            eprintln!(
                "{}: {count} done in {:.2} s",
                phase.name(),
                started.elapsed().as_secs_f64()
            );
        }
        Instant::now()
    }

    /// Ends the display.
    pub fn finish(&mut self) {
        match self {
            Progress::Bars(bars) => bars.iter().for_each(|(_, b)| b.finish()),
            Progress::Plain { current, .. } => {
                Self::line(current.take());
            }
            Progress::Quiet => {}
        }
    }
}
