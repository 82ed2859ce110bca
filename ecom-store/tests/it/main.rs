//! Integration tests of ecom-store, in one binary to save link time.
//!
//! They need the PostgreSQL server binaries (see `ecom_store::dev`): with
//! `DATABASE_URL` set, test databases (`TestDb`) are made on that server, but the
//! tests of the private cluster itself and those that stop, kill or reconfigure a
//! server run on private clusters whatever it says (each module's first lines say
//! so; the crate's README lists them).

mod accounts;
mod bounds;
mod browse;
mod browse_plans;
mod cancellations;
mod catalog;
mod checkout;
mod config;
mod dev_cluster;
mod erd;
mod errors;
mod gift_cards;
mod inventory;
mod isolation;
mod layers;
mod migrations;
mod model;
mod ownership;
mod pool;
mod price_book;
mod promotions;
mod races;
mod replicas;
mod retry;
mod returns;
mod roles;
mod schema_details;
mod secrets;
mod soak;
mod sweeps;
mod test_db;
mod tls;
mod transaction_pooling;
mod util;
mod variants;
