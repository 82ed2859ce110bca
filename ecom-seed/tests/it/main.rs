//! Integration tests of ecom-seed, in one binary to save link time.
//!
//! The database tests need the PostgreSQL server binaries (see `ecom_store::dev`) or a
//! `DATABASE_URL` whose user may create databases; each gets a database of its own.

mod csv_out;
mod determinism;
mod golden;
mod load;
mod merchandise;
mod price_book;

use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use ecom_domain::money::Currency;
use ecom_seed::{Checksum, Plan, Scale, Table};
use sha2::{Digest, Sha256};

/// A plan of `scale` with a given seed.
pub fn plan(scale: Scale, seed: u64) -> Plan {
    Plan {
        seed,
        ..Plan::new(scale)
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Rows in `table`.
pub fn count(conn: &mut PgConnection, table: Table) -> u64 {
    let row: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {}", table.name()))
        .get_result(conn)
        .unwrap();
    row.n as u64
}

/// A broken rule found by `reconcile.sql`.
#[derive(QueryableByName, Debug)]
pub struct Violation {
    /// The rule.
    #[diesel(sql_type = Text)]
    pub what: String,
    /// The offending row's id (order, product, variant, collection, cart or payment).
    #[diesel(sql_type = BigInt)]
    pub id: i64,
}

/// Runs the reconciliation query (`reconcile.sql`): every row is a broken rule.
pub fn violations(conn: &mut PgConnection) -> Vec<Violation> {
    let sql = include_str!("reconcile.sql");
    diesel::sql_query(format!("SELECT v.* FROM ({sql}) AS v(what, id)"))
        .load(conn)
        .unwrap()
}

/// The checksum as the README defines it, computed here apart from the crate's own
/// code so that a test compares two computations, not one with itself: SHA-256 of
/// each table's CSV rows, then SHA-256 of the lines `<table>:<hex digest>` in
/// [`Table::ALL`] order.
pub fn checksum_of(mut rows: impl FnMut(Table) -> Vec<u8>) -> Checksum {
    let tables: Vec<(Table, String)> = Table::ALL
        .iter()
        .map(|table| (*table, format!("{:x}", Sha256::digest(rows(*table)))))
        .collect();
    let mut total = Sha256::new();
    for (table, digest) in &tables {
        total.update(format!("{table}:{digest}\n"));
    }
    Checksum {
        tables,
        total: format!("{:x}", total.finalize()),
    }
}

/// Columns stored as `numeric(19,4)`: read back at the currency's scale, as written.
const MONEY: [&str; 15] = [
    "price",
    "free_from",
    "subtotal",
    "shipping",
    "tax",
    "grand_total",
    "unit_price",
    "amount",
    "authorized",
    "captured",
    "refunded",
    "released",
    "initial_value",
    "balance",
    "balance_after",
];

/// The order rows were generated in: by id, or by the key of tables without one.
fn generation_order(table: Table) -> &'static str {
    match table {
        Table::CollectionProducts => "collection_id, position",
        Table::Markets => "currency",
        // A product's entries by variant, then list and tier.
        Table::PriceListEntries => "variant_id, price_list_id, min_quantity",
        Table::CustomerGroups => "user_id, customer_group",
        Table::CartLines => "cart_id, variant_id",
        // Each order's shipping address is written before its billing one.
        Table::OrderAddresses => "order_id, kind DESC",
        Table::OrderLines => "order_id, line_no",
        Table::ShipmentLines => "shipment_id, line_no",
        Table::ReturnLines => "return_id, line_no",
        _ => "id",
    }
}

/// `table`'s rows as the server holds them, read with `COPY ... TO STDOUT (FORMAT csv)`
/// in generation order, in UTC, money at `currency`'s scale: the bytes ecom-seed
/// sent, if the server stored what it was sent.
pub fn copy_out(url: &str, table: Table, currency: Currency) -> Vec<u8> {
    let columns: Vec<String> = table
        .columns()
        .iter()
        .map(|c| {
            if MONEY.contains(c) {
                format!("round({c}, {})", currency.minor_units())
            } else {
                (*c).to_owned()
            }
        })
        .collect();
    let sql = format!(
        "COPY (SELECT {} FROM {table} ORDER BY {}) TO STDOUT (FORMAT csv)",
        columns.join(", "),
        generation_order(table)
    );
    let output = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", &sql])
        .env("PGTZ", "UTC")
        .env("PGDATESTYLE", "ISO")
        .env("PGCLIENTENCODING", "UTF8")
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "reading {table} back failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The checksum of what the database holds, read back table by table.
pub fn loaded_checksum(url: &str, currency: Currency) -> Checksum {
    checksum_of(|table| copy_out(url, table, currency))
}
