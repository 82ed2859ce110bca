//! `cancel-refund`: a partial refund, a cancellation, and two refused transitions.

use ecom_domain::prelude::*;
use ecom_examples::flows::cancel_refund::{self, StockLevels};
use ecom_store::testing::TestDb;

use crate::util::{RUN, eur, store_on};

#[test]
fn a_return_refunds_one_kettle_and_a_cancellation_puts_stock_and_money_back() {
    let db = TestDb::new();
    let store = store_on(db.pool().clone());

    let flow = cancel_refund::run(&store, RUN).unwrap();

    // Two kettles at 64.00: free shipping from 50.00, 20 % tax. The first order
    // took 40.00 from the gift card and 113.60 from the provider; one kettle's
    // 64.00 goes back to the card first (all of its 40.00), then 24.00 to the
    // provider.
    let paid = eur("153.60");
    let tenders: Vec<_> = flow
        .refund
        .payments
        .iter()
        .map(|p| (p.gift_card.is_some(), p.captured, p.refunded, p.status))
        .collect();
    assert_eq!(
        tenders,
        [
            (true, eur("40.00"), eur("40.00"), PaymentStatus::Refunded),
            (
                false,
                eur("113.60"),
                eur("24.00"),
                PaymentStatus::PartiallyRefunded
            ),
        ],
        "one kettle's price back, the card's part first"
    );
    assert_eq!(
        flow.card_balance,
        [eur("40.00"), eur("0.00"), eur("40.00")],
        "the card spent at checkout and whole again after the return"
    );
    assert_eq!(
        flow.refund.order_status,
        OrderStatus::Delivered,
        "a partial refund leaves the order delivered"
    );

    assert_eq!(flow.cancelled.status, OrderStatus::Cancelled);
    assert_eq!(
        flow.stock,
        StockLevels {
            before: 8,
            during: 6,
            after: 8
        },
        "the cancelled order's two kettles went back; the returned one did not"
    );
    let payment = &flow.cancelled_payment;
    assert_eq!(
        (payment.captured, payment.refunded, payment.status),
        (paid, paid, PaymentStatus::Refunded),
        "cancelling after capture refunds all of it"
    );

    assert_eq!(
        (flow.ship_cancelled.from, flow.ship_cancelled.event),
        (OrderStatus::Cancelled, OrderEvent::Ship)
    );
    assert!(
        flow.ship_cancelled.allowed.is_empty(),
        "a cancelled order accepts nothing"
    );
    match &flow.cancel_delivered {
        DomainError::OrderTransition(err) => {
            assert_eq!(
                (err.from, err.event),
                (OrderStatus::Delivered, OrderEvent::Cancel)
            );
            assert_eq!(err.allowed, [OrderEvent::PaymentRefunded]);
        }
        other => panic!("expected a refused transition, got {other:?}"),
    }
}
