//! Carts, checkout, orders, payments and the outbox on PostgreSQL, under concurrency.

use std::collections::HashSet;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use chrono::Utc;
use ecom_domain::prelude::*;
use ecom_store::{PgStore, StoreError};

use crate::util::{Shop, address, domain, event, guest_owner, request, scalar, setup};

/// A registered user named Buyer.
fn buyer(store: &PgStore, email: &str) -> User {
    store
        .register(NewUser {
            email: Email::parse(email).unwrap(),
            name: PersonName::parse("Buyer").unwrap(),
            password: Password::new("password123").unwrap(),
        })
        .unwrap()
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

#[test]
fn carts_keep_one_line_per_product_and_price_from_current_data() {
    let shop = Shop::new(&[5, 5]);
    let s = &shop.store;
    let cart = s.open_cart(&guest_owner(1), Currency::EUR).unwrap();
    assert_eq!(
        s.open_cart(&guest_owner(1), Currency::EUR).unwrap().id,
        cart.id
    );
    s.add_item(cart.id, shop.products[0], q(2)).unwrap();
    let c = s.add_item(cart.id, shop.products[0], q(3)).unwrap();
    assert_eq!(c.lines.len(), 1);
    assert_eq!(c.quantity_of(shop.products[0]), Some(q(5)));
    s.add_item(cart.id, shop.products[1], q(1)).unwrap();
    s.set_quantity(cart.id, shop.products[1], q(4)).unwrap();
    let draft = s
        .price_cart(cart.id, CountryCode::parse("DE").unwrap())
        .unwrap();
    assert_eq!(
        draft.totals.subtotal,
        Money::parse("135.00", Currency::EUR).unwrap()
    ); // 5 × 15.00 + 4 × 15.00
    let t = draft.totals;
    assert_eq!(
        t.subtotal
            .checked_add(t.shipping)
            .unwrap()
            .checked_add(t.tax)
            .unwrap(),
        t.grand_total
    );
    s.remove_item(cart.id, shop.products[1]).unwrap();
    let err = s.remove_item(cart.id, shop.products[1]).unwrap_err();
    assert!(matches!(domain(&err), DomainError::NotInCart { .. }));
    assert!(matches!(
        domain(s.add_item(cart.id, shop.products[0], q(999)).unwrap_err()),
        DomainError::Validation(_)
    ));
    assert!(matches!(
        domain(
            s.add_item(cart.id, VariantId::new(999_999), q(1))
                .unwrap_err()
        ),
        DomainError::NotFound {
            entity: "variant",
            ..
        }
    ));
    assert!(s.clear_cart(cart.id).unwrap().lines.is_empty());
    assert!(matches!(
        domain(s.checkout(&request(cart.id, "empty")).unwrap_err()),
        DomainError::EmptyCart
    ));
    assert_eq!(shop.count("SELECT count(*) AS n FROM idempotency_keys"), 0);
}

#[test]
fn checkout_snapshots_reserves_and_converts_in_one_go() {
    let shop = Shop::new(&[5, 5]);
    let cart = shop.cart(1, &[(0, 2), (1, 1)]);
    let done = shop.store.checkout(&request(cart, "k1")).unwrap();
    assert!(!done.replayed);
    assert_eq!(done.order.status, OrderStatus::PendingPayment);
    assert_eq!(done.order.lines.len(), 2);
    assert_eq!(shop.stock(shop.products[0]), 3);
    assert_eq!(shop.stock(shop.products[1]), 4);
    assert_eq!(shop.store.cart(cart).unwrap().status, CartStatus::Converted);
    let stored = shop.store.order(done.order.id).unwrap();
    assert_eq!(
        stored.order, done.order,
        "the returned order is what was stored"
    );
    assert_eq!(
        stored.payments,
        vec![done.payment.as_ref().unwrap().clone()]
    );
    assert!(done.order.payment_deadline > done.order.created_at);
    // A new cart for the same guest after checkout.
    let next = shop
        .store
        .open_cart(&guest_owner(1), Currency::EUR)
        .unwrap();
    assert_ne!(next.id, cart);
    assert_eq!(
        shop.count("SELECT count(*) AS n FROM outbox_events WHERE event_type = 'order.placed'"),
        1
    );
}

#[test]
fn out_of_stock_names_each_short_line_and_writes_nothing() {
    let shop = Shop::new(&[1, 2, 9]);
    let cart = shop.cart(1, &[(0, 2), (1, 3), (2, 1)]);
    let err = shop.store.checkout(&request(cart, "k1")).unwrap_err();
    let DomainError::OutOfStock(short) = domain(&err) else {
        panic!("{err:?}")
    };
    let seen: Vec<(VariantId, u32, u32)> = short
        .iter()
        .map(|s| (s.variant_id, s.requested, s.available))
        .collect();
    assert_eq!(
        seen,
        vec![(shop.products[0], 2, 1), (shop.products[1], 3, 2)]
    );
    assert_eq!(shop.stock(shop.products[2]), 9);
    for table in [
        "orders",
        "payments",
        "idempotency_keys",
        "outbox_events",
        "order_lines",
    ] {
        assert_eq!(
            shop.count(&format!("SELECT count(*) AS n FROM {table}")),
            0,
            "{table}"
        );
    }
}

#[test]
fn checkout_never_oversells_under_32_racing_buyers() {
    let shop = Shop::with_pool_size(&[10], 34);
    let carts: Vec<CartId> = (0..32).map(|g| shop.cart(g, &[(0, 1)])).collect();
    let start = Arc::new(Barrier::new(carts.len()));
    let outcomes: Vec<Result<Checkout, StoreError>> = thread::scope(|scope| {
        let handles: Vec<_> = carts
            .iter()
            .enumerate()
            .map(|(i, cart)| {
                let (store, start) = (&shop.store, start.clone());
                scope.spawn(move || {
                    start.wait();
                    store.checkout(&request(*cart, &format!("buyer-{i}")))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sold = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(sold, 10);
    for failure in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(
            matches!(domain(failure), DomainError::OutOfStock(s) if s[0].available == 0),
            "{failure:?}"
        );
    }
    assert_eq!(shop.stock(shop.products[0]), 0);
    assert_eq!(shop.count("SELECT count(*) AS n FROM orders"), 10);
    assert_eq!(
        shop.count("SELECT coalesce(sum(quantity), 0)::bigint AS n FROM order_lines"),
        10
    );
    assert_eq!(shop.count("SELECT count(*) AS n FROM payments"), 10);
    assert_eq!(shop.count("SELECT count(*) AS n FROM idempotency_keys"), 10);
    assert_eq!(
        shop.count("SELECT count(*) AS n FROM carts WHERE status = 'open'"),
        22
    );
}

#[test]
fn hot_products_bought_in_any_order_never_deadlock_or_oversell() {
    let stocks = [15, 15, 15, 15];
    let shop = Shop::with_pool_size(&stocks, 18);
    // Each buyer wants 1 of each hot product; carts list them in different orders.
    let carts: Vec<CartId> = (0..16u32)
        .map(|g| {
            let mut lines: Vec<(usize, i64)> = (0..4).map(|p| (p, 1)).collect();
            lines.rotate_left(g as usize % 4);
            if g % 2 == 1 {
                lines.reverse();
            }
            shop.cart(g, &lines)
        })
        .collect();
    let start = Arc::new(Barrier::new(carts.len()));
    let outcomes: Vec<Result<Checkout, StoreError>> = thread::scope(|scope| {
        let handles: Vec<_> = carts
            .iter()
            .enumerate()
            .map(|(i, cart)| {
                let (store, start) = (&shop.store, start.clone());
                scope.spawn(move || {
                    start.wait();
                    store.checkout(&request(*cart, &format!("hot-{i}")))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sold = outcomes.iter().filter(|o| o.is_ok()).count() as i64;
    for failure in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(
            matches!(domain(failure), DomainError::OutOfStock(_)),
            "no other error escapes: {failure:?}"
        );
    }
    assert_eq!(sold, 15);
    for p in &shop.products {
        assert_eq!(shop.stock(*p), 0);
    }
    assert_eq!(
        shop.count("SELECT coalesce(sum(quantity), 0)::bigint AS n FROM order_lines"),
        sold * 4
    );
}

#[test]
fn the_same_key_from_many_threads_yields_one_order() {
    let shop = Shop::with_pool_size(&[10], 10);
    let cart = shop.cart(1, &[(0, 2)]);
    let start = Arc::new(Barrier::new(8));
    let orders: Vec<Checkout> = thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (store, start) = (&shop.store, start.clone());
                scope.spawn(move || {
                    start.wait();
                    store.checkout(&request(cart, "same-key")).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ids: HashSet<OrderId> = orders.iter().map(|c| c.order.id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(orders.iter().filter(|c| !c.replayed).count(), 1);
    assert_eq!(shop.stock(shop.products[0]), 8);
    assert_eq!(shop.count("SELECT count(*) AS n FROM orders"), 1);
    // Same key, different request: a typed conflict.
    let mut other = request(cart, "same-key");
    other.shipping = AddressChoice::Given(address("Hamburg"));
    let err = shop.store.checkout(&other).unwrap_err();
    assert_eq!(
        domain(&err),
        DomainError::IdempotencyConflict {
            key: "same-key".into()
        }
    );
    // Keys are kept for their retention (by `expires_at`), then purged.
    let retention = ecom_domain::rules::IDEMPOTENCY_RETENTION;
    let within = Utc::now() + retention - chrono::Duration::minutes(1);
    assert_eq!(shop.store.purge_idempotency_keys(within).unwrap(), 0);
    let after = Utc::now() + retention + chrono::Duration::seconds(1);
    assert_eq!(shop.store.purge_idempotency_keys(after).unwrap(), 1);
}

#[test]
fn payments_drive_the_order_and_duplicate_callbacks_are_harmless() {
    let shop = Shop::new(&[5]);
    let done = shop
        .store
        .checkout(&request(shop.cart(1, &[(0, 1)]), "k1"))
        .unwrap();
    let (s, pay, total) = (
        &shop.store,
        done.payment.as_ref().unwrap().id,
        done.payment.as_ref().unwrap().amount,
    );
    let reference = ProviderRef::parse("ch_123").unwrap();
    s.record_payment_event(
        pay,
        event(
            "auth",
            PaymentAction::Authorize {
                amount: total,
                provider_ref: Some(reference.clone()),
            },
        ),
    )
    .unwrap();
    let half = Money::from_minor(total.to_minor().unwrap() / 2, Currency::EUR);
    let rest = total.checked_sub(half).unwrap();
    let out = s
        .record_payment_event(pay, event("cap-1", PaymentAction::Capture { amount: half }))
        .unwrap();
    assert_eq!(out.order_status, OrderStatus::PendingPayment);
    let out = s
        .record_payment_event(pay, event("cap-2", PaymentAction::Capture { amount: rest }))
        .unwrap();
    assert_eq!(out.order_status, OrderStatus::Paid);
    let dup = s
        .record_payment_event(pay, event("cap-2", PaymentAction::Capture { amount: rest }))
        .unwrap();
    assert_eq!(dup.applied, Applied::Duplicate);
    assert_eq!(dup.payment.captured, total);
    assert_eq!(
        s.payment_by_provider_ref(&ProviderName::parse("test").unwrap(), &reference)
            .unwrap()
            .id,
        pay
    );
    let err = s
        .record_payment_event(
            pay,
            event(
                "over",
                PaymentAction::Refund {
                    amount: total
                        .checked_add(Money::from_minor(1, Currency::EUR))
                        .unwrap(),
                    reason: None,
                },
            ),
        )
        .unwrap_err();
    assert!(matches!(
        domain(&err),
        DomainError::Payment(PaymentError::OverRefund { .. })
    ));
    s.transition(done.order.id, OrderEvent::Ship, Some("DHL 1234".into()))
        .unwrap();
    s.record_payment_event(
        pay,
        event(
            "ref-1",
            PaymentAction::Refund {
                amount: half,
                reason: Some(Reason::parse("damaged").unwrap()),
            },
        ),
    )
    .unwrap();
    let out = s
        .record_payment_event(
            pay,
            event(
                "ref-2",
                PaymentAction::Refund {
                    amount: rest,
                    reason: None,
                },
            ),
        )
        .unwrap();
    assert_eq!(out.order_status, OrderStatus::Refunded);
    assert_eq!(out.payment.status, PaymentStatus::Refunded);
    let details = s.order(done.order.id).unwrap();
    let path: Vec<OrderStatus> = details.order.history.iter().map(|h| h.to).collect();
    assert_eq!(
        path,
        [
            OrderStatus::PendingPayment,
            OrderStatus::Paid,
            OrderStatus::Shipped,
            OrderStatus::Refunded
        ]
    );
    assert_eq!(details.order.history[2].note.as_deref(), Some("DHL 1234"));
    assert_eq!(details.payments[0].events.len(), 5);
    // The same provider reference on another payment is taken.
    let other = s.checkout(&request(shop.cart(2, &[(0, 1)]), "k2")).unwrap();
    let err = s
        .record_payment_event(
            other.payment.as_ref().unwrap().id,
            event(
                "auth",
                PaymentAction::Authorize {
                    amount: other.payment.as_ref().unwrap().amount,
                    provider_ref: Some(reference),
                },
            ),
        )
        .unwrap_err();
    assert!(matches!(
        domain(&err),
        DomainError::AlreadyTaken {
            what: Taken::ProviderRef,
            ..
        }
    ));
}

#[test]
fn the_database_refuses_over_capture_even_without_the_store() {
    let shop = Shop::new(&[5]);
    let done = shop
        .store
        .checkout(&request(shop.cart(1, &[(0, 1)]), "k1"))
        .unwrap();
    let err = crate::util::exec(
        &mut shop.db.connect(),
        &format!(
            "UPDATE payments SET authorized = amount, captured = amount + 1 WHERE id = {}",
            done.payment.as_ref().unwrap().id
        ),
    )
    .unwrap_err();
    assert_eq!(err.constraint(), Some("payments_captured_range"));
    let err = crate::util::exec(
        &mut shop.db.connect(),
        "UPDATE product_variants SET stock_on_hand = -1",
    )
    .unwrap_err();
    assert_eq!(
        err.constraint(),
        Some("product_variants_stock_non_negative")
    );
}

#[test]
fn cancelling_restocks_once_and_refunds_the_capture() {
    let shop = Shop::new(&[5]);
    let done = shop
        .store
        .checkout(&request(shop.cart(1, &[(0, 3)]), "k1"))
        .unwrap();
    let (s, pay, total) = (
        &shop.store,
        done.payment.as_ref().unwrap().id,
        done.payment.as_ref().unwrap().amount,
    );
    s.record_payment_event(
        pay,
        event(
            "a",
            PaymentAction::Authorize {
                amount: total,
                provider_ref: None,
            },
        ),
    )
    .unwrap();
    s.record_payment_event(pay, event("c", PaymentAction::Capture { amount: total }))
        .unwrap();
    assert_eq!(shop.stock(shop.products[0]), 2);
    // Two concurrent cancellations: one wins, the other gets a typed error.
    let results: Vec<Result<Order, StoreError>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| s.transition(done.order.id, OrderEvent::Cancel, None)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert!(
        matches!(domain(loser), DomainError::OrderTransition(e) if e.from == OrderStatus::Cancelled)
    );
    assert_eq!(shop.stock(shop.products[0]), 5);
    let details = s.order(done.order.id).unwrap();
    assert_eq!(details.order.status, OrderStatus::Cancelled);
    assert_eq!(details.payments[0].status, PaymentStatus::Refunded);
    assert_eq!(details.payments[0].refunded, total);
    let err = s
        .transition(done.order.id, OrderEvent::Ship, None)
        .unwrap_err();
    assert!(matches!(domain(&err), DomainError::OrderTransition(e) if e.allowed.is_empty()));
    let err = s
        .transition(done.order.id, OrderEvent::Expire, None)
        .unwrap_err();
    assert_eq!(
        domain(&err),
        DomainError::NotAManualEvent(OrderEvent::Expire)
    );
}

#[test]
fn concurrent_sweepers_expire_each_order_once_and_late_payments_are_refused() {
    let shop = Shop::with_pool_size(&[50], 8);
    let orders: Vec<Checkout> = (0..12)
        .map(|g| {
            shop.store
                .checkout(&request(shop.cart(g, &[(0, 2)]), &format!("k{g}")))
                .unwrap()
        })
        .collect();
    assert_eq!(shop.stock(shop.products[0]), 26);
    let later = Utc::now() + chrono::Duration::hours(1);
    let start = Arc::new(Barrier::new(4));
    let expired: Vec<Vec<OrderId>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (store, start) = (&shop.store, start.clone());
                scope.spawn(move || {
                    start.wait();
                    store.expire_unpaid_orders(later).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let all: Vec<OrderId> = expired.into_iter().flatten().collect();
    let unique: HashSet<OrderId> = all.iter().copied().collect();
    assert_eq!(all.len(), 12, "each order expired exactly once");
    assert_eq!(unique.len(), 12);
    assert_eq!(
        shop.stock(shop.products[0]),
        50,
        "stock restored exactly once"
    );
    assert_eq!(
        shop.count("SELECT count(*) AS n FROM order_status_history WHERE to_status = 'expired'"),
        12
    );
    let late = &orders[0];
    let err = shop
        .store
        .record_payment_event(
            late.payment.as_ref().unwrap().id,
            event(
                "late",
                PaymentAction::Capture {
                    amount: late.payment.as_ref().unwrap().amount,
                },
            ),
        )
        .unwrap_err();
    assert!(
        matches!(
            domain(&err),
            DomainError::Payment(_) | DomainError::OrderNotPayable { .. }
        ),
        "{err:?}"
    );
    assert_eq!(
        shop.store
            .payment(late.payment.as_ref().unwrap().id)
            .unwrap()
            .status,
        PaymentStatus::Voided
    );
}

#[test]
fn listings_page_by_keyset() {
    let shop = Shop::new(&[100]);
    let mut placed = Vec::new();
    for g in 0..7 {
        placed.push(
            shop.store
                .checkout(&request(shop.cart(g, &[(0, 1)]), &format!("k{g}")))
                .unwrap()
                .order
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = shop
            .store
            .orders_in_status(OrderStatus::PendingPayment, PageRequest { after, limit: 3 })
            .unwrap();
        seen.extend(page.items.iter().map(|o| o.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, placed, "oldest first, every order once");
    assert!(
        shop.store
            .orders_in_status(OrderStatus::Paid, PageRequest::first(10))
            .unwrap()
            .items
            .is_empty()
    );
}

#[test]
fn two_publishers_drain_the_outbox_exactly_once_between_them() {
    let shop = Shop::with_pool_size(&[100], 6);
    for g in 0..20 {
        shop.store
            .checkout(&request(shop.cart(g, &[(0, 1)]), &format!("k{g}")))
            .unwrap();
    }
    let total = shop.store.outbox_backlog().unwrap();
    assert_eq!(total, 20);
    let seen = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while shop
                    .store
                    .publish_outbox(3, |events| {
                        thread::sleep(Duration::from_millis(5));
                        seen.lock().unwrap().extend(events.iter().map(|e| e.id));
                        Ok::<(), std::io::Error>(())
                    })
                    .unwrap()
                    > 0
                {}
            });
        }
    });
    let seen = seen.into_inner().unwrap();
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(seen.len() as i64, total);
    assert_eq!(unique.len() as i64, total);
    assert_eq!(shop.store.outbox_backlog().unwrap(), 0);
    // A publisher that fails leaves its batch for the next one.
    shop.store
        .checkout(&request(shop.cart(99, &[(0, 1)]), "k99"))
        .unwrap();
    let failed = shop
        .store
        .publish_outbox(10, |_| Err(std::io::Error::other("broker down")));
    assert!(failed.is_err());
    assert_eq!(shop.store.outbox_backlog().unwrap(), 1);
}

/// Where a test-only trigger holds a checkout until the test kills its backend.
#[derive(Debug, Clone, Copy)]
enum Stall {
    /// Inside the checkout's last write, the stock update, after it changed the rows:
    /// everything is written, nothing committed.
    LastWrite,
    /// At `COMMIT`: a deferred constraint trigger runs as the commit begins.
    Commit,
}

impl Stall {
    /// The trigger that waits on the test's advisory lock.
    fn trigger(self) -> &'static str {
        match self {
            Stall::LastWrite => {
                "CREATE TRIGGER stall AFTER UPDATE OF stock_on_hand ON product_variants \
                 FOR EACH ROW EXECUTE FUNCTION stall()"
            }
            Stall::Commit => {
                "CREATE CONSTRAINT TRIGGER stall AFTER INSERT ON orders \
                 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stall()"
            }
        }
    }

    /// The start of the statement the stalled backend is running.
    fn statement(self) -> &'static str {
        match self {
            Stall::LastWrite => "UPDATE product_variants v SET stock_on_hand",
            Stall::Commit => "COMMIT",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Stall::LastWrite => "product_variants",
            Stall::Commit => "orders",
        }
    }
}

/// The advisory lock the stall trigger waits on ("stall").
const STALL_LOCK: i64 = 0x73_74_61_6c_6c;

/// Every table a checkout writes to.
const CHECKOUT_TABLES: [&str; 9] = [
    "idempotency_keys",
    "carts",
    "orders",
    "order_addresses",
    "order_lines",
    "order_status_history",
    "payments",
    "outbox_events",
    "product_variants",
];

/// Stalls a checkout at `stall` (a trigger waits on an advisory lock the test holds),
/// checks it has written to every table it writes, terminates its backend, and then
/// finds nothing of it committed; the same checkout run again succeeds.
fn killed_checkout_leaves_nothing_behind(stall: Stall) {
    let shop = Shop::new(&[5]);
    let cart = shop.cart(1, &[(0, 2)]);
    let mut admin = shop.db.connect();
    setup(
        &mut admin,
        &format!(
            "CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN PERFORM pg_advisory_xact_lock({STALL_LOCK}); RETURN NULL; END $$"
        ),
    );
    setup(&mut admin, stall.trigger());
    setup(
        &mut admin,
        &format!("SELECT pg_advisory_lock({STALL_LOCK})"),
    );
    let (written, killed, outcome) = thread::scope(|scope| {
        let buyer = scope.spawn(|| shop.store.checkout(&request(cart, "doomed")));
        // The backend waiting on the lock, in the statement `stall` names.
        let waiting = format!(
            "coalesce((SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' \
             AND wait_event = 'advisory' AND query LIKE '{}%'), 0)::bigint",
            stall.statement()
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        let pid = loop {
            let pid = scalar(&mut admin, &waiting);
            if pid != 0 {
                break pid;
            }
            assert!(
                !buyer.is_finished(),
                "the checkout ended without stalling at {stall:?}"
            );
            assert!(
                Instant::now() < deadline,
                "the checkout did not stall at {stall:?} within 60 s"
            );
            thread::sleep(Duration::from_millis(20));
        };
        // It has written to every table a checkout writes (each write holds its
        // table's ROW EXCLUSIVE lock until the transaction ends): what it leaves
        // behind after the kill is what a commit would have published.
        let tables = CHECKOUT_TABLES.map(|t| format!("'{t}'")).join(", ");
        let written = scalar(
            &mut admin,
            &format!(
                "count(DISTINCT c.relname) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                 WHERE l.pid = {pid} AND l.granted AND l.mode = 'RowExclusiveLock' \
                 AND c.relname IN ({tables})"
            ),
        );
        let killed = scalar(
            &mut admin,
            &format!("pg_terminate_backend({pid})::int::bigint"),
        );
        (written, killed, buyer.join().unwrap())
    });
    assert_eq!(
        written,
        CHECKOUT_TABLES.len() as i64,
        "every write of the checkout is done when it stalls at {stall:?}"
    );
    assert_eq!(killed, 1);
    let err = outcome.unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable { .. }),
        "a lost connection is reported as such: {err:?}"
    );
    setup(
        &mut admin,
        &format!("SELECT pg_advisory_unlock({STALL_LOCK})"),
    );
    setup(
        &mut admin,
        &format!("DROP TRIGGER stall ON {}", stall.table()),
    );

    assert_eq!(shop.stock(shop.products[0]), 5, "stock unchanged");
    for table in CHECKOUT_TABLES
        .iter()
        .filter(|t| !["carts", "product_variants"].contains(t))
    {
        assert_eq!(
            shop.count(&format!("SELECT count(*) AS n FROM {table}")),
            0,
            "{table}"
        );
    }
    assert_eq!(shop.store.cart(cart).unwrap().status, CartStatus::Open);

    // The retry with the same key succeeds, once.
    let done = shop.store.checkout(&request(cart, "doomed")).unwrap();
    assert!(!done.replayed);
    assert_eq!(shop.stock(shop.products[0]), 3);
    assert_eq!(shop.store.cart(cart).unwrap().status, CartStatus::Converted);
    assert_eq!(shop.count("SELECT count(*) AS n FROM orders"), 1);
    assert_eq!(shop.count("SELECT count(*) AS n FROM outbox_events"), 1);
}

#[test]
fn a_checkout_killed_in_its_last_write_leaves_nothing_behind() {
    killed_checkout_leaves_nothing_behind(Stall::LastWrite);
}

#[test]
fn a_checkout_killed_at_commit_leaves_nothing_behind() {
    killed_checkout_leaves_nothing_behind(Stall::Commit);
}

#[test]
fn a_users_orders_come_newest_first_a_page_at_a_time() {
    let shop = Shop::new(&[100]);
    let s = &shop.store;
    let user = buyer(s, "buyer@example.com");
    let home = s
        .add_address(
            user.id,
            NewAddress {
                kind: AddressKind::Shipping,
                postal: address("Berlin"),
                make_default: true,
            },
        )
        .unwrap();
    let mut placed = Vec::new();
    for i in 0..5 {
        let cart = s
            .open_cart(&CartOwner::User(user.id), Currency::EUR)
            .unwrap();
        s.add_item(cart.id, shop.products[0], q(1)).unwrap();
        let request = CheckoutRequest {
            shipping: AddressChoice::Saved(home.id),
            billing: AddressChoice::Saved(home.id),
            guest_email: None,
            ..request(cart.id, &format!("u{i}"))
        };
        let done = s.checkout(&request).unwrap();
        assert_eq!(done.order.shipping_address, address("Berlin"));
        placed.push(done.order.id);
    }
    placed.reverse();
    let first = s.orders_of_user(user.id, PageRequest::first(2)).unwrap();
    let second = s
        .orders_of_user(
            user.id,
            PageRequest {
                after: first.next,
                limit: 2,
            },
        )
        .unwrap();
    let third = s
        .orders_of_user(
            user.id,
            PageRequest {
                after: second.next,
                limit: 2,
            },
        )
        .unwrap();
    let seen: Vec<OrderId> = [first.items, second.items, third.items]
        .concat()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(seen, placed);
    assert_eq!(third.next, None);
    let missing = s
        .orders_of_user(UserId::new(999_999), PageRequest::first(2))
        .unwrap_err();
    assert!(matches!(
        domain(&missing),
        DomainError::NotFound { entity: "user", .. }
    ));
    // Someone else's saved address can't be used.
    let cart = s
        .open_cart(&CartOwner::User(user.id), Currency::EUR)
        .unwrap();
    s.add_item(cart.id, shop.products[0], q(1)).unwrap();
    let stranger = CheckoutRequest {
        shipping: AddressChoice::Saved(AddressId::new(999_999)),
        ..request(cart.id, "x")
    };
    assert!(matches!(
        domain(s.checkout(&stranger).unwrap_err()),
        DomainError::NotFound {
            entity: "address",
            ..
        }
    ));
}

#[test]
fn a_guest_cart_attaches_to_a_user_and_merges_into_their_open_cart() {
    let shop = Shop::new(&[10, 10]);
    let s = &shop.store;
    // A user without a cart takes the guest's cart over.
    let ada = buyer(s, "ada@example.com");
    let guest_cart = shop.cart(1, &[(0, 1)]);
    let taken = s.attach_cart(guest_cart, ada.id).unwrap();
    assert_eq!(taken.id, guest_cart);
    assert_eq!(taken.owner, CartOwner::User(ada.id));
    assert_eq!(
        s.open_cart(&CartOwner::User(ada.id), Currency::EUR)
            .unwrap()
            .id,
        guest_cart
    );
    assert_ne!(
        s.open_cart(&guest_owner(1), Currency::EUR).unwrap().id,
        guest_cart,
        "the guest starts afresh"
    );

    // A user with a cart gets the guest's lines merged into it.
    let bob = buyer(s, "bob@example.com");
    let bobs = s
        .open_cart(&CartOwner::User(bob.id), Currency::EUR)
        .unwrap();
    s.add_item(bobs.id, shop.products[0], q(1)).unwrap();
    let guest_cart = shop.cart(2, &[(0, 2), (1, 1)]);
    let merged = s.attach_cart(guest_cart, bob.id).unwrap();
    assert_eq!(merged.id, bobs.id);
    assert_eq!(merged.quantity_of(shop.products[0]), Some(q(3)));
    assert_eq!(merged.quantity_of(shop.products[1]), Some(q(1)));
    assert_eq!(s.cart(guest_cart).unwrap().status, CartStatus::Abandoned);
    assert_eq!(s.cart(bobs.id).unwrap(), merged);
    let err = s.attach_cart(guest_cart, bob.id).unwrap_err();
    assert!(matches!(domain(&err), DomainError::CartNotOpen { .. }));
    let err = s.attach_cart(bobs.id, UserId::new(999_999)).unwrap_err();
    assert!(matches!(
        domain(&err),
        DomainError::NotFound { entity: "user", .. }
    ));
}

#[test]
fn a_cart_holds_at_most_max_lines_products_and_a_refused_merge_changes_nothing() {
    let shop = Shop::new(&[5; Cart::MAX_LINES + 1]);
    let s = &shop.store;
    let lines: Vec<(usize, i64)> = (0..Cart::MAX_LINES).map(|i| (i, 1)).collect();
    let full = shop.cart(1, &lines);
    let extra = shop.products[Cart::MAX_LINES];
    let err = s.add_item(full, extra, q(1)).unwrap_err();
    assert_eq!(
        domain(&err),
        DomainError::CartFull {
            cart_id: full,
            max_lines: Cart::MAX_LINES,
        }
    );
    let count_lines = |cart: CartId| {
        shop.count(&format!(
            "SELECT count(*) AS n FROM cart_lines WHERE cart_id = {}",
            cart.get()
        ))
    };
    assert_eq!(count_lines(full), Cart::MAX_LINES as i64);
    // More of a product already in it is fine.
    let more = s.add_item(full, shop.products[0], q(2)).unwrap();
    assert_eq!(more.quantity_of(shop.products[0]), Some(q(3)));

    // Merging the full guest cart into a user's cart with another product would
    // make 101 lines: refused, and both carts stay as they were.
    let user = buyer(s, "full@example.com");
    let own = s
        .open_cart(&CartOwner::User(user.id), Currency::EUR)
        .unwrap();
    s.add_item(own.id, extra, q(1)).unwrap();
    let (guest_before, own_before) = (s.cart(full).unwrap(), s.cart(own.id).unwrap());
    let err = s.attach_cart(full, user.id).unwrap_err();
    assert!(matches!(domain(&err), DomainError::CartFull { .. }));
    assert_eq!(s.cart(full).unwrap(), guest_before);
    assert_eq!(s.cart(own.id).unwrap(), own_before);
}

#[test]
fn cancelling_puts_back_every_line_even_two_of_one_product() {
    let shop = Shop::new(&[10]);
    let done = shop
        .store
        .checkout(&request(shop.cart(1, &[(0, 3)]), "twice"))
        .unwrap();
    assert_eq!(shop.stock(shop.products[0]), 7);
    // The store never writes two lines of one variant, but nothing in the schema
    // forbids them: written around the store, with the stock they took.
    let mut conn = shop.db.connect();
    setup(
        &mut conn,
        &format!(
            "INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, unit_price, quantity) \
             SELECT order_id, 2, variant_id, sku, name, unit_price, 2 FROM order_lines \
             WHERE order_id = {}",
            done.order.id.get()
        ),
    );
    setup(
        &mut conn,
        &format!(
            "UPDATE product_variants SET stock_on_hand = stock_on_hand - 2 WHERE id = {}",
            shop.products[0].get()
        ),
    );
    assert_eq!(shop.stock(shop.products[0]), 5);

    shop.store
        .transition(done.order.id, OrderEvent::Cancel, None)
        .unwrap();
    assert_eq!(
        shop.stock(shop.products[0]),
        10,
        "both lines' units are back"
    );
}

/// The tests above again, with the store behind pgbouncer in transaction mode
/// (`ECOM_TRANSACTION_POOLING=1`); `pgbouncer::every_checkout_and_catalog_test_also_runs_through_pgbouncer`
/// keeps this list complete.
pub(crate) mod through_pgbouncer {
    crate::util::through_pgbouncer![
        carts_keep_one_line_per_product_and_price_from_current_data,
        checkout_snapshots_reserves_and_converts_in_one_go,
        out_of_stock_names_each_short_line_and_writes_nothing,
        checkout_never_oversells_under_32_racing_buyers,
        hot_products_bought_in_any_order_never_deadlock_or_oversell,
        the_same_key_from_many_threads_yields_one_order,
        payments_drive_the_order_and_duplicate_callbacks_are_harmless,
        the_database_refuses_over_capture_even_without_the_store,
        cancelling_restocks_once_and_refunds_the_capture,
        concurrent_sweepers_expire_each_order_once_and_late_payments_are_refused,
        listings_page_by_keyset,
        two_publishers_drain_the_outbox_exactly_once_between_them,
        a_checkout_killed_in_its_last_write_leaves_nothing_behind,
        a_checkout_killed_at_commit_leaves_nothing_behind,
        a_users_orders_come_newest_first_a_page_at_a_time,
        a_guest_cart_attaches_to_a_user_and_merges_into_their_open_cart,
        a_cart_holds_at_most_max_lines_products_and_a_refused_merge_changes_nothing,
        cancelling_puts_back_every_line_even_two_of_one_product,
    ];
}
