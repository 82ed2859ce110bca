//! The repository traits of `ecom-domain` implemented by [`PgStore`](crate::PgStore),
//! one file per aggregate.

mod account;
mod cart;
mod catalog;
mod checkout;
mod customer;
mod fulfillment;
mod gift_card;
mod inventory;
mod order;
mod payment;
mod price_book;
mod promotion;
mod returns;
mod session;
