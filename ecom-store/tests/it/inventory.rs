//! Stock per location on PostgreSQL: the same receipts, adjustments, transfers and
//! refusals as the reference store, with counts written out; checkout reserving at
//! locations and cancellations and expiries releasing, alike in both stores;
//! transfers and checkouts racing for the last units; and the schema's own ledger
//! rules, written around the store.

use diesel::connection::SimpleConnection;
use ecom_domain::inventory::{InventoryError, MAX_UNITS};
use ecom_domain::memory::MemoryStore;
use ecom_domain::prelude::*;
use ecom_domain::repo::PriceBookRepository;
use ecom_domain::rules::StoreRules;
use ecom_store::testing::TestDb;
use ecom_store::{Isolation, PgStore, RetryPolicy};

use crate::promotions::{d, shop};
use crate::util::{all_at_once, domain, exec, guest_owner, pg_store, request, scalar};

pub(crate) fn location<S: InventoryRepository>(
    store: &S,
    name: &str,
    country: &str,
    priority: i32,
) -> StockLocation
where
    S::Error: RepoError,
{
    store
        .add_stock_location(NewStockLocation {
            name: LocationName::parse(name).unwrap(),
            country: CountryCode::parse(country).unwrap(),
            priority,
        })
        .map_err(d)
        .unwrap()
}

pub(crate) fn change(
    location: &StockLocation,
    variant: VariantId,
    kind: MoveKind,
    quantity: i64,
) -> StockChange {
    StockChange {
        location: location.id,
        variant,
        movement: InventoryMove { kind, quantity },
        reason: Some(Reason::parse("stocktake").unwrap()),
    }
}

fn transfer(
    from: &StockLocation,
    to: &StockLocation,
    variant: VariantId,
    units: i64,
) -> StockTransfer {
    StockTransfer {
        from: from.id,
        to: to.id,
        variant,
        quantity: Quantity::new(units).unwrap(),
        reason: None,
    }
}

/// on hand / reserved / safety stock / available, as text.
pub(crate) fn counts(level: &InventoryLevel) -> String {
    format!(
        "{}/{}/{}/{}",
        level.on_hand,
        level.reserved,
        level.safety_stock,
        level.available()
    )
}

/// Two warehouses and a shop; receipts, adjustments, a safety stock, transfers, and
/// every refusal. Every outcome as text, for both stores to give the same.
fn scenario<S>(store: &S) -> Vec<Result<String, DomainError>>
where
    S: CatalogRepository + PriceBookRepository + InventoryRepository,
    <S as CatalogReader>::Error: RepoError,
    <S as PriceBookRepository>::Error: RepoError,
    <S as InventoryRepository>::Error: RepoError,
{
    let (shirt, book) = shop(store);
    let berlin = location(store, "Berlin warehouse", "DE", 1);
    let lyon = location(store, "Lyon warehouse", "FR", 2);
    let shop_front = location(store, "Shop Kreuzberg", "de", 0);
    let mut out: Vec<Result<String, DomainError>> = Vec::new();
    let names = store.stock_locations().map_err(d).map(|all| {
        all.iter()
            .map(|l| format!("{} {} {}", l.name.as_str(), l.country, l.priority))
            .collect::<Vec<_>>()
            .join("; ")
    });
    out.push(names);
    let mut step = |r: Result<InventoryLevel, <S as InventoryRepository>::Error>| {
        out.push(r.map(|l| counts(&l)).map_err(d));
    };
    step(store.change_stock(change(&berlin, shirt, MoveKind::Receipt, 40)));
    step(store.change_stock(change(&berlin, shirt, MoveKind::Adjustment, -3)));
    step(store.set_safety_stock(berlin.id, shirt, 5));
    step(store.change_stock(change(&lyon, shirt, MoveKind::Receipt, 10)));
    // Refused, nothing changes: a reservation is not made by hand, an adjustment
    // below zero, no units, a receipt past the most a level counts.
    step(store.change_stock(change(&berlin, shirt, MoveKind::Reservation, 1)));
    step(store.change_stock(change(&lyon, shirt, MoveKind::Adjustment, -11)));
    step(store.change_stock(change(&lyon, shirt, MoveKind::Receipt, 0)));
    step(store.change_stock(change(
        &lyon,
        shirt,
        MoveKind::Receipt,
        i64::from(MAX_UNITS),
    )));
    step(store.set_safety_stock(lyon.id, shirt, MAX_UNITS + 1));
    // An unknown location or variant.
    let nowhere = StockLocation {
        id: StockLocationId::new(999_999),
        ..berlin.clone()
    };
    step(store.change_stock(change(&nowhere, shirt, MoveKind::Receipt, 1)));
    step(store.change_stock(change(
        &berlin,
        VariantId::new(999_999),
        MoveKind::Receipt,
        1,
    )));
    // Transfers: 30 of Berlin's 37 leave 7, of which 5 are kept back, so 2 more
    // may go, and 3 may not.
    let moved = |t: StockTransfer| {
        store
            .transfer_stock(t)
            .map(|(from, to)| format!("{} -> {}", counts(&from), counts(&to)))
            .map_err(d)
    };
    out.push(moved(transfer(&berlin, &shop_front, shirt, 30)));
    out.push(moved(transfer(&berlin, &lyon, shirt, 3)));
    out.push(moved(transfer(&berlin, &lyon, shirt, 2)));
    out.push(moved(transfer(&lyon, &lyon, shirt, 1)));
    // The levels of each variant, and a ledger with its levels after each move.
    out.push(
        store
            .inventory_levels(shirt)
            .map(|levels| levels.iter().map(counts).collect::<Vec<_>>().join(" "))
            .map_err(d),
    );
    out.push(
        store
            .inventory_levels(book)
            .map(|levels| format!("{} levels", levels.len()))
            .map_err(d),
    );
    out.push(
        store
            .inventory_ledger(berlin.id, shirt)
            .map(|ledger| {
                ledger
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {} -> {}/{} {}",
                            e.movement.kind,
                            e.movement.quantity,
                            e.on_hand_after,
                            e.reserved_after,
                            e.reason.as_ref().map_or("-", Reason::as_str)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .map_err(d),
    );
    out
}

fn expected() -> Vec<Result<String, DomainError>> {
    let refused = |kind: MoveKind, quantity: u32, reason: &'static str| {
        Err(DomainError::Inventory(InventoryError::Refused {
            kind,
            quantity,
            location: StockLocationId::new(0),
            variant: VariantId::new(0),
            reason,
        }))
    };
    vec![
        Ok("Shop Kreuzberg DE 0; Berlin warehouse DE 1; Lyon warehouse FR 2".into()),
        Ok("40/0/0/40".into()),
        Ok("37/0/0/37".into()),
        Ok("37/0/5/32".into()),
        Ok("10/0/0/10".into()),
        Err(DomainError::Inventory(InventoryError::NotByHand(
            MoveKind::Reservation,
        ))),
        refused(MoveKind::Adjustment, 11, "would leave a negative count"),
        refused(MoveKind::Receipt, 0, "a move of no units"),
        Err(DomainError::Inventory(InventoryError::Overflow)),
        Err(DomainError::Inventory(InventoryError::Overflow)),
        Err(DomainError::not_found("stock location", 999_999)),
        Err(DomainError::not_found("variant", 999_999)),
        Ok("7/0/5/2 -> 30/0/0/30".into()),
        refused(MoveKind::TransferOut, 3, "more than is available"),
        Ok("5/0/5/0 -> 12/0/0/12".into()),
        Err(DomainError::Inventory(InventoryError::SameLocation(
            StockLocationId::new(0),
        ))),
        Ok("5/0/5/0 12/0/0/12 30/0/0/30".into()),
        Ok("0 levels".into()),
        Ok(
            "receipt 40 -> 40/0 stocktake; adjustment -3 -> 37/0 stocktake; \
            transfer_out 30 -> 7/0 -; transfer_out 2 -> 5/0 -"
                .into(),
        ),
    ]
}

/// Ids differ between the stores; the refusals are compared without them.
fn without_ids(outcomes: Vec<Result<String, DomainError>>) -> Vec<Result<String, DomainError>> {
    outcomes
        .into_iter()
        .map(|o| {
            o.map_err(|e| match e {
                DomainError::Inventory(InventoryError::Refused {
                    kind,
                    quantity,
                    reason,
                    ..
                }) => DomainError::Inventory(InventoryError::Refused {
                    kind,
                    quantity,
                    location: StockLocationId::new(0),
                    variant: VariantId::new(0),
                    reason,
                }),
                DomainError::Inventory(InventoryError::SameLocation(_)) => {
                    DomainError::Inventory(InventoryError::SameLocation(StockLocationId::new(0)))
                }
                other => other,
            })
        })
        .collect()
}

#[test]
fn both_stores_count_stock_per_location_alike() {
    let memory = without_ids(scenario(&MemoryStore::new()));
    let db = TestDb::new();
    let pg = without_ids(scenario(&pg_store(&db)));
    for (i, ((m, p), e)) in memory.iter().zip(&pg).zip(expected()).enumerate() {
        assert_eq!(m, &e, "memory, step {i}");
        assert_eq!(p, &e, "postgres, step {i}");
    }
    assert_eq!(memory.len(), expected().len());
    assert_eq!(pg.len(), expected().len());
    // In the database too, every level is its ledger's last row.
    let mut conn = db.connect();
    assert_eq!(
        scalar(
            &mut conn,
            "(SELECT count(*) FROM inventory_levels l \
              CROSS JOIN LATERAL (SELECT m.on_hand_after, m.reserved_after FROM inventory_moves m \
                  WHERE m.location_id = l.location_id AND m.variant_id = l.variant_id \
                  ORDER BY m.id DESC LIMIT 1) last \
              WHERE (l.on_hand, l.reserved) <> (last.on_hand_after, last.reserved_after))"
        ),
        0
    );
}

/// Eight transfers of 3 out of a level with 10 available race (READ COMMITTED,
/// each run once): the level's lock makes them queue, so exactly 3 go and the
/// others are refused; half of them go the other way round (from B, which has
/// nothing to give), taking the same two locks in the same order, so none is a
/// deadlock's victim. The two levels add up to what there was.
#[test]
fn transfers_racing_for_the_last_units_never_take_more_than_there_is() {
    let db = TestDb::new();
    let store = pg_store(&db).with_retry(RetryPolicy {
        max_attempts: 1,
        isolation: Isolation::ReadCommitted,
        ..RetryPolicy::default()
    });
    let (shirt, _) = shop(&store);
    let a = location(&store, "A", "DE", 1);
    let b = location(&store, "B", "DE", 2);
    store
        .change_stock(change(&a, shirt, MoveKind::Receipt, 10))
        .unwrap();
    let outcomes = all_at_once(16, |i| {
        if i % 2 == 0 {
            store.transfer_stock(transfer(&a, &b, shirt, 3))
        } else {
            store.transfer_stock(transfer(&b, &a, shirt, 100))
        }
    });
    let moved: Vec<usize> = (0..16).filter(|i| outcomes[*i].is_ok()).collect();
    assert_eq!(moved.len(), 3, "{outcomes:?}");
    assert!(moved.iter().all(|i| i % 2 == 0), "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(
            matches!(
                domain(refused),
                DomainError::Inventory(InventoryError::Refused { .. })
            ),
            "{refused}"
        );
    }
    let levels = store.inventory_levels(shirt).unwrap();
    assert_eq!(levels.iter().map(|l| l.on_hand).collect::<Vec<_>>(), [1, 9]);
}

/// The database's own rules, written around the store: a ledger row that does not
/// follow from the one before, a level that is not its ledger, a changed row, and
/// reserved above on hand.
#[test]
fn the_database_keeps_levels_equal_to_their_ledger() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let (shirt, _) = shop(&store);
    let a = location(&store, "A", "DE", 1);
    store
        .change_stock(change(&a, shirt, MoveKind::Receipt, 10))
        .unwrap();
    let mut conn = db.connect();
    let (loc, var) = (a.id.get(), shirt.get());
    let refused = |conn: &mut diesel::PgConnection, sql: &str, name: &str| {
        let err = exec(conn, sql).unwrap_err().to_string();
        assert!(err.contains(name), "{sql}: {err}");
    };
    refused(
        &mut conn,
        &format!(
            "INSERT INTO inventory_moves (location_id, variant_id, kind, quantity, on_hand_after, reserved_after) \
             VALUES ({loc}, {var}, 'receipt', 5, 20, 0)"
        ),
        "does not follow",
    );
    refused(
        &mut conn,
        &format!(
            "UPDATE inventory_levels SET on_hand = 11 WHERE location_id = {loc} AND variant_id = {var}"
        ),
        "ledger says",
    );
    refused(
        &mut conn,
        "UPDATE inventory_moves SET quantity = 11",
        "never changed",
    );
    refused(
        &mut conn,
        &format!(
            "UPDATE inventory_levels SET reserved = 11 WHERE location_id = {loc} AND variant_id = {var}"
        ),
        "inventory_levels_reserved_range",
    );
    refused(
        &mut conn,
        &format!(
            "INSERT INTO inventory_moves (location_id, variant_id, kind, quantity, on_hand_after, reserved_after) \
             VALUES ({loc}, {var}, 'receipt', -1, 9, 0)"
        ),
        "inventory_moves_quantity_sign",
    );
    // Both written together, as the store does: accepted.
    conn.batch_execute(
        &format!(
            "BEGIN; UPDATE inventory_levels SET on_hand = 15 WHERE location_id = {loc} AND variant_id = {var}; \
             INSERT INTO inventory_moves (location_id, variant_id, kind, quantity, on_hand_after, reserved_after) \
             VALUES ({loc}, {var}, 'receipt', 5, 15, 0); COMMIT"
        ),
    )
    .unwrap();
    assert_eq!(store.inventory_levels(shirt).unwrap()[0].on_hand, 15);
}

/// What a store sells from: catalog, price book, stock, carts, checkout, orders.
pub(crate) trait Sells:
    CatalogRepository
    + PriceBookRepository
    + InventoryRepository
    + CartRepository
    + CheckoutRepository
    + OrderRepository
{
}

impl<S> Sells for S where
    S: CatalogRepository
        + PriceBookRepository
        + InventoryRepository
        + CartRepository
        + CheckoutRepository
        + OrderRepository
{
}

/// A guest checkout of `lines` (variant, units) shipped to `country`; the order.
pub(crate) fn buy<S: Sells>(
    store: &S,
    guest: u32,
    lines: &[(VariantId, i64)],
    country: &str,
) -> Result<Order, DomainError>
where
    <S as CartRepository>::Error: RepoError,
    <S as CheckoutRepository>::Error: RepoError,
{
    let cart = store
        .open_cart(&guest_owner(guest), Currency::EUR)
        .map_err(d)?;
    for (variant, units) in lines {
        store
            .add_item(cart.id, *variant, Quantity::new(*units).unwrap())
            .map_err(d)?;
    }
    let to = PostalAddress::parse(&RawAddress {
        recipient: "Grace Hopper".into(),
        line1: "1 Navy Way".into(),
        city: "Somewhere".into(),
        postal_code: "10115".into(),
        country: country.into(),
        ..RawAddress::default()
    })
    .unwrap();
    let req = CheckoutRequest {
        shipping: AddressChoice::Given(to),
        ..request(cart.id, &format!("stock-{guest}"))
    };
    store.checkout(&req).map(|done| done.order).map_err(d)
}

/// An order's reservations as `line@location×units`, locations by name.
fn held<S: Sells>(store: &S, order: &Order) -> String
where
    <S as InventoryRepository>::Error: RepoError,
{
    let names = store.stock_locations().map_err(d).unwrap();
    store
        .order_reservations(order.id)
        .map_err(d)
        .unwrap()
        .iter()
        .map(|r| {
            let at = names.iter().find(|l| l.id == r.location).unwrap();
            format!("{}@{}×{}", r.line_no, at.name.as_str(), r.quantity)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A refusal without ids: out of stock as `sku asked/available` per variant.
fn refusal(err: DomainError) -> String {
    match err {
        DomainError::OutOfStock(short) => short
            .iter()
            .map(|s| format!("{} {}/{}", s.sku.as_str(), s.requested, s.available))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Checkout reserving at two warehouses: a line split by priority, a variant kept
/// as one count next to it, a shortage over every location, and a cancellation
/// and an expiry releasing exactly what was held. Every outcome as text.
fn sales<S: Sells>(store: &S) -> Vec<String>
where
    <S as CatalogReader>::Error: RepoError,
    <S as PriceBookRepository>::Error: RepoError,
    <S as InventoryRepository>::Error: RepoError,
    <S as CartRepository>::Error: RepoError,
    <S as CheckoutRepository>::Error: RepoError,
    <S as OrderReader>::Error: RepoError,
{
    let (shirt, book) = shop(store);
    let berlin = location(store, "Berlin", "DE", 1);
    let lyon = location(store, "Lyon", "FR", 2);
    for (at, units) in [(&berlin, 2), (&lyon, 5)] {
        store
            .change_stock(change(at, shirt, MoveKind::Receipt, units))
            .map_err(d)
            .unwrap();
    }
    let mut out = Vec::new();
    let levels = |out: &mut Vec<String>| {
        let shirts = store.inventory_levels(shirt).map_err(d).unwrap();
        let counted = |v| store.variant(v).map_err(d).unwrap().variant.stock_on_hand;
        out.push(format!(
            "shirt {} | counts {} {}",
            shirts.iter().map(counts).collect::<Vec<_>>().join(" "),
            counted(shirt),
            counted(book)
        ));
    };
    let order = |out: &mut Vec<String>, guest, lines: &[(VariantId, i64)]| match buy(
        store, guest, lines, "DE",
    ) {
        Ok(order) => {
            out.push(held(store, &order));
            Some(order)
        }
        Err(err) => {
            out.push(refusal(err));
            None
        }
    };
    let first = order(&mut out, 1, &[(shirt, 4)]);
    levels(&mut out);
    order(&mut out, 2, &[(book, 1), (shirt, 4)]);
    levels(&mut out);
    let third = order(&mut out, 3, &[(book, 2), (shirt, 3)]);
    levels(&mut out);
    let first = first.unwrap();
    store
        .transition(first.id, OrderEvent::Cancel, None)
        .map_err(d)
        .unwrap();
    out.push(held(store, &first));
    levels(&mut out);
    let expired = store
        .expire_unpaid_orders(chrono::Utc::now() + chrono::Duration::days(2))
        .map_err(d)
        .unwrap();
    out.push(format!("expired {}", expired.len()));
    levels(&mut out);
    out.push(held(store, &third.unwrap()));
    let ledger = store
        .inventory_ledger(lyon.id, shirt)
        .map_err(d)
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e.movement.kind, e.movement.quantity))
        .collect::<Vec<_>>()
        .join(", ");
    out.push(ledger);
    out
}

#[test]
fn checkout_reserves_at_locations_and_gives_back_what_it_held() {
    let expected = [
        // Berlin first (priority 1), the rest from Lyon; the count is untouched.
        "1@Berlin×2, 1@Lyon×2",
        "shirt 2/2/0/0 5/2/0/3 | counts 1000 1000",
        // Three shirts are left over both locations; the book alone would do.
        "SHIRT 4/3",
        "shirt 2/2/0/0 5/2/0/3 | counts 1000 1000",
        // The lines are in variant order: the shirt is line 1, the book line 2.
        "1@Lyon×3",
        "shirt 2/2/0/0 5/5/0/0 | counts 1000 998",
        // Cancelled: released, and still on record.
        "1@Berlin×2, 1@Lyon×2",
        "shirt 2/0/0/2 5/3/0/2 | counts 1000 998",
        "expired 1",
        "shirt 2/0/0/2 5/0/0/5 | counts 1000 1000",
        "1@Lyon×3",
        "receipt 5, reservation 2, reservation 3, release 2, release 3",
    ];
    let memory = sales(&MemoryStore::with_rules(crate::util::rules()));
    let db = TestDb::new();
    let pg = sales(&pg_store(&db));
    assert_eq!(memory, expected);
    assert_eq!(pg, expected);
}

/// With [`ReservationStrategy::ClosestToShipping`], an order to France is
/// reserved in Lyon first, whatever the priorities.
#[test]
fn the_closest_strategy_reserves_in_the_shipping_country_first() {
    let rules = || StoreRules {
        reservation: ReservationStrategy::ClosestToShipping,
        ..crate::util::rules()
    };
    fn run<S: Sells>(store: &S) -> Vec<String>
    where
        <S as CatalogReader>::Error: RepoError,
        <S as PriceBookRepository>::Error: RepoError,
        <S as InventoryRepository>::Error: RepoError,
        <S as CartRepository>::Error: RepoError,
        <S as CheckoutRepository>::Error: RepoError,
    {
        let (shirt, _) = shop(store);
        let berlin = location(store, "Berlin", "DE", 1);
        let lyon = location(store, "Lyon", "FR", 2);
        for at in [&berlin, &lyon] {
            store
                .change_stock(change(at, shirt, MoveKind::Receipt, 3))
                .map_err(d)
                .unwrap();
        }
        [(1, "FR"), (2, "DE"), (3, "FR")]
            .iter()
            .map(|(guest, country)| {
                let order = buy(store, *guest, &[(shirt, 2)], country).unwrap();
                held(store, &order)
            })
            .collect()
    }
    let expected = ["1@Lyon×2", "1@Berlin×2", "1@Berlin×1, 1@Lyon×1"];
    assert_eq!(run(&MemoryStore::with_rules(rules())), expected);
    let db = TestDb::new();
    let pg = PgStore::with_rules(db.pool().clone(), rules());
    assert_eq!(run(&pg), expected);
}

/// Eight guests race (READ COMMITTED, each run once) for a shirt with 3 units
/// over two locations (two at A, one at B) and ask for two each: the variant's
/// lock makes them queue, so exactly one order is placed (from A), the last unit
/// stays at B, and every refusal is out of stock.
#[test]
fn checkouts_racing_for_the_last_units_at_locations_never_oversell() {
    let db = TestDb::new();
    let store = pg_store(&db).with_retry(RetryPolicy {
        max_attempts: 1,
        isolation: Isolation::ReadCommitted,
        ..RetryPolicy::default()
    });
    let (shirt, _) = shop(&store);
    let a = location(&store, "A", "DE", 1);
    let b = location(&store, "B", "DE", 2);
    store
        .change_stock(change(&a, shirt, MoveKind::Receipt, 2))
        .unwrap();
    store
        .change_stock(change(&b, shirt, MoveKind::Receipt, 1))
        .unwrap();
    let outcomes = all_at_once(8, |i| buy(&store, 100 + i as u32, &[(shirt, 2)], "DE"));
    let placed = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(placed, 1, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(matches!(refused, DomainError::OutOfStock(_)), "{refused}");
    }
    let levels = store.inventory_levels(shirt).unwrap();
    assert_eq!(
        levels.iter().map(counts).collect::<Vec<_>>(),
        ["2/2/0/0", "1/0/0/1"]
    );
    let mut conn = db.connect();
    assert_eq!(
        scalar(&mut conn, "(SELECT sum(quantity) FROM order_reservations)"),
        2
    );
}

/// Captures what an order's payment is due in full: the order is paid.
pub(crate) fn pay<S: Sells + PaymentRepository>(store: &S, order: &Order)
where
    <S as OrderReader>::Error: RepoError,
    <S as PaymentRepository>::Error: RepoError,
{
    let payment = store.order(order.id).map_err(d).unwrap().payments[0].clone();
    let amount = payment.due();
    let authorize = PaymentAction::Authorize {
        amount,
        provider_ref: None,
    };
    let key = |k: &str| format!("{k}-{}", order.id);
    store
        .record_payment_event(payment.id, crate::util::event(&key("auth"), authorize))
        .map_err(d)
        .unwrap();
    store
        .record_payment_event(
            payment.id,
            crate::util::event(&key("cap"), PaymentAction::Capture { amount }),
        )
        .map_err(d)
        .unwrap();
}

/// A shipment of `lines` (line number, units) of `order` from `at`, under a key
/// of its own: each call is another request.
pub(crate) fn shipment(order: &Order, at: &StockLocation, lines: &[(u16, i64)]) -> NewShipment {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    NewShipment {
        order: order.id,
        key: IdempotencyKey::parse(&format!("parcel-{n}")).unwrap(),
        location: at.id,
        lines: lines
            .iter()
            .map(|(line_no, units)| ShipmentLine {
                line_no: *line_no,
                quantity: Quantity::new(*units).unwrap(),
            })
            .collect(),
        tracking: Tracking {
            carrier: Some(CarrierName::parse("DHL").unwrap()),
            number: Some(TrackingNumber::parse("00340434").unwrap()),
            url: Some(TrackingUrl::parse("https://track.example.com/00340434").unwrap()),
        },
    }
}

/// An order shipped in two parts from two warehouses (a line split over both, a
/// counted line beside it), the order following its shipments to delivered; a
/// shipment of more than a location holds refused; an order cancelled with a
/// pending shipment; an order shipped as a whole. Every outcome as text.
fn fulfilment<S: Sells + PaymentRepository + FulfillmentRepository>(store: &S) -> Vec<String>
where
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
    let lyon = location(store, "Lyon", "FR", 2);
    for (at, units) in [(&berlin, 2), (&lyon, 5)] {
        store
            .change_stock(change(at, shirt, MoveKind::Receipt, units))
            .map_err(d)
            .unwrap();
    }
    let mut out = Vec::new();
    let levels = |out: &mut Vec<String>| {
        let shirts = store.inventory_levels(shirt).map_err(d).unwrap();
        out.push(format!(
            "shirt {}",
            shirts.iter().map(counts).collect::<Vec<_>>().join(" ")
        ));
    };
    let outcome = |out: &mut Vec<String>, r: Result<ShipmentChange, DomainError>| match r {
        Ok(c) => out.push(format!("{} {}", c.shipment.status, c.order_status)),
        Err(e) => out.push(e.to_string()),
    };
    // Line 1: the shirt, 2 in Berlin and 2 in Lyon; line 2: the book, counted.
    let order = buy(store, 1, &[(book, 1), (shirt, 4)], "DE").unwrap();
    out.push(held(store, &order));
    let early = store.create_shipment(shipment(&order, &berlin, &[(1, 1)]));
    out.push(early.map_err(d).unwrap_err().to_string());
    pay(store, &order);
    let too_many = store.create_shipment(shipment(&order, &berlin, &[(1, 3)]));
    out.push(too_many.map_err(d).unwrap_err().to_string());
    let first = store
        .create_shipment(shipment(&order, &berlin, &[(2, 1), (1, 2)]))
        .map_err(d)
        .unwrap()
        .shipment;
    out.push(format!(
        "{} {:?}",
        first.status,
        first
            .lines
            .iter()
            .map(|l| (l.line_no, l.quantity.get()))
            .collect::<Vec<_>>()
    ));
    outcome(
        &mut out,
        store
            .change_shipment(first.id, ShipmentEvent::Ship)
            .map_err(d),
    );
    levels(&mut out);
    let whole = store.transition(order.id, OrderEvent::Ship, None);
    out.push(whole.map_err(d).unwrap_err().to_string());
    let book_again = store.create_shipment(shipment(&order, &lyon, &[(2, 1)]));
    out.push(book_again.map_err(d).unwrap_err().to_string());
    let second = store
        .create_shipment(shipment(&order, &lyon, &[(1, 2)]))
        .map_err(d)
        .unwrap()
        .shipment;
    for (id, event) in [
        (second.id, ShipmentEvent::Pack),
        (second.id, ShipmentEvent::Pack),
        (second.id, ShipmentEvent::Ship),
        (first.id, ShipmentEvent::Deliver),
        (second.id, ShipmentEvent::Deliver),
    ] {
        outcome(&mut out, store.change_shipment(id, event).map_err(d));
    }
    levels(&mut out);
    let history = store.order(order.id).map_err(d).unwrap().order.history;
    out.push(
        history
            .iter()
            .map(|h| h.to.as_str())
            .collect::<Vec<_>>()
            .join(" > "),
    );
    let closed = store.track_shipment(first.id, Tracking::default());
    out.push(closed.map_err(d).unwrap_err().to_string());
    // Cancelled with a shipment pending: the shipment is cancelled, the units
    // released.
    let cancelled = buy(store, 2, &[(shirt, 1)], "DE").unwrap();
    pay(store, &cancelled);
    let pending = store
        .create_shipment(shipment(&cancelled, &lyon, &[(1, 1)]))
        .map_err(d)
        .unwrap()
        .shipment;
    store
        .transition(cancelled.id, OrderEvent::Cancel, None)
        .map_err(d)
        .unwrap();
    out.push(
        store
            .shipment(pending.id)
            .map_err(d)
            .unwrap()
            .status
            .to_string(),
    );
    levels(&mut out);
    // Shipped as a whole, without shipments: its reservations leave as shipped.
    let whole = buy(store, 3, &[(shirt, 2)], "DE").unwrap();
    pay(store, &whole);
    let shipped = store.transition(whole.id, OrderEvent::Ship, None);
    out.push(shipped.map_err(d).unwrap().status.to_string());
    levels(&mut out);
    let ledger = store
        .inventory_ledger(lyon.id, shirt)
        .map_err(d)
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e.movement.kind, e.movement.quantity))
        .collect::<Vec<_>>()
        .join(", ");
    out.push(ledger);
    out.push(format!(
        "{} shipments",
        store.order_shipments(order.id).map_err(d).unwrap().len()
    ));
    out
}

#[test]
fn orders_ship_in_parts_from_their_locations_and_follow_their_shipments() {
    let expected = [
        // The shirt is line 1 (variants in id order), split over both
        // warehouses; the book, line 2, is counted.
        "1@Berlin×2, 1@Lyon×2",
        "order # is pending_payment: only a paid or partially shipped order ships",
        "line 1 may ship 2 more units from location #, not 3",
        "pending [(1, 2), (2, 1)]",
        "shipped partially_shipped",
        // Berlin's two shirts left: on hand and reserved both went down.
        "shirt 0/0/0/0 5/2/0/3",
        "order # is fulfilled in parts (it has shipments or cancelled units): ship and deliver its shipments",
        // The counted book left with the first shipment.
        "line 2 may ship 0 more units from location #, not 1",
        "packed partially_shipped",
        "a shipment that is packed does not accept pack; it accepts ship, cancel",
        "shipped shipped",
        "delivered partially_delivered",
        "delivered delivered",
        "shirt 0/0/0/0 3/0/0/3",
        "pending_payment > paid > partially_shipped > shipped > partially_delivered > delivered",
        "shipment # is delivered: its tracking no longer changes",
        // The cancelled order's pending shipment, and its unit back in Lyon.
        "cancelled",
        "shirt 0/0/0/0 3/0/0/3",
        "shipped",
        "shirt 0/0/0/0 1/0/0/1",
        "receipt:5, reservation:2, shipment:2, reservation:1, release:1, reservation:2, shipment:2",
        "2 shipments",
    ];
    let memory = no_ids(fulfilment(&MemoryStore::with_rules(crate::util::rules())));
    let db = TestDb::new();
    let pg = no_ids(fulfilment(&pg_store(&db)));
    assert_eq!(memory, expected);
    assert_eq!(pg, expected);
}

/// `lines` with the number after "order ", "location " and "shipment " as `#`:
/// the two stores count ids differently.
pub(crate) fn no_ids(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .map(|line| {
            let mut out = String::new();
            let mut rest = line.as_str();
            while let Some(at) = ["order ", "location ", "shipment ", "return "]
                .iter()
                .filter_map(|w| rest.find(w).map(|i| (i, w.len())))
                .min()
            {
                let (start, len) = at;
                out.push_str(&rest[..start + len]);
                rest = &rest[start + len..];
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                if digits > 0 {
                    out.push('#');
                    rest = &rest[digits..];
                }
            }
            out.push_str(rest);
            out
        })
        .collect()
}

/// Eight shipments race (READ COMMITTED, each run once) for the one unit an order
/// holds reserved: the order's lock makes them queue, so exactly one is created
/// and every other is refused as too many; then two shippings of it race, and
/// the unit leaves its level once.
#[test]
fn shipments_racing_for_the_last_reserved_unit_take_it_once() {
    let db = TestDb::new();
    let store = pg_store(&db).with_retry(RetryPolicy {
        max_attempts: 1,
        isolation: Isolation::ReadCommitted,
        ..RetryPolicy::default()
    });
    let (shirt, _) = shop(&store);
    let a = location(&store, "A", "DE", 1);
    store
        .change_stock(change(&a, shirt, MoveKind::Receipt, 1))
        .unwrap();
    let order = buy(&store, 1, &[(shirt, 1)], "DE").unwrap();
    pay(&store, &order);
    let outcomes = all_at_once(8, |_| {
        store
            .create_shipment(shipment(&order, &a, &[(1, 1)]))
            .map_err(domain)
    });
    let created: Vec<&ShipmentCreated> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(created.len(), 1, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(
            matches!(
                refused,
                DomainError::Fulfillment(FulfillmentError::TooMany { left: 0, .. })
            ),
            "{refused}"
        );
    }
    let id = created[0].shipment.id;
    let shipped = all_at_once(2, |_| {
        store
            .change_shipment(id, ShipmentEvent::Ship)
            .map_err(domain)
    });
    assert_eq!(
        shipped.iter().filter(|o| o.is_ok()).count(),
        1,
        "{shipped:?}"
    );
    let level = store.inventory_levels(shirt).unwrap()[0];
    assert_eq!((level.on_hand, level.reserved), (0, 0));
    let ledger = store.inventory_ledger(a.id, shirt).unwrap();
    let kinds: Vec<MoveKind> = ledger.iter().map(|e| e.movement.kind).collect();
    assert_eq!(
        kinds,
        [MoveKind::Receipt, MoveKind::Reservation, MoveKind::Shipment]
    );
    assert_eq!(
        store.order(order.id).unwrap().order.status,
        OrderStatus::Shipped
    );
}

/// Whatever a client sends, the database keeps a line's units in live shipments
/// within the units ordered (at commit), and a shipment's lines on its own order.
#[test]
fn the_database_keeps_shipments_within_their_orders() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let (shirt, _) = shop(&store);
    let a = location(&store, "A", "DE", 1);
    let first = buy(&store, 1, &[(shirt, 2)], "DE").unwrap();
    let other = buy(&store, 2, &[(shirt, 1)], "DE").unwrap();
    let mut conn = db.connect();
    let (loc, order, theirs) = (a.id.get(), first.id.get(), other.id.get());
    let ship = |conn: &mut diesel::PgConnection, line_order: i64, units: i64| {
        exec(
            conn,
            &format!(
                "WITH s AS (INSERT INTO shipments (order_id, location_id) VALUES ({order}, {loc}) \
                 RETURNING id) \
                 INSERT INTO shipment_lines (shipment_id, order_id, line_no, quantity) \
                 SELECT id, {line_order}, 1, {units} FROM s"
            ),
        )
        .map_err(|e| e.to_string())
    };
    let over = ship(&mut conn, order, 3).unwrap_err();
    assert!(over.contains("shipment_lines_within_order"), "{over}");
    let elsewhere = ship(&mut conn, theirs, 1).unwrap_err();
    assert!(
        elsewhere.contains("shipment_lines_shipment_fkey"),
        "{elsewhere}"
    );
    ship(&mut conn, order, 2).unwrap();
    // A second shipment of the same units: over, unless the first is cancelled.
    let again = ship(&mut conn, order, 1).unwrap_err();
    assert!(again.contains("shipment_lines_within_order"), "{again}");
    exec(
        &mut conn,
        &format!("UPDATE shipments SET status = 'cancelled' WHERE order_id = {order}"),
    )
    .unwrap();
    ship(&mut conn, order, 2).unwrap();
}

/// A retried shipment request in either store: the same key, location and units
/// is the same shipment (replayed even after it shipped, nothing booked twice);
/// the same key for other units is refused.
fn retried_shipments<S>(store: &S) -> Vec<String>
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
    let (shirt, _) = shop(store);
    let berlin = location(store, "Berlin", "DE", 1);
    store
        .change_stock(change(&berlin, shirt, MoveKind::Receipt, 3))
        .map_err(d)
        .unwrap();
    let order = buy(store, 1, &[(shirt, 3)], "DE").unwrap();
    pay(store, &order);
    let parcel = NewShipment {
        key: IdempotencyKey::parse("pick-1").unwrap(),
        ..shipment(&order, &berlin, &[(1, 2)])
    };
    let mut out = Vec::new();
    let created =
        |out: &mut Vec<String>, new: NewShipment| match store.create_shipment(new).map_err(d) {
            Ok(c) => out.push(format!(
                "{:?} {} {}",
                c.applied,
                c.shipment.status,
                c.shipment
                    .key
                    .map(|k| k.as_str().to_owned())
                    .unwrap_or_default()
            )),
            Err(e) => out.push(e.to_string()),
        };
    created(&mut out, parcel.clone());
    created(&mut out, parcel.clone());
    let first = store.order_shipments(order.id).map_err(d).unwrap()[0].id;
    store
        .change_shipment(first, ShipmentEvent::Ship)
        .map_err(d)
        .unwrap();
    created(&mut out, parcel.clone());
    created(
        &mut out,
        NewShipment {
            lines: vec![ShipmentLine {
                line_no: 1,
                quantity: Quantity::new(1).unwrap(),
            }],
            ..parcel.clone()
        },
    );
    let shipments = store.order_shipments(order.id).map_err(d).unwrap();
    let levels = store.inventory_levels(shirt).map_err(d).unwrap();
    out.push(format!(
        "{} shipment(s), Berlin {}",
        shipments.len(),
        counts(&levels[0])
    ));
    out
}

#[test]
fn a_retried_shipment_is_the_same_parcel_in_both_stores() {
    let memory = retried_shipments(&MemoryStore::with_rules(crate::util::rules()));
    let db = TestDb::new();
    let pg = retried_shipments(&pg_store(&db));
    // 3 received and reserved, 2 shipped once: 1 on hand, 1 reserved.
    let expected = [
        "Changed pending pick-1",
        "Duplicate pending pick-1",
        "Duplicate shipped pick-1",
        "idempotency key \"pick-1\" was already used for a different request",
        "1 shipment(s), Berlin 1/1/0/0",
    ];
    assert_eq!(memory, expected);
    assert_eq!(pg, expected);
}

/// Eight copies of one shipment request at once (READ COMMITTED, each run once):
/// the order's lock queues them, so one creates the parcel and seven find it.
/// The database refuses a second shipment under one key, and a key out of bounds,
/// whatever client writes.
#[test]
fn copies_of_one_shipment_request_racing_make_one_parcel() {
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
    let parcel = shipment(&order, &a, &[(1, 1)]);
    let outcomes = all_at_once(8, |_| store.create_shipment(parcel.clone()).map_err(domain));
    let applied: Vec<Applied> = outcomes
        .iter()
        .map(|o| o.as_ref().unwrap_or_else(|e| panic!("{e}")).applied)
        .collect();
    assert_eq!(
        applied.iter().filter(|a| **a == Applied::Changed).count(),
        1,
        "{applied:?}"
    );
    assert_eq!(store.order_shipments(order.id).unwrap().len(), 1);
    let mut conn = db.connect();
    let err = exec(
        &mut conn,
        &format!(
            "INSERT INTO shipments (order_id, location_id, idempotency_key) VALUES ({}, {}, '{}')",
            order.id.get(),
            a.id.get(),
            parcel.key.as_str()
        ),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("shipments_order_id_idempotency_key_key"),
        "{err}"
    );
    // A key is 1 to 128 characters, as every idempotency key the store keeps.
    for key in [String::new(), "k".repeat(129)] {
        let err = exec(
            &mut conn,
            &format!(
                "INSERT INTO shipments (order_id, location_id, idempotency_key) VALUES ({}, {}, '{key}')",
                order.id.get(),
                a.id.get(),
            ),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("shipments_idempotency_key_length"), "{err}");
    }
}
