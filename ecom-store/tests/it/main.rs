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
mod migrations;
mod model;
mod pool;
mod replicas;
mod retry;
mod roles;
mod schema_details;
mod secrets;
mod soak;
mod tls;

use diesel::prelude::*;
use ecom_store::StoreError;

/// Runs one SQL statement, mapping a failure the way repositories will.
pub fn exec(conn: &mut PgConnection, statement: &str) -> Result<usize, StoreError> {
    Ok(diesel::sql_query(statement).execute(conn)?)
}

/// Runs SQL that the test's arrangement depends on.
#[track_caller]
pub fn setup(conn: &mut PgConnection, statement: &str) {
    if let Err(err) = exec(conn, statement) {
        panic!("setup failed: {statement}: {err}");
    }
}
