use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn loc(id: i64, country: &str, priority: i32) -> StockLocation {
    StockLocation {
        id: StockLocationId::new(id),
        name: LocationName::parse(&format!("Location {id}")).unwrap(),
        country: CountryCode::parse(country).unwrap(),
        priority,
    }
}

fn level(location: i64, variant: i64, on_hand: u32) -> InventoryLevel {
    InventoryLevel {
        on_hand,
        ..InventoryLevel::empty(StockLocationId::new(location), VariantId::new(variant), 0)
    }
}

fn want(variant: i64, units: i64) -> Want {
    Want {
        variant: VariantId::new(variant),
        quantity: Quantity::new(units).unwrap(),
    }
}

/// (line, location, units) of an allocation, for comparing with numbers written out.
fn plan(allocations: &[Allocation]) -> Vec<(usize, i64, u32)> {
    allocations
        .iter()
        .map(|a| (a.line, a.location.get(), a.quantity))
        .collect()
}

fn m(kind: MoveKind, quantity: i64) -> InventoryMove {
    InventoryMove { kind, quantity }
}

#[test]
fn a_level_follows_its_moves_and_refuses_what_would_break_it() {
    let l = InventoryLevel::empty(StockLocationId::new(1), VariantId::new(7), 2);
    let l = l.apply(m(MoveKind::Receipt, 10)).unwrap();
    assert_eq!((l.on_hand, l.reserved, l.available()), (10, 0, 8));
    let l = l.apply(m(MoveKind::Reservation, 6)).unwrap();
    assert_eq!((l.on_hand, l.reserved, l.available()), (10, 6, 2));
    // The safety stock is never promised.
    assert!(matches!(
        l.apply(m(MoveKind::Reservation, 3)),
        Err(InventoryError::Refused {
            reason: "more than is available",
            ..
        })
    ));
    let l = l.apply(m(MoveKind::Shipment, 4)).unwrap();
    assert_eq!((l.on_hand, l.reserved, l.available()), (6, 2, 2));
    let l = l.apply(m(MoveKind::Release, 2)).unwrap();
    assert_eq!((l.on_hand, l.reserved, l.available()), (6, 0, 4));
    assert!(
        l.apply(m(MoveKind::Shipment, 1)).is_err(),
        "nothing reserved"
    );
    assert!(
        l.apply(m(MoveKind::Release, 1)).is_err(),
        "nothing reserved"
    );
    assert!(l.apply(m(MoveKind::TransferOut, 5)).is_err(), "4 available");
    let l = l.apply(m(MoveKind::TransferOut, 4)).unwrap();
    assert_eq!(l.on_hand, 2);
    let l = l.apply(m(MoveKind::Return, 3)).unwrap();
    let l = l.apply(m(MoveKind::Adjustment, -1)).unwrap();
    assert_eq!(l.on_hand, 4);
    assert!(l.apply(m(MoveKind::Adjustment, -5)).is_err(), "negative");
    assert!(
        l.apply(m(MoveKind::Receipt, -1)).is_err(),
        "only adjustments"
    );
    assert!(l.apply(m(MoveKind::Receipt, 0)).is_err(), "no units");
    // An adjustment may not take away reserved units.
    let r = l.apply(m(MoveKind::Reservation, 2)).unwrap();
    assert!(r.apply(m(MoveKind::Adjustment, -3)).is_err());
}

#[test]
fn by_priority_a_line_is_split_only_when_the_first_location_runs_out() {
    let locations = [loc(1, "DE", 2), loc(2, "FR", 1), loc(3, "DE", 3)];
    let levels = [
        level(1, 10, 5),
        level(2, 10, 3),
        level(3, 10, 9),
        level(1, 11, 4),
    ];
    let got = allocate(
        &[want(10, 6), want(11, 2)],
        &locations,
        &levels,
        AllocationStrategy::Priority,
    )
    .unwrap();
    // Location 2 first (priority 1): 3 units, then location 1: 3 more.
    assert_eq!(plan(&got), [(0, 2, 3), (0, 1, 3), (1, 1, 2)]);
}

#[test]
fn closest_first_draws_from_the_shipping_country() {
    let locations = [loc(1, "DE", 2), loc(2, "FR", 1), loc(3, "DE", 3)];
    let levels = [level(1, 10, 5), level(2, 10, 3), level(3, 10, 9)];
    let de = AllocationStrategy::ClosestTo(CountryCode::parse("DE").unwrap());
    let got = allocate(&[want(10, 6)], &locations, &levels, de).unwrap();
    assert_eq!(plan(&got), [(0, 1, 5), (0, 3, 1)]);
    let fr = AllocationStrategy::ClosestTo(CountryCode::parse("FR").unwrap());
    let got = allocate(&[want(10, 6)], &locations, &levels, fr).unwrap();
    assert_eq!(plan(&got), [(0, 2, 3), (0, 1, 3)]);
}

#[test]
fn fewest_shipments_prefers_one_location_that_has_everything() {
    let locations = [loc(1, "DE", 1), loc(2, "DE", 2), loc(3, "DE", 3)];
    // Location 1 has the first line, location 2 the second; location 3 both.
    let levels = [
        level(1, 10, 9),
        level(2, 11, 9),
        level(3, 10, 2),
        level(3, 11, 1),
        level(3, 12, 1),
    ];
    let wants = [want(10, 2), want(11, 1), want(12, 1)];
    let by_priority = allocate(&wants, &locations, &levels, AllocationStrategy::Priority).unwrap();
    assert_eq!(plan(&by_priority), [(0, 1, 2), (1, 2, 1), (2, 3, 1)]);
    let fewest = allocate(
        &wants,
        &locations,
        &levels,
        AllocationStrategy::FewestShipments,
    )
    .unwrap();
    assert_eq!(plan(&fewest), [(0, 3, 2), (1, 3, 1), (2, 3, 1)]);
}

#[test]
fn a_shortage_names_every_short_variant_and_counts_all_its_lines() {
    let locations = [loc(1, "DE", 1), loc(2, "DE", 2)];
    let levels = [
        level(1, 10, 2),
        level(2, 10, 1),
        level(1, 11, 5),
        level(9, 12, 50),
    ];
    let err = allocate(
        &[want(10, 2), want(11, 1), want(10, 2), want(12, 1)],
        &locations,
        &levels,
        AllocationStrategy::Priority,
    )
    .unwrap_err();
    assert_eq!(
        err,
        InventoryError::Short(vec![
            LocationShortage {
                variant: VariantId::new(10),
                requested: 4,
                available: 3
            },
            // Location 9 is not among those given.
            LocationShortage {
                variant: VariantId::new(12),
                requested: 1,
                available: 0
            },
        ])
    );
}

#[test]
fn move_kinds_parse_their_stored_names() {
    for kind in MoveKind::ALL {
        assert_eq!(kind.as_str().parse::<MoveKind>().unwrap(), *kind);
    }
    assert!("ship".parse::<MoveKind>().is_err());
}

fn strategies() -> impl Strategy<Value = AllocationStrategy> {
    prop_oneof![
        Just(AllocationStrategy::Priority),
        Just(AllocationStrategy::FewestShipments),
        prop::sample::select(vec!["DE", "FR", "US"])
            .prop_map(|c| AllocationStrategy::ClosestTo(CountryCode::parse(c).unwrap())),
    ]
}

/// Up to 4 locations, levels of up to 5 variants, up to 6 lines.
fn cases() -> impl Strategy<Value = (Vec<StockLocation>, Vec<InventoryLevel>, Vec<Want>)> {
    let locations = prop::collection::vec(
        (prop::sample::select(vec!["DE", "FR", "US"]), 0..3i32),
        1..=4,
    )
    .prop_map(|ls| {
        ls.into_iter()
            .enumerate()
            .map(|(i, (c, p))| loc(i as i64 + 1, c, p))
            .collect::<Vec<_>>()
    });
    let levels = prop::collection::vec((1..=4i64, 1..=5i64, 0..12u32, 0..4u32, 0..3u32), 0..12)
        .prop_map(|ls| {
            ls.into_iter()
                .map(|(l, v, on_hand, reserved, safety)| InventoryLevel {
                    location: StockLocationId::new(l),
                    variant: VariantId::new(v),
                    on_hand,
                    reserved: reserved.min(on_hand),
                    safety_stock: safety,
                })
                .collect::<Vec<_>>()
        });
    let wants = prop::collection::vec((1..=5i64, 1..=8i64), 0..6)
        .prop_map(|ws| ws.into_iter().map(|(v, q)| want(v, q)).collect::<Vec<_>>());
    (locations, levels, wants)
}

proptest! {
    #[test]
    fn an_allocation_places_every_unit_within_what_is_available(
        (locations, levels, wants) in cases(),
        strategy in strategies(),
    ) {
        let known: Vec<StockLocationId> = locations.iter().map(|l| l.id).collect();
        let mut available: BTreeMap<(StockLocationId, VariantId), u32> = BTreeMap::new();
        for l in levels.iter().filter(|l| known.contains(&l.location)) {
            *available.entry((l.location, l.variant)).or_default() += l.available();
        }
        let mut requested: BTreeMap<VariantId, u32> = BTreeMap::new();
        for w in &wants {
            *requested.entry(w.variant).or_default() += w.quantity.get();
        }
        let total = |v: VariantId| -> u32 {
            available.iter().filter(|((_, x), _)| *x == v).map(|(_, n)| n).sum()
        };
        match allocate(&wants, &locations, &levels, strategy) {
            Ok(allocations) => {
                // Every line's units, exactly.
                for (i, w) in wants.iter().enumerate() {
                    let units: u32 = allocations.iter().filter(|a| a.line == i).map(|a| a.quantity).sum();
                    prop_assert_eq!(units, w.quantity.get());
                    prop_assert!(allocations.iter().filter(|a| a.line == i).all(|a| a.variant == w.variant && a.quantity > 0));
                }
                // Never more than a level has available.
                let mut taken: BTreeMap<(StockLocationId, VariantId), u32> = BTreeMap::new();
                for a in &allocations {
                    *taken.entry((a.location, a.variant)).or_default() += a.quantity;
                }
                for (key, units) in &taken {
                    prop_assert!(*units <= available.get(key).copied().unwrap_or(0));
                }
                // In line order, deterministic.
                prop_assert!(allocations.windows(2).all(|p| p[0].line <= p[1].line));
                prop_assert_eq!(allocate(&wants, &locations, &levels, strategy).unwrap(), allocations);
            }
            Err(InventoryError::Short(short)) => {
                prop_assert!(!short.is_empty());
                for s in &short {
                    prop_assert_eq!(s.requested, requested[&s.variant]);
                    prop_assert_eq!(s.available, total(s.variant));
                    prop_assert!(s.available < s.requested);
                }
                // And only those: every other variant would have fitted.
                for (v, n) in &requested {
                    if short.iter().all(|s| s.variant != *v) {
                        prop_assert!(total(*v) >= *n);
                    }
                }
            }
            Err(other) => prop_assert!(false, "unexpected {other}"),
        }
    }

    #[test]
    fn by_priority_a_later_location_is_drawn_from_only_once_the_earlier_ones_are_empty(
        (locations, levels, wants) in cases(),
    ) {
        // One line: it sees every level whole.
        let wants = &wants[..wants.len().min(1)];
        if let Ok(allocations) = allocate(wants, &locations, &levels, AllocationStrategy::Priority) {
            // All but the last location drawn from gave everything it had.
            for a in allocations.iter().rev().skip(1) {
                let had: u32 = levels
                    .iter()
                    .filter(|l| l.location == a.location && l.variant == a.variant)
                    .map(InventoryLevel::available)
                    .sum();
                prop_assert_eq!(a.quantity, had);
            }
        }
    }

    #[test]
    fn fewest_shipments_uses_one_location_when_one_can_take_everything(
        (locations, mut levels, wants) in cases(),
        pick in any::<prop::sample::Index>(),
    ) {
        prop_assume!(!wants.is_empty());
        // One of the locations gets every unit the lines ask for.
        let chosen = locations[pick.index(locations.len())].id;
        let mut need: BTreeMap<VariantId, u32> = BTreeMap::new();
        for w in &wants {
            *need.entry(w.variant).or_default() += w.quantity.get();
        }
        for (variant, units) in need {
            let mut l = InventoryLevel::empty(chosen, variant, 0);
            l.on_hand = units;
            levels.push(l);
        }
        let allocations = allocate(&wants, &locations, &levels, AllocationStrategy::FewestShipments).unwrap();
        let used: std::collections::BTreeSet<_> = allocations.iter().map(|a| a.location).collect();
        prop_assert_eq!(used.len(), 1);
    }

    /// The ledger's law: a level is the sum of its moves. Random moves, some
    /// refused: the accepted ones, summed, give the level, which never breaks a rule.
    #[test]
    fn a_level_is_the_sum_of_the_moves_it_accepted(
        moves in prop::collection::vec(
            (prop::sample::select(MoveKind::ALL.to_vec()), -6..12i64),
            0..60,
        ),
        safety in 0..4u32,
    ) {
        let (location, variant) = (StockLocationId::new(1), VariantId::new(1));
        let mut level = InventoryLevel::empty(location, variant, safety);
        let mut ledger = Vec::new();
        for (kind, quantity) in moves {
            let movement = InventoryMove { kind, quantity };
            if let Ok(next) = level.apply(movement) {
                level = next;
                ledger.push(movement);
            }
            prop_assert!(level.reserved <= level.on_hand);
        }
        let (on_hand, reserved) = ledger
            .iter()
            .map(|m| m.deltas())
            .fold((0i64, 0i64), |(a, b), (x, y)| (a + x, b + y));
        prop_assert_eq!(i64::from(level.on_hand), on_hand);
        prop_assert_eq!(i64::from(level.reserved), reserved);
        prop_assert_eq!(InventoryLevel::from_moves(location, variant, safety, ledger).unwrap(), level);
    }
}

fn variant(id: i64, stock_on_hand: u32) -> Variant {
    let now = Utc::now();
    Variant {
        id: VariantId::new(id),
        product_id: crate::ids::ProductId::new(1),
        sku: crate::values::Sku::parse(&format!("SKU-{id}")).unwrap(),
        selection: Default::default(),
        price: crate::money::Money::from_minor(100, crate::money::Currency::EUR),
        stock_on_hand,
        weight_grams: None,
        gtin: None,
        attributes: Vec::new(),
        created_at: now,
        updated_at: now,
    }
}

#[test]
fn checkout_reserves_kept_variants_at_locations_and_counts_the_others() {
    // Variant 1 is kept at two locations (its own count is not sold from);
    // variant 2 has no level anywhere and sells from its count.
    let kept = variant(1, 100);
    let counted = variant(2, 4);
    let locations = [loc(10, "DE", 1), loc(20, "FR", 2)];
    let levels = [level(10, 1, 2), level(20, 1, 5)];
    let q = |n| Quantity::new(n).unwrap();
    let reservations = reserve_order(
        &[(1, &counted, q(4)), (2, &kept, q(4))],
        &locations,
        &levels,
        AllocationStrategy::Priority,
    )
    .unwrap();
    let held: Vec<_> = reservations
        .iter()
        .map(|r| (r.line_no, r.location.get(), r.quantity))
        .collect();
    assert_eq!(held, [(2, 10, 2), (2, 20, 2)]);
    // Short of both kinds: named in line order, the kept one with what all its
    // locations have.
    let err = reserve_order(
        &[(1, &kept, q(8)), (2, &counted, q(5))],
        &locations,
        &levels,
        AllocationStrategy::Priority,
    )
    .unwrap_err();
    let CatalogError::OutOfStock(short) = err else {
        panic!("{err:?}")
    };
    let short: Vec<_> = short
        .iter()
        .map(|s| (s.variant_id.get(), s.requested, s.available))
        .collect();
    assert_eq!(short, [(1, 8, 7), (2, 5, 4)]);
}

proptest! {
    #[test]
    fn checkout_holds_each_kept_line_whole_and_no_counted_line(
        (locations, levels, wants) in cases(),
        strategy in strategies(),
    ) {
        let variants: Vec<Variant> = (1..=5).map(|id| variant(id, 3)).collect();
        let lines: Vec<(u16, &Variant, Quantity)> = wants
            .iter()
            .zip(1u16..)
            .filter_map(|(w, n)| Some((n, variants.iter().find(|v| v.id == w.variant)?, w.quantity)))
            .collect();
        let kept = |v: VariantId| levels.iter().any(|l| l.variant == v);
        match reserve_order(&lines, &locations, &levels, strategy) {
            Ok(reservations) => {
                for (n, v, q) in &lines {
                    let held: u32 = reservations.iter().filter(|r| r.line_no == *n).map(|r| r.quantity).sum();
                    if kept(v.id) {
                        prop_assert_eq!(held, q.get());
                    } else {
                        prop_assert_eq!(held, 0);
                    }
                }
            }
            Err(CatalogError::OutOfStock(short)) => {
                prop_assert!(!short.is_empty());
                for s in short {
                    prop_assert!(s.requested > s.available);
                }
            }
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }
}
