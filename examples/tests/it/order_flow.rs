//! `order-flow`: browsing to delivery, a product with variants in the cart, and a
//! retried checkout in the middle.

use ecom_domain::prelude::*;
use ecom_examples::flows::order_flow;
use ecom_store::testing::TestDb;

use crate::util::{RUN, eur, store_on};

#[test]
fn an_order_goes_from_browsing_to_delivered_and_a_retried_checkout_replays_it() {
    let db = TestDb::new();
    let store = store_on(db.pool().clone());

    let flow = order_flow::run(&store, RUN).unwrap();

    let browsed: Vec<(&str, &str, Vec<String>)> = flow
        .browsed
        .iter()
        .map(|p| {
            let offered = p.variants.iter().map(|v| v.selection.to_string());
            (p.name.as_str(), p.slug.as_str(), offered.collect())
        })
        .collect();
    assert_eq!(
        browsed,
        [
            (
                "Yirgacheffe, 250 g",
                "yirgacheffe-250-g-1",
                vec!["Grind: Whole beans".to_owned(), "Grind: Filter".to_owned()]
            ),
            ("Huila, 250 g", "huila-250-g-1", vec!["default".to_owned()]),
            (
                "Nyeri AA, 250 g",
                "nyeri-aa-250-g-1",
                vec!["default".to_owned()]
            ),
        ],
        "a category's page shows its subcategories' products, with their variants"
    );
    assert!(flow.replayed, "the retry is answered as a replay");
    assert_eq!(flow.paid_status, OrderStatus::Paid);

    let order = &flow.order;
    assert_eq!(order.status, OrderStatus::Delivered);
    let lines: Vec<(&str, String, &str, u32, Money)> = order
        .lines
        .iter()
        .map(|l| {
            (
                l.name.as_str(),
                l.selection.to_string(),
                l.sku.as_str(),
                l.quantity.get(),
                l.unit_price,
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (
                "Yirgacheffe, 250 g",
                "Grind: Filter".to_owned(),
                "ETHIOPIA-1-FILTER",
                2,
                eur("12.90")
            ),
            (
                "Nyeri AA, 250 g",
                "default".to_owned(),
                "KENYA-1",
                1,
                eur("14.20")
            ),
        ],
        "each line names its variant and the option values it had"
    );
    let ordered: Vec<VariantId> = order.lines.iter().map(|l| l.variant_id).collect();
    let offered = |product: usize, at: usize| flow.browsed[product].variants[at].id;
    assert_eq!(ordered, [offered(0, 1), offered(2, 0)]);
    let t = order.totals;
    assert_eq!(
        (t.subtotal, t.shipping, t.tax, t.grand_total),
        (eur("40.00"), eur("4.90"), eur("8.98"), eur("53.88")),
        "shipping below 50.00, and 20 % tax on goods and shipping"
    );
    assert_eq!(flow.captured, t.grand_total, "the whole total was captured");

    let history: Vec<(Option<OrderEvent>, OrderStatus)> =
        order.history.iter().map(|h| (h.event, h.to)).collect();
    assert_eq!(
        history,
        [
            (None, OrderStatus::PendingPayment),
            (Some(OrderEvent::PaymentCaptured), OrderStatus::Paid),
            (Some(OrderEvent::Ship), OrderStatus::Shipped),
            (Some(OrderEvent::Deliver), OrderStatus::Delivered),
        ],
        "one order, one history: the replay added nothing"
    );

    let stock: Vec<Vec<u32>> = flow
        .browsed
        .iter()
        .map(|p| {
            store
                .product(p.id)
                .unwrap()
                .variants
                .iter()
                .map(|v| v.stock_on_hand)
                .collect()
        })
        .collect();
    assert_eq!(
        stock,
        [vec![40, 18], vec![25], vec![9]],
        "the stock went out once, not twice, and only the filter grind's"
    );
}
