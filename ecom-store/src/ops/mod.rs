//! Row-level operations that run inside a caller's transaction, one file per
//! aggregate: what the repository implementations in [`crate::repo`] combine.
//!
//! An ops file builds on the store's base (schema, rows, hand-written SQL, errors,
//! the outbox) and never imports another ops file nor anything of `repo/`; see
//! `docs/architecture.md`.

pub(crate) mod browse;
pub(crate) mod cancellation;
pub(crate) mod cart;
pub(crate) mod fulfillment;
pub(crate) mod gift_card;
pub(crate) mod idempotency;
pub(crate) mod inventory;
pub(crate) mod merchandise;
pub(crate) mod order;
pub(crate) mod page;
pub(crate) mod payment;
pub(crate) mod price_book;
pub(crate) mod product;
pub(crate) mod promotion;
pub(crate) mod returns;
pub(crate) mod session;
pub(crate) mod user;
