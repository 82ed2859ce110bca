//! Integration tests of ecom-store, in one binary to save link time.
//!
//! They need the PostgreSQL server binaries (see `ecom_store::dev`) or a
//! `DATABASE_URL` whose user may create databases.

mod accounts;
mod catalog;
mod checkout;
mod config;
mod dev_cluster;
mod erd;
mod errors;
mod isolation;
mod layers;
mod migrations;
mod model;
mod pool;
mod races;
mod replicas;
mod retry;
mod roles;
mod schema_details;
mod secrets;
mod soak;
mod tls;
mod util;
