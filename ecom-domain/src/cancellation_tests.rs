use super::tests::so_far;
use super::*;
use crate::catalog::OptionSelection;
use crate::money::{Currency, Money};
use crate::values::{ProductName, Sku};

const ORDER: OrderId = OrderId::new(7);
const BERLIN: StockLocationId = StockLocationId::new(1);
const LYON: StockLocationId = StockLocationId::new(2);

fn q(n: u32) -> Quantity {
    Quantity::new(i64::from(n)).unwrap()
}

fn line(line_no: u16, variant: i64, quantity: u32) -> OrderLine {
    OrderLine {
        line_no,
        variant_id: VariantId::new(variant),
        sku: Sku::parse(&format!("SKU-{variant}")).unwrap(),
        name: ProductName::parse("Mug").unwrap(),
        selection: OptionSelection::default(),
        unit_price: Money::parse("9.90", Currency::EUR).unwrap(),
        quantity: q(quantity),
        tax: None,
    }
}

fn reserved(line_no: u16, variant: i64, location: StockLocationId, quantity: u32) -> Reservation {
    Reservation {
        line_no,
        variant: VariantId::new(variant),
        location,
        quantity,
    }
}

fn cancel(lines: &[(u16, u32)]) -> NewCancellation {
    NewCancellation {
        order: ORDER,
        key: IdempotencyKey::parse("cancel-1").unwrap(),
        lines: lines
            .iter()
            .map(|(line_no, n)| CancellationLine {
                line_no: *line_no,
                quantity: q(*n),
            })
            .collect(),
        reason: Reason::parse("out of print").ok(),
    }
}

fn units(line_no: u16, location: Option<StockLocationId>, n: u32) -> CancelledUnits {
    CancelledUnits {
        line_no,
        location,
        quantity: q(n),
    }
}

fn cancellation(id: i64, units: Vec<CancelledUnits>) -> Cancellation {
    Cancellation {
        id: CancellationId::new(id),
        order: ORDER,
        key: IdempotencyKey::parse(&format!("cancel-{}", CancellationId::new(id))).unwrap(),
        units,
        reason: None,
        refunded: Money::zero(Currency::EUR),
        released: Money::zero(Currency::EUR),
        created_at: Utc::now(),
    }
}

fn pending(location: StockLocationId, lines: &[(u16, u32)], status: ShipmentStatus) -> Shipment {
    Shipment {
        id: ShipmentId::new(1),
        order: ORDER,
        key: None,
        location,
        lines: lines
            .iter()
            .map(|(line_no, n)| ShipmentLine {
                line_no: *line_no,
                quantity: q(*n),
            })
            .collect(),
        tracking: Tracking::default(),
        status,
        created_at: Utc::now(),
    }
}

#[test]
fn units_are_released_where_most_are_left_to_ship() {
    // Line 1: 5 units, 2 reserved at Berlin and 3 at Lyon; a pending shipment
    // from Lyon holds 2 of them. Line 2: 4 units from the variant's own count.
    let lines = [line(1, 10, 5), line(2, 20, 4)];
    let reservations = [reserved(1, 10, BERLIN, 2), reserved(1, 10, LYON, 3)];
    let shipments = [pending(LYON, &[(1, 2)], ShipmentStatus::Pending)];
    let fulfillment = so_far(OrderStatus::Paid, &lines, &reservations, &shipments, &[]);
    // Berlin has 2 left, Lyon 1: Berlin first, then Lyon.
    assert_eq!(
        check_cancellation(&cancel(&[(2, 1), (1, 3)]), &fulfillment),
        Ok(vec![
            units(1, Some(BERLIN), 2),
            units(1, Some(LYON), 1),
            units(2, None, 1)
        ])
    );
    // The units in the shipment are the shipment's: 3 of line 1 are left.
    assert_eq!(
        check_cancellation(&cancel(&[(1, 4)]), &fulfillment),
        Err(FulfillmentError::TooManyToCancel {
            line_no: 1,
            asked: 4,
            left: 3
        })
    );
}

#[test]
fn earlier_cancellations_count_and_every_unit_is_the_order_s_cancel() {
    let lines = [line(1, 10, 2), line(2, 20, 1)];
    let reservations = [reserved(1, 10, BERLIN, 1), reserved(1, 10, LYON, 1)];
    let earlier = [cancellation(1, vec![units(1, Some(LYON), 1)])];
    let fulfillment = so_far(OrderStatus::Paid, &lines, &reservations, &[], &earlier);
    assert_eq!(units_left(&lines[0], LYON, &reservations, &[], &earlier), 0);
    assert_eq!(
        units_left(&lines[0], BERLIN, &reservations, &[], &earlier),
        1
    );
    assert_eq!(
        check_cancellation(&cancel(&[(1, 1)]), &fulfillment),
        Ok(vec![units(1, Some(BERLIN), 1)])
    );
    // Shipping the cancelled unit is refused.
    let from_lyon = NewShipment {
        order: ORDER,
        key: IdempotencyKey::parse("lyon-1").unwrap(),
        location: LYON,
        lines: vec![ShipmentLine {
            line_no: 1,
            quantity: q(1),
        }],
        tracking: Tracking::default(),
    };
    assert_eq!(
        check_shipment(&from_lyon, &fulfillment),
        Err(FulfillmentError::TooMany {
            line_no: 1,
            location: LYON,
            asked: 1,
            left: 0
        })
    );
    // The last two units are the whole order.
    assert_eq!(
        check_cancellation(&cancel(&[(1, 1), (2, 1)]), &fulfillment),
        Err(FulfillmentError::WholeOrder(ORDER))
    );
}

#[test]
fn malformed_cancellations_and_orders_past_cancelling_are_refused() {
    let lines = [line(1, 10, 3)];
    let check = |new: NewCancellation, status| {
        check_cancellation(&new, &so_far(status, &lines, &[], &[], &[]))
    };
    assert_eq!(
        check(cancel(&[]), OrderStatus::Paid),
        Err(FulfillmentError::Empty)
    );
    assert_eq!(
        check(cancel(&[(1, 1), (1, 1)]), OrderStatus::Paid),
        Err(FulfillmentError::DuplicateLine(1))
    );
    assert_eq!(
        check(cancel(&[(4, 1)]), OrderStatus::Paid),
        Err(FulfillmentError::UnknownLine {
            order: ORDER,
            line_no: 4
        })
    );
    for status in [
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
    ] {
        assert_eq!(
            check(cancel(&[(1, 1)]), status),
            Err(FulfillmentError::NotCancellable {
                order: ORDER,
                status
            })
        );
    }
    for status in [OrderStatus::PendingPayment, OrderStatus::PartiallyShipped] {
        assert_eq!(check(cancel(&[(1, 1)]), status).map(|u| u.len()), Ok(1));
    }
}

#[test]
fn cancelling_what_was_left_to_ship_ships_the_order() {
    // 3 units: 2 left in a shipment, the last is cancelled.
    let lines = [line(1, 10, 3)];
    let shipped = [pending(BERLIN, &[(1, 2)], ShipmentStatus::Shipped)];
    let status = OrderStatus::PartiallyShipped;
    assert!(order_events(status, &lines, &shipped, &[]).is_empty());
    let cancelled = [cancellation(1, vec![units(1, None, 1)])];
    assert_eq!(
        order_events(status, &lines, &shipped, &cancelled),
        [OrderEvent::Ship]
    );
    // Delivered meanwhile: shipped, then delivered.
    let delivered = [pending(BERLIN, &[(1, 2)], ShipmentStatus::Delivered)];
    assert_eq!(
        order_events(status, &lines, &delivered, &cancelled),
        [OrderEvent::Ship, OrderEvent::Deliver]
    );
}

#[test]
fn released_units_are_summed_by_level_and_by_variant() {
    // Lines 1 and 3 are of variant 10.
    let lines = [line(1, 10, 5), line(2, 20, 4), line(3, 10, 2)];
    let cancelled = [
        units(1, Some(LYON), 2),
        units(1, Some(BERLIN), 1),
        units(2, None, 3),
        units(3, Some(LYON), 1),
    ];
    assert_eq!(
        released(&cancelled, &lines),
        Released {
            at_locations: vec![
                (BERLIN, VariantId::new(10), 1),
                (LYON, VariantId::new(10), 3)
            ],
            to_counts: vec![(VariantId::new(20), 3)],
        }
    );
    assert_eq!(
        cancellation_refund_key(CancellationId::new(4)).as_str(),
        "store:cancellation:4"
    );
}

#[test]
fn the_same_key_again_is_a_replay_of_the_same_units_only() {
    // Cancelled before: 2 units of line 1 (one at each location) and 1 of line 2,
    // under "cancel-1".
    let done = cancellation(
        1,
        vec![
            units(1, Some(BERLIN), 1),
            units(1, Some(LYON), 1),
            units(2, None, 1),
        ],
    );
    let done = Cancellation {
        key: IdempotencyKey::parse("cancel-1").unwrap(),
        ..done
    };
    assert_eq!(
        done.lines(),
        [
            CancellationLine {
                line_no: 1,
                quantity: q(2)
            },
            CancellationLine {
                line_no: 2,
                quantity: q(1)
            }
        ]
    );
    let earlier = std::slice::from_ref(&done);
    let replay = crate::repo::cancellation_replay;
    // The same lines, in any order: the same cancellation.
    assert_eq!(
        replay(&cancel(&[(2, 1), (1, 2)]), earlier),
        Ok(Some(done.clone()))
    );
    // Other units under the same key: refused.
    assert_eq!(
        replay(&cancel(&[(1, 1)]), earlier),
        Err(crate::error::DomainError::IdempotencyConflict {
            key: "cancel-1".into()
        })
    );
    // Another key: a new cancellation.
    let other = NewCancellation {
        key: IdempotencyKey::parse("cancel-2").unwrap(),
        ..cancel(&[(1, 1)])
    };
    assert_eq!(replay(&other, earlier), Ok(None));
}
