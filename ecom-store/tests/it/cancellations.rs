//! Cancelling part of an order on both stores: units released from where they
//! were reserved (or put back on their variant's count), their share of what was
//! paid refunded once, and the order following its shipments.

use diesel::RunQueryDsl;
use ecom_domain::memory::MemoryStore;
use ecom_domain::prelude::*;
use ecom_domain::repo::PriceBookRepository;
use ecom_store::testing::TestDb;
use ecom_store::{Isolation, RetryPolicy};

use crate::inventory::{Sells, buy, change, counts, location, no_ids, pay, shipment};
use crate::promotions::{d, shop};
use crate::util::{all_at_once, domain, exec, pg_store};

/// A cancellation of `lines` (line, units) under a key named by its lines
/// (keys are an order's own).
fn cancel(order: &Order, lines: &[(u16, i64)]) -> NewCancellation {
    let key = lines
        .iter()
        .map(|(l, n)| format!("{l}x{n}"))
        .collect::<Vec<_>>()
        .join("-");
    NewCancellation {
        order: order.id,
        key: IdempotencyKey::parse(&format!("cancel-{key}")).unwrap(),
        lines: lines
            .iter()
            .map(|(line_no, n)| CancellationLine {
                line_no: *line_no,
                quantity: Quantity::new(*n).unwrap(),
            })
            .collect(),
        reason: Some(Reason::parse("out of stock at the supplier").unwrap()),
    }
}

/// An order of 3 shirts (11.90 each; 2 reserved in Berlin, 1 in Lyon) and a book
/// (4.28, from its own count), 4.90 shipping and 20 % tax on all of it: 53.86,
/// allocated 42.84 to the shirts (14.28 each), 5.14 to the book, 5.88 to the
/// shipping. Refused beyond what is left outside shipments, and after shipping;
/// a shirt cancelled where most are left (a tie: Berlin, the lower id), the book,
/// the last shirt not in the pending shipment: 14.28 + 5.14 + 14.28; the
/// shipment leaving ships the order. The shipped shirt comes
/// back with its shipping: 42.84 − 28.56 = 14.28 and 5.88 / 4 = 1.47. A second
/// order, 2 shirts (34.44: 28.56 and 5.88), has one cancelled, then is cancelled
/// whole: only the other unit is released, and the rest refunded. A third
/// order's only unit cannot be cancelled in part. Every outcome as text.
fn cancellations<S>(store: &S) -> Vec<String>
where
    S: Sells + PaymentRepository + FulfillmentRepository + ReturnRepository,
    <S as CatalogReader>::Error: RepoError,
    <S as PriceBookRepository>::Error: RepoError,
    <S as InventoryRepository>::Error: RepoError,
    <S as CartRepository>::Error: RepoError,
    <S as CheckoutRepository>::Error: RepoError,
    <S as OrderReader>::Error: RepoError,
    <S as PaymentRepository>::Error: RepoError,
    <S as FulfillmentRepository>::Error: RepoError,
    <S as ReturnRepository>::Error: RepoError,
{
    let (shirt, book) = shop(store);
    let berlin = location(store, "Berlin", "DE", 1);
    let lyon = location(store, "Lyon", "FR", 2);
    store
        .change_stock(change(&berlin, shirt, MoveKind::Receipt, 2))
        .map_err(d)
        .unwrap();
    store
        .change_stock(change(&lyon, shirt, MoveKind::Receipt, 5))
        .map_err(d)
        .unwrap();
    let name = |at: Option<StockLocationId>| match at {
        Some(id) if id == berlin.id => "Berlin",
        Some(_) => "Lyon",
        None => "count",
    };
    let mut out = Vec::new();
    let levels = |out: &mut Vec<String>| {
        let shirts = store.inventory_levels(shirt).map_err(d).unwrap();
        let books = store
            .variant(book)
            .map_err(d)
            .unwrap()
            .variant
            .stock_on_hand;
        out.push(format!(
            "shirt {} {}, book {books}",
            counts(&shirts[0]),
            counts(&shirts[1])
        ));
    };
    let done = |out: &mut Vec<String>, c: Result<UnitsCancelled, DomainError>| match c {
        Ok(c) => out.push(format!(
            "{} {} {}",
            c.cancellation
                .units
                .iter()
                .map(|u| format!("{}@{}×{}", u.line_no, name(u.location), u.quantity.get()))
                .collect::<Vec<_>>()
                .join(" "),
            c.cancellation.refunded.amount(),
            c.order_status
        )),
        Err(e) => out.push(e.to_string()),
    };
    let order = buy(store, 1, &[(shirt, 3), (book, 1)], "DE").unwrap();
    out.push(order.totals.grand_total.amount().to_string());
    pay(store, &order);
    done(
        &mut out,
        store.cancel_units(cancel(&order, &[(1, 4)])).map_err(d),
    );
    let parcel = store
        .create_shipment(shipment(&order, &berlin, &[(1, 1)]))
        .map_err(d)
        .unwrap()
        .shipment;
    let first = cancel(&order, &[(1, 1)]);
    done(&mut out, store.cancel_units(first.clone()).map_err(d));
    levels(&mut out);
    // A clerk's retry: the same cancellation, nothing released nor refunded
    // twice; the same key for other units is refused.
    let again = store.cancel_units(first.clone()).map_err(d).unwrap();
    out.push(format!(
        "{:?} {}",
        again.applied,
        again.cancellation.refunded.amount()
    ));
    out.push(
        store
            .cancel_units(NewCancellation {
                lines: vec![CancellationLine {
                    line_no: 2,
                    quantity: Quantity::new(1).unwrap(),
                }],
                ..first.clone()
            })
            .map_err(d)
            .unwrap_err()
            .to_string(),
    );
    levels(&mut out);
    done(
        &mut out,
        store.cancel_units(cancel(&order, &[(2, 1)])).map_err(d),
    );
    let last = NewCancellation {
        key: IdempotencyKey::parse("the-last-shirt").unwrap(),
        ..cancel(&order, &[(1, 1)])
    };
    done(&mut out, store.cancel_units(last).map_err(d));
    levels(&mut out);
    // Only the shirt in the shipment is left: nothing to cancel, nor to ship
    // from Lyon, nor to ship as a whole.
    let one_more = |key: &str| NewCancellation {
        key: IdempotencyKey::parse(key).unwrap(),
        ..cancel(&order, &[(1, 1)])
    };
    done(
        &mut out,
        store.cancel_units(one_more("one-more")).map_err(d),
    );
    out.push(
        store
            .create_shipment(shipment(&order, &lyon, &[(1, 1)]))
            .map_err(d)
            .unwrap_err()
            .to_string(),
    );
    out.push(
        store
            .transition(order.id, OrderEvent::Ship, None)
            .map_err(d)
            .unwrap_err()
            .to_string(),
    );
    let shipped = store
        .change_shipment(parcel.id, ShipmentEvent::Ship)
        .map_err(d)
        .unwrap();
    out.push(format!("{}", shipped.order_status));
    // The first cancellation's retry still replays once the order shipped.
    let late = store.cancel_units(first).map_err(d).unwrap();
    out.push(format!("{:?} {}", late.applied, late.order_status));
    done(
        &mut out,
        store.cancel_units(one_more("too-late")).map_err(d),
    );
    let ret = store
        .request_return(NewReturn {
            order: order.id,
            lines: vec![ReturnLine {
                line_no: 1,
                quantity: Quantity::new(1).unwrap(),
            }],
            reason: ReturnReason::ChangedMind,
            note: None,
        })
        .map_err(d)
        .unwrap();
    store
        .decide_return(ret.id, ReturnDecision::Approve)
        .map_err(d)
        .unwrap();
    let back = store
        .receive_return(
            ret.id,
            ReturnReceipt {
                location: berlin.id,
                condition: ItemCondition::Damaged,
                refund_shipping: true,
            },
        )
        .map_err(d)
        .unwrap();
    out.push(format!(
        "returned {} {}",
        back.ret.refunded.unwrap().amount(),
        back.order_status
    ));
    let details = store.order(order.id).map_err(d).unwrap();
    out.push(format!(
        "{} {} {}",
        details.order.status,
        details.payments[0].status,
        details.payments[0].refunded.amount()
    ));
    out.push(
        store
            .order_cancellations(order.id)
            .map_err(d)
            .unwrap()
            .iter()
            .map(|c| c.refunded.amount().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );
    for at in [&berlin, &lyon] {
        let ledger = store
            .inventory_ledger(at.id, shirt)
            .map_err(d)
            .unwrap()
            .iter()
            .map(|e| format!("{}:{}", e.movement.kind, e.movement.quantity))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(format!("{}: {ledger}", at.name));
    }
    levels(&mut out);

    // Part cancelled, then the whole order.
    let second = buy(store, 2, &[(shirt, 2)], "DE").unwrap();
    out.push(second.totals.grand_total.amount().to_string());
    pay(store, &second);
    done(
        &mut out,
        store.cancel_units(cancel(&second, &[(1, 1)])).map_err(d),
    );
    levels(&mut out);
    let cancelled = store
        .transition(second.id, OrderEvent::Cancel, None)
        .map_err(d)
        .unwrap();
    let details = store.order(second.id).map_err(d).unwrap();
    out.push(format!(
        "{} {} {}",
        cancelled.status,
        details.payments[0].status,
        details.payments[0].refunded.amount()
    ));
    levels(&mut out);

    // Every unit is the order's cancellation.
    let third = buy(store, 3, &[(shirt, 1)], "DE").unwrap();
    pay(store, &third);
    done(
        &mut out,
        store.cancel_units(cancel(&third, &[(1, 1)])).map_err(d),
    );

    // From the book's own count: a unit cancelled, then the order; the count
    // gets back each unit once.
    let fourth = buy(store, 4, &[(book, 2)], "DE").unwrap();
    pay(store, &fourth);
    levels(&mut out);
    store
        .cancel_units(cancel(&fourth, &[(1, 1)]))
        .map_err(d)
        .unwrap();
    levels(&mut out);
    let cancelled = store
        .transition(fourth.id, OrderEvent::Cancel, None)
        .map_err(d)
        .unwrap();
    let payment = &store.order(fourth.id).map_err(d).unwrap().payments[0];
    out.push(format!(
        "{} {} {}",
        cancelled.status,
        payment.status,
        payment.refunded == fourth.totals.grand_total
    ));
    levels(&mut out);
    out
}

#[test]
fn part_of_an_order_is_cancelled_released_and_refunded_alike_in_both_stores() {
    let expected = [
        "53.86",
        "line 1 has 3 units not yet in a shipment, not 4",
        "1@Berlin×1 14.28 paid",
        "shirt 2/1/0/1 5/1/0/4, book 999",
        "Duplicate 14.28",
        "idempotency key \"cancel-1x1\" was already used for a different request",
        "shirt 2/1/0/1 5/1/0/4, book 999",
        "2@count×1 5.14 paid",
        "1@Lyon×1 14.28 paid",
        "shirt 2/1/0/1 5/0/0/5, book 1000",
        "line 1 has 0 units not yet in a shipment, not 1",
        "line 1 may ship 0 more units from location #, not 1",
        "order # is fulfilled in parts (it has shipments or cancelled units): ship and deliver its shipments",
        "shipped",
        "Duplicate shipped",
        "order # is shipped: only an order waiting for payment, paid or partially shipped cancels units",
        "returned 15.75 shipped",
        "shipped partially_refunded 49.45",
        "14.28, 5.14, 14.28",
        "Berlin: receipt:2, reservation:2, release:1, shipment:1",
        "Lyon: receipt:5, reservation:1, release:1",
        "shirt 1/0/0/1 5/0/0/5, book 1000",
        "34.44",
        "1@Berlin×1 14.28 paid",
        "shirt 1/0/0/1 5/1/0/4, book 1000",
        "cancelled refunded 34.44",
        "shirt 1/0/0/1 5/0/0/5, book 1000",
        "this cancels every unit of order #: cancel the order instead",
        "shirt 1/1/0/0 5/0/0/5, book 998",
        "shirt 1/1/0/0 5/0/0/5, book 999",
        "cancelled refunded true",
        "shirt 1/1/0/0 5/0/0/5, book 1000",
    ];
    let memory = no_ids(cancellations(
        &MemoryStore::with_rules(crate::util::rules()),
    ));
    let db = TestDb::new();
    let pg = no_ids(cancellations(&pg_store(&db)));
    assert_eq!(memory, expected);
    assert_eq!(pg, expected);
}

/// Units cancelled before the order is paid: their share is taken off what its
/// payment is due, the authorization lowered to it, never voided. The order of
/// 53.86 above, authorized in full: a shirt cancelled takes 14.28 off (39.58
/// due and authorized), a capture of the old amount is refused and one of 39.58
/// pays it. Two shirts (34.44) of which 20.16 was captured: a shirt cancelled
/// leaves 20.16 due, captured already, so the order is paid. Two shirts with
/// 30.00 captured: a shirt cancelled would leave 20.16 due, less than was
/// captured, so it is refused and nothing changes. Two books (10.27 + 5.88 =
/// 16.15), nothing authorized: a book cancelled takes 5.13 off (the line's last
/// unit would take the other 5.14); the order then
/// cancelled voids the payment and the count gets each book back once. A
/// provider reporting a reduction is refused.
fn cancellations_before_payment<S>(store: &S) -> Vec<String>
where
    S: Sells + PaymentRepository + FulfillmentRepository,
    <S as CatalogReader>::Error: RepoError,
    <S as PriceBookRepository>::Error: RepoError,
    <S as InventoryRepository>::Error: RepoError,
    <S as CartRepository>::Error: RepoError,
    <S as CheckoutRepository>::Error: RepoError,
    <S as OrderReader>::Error: RepoError,
    <S as PaymentRepository>::Error: RepoError,
    <S as FulfillmentRepository>::Error: RepoError,
{
    let (shirt, book) = shop(store);
    let berlin = location(store, "Berlin", "DE", 1);
    store
        .change_stock(change(&berlin, shirt, MoveKind::Receipt, 9))
        .map_err(d)
        .unwrap();
    let mut out = Vec::new();
    let levels = |out: &mut Vec<String>| {
        let shirts = store.inventory_levels(shirt).map_err(d).unwrap();
        let books = store
            .variant(book)
            .map_err(d)
            .unwrap()
            .variant
            .stock_on_hand;
        out.push(format!("shirt {}, book {books}", counts(&shirts[0])));
    };
    let payment_of = |order: &Order| store.order(order.id).map_err(d).unwrap().payments[0].clone();
    let tender = |out: &mut Vec<String>, order: &Order| {
        let p = payment_of(order);
        out.push(format!(
            "{} amount {} released {} due {} authorized {} captured {}",
            p.status,
            p.amount.amount(),
            p.released.amount(),
            p.due().amount(),
            p.authorized.amount(),
            p.captured.amount()
        ));
    };
    let report = |order: &Order, key: &str, action: PaymentAction| {
        let payment = payment_of(order);
        let key = format!("{key}-{}", order.id);
        store
            .record_payment_event(payment.id, crate::util::event(&key, action))
            .map_err(d)
    };
    let done = |out: &mut Vec<String>, c: Result<UnitsCancelled, DomainError>| match c {
        Ok(c) => out.push(format!(
            "{} refunded {} released {} {:?} {}",
            c.cancellation
                .units
                .iter()
                .map(|u| format!("{}×{}", u.line_no, u.quantity.get()))
                .collect::<Vec<_>>()
                .join(" "),
            c.cancellation.refunded.amount(),
            c.cancellation.released.amount(),
            c.applied,
            c.order_status
        )),
        Err(e) => out.push(e.to_string()),
    };
    let eur = |s: &str| Money::parse(s, Currency::EUR).unwrap();

    let first = buy(store, 1, &[(shirt, 3), (book, 1)], "DE").unwrap();
    report(
        &first,
        "auth",
        PaymentAction::Authorize {
            amount: eur("53.86"),
            provider_ref: None,
        },
    )
    .unwrap();
    levels(&mut out);
    done(
        &mut out,
        store.cancel_units(cancel(&first, &[(1, 1)])).map_err(d),
    );
    tender(&mut out, &first);
    levels(&mut out);
    done(
        &mut out,
        store.cancel_units(cancel(&first, &[(1, 1)])).map_err(d),
    );
    let capture = |amount: &str| PaymentAction::Capture {
        amount: eur(amount),
    };
    out.push(
        report(&first, "cap-old", capture("53.86"))
            .unwrap_err()
            .to_string(),
    );
    out.push(
        report(&first, "cap", capture("39.58"))
            .unwrap()
            .order_status
            .to_string(),
    );
    tender(&mut out, &first);

    let second = buy(store, 2, &[(shirt, 2)], "DE").unwrap();
    pay_in_part(store, &second, "20.16");
    done(
        &mut out,
        store.cancel_units(cancel(&second, &[(1, 1)])).map_err(d),
    );
    tender(&mut out, &second);

    let third = buy(store, 3, &[(shirt, 2)], "DE").unwrap();
    pay_in_part(store, &third, "30.00");
    levels(&mut out);
    done(
        &mut out,
        store.cancel_units(cancel(&third, &[(1, 1)])).map_err(d),
    );
    tender(&mut out, &third);
    levels(&mut out);
    out.push(format!(
        "{} cancellations",
        store
            .order_cancellations(third.id)
            .map_err(d)
            .unwrap()
            .len()
    ));

    let fourth = buy(store, 4, &[(book, 2)], "DE").unwrap();
    out.push(fourth.totals.grand_total.amount().to_string());
    levels(&mut out);
    done(
        &mut out,
        store.cancel_units(cancel(&fourth, &[(1, 1)])).map_err(d),
    );
    tender(&mut out, &fourth);
    levels(&mut out);
    let cancelled = store
        .transition(fourth.id, OrderEvent::Cancel, None)
        .map_err(d)
        .unwrap();
    out.push(cancelled.status.to_string());
    tender(&mut out, &fourth);
    levels(&mut out);
    out.push(
        report(
            &fourth,
            "reduce",
            PaymentAction::Reduce {
                amount: eur("1.00"),
            },
        )
        .unwrap_err()
        .to_string(),
    );
    out
}

/// Authorizes an order's payment in full and captures `amount` of it.
fn pay_in_part<S>(store: &S, order: &Order, amount: &str)
where
    S: Sells + PaymentRepository,
    <S as OrderReader>::Error: RepoError,
    <S as PaymentRepository>::Error: RepoError,
{
    let payment = store.order(order.id).map_err(d).unwrap().payments[0].clone();
    let actions = [
        PaymentAction::Authorize {
            amount: payment.due(),
            provider_ref: None,
        },
        PaymentAction::Capture {
            amount: Money::parse(amount, Currency::EUR).unwrap(),
        },
    ];
    for (n, action) in actions.into_iter().enumerate() {
        store
            .record_payment_event(payment.id, crate::util::event(&format!("part-{n}"), action))
            .map_err(d)
            .unwrap();
    }
}

#[test]
fn units_cancelled_before_payment_lower_what_is_due_alike_in_both_stores() {
    let memory = no_ids(cancellations_before_payment(&MemoryStore::with_rules(
        crate::util::rules(),
    )));
    let db = TestDb::new();
    let pg = no_ids(cancellations_before_payment(&pg_store(&db)));
    let expected = [
        "shirt 9/3/0/6, book 999",
        "1×1 refunded 0.00 released 14.28 Changed pending_payment",
        "authorized amount 53.86 released 14.28 due 39.58 authorized 39.58 captured 0.00",
        "shirt 9/2/0/7, book 999",
        "1×1 refunded 0.00 released 14.28 Duplicate pending_payment",
        "cannot capture 53.86 EUR: 0.00 EUR of 39.58 EUR authorized is already captured",
        "paid",
        "captured amount 53.86 released 14.28 due 39.58 authorized 39.58 captured 39.58",
        "1×1 refunded 0.00 released 14.28 Changed paid",
        "captured amount 34.44 released 14.28 due 20.16 authorized 20.16 captured 20.16",
        "shirt 9/5/0/4, book 999",
        "cannot lower the amount due by 14.28 EUR: 34.44 EUR is due and 30.00 EUR of it was captured; something must stay due, and at least what was captured",
        "captured amount 34.44 released 0.00 due 34.44 authorized 34.44 captured 30.00",
        "shirt 9/5/0/4, book 999",
        "0 cancellations",
        "16.15",
        "shirt 9/5/0/4, book 997",
        "1×1 refunded 0.00 released 5.13 Changed pending_payment",
        "pending amount 16.15 released 5.13 due 11.02 authorized 0.00 captured 0.00",
        "shirt 9/5/0/4, book 998",
        "cancelled",
        "voided amount 16.15 released 5.13 due 11.02 authorized 0.00 captured 0.00",
        "shirt 9/5/0/4, book 999",
        "a payment's reduce is booked by the store itself, not reported by a provider",
    ];
    assert_eq!(memory, expected);
    assert_eq!(pg, expected);
    // Each reduction tells the provider's integration what is due now.
    let reductions: Vec<String> = diesel::sql_query(
        "SELECT concat_ws(' ', payload->>'amount', payload->>'due', payload->>'authorized') AS t \
         FROM outbox_events WHERE event_type = 'payment.reduce' ORDER BY id",
    )
    .load::<Text>(&mut db.connect())
    .unwrap()
    .into_iter()
    .map(|r| r.t)
    .collect();
    assert_eq!(
        reductions,
        ["14.28 39.58 39.58", "14.28 20.16 20.16", "5.13 11.02 0.00"]
    );
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    t: String,
}

/// A cancellation of the last unit left to ship races its shipment (READ
/// COMMITTED, each run once, eight times over): the order's lock makes them
/// queue, so exactly one takes the unit, and the level and the refund say which.
#[test]
fn a_cancellation_racing_a_shipment_of_the_same_unit_lets_one_win() {
    let db = TestDb::new();
    let store = pg_store(&db).with_retry(RetryPolicy {
        max_attempts: 1,
        isolation: Isolation::ReadCommitted,
        ..RetryPolicy::default()
    });
    let (shirt, _) = shop(&store);
    let a = location(&store, "A", "DE", 1);
    store
        .change_stock(change(&a, shirt, MoveKind::Receipt, 16))
        .unwrap();
    for guest in 0..8 {
        let order = buy(&store, 10 + guest, &[(shirt, 2)], "DE").unwrap();
        pay(&store, &order);
        let outcomes = all_at_once(2, |i| {
            if i == 0 {
                store
                    .cancel_units(cancel(&order, &[(1, 1)]))
                    .map(|_| "cancelled")
                    .map_err(domain)
            } else {
                store
                    .create_shipment(shipment(&order, &a, &[(1, 2)]))
                    .map(|_| "shipment")
                    .map_err(domain)
            }
        });
        let won: Vec<&str> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok().copied())
            .collect();
        assert_eq!(won.len(), 1, "{outcomes:?}");
        let cancellations = store.order_cancellations(order.id).unwrap();
        let shipments = store.order_shipments(order.id).unwrap();
        let refunded = store.order(order.id).unwrap().payments[0].refunded;
        match won[0] {
            "cancelled" => {
                assert_eq!((cancellations.len(), shipments.len()), (1, 0));
                assert_eq!(refunded, cancellations[0].refunded);
                assert!(!refunded.is_zero() && !refunded.is_negative());
            }
            _ => {
                assert_eq!((cancellations.len(), shipments.len()), (0, 1));
                assert!(refunded.is_zero());
            }
        }
    }
    // Every cancelled unit left the reserved count, once.
    let level = store.inventory_levels(shirt).unwrap()[0];
    let released = store
        .inventory_ledger(a.id, shirt)
        .unwrap()
        .iter()
        .filter(|e| e.movement.kind == MoveKind::Release)
        .count();
    assert_eq!(
        (level.on_hand, level.reserved),
        (16, 16 - u32::try_from(released).unwrap())
    );
}

/// Whatever a client sends, the database keeps a line's units in live shipments
/// and cancellations within the units ordered (at commit), a cancellation's
/// lines on its own order, and units released at a location the line was
/// reserved at.
#[test]
fn the_database_keeps_cancelled_units_within_the_order() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let (shirt, _) = shop(&store);
    let a = location(&store, "A", "DE", 1);
    let b = location(&store, "B", "DE", 2);
    store
        .change_stock(change(&a, shirt, MoveKind::Receipt, 4))
        .unwrap();
    let order = buy(&store, 1, &[(shirt, 3)], "DE").unwrap();
    let other = buy(&store, 2, &[(shirt, 1)], "DE").unwrap();
    pay(&store, &order);
    store
        .create_shipment(shipment(&order, &a, &[(1, 2)]))
        .unwrap();
    let mut conn = db.connect();
    let (o, x, at, elsewhere) = (order.id.get(), other.id.get(), a.id.get(), b.id.get());
    let run =
        |conn: &mut diesel::PgConnection, sql: &str| exec(conn, sql).map_err(|e| e.to_string());
    let refused = |conn: &mut diesel::PgConnection, sql: &str, constraint: &str| {
        let err = run(conn, sql).unwrap_err();
        assert!(err.contains(constraint), "{sql}: {err}");
    };
    run(
        &mut conn,
        &format!(
            "INSERT INTO order_cancellations (id, order_id, idempotency_key) VALUES (900, {o}, 'k')"
        ),
    )
    .unwrap();
    let line = |order: i64, location: i64, units: i32| {
        format!(
            "INSERT INTO order_cancellation_lines (cancellation_id, order_id, line_no, location_id, quantity) \
             VALUES (900, {order}, 1, {location}, {units})"
        )
    };
    // Two units cancelled when two of three are in a shipment: refused at commit.
    refused(
        &mut conn,
        &line(o, at, 2),
        "order_cancellation_lines_within_order",
    );
    // A line of another order, on this order's cancellation.
    refused(
        &mut conn,
        &line(x, at, 1),
        "order_cancellation_lines_cancellation_fkey",
    );
    // Released at a location the line holds nothing at.
    refused(
        &mut conn,
        &line(o, elsewhere, 1),
        "order_cancellation_lines_reservation_fkey",
    );
    run(&mut conn, &line(o, at, 1)).unwrap();
    // One cancellation per key and order.
    refused(
        &mut conn,
        &format!("INSERT INTO order_cancellations (order_id, idempotency_key) VALUES ({o}, 'k')"),
        "order_cancellations_order_id_key_key",
    );
    // Then a shipment of the cancelled unit: refused at commit too.
    refused(
        &mut conn,
        &format!(
            "WITH s AS (INSERT INTO shipments (order_id, location_id) VALUES ({o}, {at}) RETURNING id) \
             INSERT INTO shipment_lines SELECT id, {o}, 1, 1 FROM s"
        ),
        "shipment_lines_within_order",
    );
}

/// The database's own rules for what cancellations take off a payment, whatever
/// client writes: something stays due, the authorization fits in what does, and
/// the ledger takes a reduction.
#[test]
fn the_database_keeps_a_payment_due_something_and_within_its_authorization() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let (shirt, _) = shop(&store);
    let a = location(&store, "A", "DE", 1);
    store
        .change_stock(change(&a, shirt, MoveKind::Receipt, 2))
        .unwrap();
    let order = buy(&store, 1, &[(shirt, 2)], "DE").unwrap();
    assert_eq!(order.totals.grand_total.amount().to_string(), "34.44");
    let p = store.order(order.id).unwrap().payments[0].id.get();
    let mut conn = db.connect();
    let run =
        |conn: &mut diesel::PgConnection, sql: &str| exec(conn, sql).map_err(|e| e.to_string());
    let refused = |conn: &mut diesel::PgConnection, sql: &str, constraint: &str| {
        let err = run(conn, sql).unwrap_err();
        assert!(err.contains(constraint), "{sql}: {err}");
    };
    run(
        &mut conn,
        &format!("UPDATE payments SET authorized = amount WHERE id = {p}"),
    )
    .unwrap();
    // Less due than was authorized.
    refused(
        &mut conn,
        &format!("UPDATE payments SET released = 1 WHERE id = {p}"),
        "payments_released_range",
    );
    // Nothing due, and less than nothing taken off.
    for released in ["amount", "-1"] {
        refused(
            &mut conn,
            &format!("UPDATE payments SET released = {released}, authorized = 0 WHERE id = {p}"),
            "payments_released_range",
        );
    }
    run(
        &mut conn,
        &format!("UPDATE payments SET released = 14.28, authorized = 20.16 WHERE id = {p}"),
    )
    .unwrap();
    let event = |kind: &str| {
        format!(
            "INSERT INTO payment_events (payment_id, kind, amount, idempotency_key) \
             VALUES ({p}, '{kind}', 14.28, 'k-{kind}')"
        )
    };
    run(&mut conn, &event("reduce")).unwrap();
    refused(&mut conn, &event("discount"), "payment_events_kind_check");
}
