//! `transaction_with_retry` reruns lost races, and only those.

use std::cell::Cell;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use ecom_store::testing::TestDb;
use ecom_store::{RetryPolicy, RetryReason, StoreError, transaction_with_retry};

use crate::util::{exec, setup};

fn quick() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    }
}

fn lost_race() -> StoreError {
    StoreError::Retryable {
        reason: RetryReason::SerializationFailure,
        message: "simulated".into(),
    }
}

#[test]
fn lost_races_are_rerun_with_earlier_work_rolled_back() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let attempts = Cell::new(0);
    let result = transaction_with_retry(&mut conn, quick(), |conn| {
        attempts.set(attempts.get() + 1);
        exec(
            conn,
            "INSERT INTO categories (slug, name) VALUES ('tea', 'Tea')",
        )?;
        if attempts.get() < 3 {
            Err(lost_race())
        } else {
            Ok("done")
        }
    });
    assert_eq!(result.unwrap(), "done");
    assert_eq!(attempts.get(), 3);
    let rows: i64 = diesel::select(sql::<BigInt>("(SELECT count(*) FROM categories)"))
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(rows, 1, "failed attempts were rolled back");
}

#[test]
fn retries_are_bounded_and_other_errors_are_not_retried() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let attempts = Cell::new(0);
    let err = transaction_with_retry(&mut conn, quick(), |_| -> Result<(), _> {
        attempts.set(attempts.get() + 1);
        Err(lost_race())
    })
    .unwrap_err();
    assert!(matches!(err, StoreError::Retryable { .. }));
    assert_eq!(attempts.get(), 3, "max_attempts in total");

    attempts.set(0);
    let err = transaction_with_retry(&mut conn, quick(), |conn| {
        attempts.set(attempts.get() + 1);
        exec(
            conn,
            "INSERT INTO categories (slug, name) VALUES ('Bad Slug', 'x')",
        )
    })
    .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert_eq!(attempts.get(), 1);
}

#[test]
fn refuses_to_run_inside_a_transaction() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let outer = conn
        .transaction(|conn| Ok::<_, StoreError>(transaction_with_retry(conn, quick(), |_| Ok(()))));
    let err = outer.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Other(diesel::result::Error::AlreadyInTransaction)
        ),
        "{err:?}"
    );
}

#[test]
fn concurrent_serializable_writers_both_succeed() {
    let db = TestDb::new();
    let barrier = Arc::new(Barrier::new(2));
    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|slug| {
            let mut conn = db.connect();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let mut first = true;
                transaction_with_retry(&mut conn, RetryPolicy::default(), |conn| {
                    // Both read, then both write: a write skew on the first attempt.
                    let seen: i64 =
                        diesel::select(sql::<BigInt>("(SELECT count(*) FROM categories)"))
                            .get_result(conn)?;
                    if std::mem::take(&mut first) {
                        barrier.wait();
                    }
                    exec(
                        conn,
                        &format!(
                            "INSERT INTO categories (slug, name) VALUES ('{slug}', 'seen {seen}')"
                        ),
                    )
                })
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap().unwrap();
    }
    let mut conn = db.connect();
    setup(&mut conn, "SELECT 1");
    let rows: i64 = diesel::select(sql::<BigInt>("(SELECT count(*) FROM categories)"))
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(rows, 2);
}
