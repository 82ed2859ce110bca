//! Returns on both stores: asked for, decided, received at a location with the
//! units restocked through the ledger and refunded through the payments, once.

use ecom_domain::memory::MemoryStore;
use ecom_domain::prelude::*;
use ecom_domain::repo::PriceBookRepository;
use ecom_store::testing::TestDb;
use ecom_store::{Isolation, RetryPolicy};

use crate::inventory::{Sells, buy, change, counts, location, no_ids, pay, shipment};
use crate::promotions::{d, shop};
use crate::util::{all_at_once, domain, exec, pg_store};

fn units(lines: &[(u16, i64)]) -> Vec<ReturnLine> {
    lines
        .iter()
        .map(|(line_no, n)| ReturnLine {
            line_no: *line_no,
            quantity: Quantity::new(*n).unwrap(),
        })
        .collect()
}

fn asked(order: &Order, lines: &[(u16, i64)], reason: ReturnReason) -> NewReturn {
    NewReturn {
        order: order.id,
        lines: units(lines),
        reason,
        note: Some(Reason::parse("too small").unwrap()),
    }
}

fn receipt(at: &StockLocation, condition: ItemCondition, refund_shipping: bool) -> ReturnReceipt {
    ReturnReceipt {
        location: at.id,
        condition,
        refund_shipping,
    }
}

/// An order of 3 shirts (11.90 each) and a book (4.28), 4.90 shipping and 20 %
/// tax on all of it (the test rules): 44.88 + 8.98 = 53.86, allocated 3570:428:490
/// over the shirts, the book and the shipping: 42.84 (14.28 a shirt), 5.14,
/// 5.88. Two shirts and the book ship; returns are refused before anything
/// left, beyond what left, and out of turn; one shirt comes back sellable
/// (14.28, restocked); the same receipt again changes nothing; the book and a
/// shirt come back damaged with their shipping (14.28 + 5.14 + the shipping of
/// units 2 and 3 of 4: 4.41 − 1.47 = 2.94; nothing restocked). Every outcome as
/// text.
fn returns<S>(store: &S) -> Vec<String>
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
    store
        .change_stock(change(&berlin, shirt, MoveKind::Receipt, 5))
        .map_err(d)
        .unwrap();
    let mut out = Vec::new();
    let level = |out: &mut Vec<String>| {
        let shirts = store.inventory_levels(shirt).map_err(d).unwrap();
        out.push(format!("shirt {}", counts(&shirts[0])));
    };
    let err = |out: &mut Vec<String>, e: DomainError| out.push(e.to_string());
    let received = |out: &mut Vec<String>, r: ReturnReceived| {
        out.push(format!(
            "{} {} {:?} {}",
            r.ret.status,
            r.ret
                .refunded
                .map(|m| m.amount().to_string())
                .unwrap_or_default(),
            r.applied,
            r.order_status
        ))
    };
    // Line 1: the shirts, reserved in Berlin; line 2: the book, counted.
    let order = buy(store, 1, &[(shirt, 3), (book, 1)], "DE").unwrap();
    out.push(order.totals.grand_total.amount().to_string());
    pay(store, &order);
    err(
        &mut out,
        store
            .request_return(asked(&order, &[(1, 1)], ReturnReason::DoesNotFit))
            .map_err(d)
            .unwrap_err(),
    );
    let parcel = store
        .create_shipment(shipment(&order, &berlin, &[(2, 1), (1, 2)]))
        .map_err(d)
        .unwrap()
        .shipment;
    store
        .change_shipment(parcel.id, ShipmentEvent::Ship)
        .map_err(d)
        .unwrap();
    level(&mut out);
    err(
        &mut out,
        store
            .request_return(asked(&order, &[(1, 3)], ReturnReason::DoesNotFit))
            .map_err(d)
            .unwrap_err(),
    );
    let first = store
        .request_return(asked(&order, &[(1, 1)], ReturnReason::DoesNotFit))
        .map_err(d)
        .unwrap();
    out.push(format!("{} {}", first.status, first.reason));
    let sellable = receipt(&berlin, ItemCondition::Sellable, false);
    err(
        &mut out,
        store
            .receive_return(first.id, sellable)
            .map_err(d)
            .unwrap_err(),
    );
    store
        .decide_return(first.id, ReturnDecision::Approve)
        .map_err(d)
        .unwrap();
    err(
        &mut out,
        store
            .decide_return(first.id, ReturnDecision::Reject)
            .map_err(d)
            .unwrap_err(),
    );
    received(
        &mut out,
        store.receive_return(first.id, sellable).map_err(d).unwrap(),
    );
    level(&mut out);
    received(
        &mut out,
        store.receive_return(first.id, sellable).map_err(d).unwrap(),
    );
    err(
        &mut out,
        store
            .receive_return(first.id, receipt(&berlin, ItemCondition::Damaged, false))
            .map_err(d)
            .unwrap_err(),
    );
    level(&mut out);
    // A rejected return frees its units to be asked for again.
    let rejected = store
        .request_return(asked(&order, &[(2, 1), (1, 1)], ReturnReason::Damaged))
        .map_err(d)
        .unwrap();
    store
        .decide_return(rejected.id, ReturnDecision::Reject)
        .map_err(d)
        .unwrap();
    let second = store
        .request_return(asked(&order, &[(1, 1), (2, 1)], ReturnReason::Damaged))
        .map_err(d)
        .unwrap();
    out.push(format!(
        "{:?}",
        second
            .lines
            .iter()
            .map(|l| (l.line_no, l.quantity.get()))
            .collect::<Vec<_>>()
    ));
    store
        .decide_return(second.id, ReturnDecision::Approve)
        .map_err(d)
        .unwrap();
    received(
        &mut out,
        store
            .receive_return(second.id, receipt(&berlin, ItemCondition::Damaged, true))
            .map_err(d)
            .unwrap(),
    );
    level(&mut out);
    err(
        &mut out,
        store
            .request_return(asked(&order, &[(1, 1)], ReturnReason::ChangedMind))
            .map_err(d)
            .unwrap_err(),
    );
    let ledger = store
        .inventory_ledger(berlin.id, shirt)
        .map_err(d)
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e.movement.kind, e.movement.quantity))
        .collect::<Vec<_>>()
        .join(", ");
    out.push(ledger);
    let payments = store.order(order.id).map_err(d).unwrap().payments;
    out.push(
        payments
            .iter()
            .map(|p| format!("{} {}", p.status, p.refunded.amount()))
            .collect::<Vec<_>>()
            .join(", "),
    );
    out.push(
        store
            .order_returns(order.id)
            .map_err(d)
            .unwrap()
            .iter()
            .map(|r| {
                let refunded = r.refunded.map(|m| m.amount().to_string());
                format!("{}:{}", r.status, refunded.unwrap_or_else(|| "-".into()))
            })
            .collect::<Vec<_>>()
            .join(", "),
    );
    out.push(
        store
            .find_return(ReturnId::new(1_000_000))
            .map_err(d)
            .unwrap_err()
            .to_string(),
    );
    out
}

#[test]
fn returns_come_back_restocked_and_refunded_once_alike_in_both_stores() {
    let expected = [
        "53.86",
        "order # is paid: only units that left come back",
        "shirt 3/1/0/2",
        "line 1 may return # more units, not 3",
        "requested does_not_fit",
        "return # is requested: it cannot be received",
        "return # is approved: it cannot be rejected",
        "received 14.28 Changed partially_shipped",
        // The shirt back on Berlin's shelf.
        "shirt 4/1/0/3",
        "received 14.28 Duplicate partially_shipped",
        "return # was received before, with another receipt",
        "shirt 4/1/0/3",
        "[(1, 1), (2, 1)]",
        "received 22.36 Changed partially_shipped",
        // Damaged: nothing back on the shelf.
        "shirt 4/1/0/3",
        "line 1 may return # more units, not 1",
        "receipt:5, reservation:3, shipment:2, return:1",
        "partially_refunded 36.64",
        "received:14.28, rejected:-, received:22.36",
        "return # not found",
    ];
    let memory = no_ids(returns(&MemoryStore::with_rules(crate::util::rules())));
    let db = TestDb::new();
    let pg = no_ids(returns(&pg_store(&db)));
    assert_eq!(memory, expected);
    assert_eq!(pg, expected);
}

/// Eight receipts of one approved return race (READ COMMITTED, each run once):
/// the order's and the return's locks make them queue, so the first restocks and
/// refunds and every other is a replay that changes nothing.
#[test]
fn a_return_received_by_racing_clerks_restocks_and_refunds_once() {
    let db = TestDb::new();
    let store = pg_store(&db).with_retry(RetryPolicy {
        max_attempts: 1,
        isolation: Isolation::ReadCommitted,
        ..RetryPolicy::default()
    });
    let (shirt, _) = shop(&store);
    let a = location(&store, "A", "DE", 1);
    store
        .change_stock(change(&a, shirt, MoveKind::Receipt, 2))
        .unwrap();
    let order = buy(&store, 1, &[(shirt, 2)], "DE").unwrap();
    pay(&store, &order);
    let parcel = store
        .create_shipment(shipment(&order, &a, &[(1, 2)]))
        .unwrap()
        .shipment;
    store
        .change_shipment(parcel.id, ShipmentEvent::Ship)
        .unwrap();
    let ret = store
        .request_return(asked(&order, &[(1, 2)], ReturnReason::ChangedMind))
        .unwrap();
    store
        .decide_return(ret.id, ReturnDecision::Approve)
        .unwrap();
    let sellable = receipt(&a, ItemCondition::Sellable, true);
    let outcomes = all_at_once(8, |_| {
        store.receive_return(ret.id, sellable).map_err(domain)
    });
    let applied: Vec<Applied> = outcomes
        .iter()
        .map(|o| o.as_ref().map(|r| r.applied).unwrap())
        .collect();
    assert_eq!(
        applied.iter().filter(|a| **a == Applied::Changed).count(),
        1,
        "{outcomes:?}"
    );
    let level = store.inventory_levels(shirt).unwrap()[0];
    assert_eq!((level.on_hand, level.reserved), (2, 0));
    let kinds: Vec<MoveKind> = store
        .inventory_ledger(a.id, shirt)
        .unwrap()
        .iter()
        .map(|e| e.movement.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            MoveKind::Receipt,
            MoveKind::Reservation,
            MoveKind::Shipment,
            MoveKind::Return
        ]
    );
    // Everything back, the shipping too: the whole grand total, and the order
    // refunded.
    let details = store.order(order.id).unwrap();
    assert_eq!(details.payments[0].refunded, order.totals.grand_total);
    assert_eq!(details.order.status, OrderStatus::Refunded);
}

/// Whatever a client sends, the database keeps a line's units in returns that
/// were not rejected within the units that left (at commit), a return's lines on
/// its own order, and a receipt whole.
#[test]
fn the_database_keeps_returns_within_what_left() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let (shirt, _) = shop(&store);
    let a = location(&store, "A", "DE", 1);
    store
        .change_stock(change(&a, shirt, MoveKind::Receipt, 4))
        .unwrap();
    let order = buy(&store, 1, &[(shirt, 3)], "DE").unwrap();
    let other = buy(&store, 2, &[(shirt, 1)], "DE").unwrap();
    pay(&store, &order);
    let parcel = store
        .create_shipment(shipment(&order, &a, &[(1, 2)]))
        .unwrap()
        .shipment;
    store
        .change_shipment(parcel.id, ShipmentEvent::Ship)
        .unwrap();
    let mut conn = db.connect();
    let (o, x, loc) = (order.id.get(), other.id.get(), a.id.get());
    let run =
        |conn: &mut diesel::PgConnection, sql: &str| exec(conn, sql).map_err(|e| e.to_string());
    let refused = |conn: &mut diesel::PgConnection, sql: &str, constraint: &str| {
        let err = run(conn, sql).unwrap_err();
        assert!(err.contains(constraint), "{sql}: {err}");
    };
    run(
        &mut conn,
        &format!("INSERT INTO returns (id, order_id, reason) VALUES (900, {o}, 'other'), (901, {o}, 'other')"),
    )
    .unwrap();
    // Three units back when two left: refused at commit.
    refused(
        &mut conn,
        &format!("INSERT INTO return_lines VALUES (900, {o}, 1, 3)"),
        "return_lines_within_shipped",
    );
    // A line of another order, on this order's return.
    refused(
        &mut conn,
        &format!("INSERT INTO return_lines VALUES (900, {x}, 1, 1)"),
        "return_lines_return_fkey",
    );
    // Two returns of the same two units: the second is refused at commit.
    run(
        &mut conn,
        &format!("INSERT INTO return_lines VALUES (900, {o}, 1, 2)"),
    )
    .unwrap();
    refused(
        &mut conn,
        &format!("INSERT INTO return_lines VALUES (901, {o}, 1, 1)"),
        "return_lines_within_shipped",
    );
    // Rejected, its units may be asked for again.
    run(
        &mut conn,
        "UPDATE returns SET status = 'rejected' WHERE id = 900",
    )
    .unwrap();
    run(
        &mut conn,
        &format!("INSERT INTO return_lines VALUES (901, {o}, 1, 2)"),
    )
    .unwrap();
    // A received return without its receipt, or a requested one with a location.
    refused(
        &mut conn,
        "UPDATE returns SET status = 'received' WHERE id = 901",
        "returns_receipt_whole",
    );
    refused(
        &mut conn,
        &format!("UPDATE returns SET location_id = {loc} WHERE id = 901"),
        "returns_receipt_whole",
    );
}
