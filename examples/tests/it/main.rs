//! The examples' claims, asserted: the service over real HTTP, and each order flow
//! the binaries print run on a database of its own.

mod cancel_refund;
mod flash_sale;
mod load;
mod order_flow;
mod service;
mod two_roles;
mod util;
