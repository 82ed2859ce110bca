//! The store's error type: database outcomes mapped to what a caller can act on.
//!
//! All mapping from [`diesel::result::Error`] happens in one place, the `From` impl
//! below. Repositories add domain meaning on top by matching on
//! [`StoreError::constraint`], for example:
//!
//! ```
//! # use ecom_store::StoreError;
//! # #[derive(Debug)] enum RegisterError { EmailTaken, Store(StoreError) }
//! fn register_error(err: StoreError) -> RegisterError {
//!     match err.constraint() {
//!         Some("users_email_key") => RegisterError::EmailTaken,
//!         _ => RegisterError::Store(err),
//!     }
//! }
//! ```

use std::borrow::Cow;
use std::fmt;

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};
use ecom_domain::error::{DomainError, Taken};

/// Everything that can go wrong in the store, grouped by what the caller can do
/// about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The requested row, or a row the write refers to (foreign key), does not exist.
    #[error("{entity} not found{}", fmt_constraint(.constraint))]
    NotFound {
        /// What was looked for: a table or aggregate name such as `"product"`.
        entity: Cow<'static, str>,
        /// The foreign key that failed, when the database named one.
        constraint: Option<String>,
    },

    /// The write collides with existing data: a unique or exclusion constraint, or a
    /// delete of a row that others still refer to (`ON DELETE RESTRICT`).
    #[error("conflict on {constraint}: {message}")]
    Conflict {
        /// The violated constraint (or unique index) name.
        constraint: String,
        /// The database's message, for logs.
        message: String,
    },

    /// The data breaks a rule: a check or not-null constraint, or domain validation
    /// done by the store before writing.
    #[error("invalid data{}: {message}", fmt_constraint(.constraint))]
    Invalid {
        /// The violated constraint, when the database named one.
        constraint: Option<String>,
        /// What is wrong.
        message: String,
    },

    /// The transaction lost a race (serialization failure or deadlock) and can be
    /// run again as a whole; see [`crate::transaction_with_retry`].
    #[error("transaction must be retried ({reason}): {message}")]
    Retryable {
        /// Why the database aborted the transaction.
        reason: RetryReason,
        /// The database's message, for logs.
        message: String,
    },

    /// No usable connection: the pool timed out, the server is down or the connection
    /// broke. Worth retrying later, not immediately in a loop.
    #[error("database unavailable: {message}")]
    Unavailable {
        /// What failed, for logs.
        message: String,
    },

    /// Running the migrations failed.
    #[error("migration failed: {0}")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// The connection's role may not do this (SQLSTATE 42501): a schema change or a
    /// migration as the application role, a write as the read-only role. Schema
    /// changes run as the owner of the schema (`DATABASE_MIGRATION_URL`).
    #[error("permission denied: {message}")]
    PermissionDenied {
        /// What was refused, and to whom.
        message: String,
    },

    /// The database's schema is behind this build: migrations it embeds are not
    /// applied there. A service refuses to start on such a database
    /// ([`crate::migrate::check_schema`]) until they are run as the schema's owner.
    #[error(
        "the database schema is out of date: {} migration(s) of this build not applied ({}); \
         run them as the owner of the schema first (DATABASE_MIGRATION_URL)",
        .pending.len(),
        .pending.join(", ")
    )]
    SchemaOutdated {
        /// The versions not applied, oldest first (`20261202000019`...).
        pending: Vec<String>,
    },

    /// The store's configuration (environment, `.env`) is unusable.
    #[error("invalid configuration {key}: {message}")]
    Config {
        /// The offending setting, such as `ECOM_POOL_SIZE`.
        key: String,
        /// What is wrong with it.
        message: String,
    },

    /// A business rule refused the operation (out of stock, e-mail taken, an
    /// illegal order transition...). Nothing was written.
    #[error(transparent)]
    Domain(#[from] ecom_domain::error::DomainError),

    /// Any other database error; a bug or an unexpected state rather than bad input.
    #[error(transparent)]
    Other(DieselError),
}

/// The domain's specific errors arrive through [`DomainError`](ecom_domain::error::DomainError).
macro_rules! via_domain {
    ($($ty:ty),+) => {$(
        impl From<$ty> for StoreError {
            fn from(err: $ty) -> Self {
                Self::Domain(err.into())
            }
        }
    )+};
}

via_domain!(
    ecom_domain::values::ValidationError,
    ecom_domain::money::MoneyError,
    ecom_domain::order::OrderTransitionError,
    ecom_domain::payment::PaymentError,
    ecom_domain::password::PasswordError,
    ecom_domain::cart::CartError,
    ecom_domain::catalog::CatalogError,
    ecom_domain::pricing::PricingError
);

impl ecom_domain::repo::RepoError for StoreError {
    fn domain(&self) -> Option<&ecom_domain::error::DomainError> {
        match self {
            Self::Domain(err) => Some(err),
            _ => None,
        }
    }
}

/// Why a transaction was aborted in a way that a rerun can fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryReason {
    /// SQLSTATE 40001: a serializable transaction conflicted with a concurrent one.
    SerializationFailure,
    /// SQLSTATE 40P01: the transaction was chosen as a deadlock victim.
    Deadlock,
    /// SQLSTATE 25006 on a write: the server is a read-only standby now (the primary
    /// failed over). The store drops the connection; a new one finds the new primary.
    ReadOnlyServer,
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SerializationFailure => "serialization failure",
            Self::Deadlock => "deadlock",
            Self::ReadOnlyServer => "the server is read-only",
        })
    }
}

fn fmt_constraint(constraint: &Option<String>) -> String {
    constraint
        .as_deref()
        .map(|name| format!(" ({name})"))
        .unwrap_or_default()
}

impl StoreError {
    /// A [`StoreError::NotFound`] for `entity`, for repositories whose lookup came back
    /// empty.
    pub fn not_found(entity: impl Into<Cow<'static, str>>) -> Self {
        Self::NotFound {
            entity: entity.into(),
            constraint: None,
        }
    }

    /// The name of the constraint behind this error, if any: the hook for mapping to
    /// domain errors (`users_email_key` means "email taken").
    pub fn constraint(&self) -> Option<&str> {
        match self {
            Self::NotFound { constraint, .. } | Self::Invalid { constraint, .. } => {
                constraint.as_deref()
            }
            Self::Conflict { constraint, .. } => Some(constraint),
            _ => None,
        }
    }

    /// Whether running the same work again later may succeed: a lost race or an
    /// unavailable database. Bad input and bugs are not retryable.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable { .. } | Self::Unavailable { .. })
    }
}

impl From<DieselError> for StoreError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => Self::not_found("row"),
            DieselError::DatabaseError(kind, info) => match classify(kind, &*info) {
                Some(mapped) => mapped,
                None => Self::Other(DieselError::DatabaseError(kind, info)),
            },
            // A failed COMMIT followed by a failed ROLLBACK: the commit error says why.
            DieselError::RollbackErrorOnCommit { commit_error, .. } => Self::from(*commit_error),
            DieselError::BrokenTransactionManager => Self::Unavailable {
                message: "the connection's transaction state is broken".into(),
            },
            other => Self::Other(other),
        }
    }
}

/// Maps one database error by kind and, where the database gave one, constraint;
/// `None` leaves it as [`StoreError::Other`].
///
/// Diesel does not expose the SQLSTATE, and reports a deadlock (40P01) and a refused
/// privilege (42501) as `DatabaseErrorKind::Unknown`; they are recognised by
/// PostgreSQL's message, which is English unless the server runs with a translated
/// `lc_messages` (the private cluster uses `C`). A missed deadlock is still an error,
/// just not retried; a missed refusal stays [`StoreError::Other`].
fn classify(kind: DatabaseErrorKind, info: &dyn DatabaseErrorInformation) -> Option<StoreError> {
    let message = info.message().to_owned();
    let constraint = info.constraint_name().map(str::to_owned);
    let mapped = match kind {
        DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ExclusionViolation => {
            StoreError::Conflict {
                constraint: constraint.unwrap_or_default(),
                message,
            }
        }
        DatabaseErrorKind::ForeignKeyViolation | DatabaseErrorKind::RestrictViolation
            if is_still_referenced(info) =>
        {
            StoreError::Conflict {
                constraint: constraint.unwrap_or_default(),
                message,
            }
        }
        DatabaseErrorKind::ForeignKeyViolation | DatabaseErrorKind::RestrictViolation => {
            StoreError::NotFound {
                entity: referenced_table(info).map_or(Cow::Borrowed("referenced row"), Cow::Owned),
                constraint,
            }
        }
        DatabaseErrorKind::CheckViolation | DatabaseErrorKind::NotNullViolation => {
            StoreError::Invalid {
                // Not-null violations name the column, not a constraint.
                constraint: constraint.or_else(|| {
                    let column = info.column_name()?;
                    Some(match info.table_name() {
                        Some(table) => format!("{table}.{column}"),
                        None => column.to_owned(),
                    })
                }),
                message,
            }
        }
        DatabaseErrorKind::SerializationFailure => StoreError::Retryable {
            reason: RetryReason::SerializationFailure,
            message,
        },
        DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
            StoreError::Unavailable { message }
        }
        DatabaseErrorKind::ReadOnlyTransaction => StoreError::Retryable {
            reason: RetryReason::ReadOnlyServer,
            message,
        },
        // SQLSTATE 42501, which diesel reports as Unknown: recognised by message, as a
        // deadlock is below.
        _ if message.starts_with("permission denied")
            || message.starts_with("must be owner of") =>
        {
            StoreError::PermissionDenied { message }
        }
        _ if message.starts_with("deadlock detected") => StoreError::Retryable {
            reason: RetryReason::Deadlock,
            message,
        },
        // SQLSTATE 57014 from `statement_timeout`: the server was too slow (or a lock
        // was held too long) this time; nothing was changed.
        _ if message.starts_with("canceling statement due to statement timeout")
            || message.starts_with("canceling statement due to lock timeout") =>
        {
            StoreError::Unavailable { message }
        }
        _ => return None,
    };
    Some(mapped)
}

/// A delete or key update blocked by rows that still refer to this one (as opposed
/// to a write that refers to a missing row). PostgreSQL reports both as 23503 and
/// names the referencing table in both; only the detail tells them apart.
fn is_still_referenced(info: &dyn DatabaseErrorInformation) -> bool {
    info.details()
        .is_some_and(|details| details.contains("is still referenced"))
        || info.message().starts_with("update or delete on table")
}

/// The referenced table from a detail such as
/// `Key (category_id)=(7) is not present in table "categories".`
fn referenced_table(info: &dyn DatabaseErrorInformation) -> Option<String> {
    let details = info.details()?;
    let start = details.find("is not present in table \"")? + "is not present in table \"".len();
    let rest = &details[start..];
    Some(rest[..rest.find('"')?].to_owned())
}

impl From<diesel::ConnectionError> for StoreError {
    fn from(err: diesel::ConnectionError) -> Self {
        Self::Unavailable {
            message: err.to_string(),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable {
            message: err.to_string(),
        }
    }
}

impl From<diesel_migrations::MigrationError> for StoreError {
    fn from(err: diesel_migrations::MigrationError) -> Self {
        Self::Migration(Box::new(err))
    }
}

/// Turns a unique violation of `constraint` into the domain's "already taken".
pub(crate) fn taken(
    err: StoreError,
    constraint: &str,
    what: Taken,
    value: impl Into<String>,
) -> StoreError {
    match &err {
        StoreError::Conflict { constraint: c, .. } if c == constraint => {
            DomainError::AlreadyTaken {
                what,
                value: value.into(),
            }
            .into()
        }
        _ => err,
    }
}

/// Turns a foreign-key "not found" into the domain's not found for `entity`.
pub(crate) fn missing(err: StoreError, entity: &'static str, id: impl ToString) -> StoreError {
    match err {
        StoreError::NotFound { .. } => DomainError::not_found(entity, id).into(),
        other => other,
    }
}
