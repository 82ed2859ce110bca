//! Faults under load: 8 threads check out, pay and cancel while, in turn, the server
//! restarts, backends are terminated, statements and idle transactions time out, and
//! slow callers exhaust the pool. Afterwards nothing acknowledged is missing, nothing
//! retried was applied twice, and stock, payments and the outbox reconcile.
//!
//! On a private cluster of its own, whatever `DATABASE_URL` says: the test restarts
//! its server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use ecom_domain::prelude::*;
use ecom_store::{PgStore, StoreConfig, StoreError, build_pool, get_conn};

use crate::util::{
    category, event, guest_owner, orders_by_key, own_private_cluster, product, request, scalar,
};

const WORKERS: usize = 8;
const PRODUCTS: usize = 12;
const INITIAL_STOCK: i64 = 100_000;
/// How long each fault is applied at least. Phases that must observe something (a
/// transaction cut off, the pool exhausted) go on until they have, up to
/// [`PATIENCE`] longer: a busy machine does less in a phase, and that must not fail
/// the test.
const PHASE: Duration = Duration::from_millis(2500);
const PATIENCE: Duration = Duration::from_secs(60);
const FAULTS: [&str; 5] = [
    "none (warm-up)",
    "server restart (stop -m fast, start)",
    "backends terminated",
    "statement / idle-in-transaction timeouts",
    "pool exhausted by slow callers",
];

/// Per fault: attempts that failed and were retried, by kind of error.
#[derive(Default)]
struct Tally {
    unavailable: AtomicUsize,
    retryable: AtomicUsize,
    other: AtomicUsize,
    done: AtomicUsize,
}

struct Stats {
    phase: AtomicUsize,
    per_phase: Vec<Tally>,
}

impl Stats {
    fn tally(&self) -> &Tally {
        &self.per_phase[self.phase.load(Ordering::Relaxed)]
    }
}

/// Sets the flag when dropped: a phase's helpers stop even if its checks panic.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Calls `op` until it succeeds, counting the failures it retries. Only retryable
/// errors are retried; anything else fails the test, unless `accept` turns it into
/// an outcome (an operation whose first attempt committed, seen on the retry).
fn until_done<T>(stats: &Stats, mut op: impl FnMut(bool) -> Result<T, StoreError>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut retry = false;
    loop {
        match op(retry) {
            Ok(value) => {
                stats.tally().done.fetch_add(1, Ordering::Relaxed);
                return value;
            }
            Err(err) if err.is_retryable() => {
                let tally = stats.tally();
                match err {
                    StoreError::Unavailable { .. } => &tally.unavailable,
                    StoreError::Retryable { .. } => &tally.retryable,
                    _ => &tally.other,
                }
                .fetch_add(1, Ordering::Relaxed);
                assert!(Instant::now() < deadline, "no success for 60 s: {err}");
                thread::sleep(Duration::from_millis(20));
                retry = true;
            }
            Err(err) => panic!("a non-retryable error under faults: {err:?}"),
        }
    }
}

/// What clients were told.
#[derive(Default)]
struct Acknowledged {
    checkouts: HashMap<String, i64>,
    payment_events: Vec<(i64, String)>,
    cancelled: Vec<i64>,
}

#[test]
fn faults_under_load_lose_nothing_acknowledged() {
    let stop_at_the_end = own_private_cluster("soak");
    let mut cluster = stop_at_the_end.0.clone();
    cluster
        .execute("postgres", "DROP DATABASE IF EXISTS soak WITH (FORCE)")
        .unwrap();
    let owner_url = cluster.create_database("soak").unwrap();
    ecom_store::migrate(&mut PgConnection::establish(&owner_url).unwrap()).unwrap();

    let config = StoreConfig {
        pool_max_size: 6,
        pool_min_idle: 2,
        connection_timeout: Duration::from_millis(400),
        statement_timeout: Duration::from_millis(300),
        idle_in_transaction_timeout: Duration::from_millis(300),
        application_name: "ecom-soak".into(),
        ..StoreConfig::new(&owner_url)
    };
    let store = PgStore::new(build_pool(&config).unwrap());
    let category = category(&store, "soak");
    let products: Vec<VariantId> = (0..PRODUCTS)
        .map(|i| {
            product(
                &store,
                category.id,
                &format!("SOAK-{i}"),
                INITIAL_STOCK as u32,
            )
            .variants[0]
                .id
        })
        .collect();

    let stats = Arc::new(Stats {
        phase: AtomicUsize::new(0),
        per_phase: FAULTS.iter().map(|_| Tally::default()).collect(),
    });
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let (store, stats, acknowledged, stop, products) = (
                store.clone(),
                stats.clone(),
                acknowledged.clone(),
                stop.clone(),
                products.clone(),
            );
            thread::spawn(move || {
                let mut n = 0usize;
                let mut open_orders: Vec<(OrderId, PaymentId, Money)> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    match n % 6 {
                        // Pay for the oldest unpaid order.
                        1 | 4 if !open_orders.is_empty() => {
                            let (order, payment, amount) = open_orders.remove(0);
                            for (key, action) in [
                                (
                                    format!("auth-{}", order.get()),
                                    PaymentAction::Authorize {
                                        amount,
                                        provider_ref: None,
                                    },
                                ),
                                (
                                    format!("cap-{}", order.get()),
                                    PaymentAction::Capture { amount },
                                ),
                            ] {
                                until_done(&stats, |_| {
                                    store.record_payment_event(payment, event(&key, action.clone()))
                                });
                                acknowledged
                                    .lock()
                                    .unwrap()
                                    .payment_events
                                    .push((payment.get(), key));
                            }
                        }
                        // Cancel the newest order (paid or not: refund or void).
                        5 if !open_orders.is_empty() => {
                            let (order, _, _) = open_orders.pop().unwrap();
                            until_done(&stats, |retry| {
                                match store.transition(order, OrderEvent::Cancel, None) {
                                    // The first attempt committed; the retry finds it done.
                                    Err(StoreError::Domain(DomainError::OrderTransition(_)))
                                        if retry
                                            && store.order(order)?.order.status
                                                == OrderStatus::Cancelled =>
                                    {
                                        Ok(())
                                    }
                                    other => other.map(drop),
                                }
                            });
                            acknowledged.lock().unwrap().cancelled.push(order.get());
                        }
                        // A guest buys one or two products.
                        _ => {
                            let guest = (worker * 1_000_000 + n) as u32;
                            let lines = [
                                (products[n % PRODUCTS], 1 + (n % 3) as i64),
                                (products[(n * 7 + worker) % PRODUCTS], 1),
                            ];
                            let cart = until_done(&stats, |_| {
                                let cart = store.open_cart(&guest_owner(guest), Currency::EUR)?;
                                // A retried add must not add twice: add what is missing.
                                for (product, quantity) in lines {
                                    if cart.quantity_of(product).is_none() {
                                        store.add_item(
                                            cart.id,
                                            product,
                                            Quantity::new(quantity).unwrap(),
                                        )?;
                                    }
                                }
                                Ok(cart.id)
                            });
                            let key = format!("soak-{worker}-{n}");
                            let placed =
                                until_done(&stats, |_| store.checkout(&request(cart, &key)));
                            acknowledged
                                .lock()
                                .unwrap()
                                .checkouts
                                .insert(key, placed.order.id.get());
                            open_orders.push((
                                placed.order.id,
                                placed.payment.as_ref().unwrap().id,
                                placed.order.totals.grand_total,
                            ));
                        }
                    }
                }
            })
        })
        .collect();

    for (phase, fault) in FAULTS.iter().enumerate() {
        stats.phase.store(phase, Ordering::Relaxed);
        let until = Instant::now() + PHASE;
        match phase {
            1 => {
                thread::sleep(PHASE / 3);
                cluster.stop().unwrap();
                // Down until the workers have felt it.
                let deadline = Instant::now() + PATIENCE;
                while stats.per_phase[1].unavailable.load(Ordering::Relaxed) == 0 {
                    assert!(Instant::now() < deadline, "no worker noticed the stop");
                    thread::sleep(Duration::from_millis(20));
                }
                cluster.start().unwrap();
            }
            2 => {
                let mut admin = PgConnection::establish(&cluster.url("postgres")).unwrap();
                while Instant::now() < until {
                    admin
                        .batch_execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                             WHERE application_name = 'ecom-soak' ORDER BY random() LIMIT 2",
                        )
                        .unwrap();
                    thread::sleep(Duration::from_millis(150));
                }
            }
            3 => {
                // A lock held longer than statement_timeout makes checkouts time out;
                // a caller idling in its transaction is cut off by the server.
                let mut blocker = PgConnection::establish(&owner_url).unwrap();
                let mut idle_cut_off = 0;
                let deadline = until + PATIENCE;
                while Instant::now() < until || (idle_cut_off == 0 && Instant::now() < deadline) {
                    blocker
                        .batch_execute("BEGIN; LOCK TABLE product_variants IN SHARE MODE")
                        .unwrap();
                    let slow = get_conn(store.pool()).map(|mut conn| {
                        conn.batch_execute("BEGIN").unwrap();
                        thread::sleep(Duration::from_millis(500));
                        let result = conn.batch_execute("SELECT 1").map_err(|e| e.to_string());
                        if result.is_ok() {
                            // Not cut off (a busy machine): leave no open transaction behind.
                            let _ = conn.batch_execute("ROLLBACK");
                        }
                        result
                    });
                    blocker.batch_execute("COMMIT").unwrap();
                    if let Ok(Err(message)) = slow {
                        assert!(
                            message.contains("idle-in-transaction")
                                || message.contains("closed")
                                || message.contains("terminat"),
                            "{message}"
                        );
                        idle_cut_off += 1;
                    }
                    thread::sleep(Duration::from_millis(100));
                }
                assert!(
                    idle_cut_off > 0,
                    "the server never cut off an idle transaction"
                );
            }
            4 => {
                // Slow callers hold every connection; the others get a typed timeout
                // after connection_timeout, not a hang.
                let waits = Mutex::new(Vec::new());
                let over = AtomicBool::new(false);
                let deadline = until + PATIENCE;
                thread::scope(|scope| {
                    for _ in 0..config.pool_max_size {
                        scope.spawn(|| {
                            while !over.load(Ordering::Relaxed) {
                                if let Ok(conn) = get_conn(store.pool()) {
                                    thread::sleep(Duration::from_millis(600));
                                    drop(conn);
                                }
                            }
                        });
                    }
                    scope.spawn(|| {
                        let _end_the_phase = SetOnDrop(&over);
                        loop {
                            let asked = Instant::now();
                            if let Err(err) = get_conn(store.pool()) {
                                assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
                                waits.lock().unwrap().push(asked.elapsed());
                            }
                            let exhausted = !waits.lock().unwrap().is_empty();
                            let now = Instant::now();
                            if (now >= until && exhausted) || now >= deadline {
                                break;
                            }
                        }
                    });
                });
                let waits = waits.lock().unwrap();
                assert!(!waits.is_empty(), "the pool was never exhausted");
                // On an idle machine the wait is connection_timeout; a busy one adds
                // scheduling delays, which the slack allows. A hang would exceed it.
                let longest = waits.iter().max().unwrap();
                assert!(
                    *longest < config.connection_timeout + Duration::from_secs(10),
                    "a caller waited {longest:?} for a connection"
                );
            }
            _ => {}
        }
        let left = until.saturating_duration_since(Instant::now());
        thread::sleep(left);
        println!("phase done: {fault}");
    }
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().unwrap();
    }

    println!(
        "\n| fault | operations acknowledged | retried: unavailable | retried: lost race | retried: other |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (fault, tally) in FAULTS.iter().zip(&stats.per_phase) {
        println!(
            "| {fault} | {} | {} | {} | {} |",
            tally.done.load(Ordering::Relaxed),
            tally.unavailable.load(Ordering::Relaxed),
            tally.retryable.load(Ordering::Relaxed),
            tally.other.load(Ordering::Relaxed)
        );
    }
    let faulted: usize = stats.per_phase[1..]
        .iter()
        .map(|t| t.unavailable.load(Ordering::Relaxed) + t.retryable.load(Ordering::Relaxed))
        .sum();
    assert!(faulted > 0, "the faults were never felt");

    // The pool recovered without a restart of anything: the same store still works.
    let cart = store
        .open_cart(&guest_owner(4_000_000_000), Currency::EUR)
        .unwrap();
    store
        .add_item(cart.id, products[0], Quantity::new(1).unwrap())
        .unwrap();
    store.checkout(&request(cart.id, "soak-after")).unwrap();

    let acknowledged = acknowledged.lock().unwrap();
    let mut conn = PgConnection::establish(&owner_url).unwrap();
    let keys = orders_by_key(&mut conn);
    for (key, order) in &acknowledged.checkouts {
        assert_eq!(keys.get(key), Some(order), "acknowledged checkout {key}");
    }
    let orders = scalar(&mut conn, "count(*) FROM orders");
    assert_eq!(
        orders,
        acknowledged.checkouts.len() as i64 + 1,
        "no order twice, none unknown"
    );
    assert_eq!(
        orders,
        scalar(&mut conn, "count(DISTINCT cart_id) FROM orders")
    );
    for (payment, key) in &acknowledged.payment_events {
        assert_eq!(
            scalar(
                &mut conn,
                &format!(
                    "count(*) FROM payment_events WHERE payment_id = {payment} AND idempotency_key = '{key}'"
                )
            ),
            1,
            "payment event {key} of payment {payment} exactly once"
        );
    }
    for order in &acknowledged.cancelled {
        assert_eq!(
            scalar(
                &mut conn,
                &format!("count(*) FROM orders WHERE id = {order} AND status = 'cancelled'")
            ),
            1
        );
    }
    assert_eq!(
        scalar(
            &mut conn,
            &format!(
                "count(*) FROM product_variants p WHERE p.stock_on_hand + coalesce((SELECT sum(l.quantity) \
                 FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.variant_id = p.id \
                 AND o.status NOT IN ('cancelled', 'expired')), 0) <> {INITIAL_STOCK}"
            )
        ),
        0,
        "stock + sold = initial stock"
    );
    assert_eq!(
        scalar(
            &mut conn,
            "count(*) FROM payments WHERE NOT (captured <= authorized AND refunded <= captured \
             AND authorized <= amount)"
        ),
        0
    );
    assert_eq!(
        scalar(
            &mut conn,
            "count(*) FROM outbox_events WHERE event_type = 'order.placed'"
        ),
        orders,
        "one order.placed per order"
    );
    assert_eq!(
        scalar(
            &mut conn,
            "count(DISTINCT aggregate_id) FROM outbox_events WHERE event_type = 'order.placed'"
        ),
        orders
    );
    assert_eq!(
        scalar(
            &mut conn,
            "count(*) FROM outbox_events WHERE event_type = 'order.status_changed'"
        ),
        scalar(
            &mut conn,
            "count(*) FROM order_status_history WHERE from_status IS NOT NULL"
        ),
        "one order.status_changed per transition"
    );
    assert_eq!(
        scalar(
            &mut conn,
            "count(*) FROM outbox_events WHERE event_type LIKE 'payment.%'"
        ),
        scalar(&mut conn, "count(*) FROM payment_events"),
        "one payment event in the outbox per recorded payment event"
    );
    println!(
        "{} checkouts, {} payment events, {} cancellations acknowledged; all present once",
        acknowledged.checkouts.len(),
        acknowledged.payment_events.len(),
        acknowledged.cancelled.len()
    );
}
