//! `transaction_with_retry` reruns lost races, and only those.

use std::cell::Cell;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use ecom_store::testing::TestDb;
use ecom_store::{Isolation, RetryPolicy, RetryReason, StoreError, transaction_with_retry};

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

/// What one writer thread saw: its outcome, how often its closure ran (once per
/// attempt), and the errors that ended its failed attempts inside the closure.
struct Writer {
    outcome: Result<usize, StoreError>,
    attempts: u32,
    lost: Vec<RetryReason>,
}

/// Runs `work(conn, first_attempt)` in `transaction_with_retry` on a connection of
/// its own, counting attempts and the retryable errors `work` returned.
fn writer(
    db: &TestDb,
    policy: RetryPolicy,
    work: impl Fn(&mut PgConnection, bool) -> Result<usize, StoreError> + Send + 'static,
) -> thread::JoinHandle<Writer> {
    let mut conn = db.connect();
    thread::spawn(move || {
        let (mut attempts, mut lost) = (0, Vec::new());
        let outcome = transaction_with_retry(&mut conn, policy, |conn| {
            attempts += 1;
            let result = work(conn, attempts == 1);
            if let Err(StoreError::Retryable { reason, .. }) = &result {
                lost.push(*reason);
            }
            result
        });
        Writer {
            outcome,
            attempts,
            lost,
        }
    })
}

fn text(conn: &mut PgConnection, query: &str) -> String {
    diesel::select(sql::<Text>(query))
        .get_result(conn)
        .unwrap_or_else(|err| panic!("{query}: {err}"))
}

#[test]
fn a_write_skew_between_serializable_writers_is_rerun_into_a_serial_order() {
    let db = TestDb::new();
    let policy = RetryPolicy {
        max_attempts: 5,
        ..quick()
    };
    assert_eq!(policy.isolation, Isolation::Serializable);
    // Both read the table, and only then (the barrier) both insert: each writes what
    // the other read, a write skew that serializable isolation must refuse.
    let barrier = Arc::new(Barrier::new(2));
    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|slug| {
            let barrier = Arc::clone(&barrier);
            writer(&db, policy, move |conn, first| {
                let seen: i64 = diesel::select(sql::<BigInt>("(SELECT count(*) FROM categories)"))
                    .get_result(conn)?;
                if first {
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
        .collect();
    let writers: Vec<Writer> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    for w in &writers {
        assert!(w.outcome.is_ok(), "{:?}", w.outcome);
        assert!(w.attempts <= policy.max_attempts, "{} attempts", w.attempts);
        // A loss seen inside the closure is a serialization failure (one seen at
        // COMMIT is not, but still counts as an attempt).
        assert!(
            w.lost
                .iter()
                .all(|r| *r == RetryReason::SerializationFailure),
            "{:?}",
            w.lost
        );
    }
    let attempts: u32 = writers.iter().map(|w| w.attempts).sum();
    assert!(
        attempts >= 3,
        "one writer lost the race and ran again ({attempts} attempts in all)"
    );
    // The rerun saw the other's row: the result is that of one writer after the other.
    let mut conn = db.connect();
    assert_eq!(
        text(
            &mut conn,
            "(SELECT string_agg(name, ', ' ORDER BY name) FROM categories)"
        ),
        "seen 0, seen 1"
    );
}

#[test]
fn a_deadlock_is_rerun_once_for_its_victim() {
    let db = TestDb::new();
    let policy = RetryPolicy {
        isolation: Isolation::ReadCommitted,
        ..quick()
    };
    setup(
        &mut db.connect(),
        "INSERT INTO categories (slug, name) VALUES ('x', 'X'), ('y', 'Y')",
    );
    // Each locks one row, waits until the other holds its own, then asks for the
    // other's: a deadlock on the first attempt, whoever the server picks as victim.
    let barrier = Arc::new(Barrier::new(2));
    let writers: Vec<_> = [("x", "y"), ("y", "x")]
        .into_iter()
        .map(|(mine, theirs)| {
            let barrier = Arc::clone(&barrier);
            writer(&db, policy, move |conn, first| {
                let update = |slug: &str| {
                    format!("UPDATE categories SET name = 'by {mine}' WHERE slug = '{slug}'")
                };
                if first {
                    exec(conn, &update(mine))?;
                    barrier.wait();
                    exec(conn, &update(theirs))
                } else {
                    // The victim's rerun asks first for the row the other still
                    // holds, holding nothing itself: taking its own first could
                    // beat the other to it and deadlock again.
                    exec(conn, &update(theirs))?;
                    exec(conn, &update(mine))
                }
            })
        })
        .collect();
    let writers: Vec<Writer> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    for w in &writers {
        assert_eq!(w.outcome.as_ref().ok(), Some(&1), "{:?}", w.outcome);
    }
    let attempts: Vec<u32> = writers.iter().map(|w| w.attempts).collect();
    let lost: Vec<RetryReason> = writers.iter().flat_map(|w| w.lost.clone()).collect();
    assert_eq!(lost, [RetryReason::Deadlock], "exactly one deadlock victim");
    let mut sorted = attempts.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [1, 2], "the victim ran twice, the other once");
    // Whoever committed last wrote both rows.
    let mut conn = db.connect();
    let names = text(
        &mut conn,
        "(SELECT string_agg(DISTINCT name, ', ') FROM categories)",
    );
    assert!(names == "by x" || names == "by y", "{names}");
}
