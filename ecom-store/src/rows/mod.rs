//! Rows as diesel reads and writes them, and their conversion to domain types.
//!
//! Reading a row back into the domain parses every value again: a row that a
//! client wrote around the store and that breaks a domain rule surfaces as
//! [`StoreError::Invalid`] instead of a half-valid value.

mod account;
mod cart;
mod catalog;
mod order;
mod payment;
mod value;

pub(crate) use account::*;
pub(crate) use cart::*;
pub(crate) use catalog::*;
pub(crate) use order::*;
pub(crate) use payment::*;
pub(crate) use value::*;
