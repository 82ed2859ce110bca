//! `flash-sale`: 24 buyers race for 7 consoles.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use ecom_domain::prelude::*;
use ecom_examples::flows::flash_sale;
use ecom_store::StoreError;
use ecom_store::testing::TestDb;

use crate::util::{RUN, store_with_pool};

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
fn a_flash_sale_sells_exactly_the_stock_and_refuses_everyone_else() {
    let db = TestDb::new();
    let store = store_with_pool(&db, flash_sale::POOL_SIZE);

    let sale = flash_sale::run(&store, RUN).unwrap();

    assert_eq!(
        (sale.sold, sale.out_of_stock, sale.left),
        (7, 17, 0),
        "sold, out of stock, left on the shelf"
    );
    assert!(sale.reconciles());
    match &sale.late_buyer_saw {
        Some(StoreError::Domain(DomainError::OutOfStock(short))) => {
            let seen: Vec<(u32, u32)> = short.iter().map(|s| (s.requested, s.available)).collect();
            assert_eq!(seen, [(1, 0)], "asked for one, none left");
        }
        other => panic!("a late buyer should see out of stock, saw {other:?}"),
    }

    // Nothing half-written: an order, a payment and a converted cart per sale, and
    // the refused carts still open for their buyers.
    let mut conn = db.connect();
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM orders"), 7);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM payments"), 7);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM carts WHERE status = 'converted'"
        ),
        7
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM carts WHERE status = 'open'"
        ),
        17
    );
}
