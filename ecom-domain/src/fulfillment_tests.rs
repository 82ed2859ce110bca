use super::*;
use crate::catalog::OptionSelection;
use crate::money::{Currency, Money};
use crate::values::{ProductName, Sku};
use chrono::TimeZone;
use proptest::prelude::*;

const ORDER: OrderId = OrderId::new(7);
const BERLIN: StockLocationId = StockLocationId::new(1);
const LYON: StockLocationId = StockLocationId::new(2);

fn line(line_no: u16, variant: i64, quantity: u32) -> OrderLine {
    OrderLine {
        line_no,
        variant_id: VariantId::new(variant),
        sku: Sku::parse(&format!("SKU-{variant}")).unwrap(),
        name: ProductName::parse("Mug").unwrap(),
        selection: OptionSelection::default(),
        unit_price: Money::parse("9.90", Currency::EUR).unwrap(),
        quantity: Quantity::new(i64::from(quantity)).unwrap(),
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

fn units(line_no: u16, quantity: u32) -> ShipmentLine {
    ShipmentLine {
        line_no,
        quantity: Quantity::new(i64::from(quantity)).unwrap(),
    }
}

/// An order's fulfillment so far, for the checks.
pub(super) fn so_far<'a>(
    status: OrderStatus,
    lines: &'a [OrderLine],
    reservations: &'a [Reservation],
    shipments: &'a [Shipment],
    cancellations: &'a [Cancellation],
) -> Fulfillment<'a> {
    Fulfillment {
        order: ORDER,
        status,
        lines,
        reservations,
        shipments,
        cancellations,
    }
}

fn new_shipment(location: StockLocationId, lines: Vec<ShipmentLine>) -> NewShipment {
    NewShipment {
        order: ORDER,
        key: IdempotencyKey::parse("parcel-1").unwrap(),
        location,
        lines,
        tracking: Tracking::default(),
    }
}

fn shipment(
    id: i64,
    location: StockLocationId,
    lines: Vec<ShipmentLine>,
    status: ShipmentStatus,
) -> Shipment {
    Shipment {
        id: ShipmentId::new(id),
        order: ORDER,
        key: IdempotencyKey::parse(&format!("parcel-{id}")).ok(),
        location,
        lines,
        tracking: Tracking::default(),
        status,
        created_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
    }
}

#[test]
fn a_shipment_is_packed_shipped_then_delivered_or_returned() {
    use ShipmentEvent as E;
    use ShipmentStatus as S;
    let table = [
        (S::Pending, vec![E::Pack, E::Ship, E::Cancel]),
        (S::Packed, vec![E::Ship, E::Cancel]),
        (S::Shipped, vec![E::Deliver, E::ReturnToSender]),
        (S::Delivered, vec![]),
        (S::ReturnedToSender, vec![]),
        (S::Cancelled, vec![]),
    ];
    for (status, allowed) in table {
        assert_eq!(status.allowed_events(), allowed, "{status}");
        for event in ShipmentEvent::ALL {
            assert_eq!(status.apply(*event).is_ok(), allowed.contains(event));
        }
    }
    assert_eq!(
        S::Packed.apply(E::Pack).unwrap_err().to_string(),
        "a shipment that is packed does not accept pack; it accepts ship, cancel"
    );
    assert_eq!(
        S::Delivered.apply(E::Cancel).unwrap_err().to_string(),
        "a shipment that is delivered does not accept cancel; it accepts nothing (it is final)"
    );
}

#[test]
fn a_line_ships_what_is_reserved_at_the_location_or_its_count_from_anywhere() {
    // Line 1: 3 mugs reserved, 2 in Berlin and 1 in Lyon. Line 2: 4 plates taken
    // from their variant's own count.
    let lines = [line(1, 10, 3), line(2, 20, 4)];
    let reservations = [reserved(1, 10, BERLIN, 2), reserved(1, 10, LYON, 1)];
    let earlier = [
        shipment(
            1,
            BERLIN,
            vec![units(1, 1), units(2, 1)],
            ShipmentStatus::Shipped,
        ),
        // Cancelled: counts for nothing.
        shipment(
            2,
            LYON,
            vec![units(1, 1), units(2, 3)],
            ShipmentStatus::Cancelled,
        ),
    ];
    assert_eq!(
        units_left(&lines[0], BERLIN, &reservations, &earlier, &[]),
        1
    );
    assert_eq!(units_left(&lines[0], LYON, &reservations, &earlier, &[]), 1);
    assert_eq!(units_left(&lines[1], LYON, &reservations, &earlier, &[]), 3);
    assert_eq!(
        units_left(&lines[1], BERLIN, &reservations, &earlier, &[]),
        3
    );
    let check = |new: NewShipment| {
        check_shipment(
            &new,
            &so_far(
                OrderStatus::PartiallyShipped,
                &lines,
                &reservations,
                &earlier,
                &[],
            ),
        )
    };

    assert_eq!(
        check(new_shipment(LYON, vec![units(2, 3), units(1, 1)])),
        Ok(vec![units(1, 1), units(2, 3)])
    );
    assert_eq!(
        check(new_shipment(BERLIN, vec![units(1, 2)])),
        Err(FulfillmentError::TooMany {
            line_no: 1,
            location: BERLIN,
            asked: 2,
            left: 1
        })
    );
    assert_eq!(
        check(new_shipment(StockLocationId::new(3), vec![units(1, 1)])),
        Err(FulfillmentError::TooMany {
            line_no: 1,
            location: StockLocationId::new(3),
            asked: 1,
            left: 0
        })
    );
    assert_eq!(
        check(new_shipment(LYON, vec![units(1, 1), units(1, 1)])),
        Err(FulfillmentError::DuplicateLine(1))
    );
    assert_eq!(
        check(new_shipment(LYON, vec![units(3, 1)])),
        Err(FulfillmentError::UnknownLine {
            order: ORDER,
            line_no: 3
        })
    );
    assert_eq!(
        check(new_shipment(LYON, vec![])),
        Err(FulfillmentError::Empty)
    );
    for status in [
        OrderStatus::PendingPayment,
        OrderStatus::Shipped,
        OrderStatus::Cancelled,
    ] {
        assert_eq!(
            check_shipment(
                &new_shipment(LYON, vec![units(2, 1)]),
                &so_far(status, &lines, &reservations, &earlier, &[]),
            ),
            Err(FulfillmentError::NotShippable {
                order: ORDER,
                status
            })
        );
    }
}

#[test]
fn only_reserved_units_leave_their_levels() {
    let lines = [line(1, 10, 3), line(2, 20, 4)];
    let reservations = [reserved(1, 10, BERLIN, 3)];
    let s = shipment(
        1,
        BERLIN,
        vec![units(1, 2), units(2, 4)],
        ShipmentStatus::Pending,
    );
    assert_eq!(
        units_leaving(&s, &lines, &reservations),
        vec![(VariantId::new(10), 2)]
    );
}

#[test]
fn the_order_follows_its_shipments() {
    use OrderEvent as E;
    use OrderStatus as S;
    let lines = [line(1, 10, 2), line(2, 20, 1)];
    let first = |status| shipment(1, BERLIN, vec![units(1, 2)], status);
    let second = |status| shipment(2, LYON, vec![units(2, 1)], status);
    let cases = [
        (S::Paid, vec![first(ShipmentStatus::Pending)], vec![]),
        (
            S::Paid,
            vec![first(ShipmentStatus::Shipped)],
            vec![E::ShipPart],
        ),
        (
            S::Paid,
            vec![
                first(ShipmentStatus::Shipped),
                second(ShipmentStatus::Shipped),
            ],
            vec![E::Ship],
        ),
        (
            S::PartiallyShipped,
            vec![
                first(ShipmentStatus::Delivered),
                second(ShipmentStatus::Shipped),
            ],
            vec![E::Ship, E::DeliverPart],
        ),
        (
            S::PartiallyDelivered,
            vec![
                first(ShipmentStatus::Delivered),
                second(ShipmentStatus::Delivered),
            ],
            vec![E::Deliver],
        ),
        (
            S::Paid,
            vec![
                first(ShipmentStatus::Delivered),
                second(ShipmentStatus::Delivered),
            ],
            vec![E::Ship, E::Deliver],
        ),
        // Returned to sender: the units left, and were not delivered.
        (
            S::Shipped,
            vec![
                first(ShipmentStatus::Delivered),
                second(ShipmentStatus::ReturnedToSender),
            ],
            vec![E::DeliverPart],
        ),
        // A refunded order is no longer fulfilled.
        (S::Refunded, vec![first(ShipmentStatus::Shipped)], vec![]),
    ];
    for (status, shipments, events) in cases {
        assert_eq!(
            order_events(status, &lines, &shipments, &[]),
            events,
            "{status} {shipments:?}"
        );
        let mut at = status;
        for e in &events {
            at = at.apply(*e).unwrap();
        }
    }
}

proptest! {
    /// Shipments created by `check_shipment` and cancellations by
    /// `check_cancellation` never hold more of a line than it may ship from their
    /// location, whatever the order of creations, changes and cancellations; and
    /// the events `order_events` gives are always legal and bring the order to a
    /// status it then keeps.
    #[test]
    fn shipments_never_take_more_than_a_line_holds(
        quantities in proptest::collection::vec(1u32..5, 1..4),
        split in proptest::collection::vec(0u32..5, 1..4),
        steps in proptest::collection::vec((0usize..3, 0usize..4, 1u32..4, 0usize..6), 0..25),
    ) {
        let lines: Vec<OrderLine> = quantities
            .iter()
            .enumerate()
            .map(|(i, q)| line(i as u16 + 1, i as i64 + 10, *q))
            .collect();
        // Odd lines are reserved, split between the two locations; even ones
        // are counted.
        let mut reservations = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            if i % 2 == 1 {
                continue;
            }
            let q = l.quantity.get();
            let here = split.get(i).copied().unwrap_or(0).min(q);
            if here > 0 {
                reservations.push(reserved(l.line_no, l.variant_id.get(), BERLIN, here));
            }
            if q > here {
                reservations.push(reserved(l.line_no, l.variant_id.get(), LYON, q - here));
            }
        }
        let mut shipments: Vec<Shipment> = Vec::new();
        let mut cancellations: Vec<Cancellation> = Vec::new();
        let mut status = OrderStatus::Paid;
        for (at, line_index, quantity, event) in steps {
            let line_no = (line_index % lines.len()) as u16 + 1;
            let now = so_far(status, &lines, &reservations, &shipments, &cancellations);
            if at == 2 {
                let new = NewCancellation {
                    order: ORDER,
                    key: IdempotencyKey::parse("cancel-1").unwrap(),
                    lines: vec![CancellationLine {
                        line_no,
                        quantity: Quantity::new(i64::from(quantity)).unwrap(),
                    }],
                    reason: None,
                };
                if let Ok(units) = check_cancellation(&new, &now) {
                    let total: u32 = units.iter().map(|u| u.quantity.get()).sum();
                    prop_assert_eq!(total, quantity);
                    cancellations.push(Cancellation {
                        id: CancellationId::new(cancellations.len() as i64 + 1),
                        order: ORDER,
                        key: IdempotencyKey::parse(&format!("cancel-{}", CancellationId::new(cancellations.len() as i64 + 1))).unwrap(),
                        units,
                        reason: None,
                        refunded: Money::zero(Currency::EUR),
                        released: Money::zero(Currency::EUR),
                        created_at: Utc::now(),
                    });
                }
            } else {
                let location = [BERLIN, LYON][at];
                let new = new_shipment(location, vec![units(line_no, quantity)]);
                if let Ok(kept) = check_shipment(&new, &now) {
                    let id = shipments.len() as i64 + 1;
                    shipments.push(shipment(id, location, kept, ShipmentStatus::Pending));
                }
            }
            // Then an event for one shipment, if it takes it.
            let count = shipments.len().max(1);
            if let Some(s) = shipments.get_mut(event % count) {
                let e = ShipmentEvent::ALL[event % ShipmentEvent::ALL.len()];
                if let Ok(next) = s.status.apply(e) {
                    s.status = next;
                }
            }
            for e in order_events(status, &lines, &shipments, &cancellations) {
                status = status.apply(e).expect("a legal event");
            }
            prop_assert!(order_events(status, &lines, &shipments, &cancellations).is_empty());
            let ordered: u32 = lines.iter().map(|l| l.quantity.get()).sum();
            let cancelled: u32 = lines.iter().map(|l| line_cancelled(&cancellations, l.line_no)).sum();
            prop_assert!(cancelled < ordered, "every unit cancelled");
            for l in &lines {
                for location in [BERLIN, LYON] {
                    let located = reservations.iter().any(|r| r.line_no == l.line_no);
                    let shipped: u32 = shipments
                        .iter()
                        .filter(|s| s.status.holds_units())
                        .flat_map(|s| s.lines.iter().map(move |x| (s.location, x)))
                        .filter(|(from, x)| x.line_no == l.line_no && (*from == location || !located))
                        .map(|(_, x)| x.quantity.get())
                        .sum();
                    let gone: u32 = cancellations
                        .iter()
                        .flat_map(|c| &c.units)
                        .filter(|u| u.line_no == l.line_no && (u.location == Some(location) || !located))
                        .map(|u| u.quantity.get())
                        .sum();
                    prop_assert!(located || cancellations.iter().flat_map(|c| &c.units)
                        .all(|u| u.line_no != l.line_no || u.location.is_none()));
                    let held = shipped + gone;
                    let may: u32 = if reservations.iter().any(|r| r.line_no == l.line_no) {
                        reservations
                            .iter()
                            .filter(|r| r.line_no == l.line_no && r.location == location)
                            .map(|r| r.quantity)
                            .sum()
                    } else {
                        l.quantity.get()
                    };
                    prop_assert!(held <= may, "line {} at {location}: {held} > {may}", l.line_no);
                }
            }
        }
    }
}

#[test]
fn a_shipment_asked_for_again_under_its_key_is_a_replay_and_other_units_a_conflict() {
    use crate::error::DomainError;
    use crate::repo::shipment_replay;
    let line = |line_no: u16, n: u32| ShipmentLine {
        line_no,
        quantity: Quantity::new(i64::from(n)).unwrap(),
    };
    let done = shipment(
        1,
        BERLIN,
        vec![line(1, 2), line(2, 1)],
        ShipmentStatus::Shipped,
    );
    let shipments = [done.clone()];
    // The same key, location and units, the lines in another order: the same
    // shipment, even after it shipped.
    let again = new_shipment(BERLIN, vec![line(2, 1), line(1, 2)]);
    assert_eq!(shipment_replay(&again, &shipments), Ok(Some(done)));
    let conflict = Err(DomainError::IdempotencyConflict {
        key: "parcel-1".into(),
    });
    for other in [
        new_shipment(BERLIN, vec![line(1, 2)]),
        new_shipment(BERLIN, vec![line(1, 1), line(2, 1)]),
        new_shipment(LYON, vec![line(1, 2), line(2, 1)]),
    ] {
        assert_eq!(shipment_replay(&other, &shipments), conflict);
    }
    let fresh = NewShipment {
        key: IdempotencyKey::parse("parcel-2").unwrap(),
        ..new_shipment(BERLIN, vec![line(1, 2)])
    };
    assert_eq!(shipment_replay(&fresh, &shipments), Ok(None));
    // A shipment without a key (created before keys) is never a replay.
    let keyless = Shipment {
        key: None,
        ..shipments[0].clone()
    };
    assert_eq!(shipment_replay(&again, &[keyless]), Ok(None));
}
