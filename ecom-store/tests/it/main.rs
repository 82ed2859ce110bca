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
mod replicas;
mod retry;
mod roles;
mod schema_details;
mod secrets;
mod soak;
mod tls;

use std::collections::HashMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use ecom_domain::prelude::*;
use ecom_store::{PgStore, StoreError};

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

/// `SELECT expr` as a number, e.g. `scalar(conn, "count(*) FROM orders")`.
#[track_caller]
pub fn scalar(conn: &mut PgConnection, expr: &str) -> i64 {
    diesel::select(sql::<BigInt>(expr))
        .get_result(conn)
        .unwrap_or_else(|err| panic!("SELECT {expr}: {err}"))
}

/// Every checkout idempotency key that produced an order, with that order's id.
pub fn orders_by_key(conn: &mut PgConnection) -> HashMap<String, i64> {
    #[derive(QueryableByName)]
    struct KeyOrder {
        #[diesel(sql_type = Text)]
        key: String,
        #[diesel(sql_type = BigInt)]
        order_id: i64,
    }
    diesel::sql_query("SELECT key, order_id FROM idempotency_keys WHERE order_id IS NOT NULL")
        .load::<KeyOrder>(conn)
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.order_id))
        .collect()
}

/// A root category named after its slug.
pub fn category(store: &PgStore, slug: &str) -> Category {
    store
        .create_category(NewCategory {
            parent_id: None,
            slug: Slug::parse(slug).unwrap(),
            name: CategoryName::parse(slug).unwrap(),
        })
        .unwrap()
}

/// A 20.00 EUR product with `stock` units.
pub fn product(store: &PgStore, category: CategoryId, sku: &str, stock: u32) -> Product {
    store
        .create_product(NewProduct {
            sku: Sku::parse(sku).unwrap(),
            name: ProductName::parse(&format!("Lamp {sku}")).unwrap(),
            description: Description::default(),
            category_id: category,
            price: Money::parse("20.00", Currency::EUR).unwrap(),
            stock_on_hand: stock,
        })
        .unwrap()
}
