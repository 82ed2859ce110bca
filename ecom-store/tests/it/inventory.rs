//! Stock per location on PostgreSQL: the same receipts, adjustments, transfers and
//! refusals as the reference store, with counts written out; transfers racing for
//! the last units; and the schema's own ledger rules, written around the store.

use diesel::connection::SimpleConnection;
use ecom_domain::inventory::{InventoryError, MAX_UNITS};
use ecom_domain::memory::MemoryStore;
use ecom_domain::prelude::*;
use ecom_domain::repo::PriceBookRepository;
use ecom_store::testing::TestDb;
use ecom_store::{Isolation, RetryPolicy};

use crate::promotions::{d, shop};
use crate::util::{all_at_once, domain, exec, pg_store, scalar};

fn location<S: InventoryRepository>(
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

fn change(
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
fn counts(level: &InventoryLevel) -> String {
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
