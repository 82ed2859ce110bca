#![doc = include_str!("../README.md")]

pub mod csv;
mod error;
pub mod generate;
pub mod jsonb;
pub mod load;
pub mod plan;
pub mod progress;
pub mod run;
pub mod table;

pub use error::SeedError;
pub use generate::{DEMO_PASSWORD, DEMO_PASSWORD_HASH};
pub use load::{Existing, LoadOptions, load, write_csv};
pub use plan::{IdBase, Plan, Scale, Sizes};
pub use run::{Checksum, Report, checksum, run};
pub use table::Table;
