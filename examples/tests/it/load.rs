//! `shop-load` runs its purchases and their pgbench ceiling end to end: every purchase
//! of both ends as a paid order, so the ceiling does what the service does.

use std::process::{Command, Stdio};

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use ecom_store::testing::TestDb;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
        .n
}

#[test]
fn the_load_program_and_its_ceiling_both_buy_and_pay() {
    let db = TestDb::new();
    let output = Command::new(env!("CARGO_BIN_EXE_shop-load"))
        .args(["--buyers", "2", "--each", "3", "--rounds", "1"])
        .env("DATABASE_URL", db.url())
        .env("DATABASE_MIGRATION_URL", db.owner_url())
        .env_remove("DATABASE_READ_URLS")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");

    // One row per workload, each with no errors and a ratio to its ceiling.
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.starts_with("| spread") || l.starts_with("| hot"))
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    for row in &rows {
        assert_eq!(row[6], "0", "errors: {stdout}");
        assert!(row[10].contains('.'), "no ratio: {stdout}");
    }

    // 2 workloads x 2 buyers x 3 purchases, by the service and by pgbench: all paid,
    // each with its two lines and its two payment events.
    let mut conn = db.connect();
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM orders"), 24);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM orders WHERE status = 'paid'"
        ),
        24
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM order_lines"),
        48
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM payment_events"),
        48
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM payments WHERE status = 'captured' AND captured = amount"
        ),
        24
    );
    // Stock moved by exactly the units sold.
    assert_eq!(
        count(
            &mut conn,
            "SELECT sum(1000000 - stock_on_hand)::bigint AS n FROM product_variants"
        ),
        48
    );
}
