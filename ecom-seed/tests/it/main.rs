//! Integration tests of ecom-seed, in one binary to save link time.
//!
//! The database tests need the PostgreSQL server binaries (see `ecom_store::dev`) or a
//! `DATABASE_URL` whose user may create databases; each gets a database of its own.

mod csv_out;
mod determinism;
mod load;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use ecom_seed::{Plan, Scale, Table};

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
    /// The offending row's id (order, product or payment).
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
