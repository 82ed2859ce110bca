//! Database outcomes arrive as the `StoreError` variant a caller can act on, naming
//! the constraint.

use std::sync::{Arc, Barrier};
use std::thread;

use diesel::prelude::*;
use ecom_store::testing::TestDb;
use ecom_store::{RetryReason, StoreError};

use crate::util::{exec, setup};

fn catalog() -> (TestDb, PgConnection) {
    let db = TestDb::new();
    let mut conn = db.connect();
    setup(
        &mut conn,
        "INSERT INTO categories (slug, name) VALUES ('tea', 'Tea')",
    );
    setup(
        &mut conn,
        "WITH p AS (INSERT INTO products (slug, name, category_id) \
                    SELECT 'tea-1', 'Green tea', id FROM categories WHERE slug = 'tea' \
                    RETURNING id) \
         INSERT INTO product_variants (product_id, sku, price, currency) \
         SELECT id, 'TEA-1', 4.5, 'EUR' FROM p",
    );
    (db, conn)
}

#[test]
fn unique_violation_is_a_conflict_naming_the_constraint() {
    let (_db, mut conn) = catalog();
    let err = exec(
        &mut conn,
        "INSERT INTO categories (slug, name) VALUES ('tea', 'Again')",
    )
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { constraint, .. } if constraint == "categories_slug_key"),
        "{err:?}"
    );

    setup(
        &mut conn,
        "INSERT INTO users (email, name, password_hash) VALUES ('Ann@Example.com', 'Ann', 'h')",
    );
    let err = exec(
        &mut conn,
        "INSERT INTO users (email, name, password_hash) VALUES ('ann@example.COM', 'Ann', 'h')",
    )
    .unwrap_err();
    assert_eq!(
        err.constraint(),
        Some("users_email_key"),
        "emails are unique ignoring case"
    );
    assert!(!err.is_retryable());
}

#[test]
fn missing_referenced_row_is_not_found() {
    let (_db, mut conn) = catalog();
    let err = exec(
        &mut conn,
        "INSERT INTO products (slug, name, category_id) VALUES ('x-1', 'X', -1)",
    )
    .unwrap_err();
    match &err {
        StoreError::NotFound { entity, constraint } => {
            assert_eq!(entity, "categories");
            assert_eq!(constraint.as_deref(), Some("products_category_id_fkey"));
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn deleting_a_still_referenced_row_is_a_conflict() {
    let (_db, mut conn) = catalog();
    let err = exec(&mut conn, "DELETE FROM categories WHERE slug = 'tea'").unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { constraint, .. } if constraint == "products_category_id_fkey"),
        "{err:?}"
    );
}

#[test]
fn check_and_not_null_violations_are_invalid() {
    let (_db, mut conn) = catalog();
    for (statement, constraint) in [
        (
            "UPDATE product_variants SET price = -1",
            "product_variants_price_non_negative",
        ),
        (
            "UPDATE products SET status = 'deleted'",
            "products_status_check",
        ),
        (
            "UPDATE product_variants SET currency = 'eur'",
            "product_variants_currency_format",
        ),
        (
            "UPDATE product_variants SET sku = 'lower'",
            "product_variants_sku_format",
        ),
        (
            "UPDATE product_variants SET stock_on_hand = -1",
            "product_variants_stock_non_negative",
        ),
        (
            "UPDATE product_variants SET gtin = '123'",
            "product_variants_gtin_format",
        ),
        (
            "UPDATE product_variants SET options = '{}'",
            "product_variants_options_shape",
        ),
        (
            "UPDATE products SET slug = 'Not A Slug'",
            "products_slug_format",
        ),
        (
            "UPDATE products SET options = '{}'",
            "products_options_shape",
        ),
        (
            "UPDATE categories SET parent_id = id",
            "categories_parent_not_self",
        ),
        ("UPDATE products SET name = NULL", "products.name"),
    ] {
        let err = exec(&mut conn, statement).unwrap_err();
        assert!(
            matches!(&err, StoreError::Invalid { constraint: Some(c), .. } if c == constraint),
            "{statement}: {err:?}"
        );
    }
}

#[test]
fn missing_row_is_not_found() {
    let (_db, mut conn) = catalog();
    let err: StoreError = diesel::sql_query("SELECT 1 AS one WHERE false")
        .get_result::<One>(&mut conn)
        .unwrap_err()
        .into();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

#[derive(QueryableByName, Debug)]
struct One {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    #[allow(dead_code)]
    one: i32,
}

#[test]
fn serialization_failure_is_retryable() {
    let db = TestDb::new();
    let (mut first, mut second) = (db.connect(), db.connect());
    // Write skew: both read the same set, both insert based on it.
    for conn in [&mut first, &mut second] {
        setup(conn, "BEGIN ISOLATION LEVEL SERIALIZABLE");
        setup(conn, "SELECT count(*) FROM categories");
    }
    setup(
        &mut first,
        "INSERT INTO categories (slug, name) VALUES ('a', 'A')",
    );
    setup(
        &mut second,
        "INSERT INTO categories (slug, name) VALUES ('b', 'B')",
    );
    setup(&mut first, "COMMIT");
    let err = exec(&mut second, "COMMIT").unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::Retryable {
                reason: RetryReason::SerializationFailure,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[test]
fn deadlock_is_retryable() {
    let db = TestDb::new();
    let mut conn = db.connect();
    setup(
        &mut conn,
        "INSERT INTO categories (id, slug, name) VALUES (1, 'a', 'A'), (2, 'b', 'B')",
    );
    let barrier = Arc::new(Barrier::new(2));
    let workers: Vec<_> = [(1, 2), (2, 1)]
        .into_iter()
        .map(|(first, then)| {
            let mut conn = db.connect();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                setup(&mut conn, "BEGIN");
                setup(
                    &mut conn,
                    &format!("UPDATE categories SET name = 'x' WHERE id = {first}"),
                );
                barrier.wait();
                let result = exec(
                    &mut conn,
                    &format!("UPDATE categories SET name = 'y' WHERE id = {then}"),
                );
                let _ = exec(&mut conn, "ROLLBACK");
                result
            })
        })
        .collect();
    let errors: Vec<StoreError> = workers
        .into_iter()
        .filter_map(|worker| worker.join().unwrap().err())
        .collect();
    assert_eq!(errors.len(), 1, "exactly one deadlock victim: {errors:?}");
    assert!(
        matches!(
            &errors[0],
            StoreError::Retryable {
                reason: RetryReason::Deadlock,
                ..
            }
        ),
        "{:?}",
        errors[0]
    );
}

#[test]
fn a_statement_timeout_is_unavailable_and_retryable() {
    let (_db, mut conn) = catalog();
    setup(&mut conn, "SET statement_timeout = '50ms'");
    let err = exec(&mut conn, "SELECT pg_sleep(1)").unwrap_err();
    assert!(matches!(&err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[test]
fn a_write_on_a_read_only_server_is_retryable_on_another_connection() {
    let (_db, mut conn) = catalog();
    // What a connection to a demoted primary (a standby now) answers to a write.
    setup(&mut conn, "SET default_transaction_read_only = on");
    let err = exec(
        &mut conn,
        "INSERT INTO categories (slug, name) VALUES ('coffee', 'Coffee')",
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::Retryable {
                reason: RetryReason::ReadOnlyServer,
                ..
            }
        ),
        "{err:?}"
    );
    // transaction_with_retry does not rerun it on the same connection, where it
    // would only fail again: the store's write path takes a new one.
    let mut runs = 0;
    let err =
        ecom_store::transaction_with_retry(&mut conn, ecom_store::RetryPolicy::default(), |conn| {
            runs += 1;
            exec(
                conn,
                "INSERT INTO categories (slug, name) VALUES ('coffee', 'Coffee')",
            )
        })
        .unwrap_err();
    assert_eq!(runs, 1);
    assert!(err.is_retryable(), "{err:?}");
}
