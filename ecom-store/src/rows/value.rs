//! Stored values parsed back into domain values, and domain values as columns.

use std::str::FromStr;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Nullable};
use ecom_domain::prelude::*;
use rust_decimal::Decimal;

use crate::StoreError;

/// A row of one `id` column: `RETURNING id`, a list of ids.
#[derive(Debug, QueryableByName)]
pub(crate) struct IdRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
}

/// A row of one `id` column that may be NULL: "the first of these that...".
#[derive(Debug, QueryableByName)]
pub(crate) struct MaybeIdRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    pub id: Option<i64>,
}

/// A row of one `found` column: `SELECT EXISTS (...) AS found`.
#[derive(Debug, QueryableByName)]
pub(crate) struct Found {
    #[diesel(sql_type = Bool)]
    pub found: bool,
}

/// A stored value that does not parse into its domain type.
pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid {
        constraint: None,
        message: format!("stored {what} is not valid: {err}"),
    }
}

/// Parses a stored enum name.
pub(crate) fn parse_enum<T: FromStr>(what: &str, raw: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    raw.parse().map_err(|e| corrupt(what, e))
}

/// Money from a stored amount and currency code.
pub(crate) fn money(amount: Decimal, currency: &str) -> Result<Money, StoreError> {
    let currency = Currency::from_code(currency).map_err(|e| corrupt("currency", e))?;
    Money::new(amount, currency).map_err(|e| corrupt("amount", e))
}

pub(crate) fn quantity(raw: i32) -> Result<Quantity, StoreError> {
    Quantity::new(i64::from(raw)).map_err(|e| corrupt("quantity", e))
}

pub(crate) fn non_negative(what: &str, raw: i32) -> Result<u32, StoreError> {
    u32::try_from(raw).map_err(|e| corrupt(what, e))
}

/// A stock level as the `integer` column it is stored in.
pub(crate) fn stock_column(value: u32) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|_| DomainError::StockOutOfRange(value).into())
}

/// A quantity as the `integer` column it is stored in (always fits: at most 999).
pub(crate) fn quantity_column(q: Quantity) -> i32 {
    i32::try_from(q.get()).unwrap_or(i32::MAX)
}

/// A stored token digest (32 bytes, as the database's CHECK makes sure).
pub(crate) fn token_digest(bytes: Vec<u8>) -> Result<TokenDigest, StoreError> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| corrupt("token digest", format!("{} bytes", b.len())))?;
    Ok(TokenDigest::from_bytes(bytes))
}

/// A domain value as the `jsonb` column it is stored in (its serde form).
pub(crate) fn json_column<T: serde::Serialize>(value: &T) -> serde_json::Value {
    // Option types and selections serialize to plain arrays of strings: no map
    // with non-string keys, no float, nothing that can fail.
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// A stored `jsonb` value parsed back into its domain type.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &str,
    value: serde_json::Value,
) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|e| corrupt(what, e))
}
