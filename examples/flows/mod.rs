//! The order flows the `order-flow`, `flash-sale` and `cancel-refund` binaries print,
//! as functions that return what happened: the binaries print it, the tests assert it.
//!
//! Every flow takes a `run` number that it puts in slugs, SKUs, tokens and keys, so a
//! flow can run again on a database where it ran before. What the flows sell are
//! variants: a product of one variant is made with [`NewProduct::single`], its slug
//! from its name ([`slug_for`]).

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

impl From<OptionError> for FlowError {
    fn from(err: OptionError) -> Self {
        Self::Domain(err.into())
    }
}

/// A run number that differs from any earlier run's: the time in milliseconds.
pub fn fresh_run() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The one variant of a product without options: what a flow of one such product
/// puts in its carts.
pub fn only_variant(product: &Product) -> Result<VariantId, FlowError> {
    match product.variants.as_slice() {
        [only] => Ok(only.id),
        other => Err(FlowError::Broken(format!(
            "{} has {} variants, not one",
            product.name,
            other.len()
        ))),
    }
}

/// A product's slug from its name and the run: "Nyeri AA, 250 g" in run 7 is
/// `nyeri-aa-250-g-7`. Words of other scripts are left out; the run keeps the slug
/// unique, and the name is cut to leave it room.
pub fn slug_for(name: &ProductName, run: i64) -> Result<Slug, ValidationError> {
    let suffix = format!("-{run}");
    let words: Vec<String> = name
        .as_str()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut slug = String::new();
    for word in words {
        if slug.len() + 1 + word.len() + suffix.len() > Slug::MAX_LEN {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word);
    }
    if slug.is_empty() {
        slug.push_str("product");
    }
    Slug::parse(&(slug + &suffix))
}
