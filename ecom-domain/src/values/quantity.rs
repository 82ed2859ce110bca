//! Quantities of a product.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::check::ValidationError;

/// How many units of a product: at least 1, at most [`Quantity::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    /// The largest quantity of one product in one cart or order line.
    pub const MAX: u32 = 999;

    /// Validates a raw quantity.
    pub fn new(value: i64) -> Result<Self, ValidationError> {
        match u32::try_from(value) {
            Ok(q) if (1..=Self::MAX).contains(&q) => Ok(Self(q)),
            _ => Err(ValidationError::QuantityOutOfRange {
                value,
                max: Self::MAX,
            }),
        }
    }

    /// The number of units.
    pub fn get(self) -> u32 {
        self.0
    }

    /// `self + other`, still within range.
    pub fn checked_add(self, other: Quantity) -> Result<Self, ValidationError> {
        Self::new(i64::from(self.0) + i64::from(other.0))
    }
}

impl TryFrom<i64> for Quantity {
    type Error = ValidationError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
