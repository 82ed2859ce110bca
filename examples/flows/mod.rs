//! The order flows the `order-flow`, `flash-sale` and `cancel-refund` binaries print,
//! as functions that return what happened: the binaries print it, the tests assert it.
//!
//! Every flow takes a `run` number that it puts in slugs, SKUs, tokens and keys, so a
//! flow can run again on a database where it ran before.

pub mod cancel_refund;
pub mod flash_sale;
pub mod order_flow;

use ecom_domain::prelude::*;
use ecom_store::StoreError;

/// Why a flow stopped.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The store refused or failed a step.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value the flow made up is invalid.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The store answered, but not as the flow promises (a retried checkout made a
    /// second order, an illegal transition went through...).
    #[error("{0}")]
    Broken(String),
}

impl From<ValidationError> for FlowError {
    fn from(err: ValidationError) -> Self {
        Self::Domain(err.into())
    }
}

impl From<MoneyError> for FlowError {
    fn from(err: MoneyError) -> Self {
        Self::Domain(err.into())
    }
}

/// A run number that differs from any earlier run's: the time in milliseconds.
pub fn fresh_run() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
