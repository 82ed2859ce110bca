//! The one error type of ecom-seed.

use crate::table::Table;

/// What can go wrong while seeding.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The sizes or options do not make sense together.
    #[error("invalid plan: {0}")]
    Plan(String),
    /// The database already holds data and neither `--append` nor `--truncate` was given.
    #[error(
        "the database already holds data ({table} is not empty); pass --append to add to it or --truncate to replace it"
    )]
    NotEmpty {
        /// The first non-empty table found.
        table: &'static str,
    },
    /// The schema is missing and migrations were turned off.
    #[error("the schema is missing (no table {0}) and --no-migrate was given")]
    SchemaMissing(&'static str),
    /// The generator built a value the domain refuses: a bug in the generator.
    #[error("generated an invalid {what}: {message}")]
    Invalid {
        /// What was being generated.
        what: &'static str,
        /// The domain's complaint.
        message: String,
    },
    /// A database statement failed.
    #[error("database error while {action}: {source}")]
    Database {
        /// What was being done.
        action: String,
        /// The error.
        #[source]
        source: diesel::result::Error,
    },
    /// COPY into a table failed.
    #[error("COPY into {table} failed: {source}")]
    Copy {
        /// The table.
        table: Table,
        /// The error.
        #[source]
        source: diesel::result::Error,
    },
    /// The store could not connect or migrate.
    #[error(transparent)]
    Store(#[from] ecom_store::StoreError),
    /// Writing CSV files failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A failure injected by a test (see `LoadOptions::fail_after_batches`).
    #[error("injected failure after {0} batches")]
    Injected(u64),
    /// The generator thread stopped unexpectedly.
    #[error("the generator thread panicked")]
    GeneratorPanicked,
}

/// Begin, commit or rollback of the load transaction failed.
impl From<diesel::result::Error> for SeedError {
    fn from(source: diesel::result::Error) -> Self {
        SeedError::Database {
            action: "running the load transaction".into(),
            source,
        }
    }
}

impl SeedError {
    /// A generated value that the domain refused.
    pub fn invalid(what: &'static str, err: impl std::fmt::Display) -> Self {
        SeedError::Invalid {
            what,
            message: err.to_string(),
        }
    }

    /// A failed statement.
    pub fn db(action: impl Into<String>) -> impl FnOnce(diesel::result::Error) -> SeedError {
        let action = action.into();
        move |source| SeedError::Database { action, source }
    }
}
