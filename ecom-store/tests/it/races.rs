//! Concurrent transitions of one order can't both apply: many threads, released
//! together by a barrier, race to move one order or one payment, round after round.
//! Each round exactly one of them wins, every loser gets a typed domain error (never
//! an unknown or retryable one: lost races are the store's to retry), and afterwards
//! stock, money and the outbox reconcile.

use chrono::{Duration, Utc};
use ecom_domain::prelude::*;
use ecom_domain::rules::StoreRules;
use ecom_store::StoreError;

use crate::util::{Shop, all_at_once, domain, event, request, scalar};

/// Threads per race.
const THREADS: usize = 12;
/// Races per test, each on a fresh order.
const ROUNDS: u32 = 5;
/// Stock of the one product; every order takes 2.
const STOCK: u32 = 100;

/// A shop with enough connections for every racer at once.
fn shop() -> Shop {
    Shop::with_pool_size(&[STOCK], THREADS as u32 + 2)
}

/// A new order of 2 units, its payment pending.
fn placed(shop: &Shop, round: u32) -> Checkout {
    shop.store
        .checkout(&request(
            shop.cart(round, &[(0, 2)]),
            &format!("order-{round}"),
        ))
        .unwrap()
}

/// A new order whose payment is authorized in full.
fn authorized(shop: &Shop, round: u32) -> Checkout {
    let order = placed(shop, round);
    let out = shop
        .store
        .record_payment_event(
            order.payment.as_ref().unwrap().id,
            event(
                "authorize",
                PaymentAction::Authorize {
                    amount: order.payment.as_ref().unwrap().amount,
                    provider_ref: None,
                },
            ),
        )
        .unwrap();
    assert_eq!(out.payment.status, PaymentStatus::Authorized);
    order
}

/// A new order, paid: its payment authorized and captured in full.
fn paid(shop: &Shop, round: u32) -> Checkout {
    let order = authorized(shop, round);
    let out = shop
        .store
        .record_payment_event(
            order.payment.as_ref().unwrap().id,
            event(
                "capture",
                PaymentAction::Capture {
                    amount: order.payment.as_ref().unwrap().amount,
                },
            ),
        )
        .unwrap();
    assert_eq!(out.order_status, OrderStatus::Paid);
    order
}

/// The winners among `outcomes`; every loser's error is the domain's, and passes
/// `expected`.
#[track_caller]
fn winners<T>(
    outcomes: Vec<Result<T, StoreError>>,
    expected: impl Fn(&DomainError) -> bool,
) -> Vec<T> {
    let mut won = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(value) => won.push(value),
            // `domain` panics on anything but a domain error.
            Err(err) => {
                let refused = domain(&err);
                assert!(expected(&refused), "unexpected refusal: {refused:?}");
            }
        }
    }
    won
}

/// Stock, the money ledger and the outbox agree with what the orders and payments say.
#[track_caller]
fn reconcile(shop: &Shop) {
    let mut conn = shop.db.connect();
    let held = scalar(
        &mut conn,
        "coalesce(sum(l.quantity), 0)::bigint FROM order_lines l JOIN orders o ON o.id = l.order_id \
         WHERE o.status NOT IN ('cancelled', 'expired')",
    );
    assert_eq!(
        shop.stock(shop.products[0]) + held,
        i64::from(STOCK),
        "stock on hand + units held by live orders = initial stock"
    );
    assert_eq!(
        scalar(
            &mut conn,
            "count(*) FROM payments p WHERE NOT (p.refunded <= p.captured \
             AND p.captured <= p.authorized AND p.authorized <= p.amount) \
             OR p.captured <> (SELECT coalesce(sum(e.amount), 0) FROM payment_events e \
                               WHERE e.payment_id = p.id AND e.kind = 'capture') \
             OR p.refunded <> (SELECT coalesce(sum(e.amount), 0) FROM payment_events e \
                               WHERE e.payment_id = p.id AND e.kind = 'refund')"
        ),
        0,
        "every payment's amounts are in range and are its ledger's sums"
    );
    assert_eq!(
        scalar(
            &mut conn,
            "count(*) FROM orders o JOIN payments p ON p.order_id = o.id WHERE \
             (o.status IN ('paid', 'shipped', 'delivered') AND p.captured <> p.amount) \
             OR (o.status = 'refunded' AND (p.status <> 'refunded' OR p.refunded <> p.captured)) \
             OR (o.status IN ('cancelled', 'expired') AND p.status NOT IN ('voided', 'refunded')) \
             OR (o.status = 'pending_payment' AND p.captured <> 0)"
        ),
        0,
        "each order's status matches its payment's money"
    );
    for (outbox, ledger) in [
        ("event_type = 'order.placed'", "count(*) FROM orders"),
        (
            "event_type = 'order.status_changed'",
            "count(*) FROM order_status_history WHERE from_status IS NOT NULL",
        ),
        (
            "event_type LIKE 'payment.%'",
            "count(*) FROM payment_events",
        ),
    ] {
        assert_eq!(
            scalar(
                &mut conn,
                &format!("count(*) FROM outbox_events WHERE {outbox}")
            ),
            scalar(&mut conn, ledger),
            "one outbox event per change: {outbox}"
        );
    }
}

/// How many status changes of `order` reached `to`.
fn changes_to(shop: &Shop, order: OrderId, to: OrderStatus) -> i64 {
    shop.count(&format!(
        "SELECT count(*) AS n FROM order_status_history WHERE order_id = {} AND to_status = '{}'",
        order.get(),
        to.as_str()
    ))
}

#[test]
fn cancel_and_ship_of_one_order_never_both_apply() {
    let shop = shop();
    let mut seen = Vec::new();
    for round in 0..ROUNDS {
        let order = paid(&shop, round).order.id;
        let outcomes = all_at_once(THREADS, |i| {
            let event = if i % 2 == 0 {
                OrderEvent::Cancel
            } else {
                OrderEvent::Ship
            };
            shop.store.transition(order, event, None)
        });
        let mut won = Vec::new();
        let mut refusals = Vec::new();
        for outcome in outcomes {
            match outcome {
                Ok(o) => won.push(o.status),
                Err(err) => refusals.push(domain(&err)),
            }
        }
        assert_eq!(
            won.len(),
            1,
            "round {round}: exactly one transition applies"
        );
        let status = won[0];
        assert!(matches!(
            status,
            OrderStatus::Cancelled | OrderStatus::Shipped
        ));
        for refused in &refusals {
            assert!(
                matches!(refused, DomainError::OrderTransition(e) if e.from == status),
                "round {round}: {refused:?}"
            );
        }
        let details = shop.store.order(order).unwrap();
        assert_eq!(details.order.status, status);
        assert_eq!(changes_to(&shop, order, status), 1);
        let payment = &details.payments[0];
        if status == OrderStatus::Cancelled {
            assert_eq!(payment.status, PaymentStatus::Refunded);
            assert_eq!(payment.refunded, payment.captured);
        } else {
            assert_eq!(payment.status, PaymentStatus::Captured);
            assert!(payment.refunded.is_zero());
        }
        reconcile(&shop);
        seen.push(status);
    }
    println!("winners by round: {seen:?}");
}

#[test]
fn cancelling_one_order_from_many_threads_applies_once() {
    let shop = shop();
    for round in 0..ROUNDS {
        // Alternately an authorized order (the cancel voids it) and a paid one (the
        // cancel refunds the capture).
        let was_paid = round % 2 == 1;
        let order = if was_paid {
            paid(&shop, round)
        } else {
            authorized(&shop, round)
        };
        let stock_before = shop.stock(shop.products[0]);
        let outcomes = all_at_once(THREADS, |_| {
            shop.store
                .transition(order.order.id, OrderEvent::Cancel, None)
        });
        let won = winners(outcomes, |refused| {
            matches!(refused, DomainError::OrderTransition(e)
                if e.from == OrderStatus::Cancelled && e.allowed.is_empty())
        });
        assert_eq!(won.len(), 1, "round {round}: exactly one cancel applies");
        assert_eq!(won[0].status, OrderStatus::Cancelled);
        assert_eq!(
            shop.stock(shop.products[0]),
            stock_before + 2,
            "round {round}: the units went back once"
        );
        assert_eq!(changes_to(&shop, order.order.id, OrderStatus::Cancelled), 1);
        let payment = shop
            .store
            .payment(order.payment.as_ref().unwrap().id)
            .unwrap();
        if was_paid {
            assert_eq!(payment.status, PaymentStatus::Refunded);
            assert_eq!(
                payment.refunded,
                order.payment.as_ref().unwrap().amount,
                "refunded once"
            );
        } else {
            assert_eq!(payment.status, PaymentStatus::Voided);
            assert!(payment.captured.is_zero());
        }
        reconcile(&shop);
    }
}

/// What a contender of [`capture_and_expiry_of_one_order_never_both_apply`] did.
enum Contender {
    Capture(Result<PaymentOutcome, StoreError>),
    Sweep(Result<Vec<OrderId>, StoreError>),
}

#[test]
fn capture_and_expiry_of_one_order_never_both_apply() {
    let shop = shop();
    let after_deadline = || Utc::now() + StoreRules::default().payment_window + Duration::hours(1);
    let mut seen = Vec::new();
    for round in 0..ROUNDS {
        let order = authorized(&shop, round);
        let (id, payment, amount) = (
            order.order.id,
            order.payment.as_ref().unwrap().id,
            order.payment.as_ref().unwrap().amount,
        );
        // Half the threads capture the whole amount (each a report of its own), the
        // other half run the expiry sweep as if the deadline had passed.
        let outcomes = all_at_once(THREADS, |i| {
            if i % 2 == 0 {
                Contender::Capture(shop.store.record_payment_event(
                    payment,
                    event(&format!("capture-{i}"), PaymentAction::Capture { amount }),
                ))
            } else {
                Contender::Sweep(shop.store.expire_unpaid_orders(after_deadline()))
            }
        });
        let (mut captures, mut sweeps) = (Vec::new(), Vec::new());
        for outcome in outcomes {
            match outcome {
                Contender::Capture(result) => captures.push(result),
                // A sweep that finds nothing to expire is no error: it has nothing to do.
                Contender::Sweep(result) => sweeps.push(result.unwrap()),
            }
        }
        let expired: Vec<OrderId> = sweeps.into_iter().flatten().collect();
        assert!(expired.iter().all(|e| *e == id));
        let status = shop.store.order(id).unwrap().order.status;
        let captured = winners(captures, |refused| match status {
            // The capture won: every other one would take more than was authorized.
            OrderStatus::Paid => matches!(
                refused,
                DomainError::Payment(PaymentError::OverCapture { .. })
            ),
            // The expiry won and voided the authorization.
            _ => matches!(
                refused,
                DomainError::Payment(PaymentError::Transition {
                    from: PaymentStatus::Voided,
                    ..
                })
            ),
        });
        assert_eq!(
            captured.len() + expired.len(),
            1,
            "round {round}: exactly one of the captures and sweeps applies"
        );
        let payment = shop.store.payment(payment).unwrap();
        if captured.len() == 1 {
            assert_eq!(status, OrderStatus::Paid);
            assert_eq!(captured[0].order_status, OrderStatus::Paid);
            assert_eq!(
                (payment.status, payment.captured),
                (PaymentStatus::Captured, amount)
            );
        } else {
            assert_eq!(status, OrderStatus::Expired);
            assert_eq!(payment.status, PaymentStatus::Voided);
            assert!(payment.captured.is_zero());
        }
        assert_eq!(changes_to(&shop, id, status), 1);
        reconcile(&shop);
        seen.push(status);
    }
    println!("winners by round: {seen:?}");
}

#[test]
fn two_full_refunds_of_one_payment_pay_back_once() {
    let shop = shop();
    for round in 0..ROUNDS {
        let order = paid(&shop, round);
        let (payment, amount) = (
            order.payment.as_ref().unwrap().id,
            order.payment.as_ref().unwrap().amount,
        );
        let outcomes = all_at_once(THREADS, |i| {
            shop.store.record_payment_event(
                payment,
                event(
                    &format!("refund-{i}"),
                    PaymentAction::Refund {
                        amount,
                        reason: None,
                    },
                ),
            )
        });
        let won = winners(outcomes, |refused| {
            matches!(
                refused,
                DomainError::Payment(PaymentError::Transition {
                    from: PaymentStatus::Refunded,
                    ..
                })
            )
        });
        assert_eq!(won.len(), 1, "round {round}: exactly one refund applies");
        assert_eq!(won[0].order_status, OrderStatus::Refunded);
        let payment = shop.store.payment(payment).unwrap();
        assert_eq!(payment.status, PaymentStatus::Refunded);
        assert_eq!(payment.refunded, amount, "paid back once");
        assert_eq!(
            payment
                .events
                .iter()
                .filter(|e| e.action.kind() == PaymentActionKind::Refund)
                .count(),
            1
        );
        assert_eq!(changes_to(&shop, order.order.id, OrderStatus::Refunded), 1);
        reconcile(&shop);
    }
}

#[test]
fn partial_refunds_racing_never_pay_back_more_than_was_captured() {
    let shop = shop();
    for round in 0..ROUNDS {
        let order = paid(&shop, round);
        let (payment, total) = (
            order.payment.as_ref().unwrap().id,
            order.payment.as_ref().unwrap().amount,
        );
        let minor = total.to_minor().unwrap();
        // Different amounts, about a fifth of the total each: some fit, most don't,
        // and which ones depends on who gets there first.
        let part = |i: usize| Money::from_minor(minor / 5 + 7 * i as i64, total.currency());
        let outcomes = all_at_once(THREADS, |i| {
            shop.store.record_payment_event(
                payment,
                event(
                    &format!("refund-{i}"),
                    PaymentAction::Refund {
                        amount: part(i),
                        reason: None,
                    },
                ),
            )
        });
        let after = shop.store.payment(payment).unwrap();
        let room = total.checked_sub(after.refunded).unwrap();
        let mut refunded = Money::zero(total.currency());
        let mut refunds = 0;
        for (i, outcome) in outcomes.into_iter().enumerate() {
            match outcome {
                Ok(out) => {
                    refunds += 1;
                    refunded = refunded.checked_add(part(i)).unwrap();
                    assert_eq!(out.applied, Applied::Changed);
                }
                Err(err) => match domain(&err) {
                    // Refused because it did not fit then, and the refunds only grew
                    // since: it does not fit now either.
                    DomainError::Payment(PaymentError::OverRefund { requested, .. }) => {
                        assert_eq!(requested, part(i));
                        assert!(requested.try_cmp(&room).unwrap().is_gt(), "{i} fits");
                    }
                    DomainError::Payment(PaymentError::Transition {
                        from: PaymentStatus::Refunded,
                        ..
                    }) => assert!(room.is_zero()),
                    other => panic!("round {round}: unexpected refusal {other:?}"),
                },
            }
        }
        assert!(
            (1..THREADS).contains(&refunds),
            "round {round}: {refunds} refunds"
        );
        assert_eq!(after.refunded, refunded, "the winners' sum, each once");
        assert!(after.refunded.try_cmp(&after.captured).unwrap().is_le());
        let status = shop.store.order(order.order.id).unwrap().order.status;
        if room.is_zero() {
            assert_eq!(
                (after.status, status),
                (PaymentStatus::Refunded, OrderStatus::Refunded)
            );
        } else {
            assert_eq!(
                (after.status, status),
                (PaymentStatus::PartiallyRefunded, OrderStatus::Paid)
            );
        }
        reconcile(&shop);
    }
}
