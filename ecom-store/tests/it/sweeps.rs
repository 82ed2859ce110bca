//! The expiry sweep: each order on its own, in a key space no client can reach.

use chrono::Utc;
use ecom_domain::prelude::*;

use crate::util::{Shop, event, request, setup};

#[test]
fn an_order_that_cannot_expire_is_skipped_and_the_others_expire() {
    let shop = Shop::new(&[20]);
    let orders: Vec<Checkout> = (0..5)
        .map(|g| {
            shop.store
                .checkout(&request(shop.cart(g, &[(0, 1)]), &format!("k{g}")))
                .unwrap()
        })
        .collect();
    assert_eq!(shop.stock(shop.products[0]), 15);
    // The middle order's settlement is refused by the database, as a broken row or a
    // constraint a newer schema adds would refuse it.
    let stuck = orders[2].payment.as_ref().unwrap().id.get();
    let mut conn = shop.db.connect();
    setup(
        &mut conn,
        &format!(
            "CREATE FUNCTION refuse_settlement() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.payment_id = {stuck} THEN RAISE EXCEPTION 'refused'; END IF; \
             RETURN NEW; END $$"
        ),
    );
    setup(
        &mut conn,
        "CREATE TRIGGER refuse_settlement BEFORE INSERT ON payment_events \
         FOR EACH ROW EXECUTE FUNCTION refuse_settlement()",
    );

    let later = Utc::now() + chrono::Duration::hours(1);
    let expired = shop.store.expire_unpaid_orders(later).unwrap();
    let expected: Vec<OrderId> = [0, 1, 3, 4].iter().map(|&i| orders[i].order.id).collect();
    assert_eq!(expired, expected, "all but the refused one, in order");
    assert_eq!(
        shop.stock(shop.products[0]),
        19,
        "four units back, not five"
    );
    assert_eq!(
        shop.store.order(orders[2].order.id).unwrap().order.status,
        OrderStatus::PendingPayment,
        "the refused order is left as it was"
    );

    // Once the fault is gone, the next sweep takes it.
    setup(
        &mut conn,
        "DROP TRIGGER refuse_settlement ON payment_events",
    );
    let expired = shop.store.expire_unpaid_orders(later).unwrap();
    assert_eq!(expired, [orders[2].order.id]);
    assert_eq!(shop.stock(shop.products[0]), 20);
}

#[test]
fn a_client_key_shaped_like_a_settlement_does_not_block_the_sweep() {
    let shop = Shop::new(&[5]);
    let done = shop
        .store
        .checkout(&request(shop.cart(0, &[(0, 2)]), "k0"))
        .unwrap();
    let order = done.order.id;
    // The key a settlement of this order once had, and the one it has now: the
    // first is a client's to use, the second no client can send.
    let old_style = format!("settle-{order}-void");
    shop.store
        .record_payment_event(
            done.payment.as_ref().unwrap().id,
            event(
                &old_style,
                PaymentAction::Authorize {
                    amount: done.payment.as_ref().unwrap().amount,
                    provider_ref: None,
                },
            ),
        )
        .unwrap();
    assert!(IdempotencyKey::parse(&format!("store:settle:{order}:void")).is_err());

    let expired = shop
        .store
        .expire_unpaid_orders(Utc::now() + chrono::Duration::hours(1))
        .unwrap();
    assert_eq!(expired, [order]);
    let payment = shop
        .store
        .payment(done.payment.as_ref().unwrap().id)
        .unwrap();
    assert_eq!(payment.status, PaymentStatus::Voided);
    assert_eq!(shop.stock(shop.products[0]), 5);
    let keys: Vec<&str> = payment.events.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        [old_style.clone(), format!("store:settle:{order}:void")]
    );
}
