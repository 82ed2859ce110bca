use super::*;
use crate::catalog::OptionSelection;
use crate::fulfillment::{ShipmentLine, ShipmentStatus, Tracking};
use crate::ids::{OrderRef, ShipmentId};
use crate::money::Currency;
use crate::order::Customer;
use crate::pricing::Totals;
use crate::values::{Email, PostalAddress, ProductName, RawAddress, Sku};
use chrono::TimeZone;
use proptest::prelude::*;

const ORDER: OrderId = OrderId::new(7);
const BERLIN: StockLocationId = StockLocationId::new(1);

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

fn q(n: u32) -> Quantity {
    Quantity::new(i64::from(n)).unwrap()
}

fn line(line_no: u16, variant: i64, unit: i64, quantity: u32) -> OrderLine {
    OrderLine {
        line_no,
        variant_id: VariantId::new(variant),
        sku: Sku::parse(&format!("SKU-{variant}")).unwrap(),
        name: ProductName::parse("Mug").unwrap(),
        selection: OptionSelection::default(),
        unit_price: eur(unit),
        quantity: q(quantity),
        tax: None,
    }
}

/// An order priced by the flat rules: its lines, shipping and grand total.
fn order(status: OrderStatus, lines: Vec<OrderLine>, shipping: i64, grand_total: i64) -> Order {
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let address = PostalAddress::parse(&RawAddress {
        recipient: "Ada Lovelace".into(),
        line1: "1 Main St".into(),
        line2: String::new(),
        city: "Berlin".into(),
        region: String::new(),
        postal_code: "10115".into(),
        country: "DE".into(),
    })
    .unwrap();
    let subtotal: i64 = lines
        .iter()
        .map(|l| l.line_total().to_minor().unwrap())
        .sum();
    Order {
        id: ORDER,
        reference: OrderRef::generate(),
        customer: Customer::Guest(Email::parse("ada@example.com").unwrap()),
        cart_id: None,
        currency: Currency::EUR,
        lines,
        totals: Totals {
            subtotal: eur(subtotal),
            discount: eur(0),
            shipping: eur(shipping),
            tax: eur(grand_total - subtotal - shipping),
            grand_total: eur(grand_total),
        },
        invoice: None,
        shipping_address: address.clone(),
        billing_address: address,
        status,
        payment_deadline: at,
        history: Vec::new(),
        created_at: at,
    }
}

fn shipped(id: i64, lines: &[(u16, u32)], status: ShipmentStatus) -> Shipment {
    Shipment {
        id: ShipmentId::new(id),
        order: ORDER,
        key: None,
        location: BERLIN,
        lines: lines
            .iter()
            .map(|(line_no, n)| ShipmentLine {
                line_no: *line_no,
                quantity: q(*n),
            })
            .collect(),
        tracking: Tracking::default(),
        status,
        created_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
    }
}

fn ret(id: i64, lines: &[(u16, u32)], status: ReturnStatus) -> Return {
    Return {
        id: ReturnId::new(id),
        order: ORDER,
        lines: lines
            .iter()
            .map(|(line_no, n)| ReturnLine {
                line_no: *line_no,
                quantity: q(*n),
            })
            .collect(),
        reason: ReturnReason::DoesNotFit,
        note: None,
        status,
        receipt: None,
        refunded: None,
        created_at: Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap(),
    }
}

fn new_return(lines: &[(u16, u32)]) -> NewReturn {
    NewReturn {
        order: ORDER,
        lines: ret(0, lines, ReturnStatus::Requested).lines,
        reason: ReturnReason::Damaged,
        note: None,
    }
}

fn receipt(condition: ItemCondition, refund_shipping: bool) -> ReturnReceipt {
    ReturnReceipt {
        location: BERLIN,
        condition,
        refund_shipping,
    }
}

#[test]
fn a_return_is_approved_or_rejected_once_then_received_once() {
    let requested = ret(1, &[(1, 1)], ReturnStatus::Requested);
    let approved = requested.decided(ReturnDecision::Approve).unwrap();
    assert_eq!(approved.status, ReturnStatus::Approved);
    let rejected = requested.decided(ReturnDecision::Reject).unwrap();
    assert_eq!(rejected.status, ReturnStatus::Rejected);
    assert_eq!(
        approved
            .decided(ReturnDecision::Reject)
            .unwrap_err()
            .to_string(),
        "return 1 is approved: it cannot be rejected"
    );
    let sellable = receipt(ItemCondition::Sellable, false);
    assert_eq!(approved.check_receipt(&sellable), Ok(false));
    assert_eq!(
        requested.check_receipt(&sellable),
        Err(ReturnError::Step {
            id: ReturnId::new(1),
            status: ReturnStatus::Requested,
            step: "received"
        })
    );
    assert!(rejected.check_receipt(&sellable).is_err());
    let received = Return {
        status: ReturnStatus::Received,
        receipt: Some(sellable),
        ..approved
    };
    assert_eq!(received.check_receipt(&sellable), Ok(true));
    assert_eq!(
        received.check_receipt(&receipt(ItemCondition::Damaged, false)),
        Err(ReturnError::ReceivedDifferently(ReturnId::new(1)))
    );
}

#[test]
fn only_units_that_left_come_back_and_each_once() {
    // Line 1: 3 units, 2 shipped; line 2: 1 unit, in a pending shipment.
    let o = order(
        OrderStatus::PartiallyShipped,
        vec![line(1, 10, 1000, 3), line(2, 11, 500, 1)],
        0,
        3500,
    );
    let shipments = [
        shipped(1, &[(1, 2)], ShipmentStatus::Shipped),
        shipped(2, &[(2, 1)], ShipmentStatus::Pending),
    ];
    assert_eq!(
        check_return(&new_return(&[(1, 2)]), &o, &shipments, &[]).unwrap(),
        new_return(&[(1, 2)]).lines
    );
    assert_eq!(
        check_return(&new_return(&[(1, 3)]), &o, &shipments, &[]),
        Err(ReturnError::TooMany {
            line_no: 1,
            asked: 3,
            left: 2
        })
    );
    assert_eq!(
        check_return(&new_return(&[(2, 1)]), &o, &shipments, &[]),
        Err(ReturnError::TooMany {
            line_no: 2,
            asked: 1,
            left: 0
        })
    );
    // One unit already asked back; a rejected return frees its units.
    let earlier = [
        ret(1, &[(1, 1)], ReturnStatus::Approved),
        ret(2, &[(1, 1)], ReturnStatus::Rejected),
    ];
    assert_eq!(
        check_return(&new_return(&[(1, 2)]), &o, &shipments, &earlier),
        Err(ReturnError::TooMany {
            line_no: 1,
            asked: 2,
            left: 1
        })
    );
    assert!(check_return(&new_return(&[(1, 1)]), &o, &shipments, &earlier).is_ok());
    assert_eq!(
        check_return(&new_return(&[]), &o, &shipments, &[]),
        Err(ReturnError::Empty)
    );
    assert_eq!(
        check_return(&new_return(&[(1, 1), (1, 1)]), &o, &shipments, &[]),
        Err(ReturnError::DuplicateLine(1))
    );
    assert_eq!(
        check_return(&new_return(&[(9, 1)]), &o, &shipments, &[]),
        Err(ReturnError::UnknownLine {
            order: ORDER,
            line_no: 9
        })
    );
    // An order shipped as a whole: every unit left.
    let whole = Order {
        status: OrderStatus::Delivered,
        ..o.clone()
    };
    assert!(check_return(&new_return(&[(1, 3), (2, 1)]), &whole, &[], &[]).is_ok());
    // An order not shipped, or refunded, takes no return.
    for status in [
        OrderStatus::Paid,
        OrderStatus::Refunded,
        OrderStatus::Cancelled,
    ] {
        let o = Order {
            status,
            ..o.clone()
        };
        assert_eq!(
            check_return(&new_return(&[(1, 1)]), &o, &[], &[]),
            Err(ReturnError::NotReturnable {
                order: ORDER,
                status
            })
        );
    }
}

#[test]
fn refunds_share_what_was_paid_and_the_last_unit_takes_the_rest() {
    // 3 × 10.00 and 1 × 5.00, 4.90 shipping, 19 % flat tax on all of it:
    // 35.00 + 4.90 + 7.58 = 47.48. Allocated 3000:500:490 over 39.90 (largest
    // remainder): 35.6992 → 35.70, 5.9499 → 5.95, 5.8309 → 5.83.
    let o = order(
        OrderStatus::Delivered,
        vec![line(1, 10, 1000, 3), line(2, 11, 500, 1)],
        490,
        4748,
    );
    assert_eq!(o.paid_for_lines().unwrap(), [eur(3570), eur(595)]);
    assert_eq!(o.shipping_paid().unwrap(), eur(583));
    let goods = receipt(ItemCondition::Sellable, false);
    // One unit of line 1: 35.70 / 3 = 11.90 exactly.
    let first = ret(1, &[(1, 1)], ReturnStatus::Approved);
    assert_eq!(refund_due(&o, &first, &[], &[], &goods).unwrap(), eur(1190));
    // With the shipping: a quarter of 5.83, rounded down: 1.45.
    let with_shipping = receipt(ItemCondition::Sellable, true);
    assert_eq!(
        refund_due(&o, &first, &[], &[], &with_shipping).unwrap(),
        eur(1190 + 145)
    );
    // The rest after it was received: 2 × 11.90 + 5.95, and 5.83 − 1.45 = 4.38.
    let first = Return {
        status: ReturnStatus::Received,
        receipt: Some(with_shipping),
        ..first
    };
    let rest = ret(2, &[(1, 2), (2, 1)], ReturnStatus::Approved);
    assert_eq!(
        refund_due(&o, &rest, std::slice::from_ref(&first), &[], &with_shipping).unwrap(),
        eur(2380 + 595 + 438)
    );
    // Everything back: exactly the grand total, 13.35 + 34.13 = 47.48.
    assert_eq!(1190 + 145 + 2380 + 595 + 438, 4748);
}

fn cancelled(id: i64, lines: &[(u16, u32)]) -> Cancellation {
    Cancellation {
        id: crate::ids::CancellationId::new(id),
        order: ORDER,
        key: IdempotencyKey::parse(&format!("cancel-{}", crate::ids::CancellationId::new(id)))
            .unwrap(),
        units: lines
            .iter()
            .map(|(line_no, n)| CancelledUnits {
                line_no: *line_no,
                location: None,
                quantity: q(*n),
            })
            .collect(),
        reason: None,
        refunded: eur(0),
        released: eur(0),
        created_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
    }
}

#[test]
fn cancelled_units_and_returns_share_a_line_s_payment() {
    // The order above: line 1 paid 35.70 for 3 units, line 2 5.95, shipping 5.83.
    let o = order(
        OrderStatus::PartiallyShipped,
        vec![line(1, 10, 1000, 3), line(2, 11, 500, 1)],
        490,
        4748,
    );
    // One unit of line 1 cancelled: 11.90; its shipping share is not refunded.
    let one = cancelled(1, &[(1, 1)]);
    assert_eq!(
        cancellation_refund_due(&o, &one.units, &[], &[]).unwrap(),
        eur(1190)
    );
    // The other two come back with the shipping: 35.70 − 11.90 = 23.80 for the
    // goods, and 2 × 5.83 / 4 = 2.915, rounded down: 2.91.
    let rest = ret(1, &[(1, 2)], ReturnStatus::Approved);
    assert_eq!(
        refund_due(
            &o,
            &rest,
            &[],
            std::slice::from_ref(&one),
            &receipt(ItemCondition::Sellable, true)
        )
        .unwrap(),
        eur(2380 + 291)
    );
    // A unit received back first, then two cancelled: the last takes the rest,
    // 35.70 − 11.90 = 23.80; with line 2 too, 23.80 + 5.95.
    let back = Return {
        status: ReturnStatus::Received,
        receipt: Some(receipt(ItemCondition::Damaged, false)),
        ..ret(2, &[(1, 1)], ReturnStatus::Approved)
    };
    let two = cancelled(2, &[(1, 2), (2, 1)]);
    assert_eq!(
        cancellation_refund_due(&o, &two.units, &[back], &[]).unwrap(),
        eur(2380 + 595)
    );
    // Line 1 cancelled at two locations in one run: 2 units, 23.80, not twice
    // the first unit's share.
    let split = [
        CancelledUnits {
            line_no: 1,
            location: Some(BERLIN),
            quantity: q(1),
        },
        CancelledUnits {
            line_no: 1,
            location: Some(StockLocationId::new(2)),
            quantity: q(1),
        },
    ];
    assert_eq!(
        cancellation_refund_due(&o, &split, &[], std::slice::from_ref(&one)).unwrap(),
        eur(2380)
    );
}

#[test]
fn an_invoiced_order_refunds_each_line_as_paid_and_its_shipping_with_its_tax() {
    use crate::pricing::{AppliedRate, Invoice, LineTax, QuotedShipping, TaxClass};
    use crate::values::{CountryCode, ShippingMethodName, Slug, TaxRateName};
    let rate = AppliedRate {
        name: TaxRateName::parse("NY 7 %").unwrap(),
        country: CountryCode::parse("US").unwrap(),
        region: None,
        class: TaxClass::Standard,
        rate: rust_decimal::Decimal::new(7, 2),
    };
    let taxed = |discount: i64, net: i64, tax: i64| {
        Some(LineTax {
            discount: eur(discount),
            net: eur(net),
            tax: eur(tax),
            rate: Some(rate.clone()),
        })
    };
    // Net prices: 2 × 10.00 less 2.00 off, 7 % tax 1.26; 1 × 5.00, tax 0.35;
    // shipping 4.00 with its 0.28. 18.00 + 5.00 + 4.00 + 1.89 = 28.89.
    let mut o = order(
        OrderStatus::Delivered,
        vec![
            OrderLine {
                tax: taxed(200, 1800, 126),
                ..line(1, 10, 1000, 2)
            },
            OrderLine {
                tax: taxed(0, 500, 35),
                ..line(2, 11, 500, 1)
            },
        ],
        400,
        2889,
    );
    o.totals.discount = eur(200);
    o.totals.tax = eur(189);
    o.invoice = Some(Invoice {
        prices_include_tax: false,
        shipping: QuotedShipping {
            code: Slug::parse("standard").unwrap(),
            name: ShippingMethodName::parse("Standard").unwrap(),
            amount: eur(400),
            net: eur(400),
            tax: eur(28),
            rate: Some(rate.clone()),
        },
        tax_lines: Vec::new(),
        promotions: Vec::new(),
    });
    // Each line as paid: 20.00 − 2.00 + 1.26 and 5.00 + 0.35; the shipping with
    // its tax; together the grand total.
    assert_eq!(o.paid_for_lines().unwrap(), [eur(1926), eur(535)]);
    assert_eq!(o.shipping_paid().unwrap(), eur(428));
    // One unit of line 1 with its shipping: 19.26 / 2 = 9.63, and a third of
    // 4.28 rounded down, 1.42.
    let one = ret(1, &[(1, 1)], ReturnStatus::Approved);
    let with_shipping = receipt(ItemCondition::Sellable, true);
    assert_eq!(
        refund_due(&o, &one, &[], &[], &with_shipping).unwrap(),
        eur(963 + 142)
    );
}

#[test]
fn sellable_units_go_back_where_they_were_kept_damaged_ones_nowhere() {
    let lines = [line(1, 10, 1000, 3), line(2, 11, 500, 2)];
    let reservations = [Reservation {
        line_no: 1,
        variant: VariantId::new(10),
        location: BERLIN,
        quantity: 3,
    }];
    let r = ret(1, &[(1, 2), (2, 1)], ReturnStatus::Approved);
    assert_eq!(
        restock(
            &r,
            &receipt(ItemCondition::Sellable, false),
            &lines,
            &reservations
        ),
        Restock {
            at_location: vec![(VariantId::new(10), 2)],
            to_count: vec![(VariantId::new(11), 1)],
        }
    );
    assert_eq!(
        restock(
            &r,
            &receipt(ItemCondition::Damaged, false),
            &lines,
            &reservations
        ),
        Restock::default()
    );
}

proptest! {
    /// However an order's units come back, in however many returns, with or
    /// without the shipping, the refunds add up to exactly what was paid for what
    /// came back, and never more than the grand total.
    #[test]
    fn returns_of_every_unit_give_back_exactly_what_was_paid(
        units in proptest::collection::vec((1u32..6, 1i64..5000), 1..4),
        shipping in 0i64..1000,
        tax in 0i64..2000,
        splits in proptest::collection::vec(1u32..4, 1..12),
        with_shipping in any::<bool>(),
    ) {
        let lines: Vec<OrderLine> = units
            .iter()
            .zip(1u16..)
            .map(|((n, price), no)| line(no, i64::from(no), *price, *n))
            .collect();
        let subtotal: i64 = lines.iter().map(|l| l.line_total().to_minor().unwrap()).sum();
        let o = order(OrderStatus::Delivered, lines.clone(), shipping, subtotal + shipping + tax);
        // Units come back in returns of the sizes `splits` gives, line by line.
        let mut left: Vec<(u16, u32)> = lines.iter().map(|l| (l.line_no, l.quantity.get())).collect();
        let mut received: Vec<Return> = Vec::new();
        let mut refunded = 0i64;
        let r = receipt(ItemCondition::Sellable, with_shipping);
        for (i, size) in splits.iter().cycle().enumerate() {
            let Some(pos) = left.iter().position(|(_, n)| *n > 0) else { break };
            let (line_no, n) = left[pos];
            let take = (*size).min(n);
            left[pos].1 -= take;
            let this = ret(i as i64 + 1, &[(line_no, take)], ReturnStatus::Approved);
            let due = refund_due(&o, &this, &received, &[], &r).unwrap();
            prop_assert!(!due.is_negative());
            refunded += due.to_minor().unwrap();
            received.push(Return { status: ReturnStatus::Received, receipt: Some(r), ..this });
        }
        let goods: i64 = o.paid_for_lines().unwrap().iter().map(|m| m.to_minor().unwrap()).sum();
        let grand_total = subtotal + shipping + tax;
        let expected = if with_shipping { grand_total } else { goods };
        prop_assert_eq!(refunded, expected);
        prop_assert_eq!(goods + o.shipping_paid().unwrap().to_minor().unwrap(), grand_total);
    }

    /// Units given back in any mix of cancellations and returns (without the
    /// shipping) give back exactly what was paid for the lines.
    #[test]
    fn cancellations_and_returns_of_every_unit_give_back_what_the_lines_were_paid(
        units in proptest::collection::vec((1u32..6, 1i64..5000), 1..4),
        shipping in 0i64..1000,
        tax in 0i64..2000,
        splits in proptest::collection::vec((1u32..4, any::<bool>()), 1..12),
    ) {
        let lines: Vec<OrderLine> = units
            .iter()
            .zip(1u16..)
            .map(|((n, price), no)| line(no, i64::from(no), *price, *n))
            .collect();
        let subtotal: i64 = lines.iter().map(|l| l.line_total().to_minor().unwrap()).sum();
        let o = order(OrderStatus::PartiallyShipped, lines.clone(), shipping, subtotal + shipping + tax);
        let mut left: Vec<(u16, u32)> = lines.iter().map(|l| (l.line_no, l.quantity.get())).collect();
        let mut received: Vec<Return> = Vec::new();
        let mut cancellations: Vec<Cancellation> = Vec::new();
        let mut refunded = 0i64;
        let r = receipt(ItemCondition::Sellable, false);
        for (i, (size, cancel)) in splits.iter().cycle().enumerate() {
            let Some(pos) = left.iter().position(|(_, n)| *n > 0) else { break };
            let (line_no, n) = left[pos];
            let take = (*size).min(n);
            left[pos].1 -= take;
            let due = if *cancel {
                let c = cancelled(i as i64 + 1, &[(line_no, take)]);
                let due = cancellation_refund_due(&o, &c.units, &received, &cancellations).unwrap();
                cancellations.push(c);
                due
            } else {
                let this = ret(i as i64 + 1, &[(line_no, take)], ReturnStatus::Approved);
                let due = refund_due(&o, &this, &received, &cancellations, &r).unwrap();
                received.push(Return { status: ReturnStatus::Received, receipt: Some(r), ..this });
                due
            };
            prop_assert!(!due.is_negative());
            refunded += due.to_minor().unwrap();
        }
        let goods: i64 = o.paid_for_lines().unwrap().iter().map(|m| m.to_minor().unwrap()).sum();
        prop_assert_eq!(refunded, goods);
    }
}
