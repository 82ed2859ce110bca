//! Promotions and coupon codes on PostgreSQL: the same checkouts, refusals and
//! releases as the reference store, with hand-computed amounts; a code's usage
//! limit under 32 racing buyers; and the schema's own rules.

use chrono::{Duration, Utc};
use ecom_domain::memory::MemoryStore;
use ecom_domain::prelude::*;
use ecom_domain::pricing::{Area, NewShippingMethod, NewShippingZone, ShippingRate};
use ecom_domain::promotion::{
    CouponCodes, CouponError, Discount, NewCoupons, NewPromotion, Target,
};
use ecom_domain::repo::PriceBookRepository;
use ecom_domain::rules::StoreRules;
use ecom_store::testing::TestDb;
use ecom_store::{PgStore, StoreError};
use rust_decimal::Decimal;

use crate::util::{all_at_once, exec, guest_owner, pg_store, request, rules, scalar};

pub(crate) fn eur(amount: &str) -> Money {
    Money::parse(amount, Currency::EUR).unwrap()
}

pub(crate) fn d<E: RepoError>(e: E) -> DomainError {
    e.domain().cloned().unwrap_or_else(|| panic!("{e}"))
}

/// A shop with a shirt (11.90, standard rate) and a book (4.28, reduced), gross
/// euro prices, German rates and flat shipping of 4.90; returns the two variants.
pub(crate) fn shop<S>(store: &S) -> (VariantId, VariantId)
where
    S: CatalogRepository + PriceBookRepository,
    <S as CatalogReader>::Error: RepoError,
    <S as PriceBookRepository>::Error: RepoError,
{
    let root = store
        .create_category(NewCategory {
            parent_id: None,
            slug: Slug::parse("shop").unwrap(),
            name: CategoryName::parse("Shop").unwrap(),
        })
        .map_err(d)
        .unwrap();
    let product = |slug: &str, price: &str, stock: u32| {
        store
            .create_product(NewProduct::single(
                Slug::parse(slug).unwrap(),
                ProductName::parse(slug).unwrap(),
                root.id,
                Sku::parse(slug).unwrap(),
                eur(price),
                stock,
            ))
            .map_err(d)
            .unwrap()
    };
    let shirt = product("shirt", "11.90", 1000);
    let book = product("book", "4.28", 1000);
    store
        .set_tax_class(book.id, TaxClass::Reduced)
        .map_err(d)
        .unwrap();
    store
        .set_market(Market {
            currency: Currency::EUR,
            prices_include_tax: true,
        })
        .map_err(d)
        .unwrap();
    for (name, class, rate) in [
        ("MwSt 19 %", TaxClass::Standard, 19),
        ("MwSt 7 %", TaxClass::Reduced, 7),
    ] {
        store
            .add_tax_rate(TaxRate {
                name: TaxRateName::parse(name).unwrap(),
                country: CountryCode::parse("DE").unwrap(),
                region: None,
                class,
                rate: Decimal::new(rate, 2),
                valid_from: Utc::now() - Duration::days(30),
                valid_until: None,
            })
            .map_err(d)
            .unwrap();
    }
    let zone = store
        .create_shipping_zone(NewShippingZone {
            name: ShippingZoneName::parse("Germany").unwrap(),
            areas: vec![Area {
                country: CountryCode::parse("DE").unwrap(),
                region: None,
            }],
        })
        .map_err(d)
        .unwrap();
    store
        .create_shipping_method(NewShippingMethod {
            zone: zone.id,
            code: Slug::parse("standard").unwrap(),
            name: ShippingMethodName::parse("Standard").unwrap(),
            currency: Currency::EUR,
            rate: ShippingRate::Flat { price: eur("4.90") },
            free_from: None,
            tax_class: TaxClass::Standard,
        })
        .map_err(d)
        .unwrap();
    (shirt.variants[0].id, book.variants[0].id)
}

fn promotion(name: &str, discount: Discount, coupon_only: bool, priority: i32) -> NewPromotion {
    NewPromotion {
        name: PromotionName::parse(name).unwrap(),
        currency: match &discount {
            Discount::Fixed { amount } => Some(amount.currency()),
            _ => None,
        },
        discount,
        target: Target::Order,
        min_subtotal: None,
        min_quantity: None,
        group: None,
        starts_at: None,
        ends_at: None,
        coupon_only,
        exclusive: false,
        priority,
    }
}

fn code(raw: &str) -> CouponCode {
    CouponCode::parse(raw).unwrap()
}

/// What an order took off, without ids: per line (SKU, amount, discount, net,
/// tax, what a refund of it gives back), the promotions (name, code, amount,
/// shipping), the totals.
fn discounts(order: &Order) -> String {
    let m = |m: Money| m.amount().to_string();
    let invoice = order.invoice.as_ref().expect("an invoice");
    format!(
        "{:?} {:?} {:?}",
        order
            .lines
            .iter()
            .map(|l| {
                let t = l.tax.as_ref().unwrap();
                (
                    l.sku.as_str().to_owned(),
                    m(l.line_total()),
                    m(t.discount),
                    m(t.net),
                    m(t.tax),
                    m(order.paid_for_line(l.line_no).unwrap()),
                )
            })
            .collect::<Vec<_>>(),
        invoice
            .promotions
            .iter()
            .map(|p| {
                (
                    p.name.as_str().to_owned(),
                    p.code.as_ref().map(|c| c.as_str().to_owned()),
                    m(p.amount),
                    m(p.shipping),
                )
            })
            .collect::<Vec<_>>(),
        [
            order.totals.subtotal,
            order.totals.discount,
            order.totals.shipping,
            order.totals.tax,
            order.totals.grand_total,
        ]
        .map(m),
    )
}

/// Promotions and codes, checkouts with and without codes, the refusals, a
/// cancellation that gives a use back; every outcome as text, ids left out.
fn scenario<S>(store: &S) -> Vec<Result<String, DomainError>>
where
    S: CatalogRepository
        + PriceBookRepository
        + PromotionRepository
        + CartRepository
        + CheckoutRepository
        + OrderRepository,
    <S as CatalogReader>::Error: RepoError,
    <S as PriceBookRepository>::Error: RepoError,
    <S as PromotionRepository>::Error: RepoError,
    <S as CartRepository>::Error: RepoError,
    <S as CheckoutRepository>::Error: RepoError,
{
    let (shirt, book) = shop(store);
    let create = |new: NewPromotion| store.create_promotion(new).map_err(d).unwrap();
    // Automatic: 10 % off everything, first.
    create(promotion(
        "Spring 10 %",
        Discount::Percent {
            rate: Decimal::new(10, 2),
        },
        false,
        1,
    ));
    let summer = create(promotion(
        "Summer 2 off",
        Discount::Fixed {
            amount: eur("2.00"),
        },
        true,
        2,
    ));
    let free = create(NewPromotion {
        min_subtotal: Some(eur("20.00")),
        currency: Some(Currency::EUR),
        ..promotion("Free shipping over 20", Discount::FreeShipping, true, 3)
    });
    let over = create(NewPromotion {
        ends_at: Some(Utc::now() - Duration::days(1)),
        starts_at: Some(Utc::now() - Duration::days(9)),
        ..promotion(
            "Last month",
            Discount::Percent {
                rate: Decimal::new(5, 2),
            },
            true,
            4,
        )
    });
    let coupons = |promotion, codes: &[&str], max_uses| {
        store
            .create_coupons(NewCoupons {
                promotion,
                codes: CouponCodes::Given(codes.iter().map(|c| code(c)).collect()),
                max_uses,
                per_customer: None,
            })
            .map_err(d)
            .map(|c| c.len().to_string())
    };
    let made = vec![
        coupons(summer.id, &["summer-once"], Some(1)),
        coupons(free.id, &["FREESHIP"], None),
        coupons(over.id, &["OLD-5"], None),
        coupons(free.id, &["summer-once"], None),
    ];
    let mut n = 0;
    let mut checkout = |lines: &[(VariantId, i64)], codes: &[&str]| {
        n += 1;
        let cart = store
            .open_cart(&guest_owner(n), Currency::EUR)
            .map_err(d)
            .unwrap();
        for (variant, units) in lines {
            store
                .add_item(cart.id, *variant, Quantity::new(*units).unwrap())
                .map_err(d)
                .unwrap();
        }
        let mut req = request(cart.id, &format!("promo-{n}"));
        req.shipping_method = Some(Slug::parse("standard").unwrap());
        req.coupon_codes = codes.iter().map(|c| code(c)).collect();
        store.checkout(&req).map_err(d).map(|done| {
            let stored = store.order(done.order.id).map_err(d).unwrap().order;
            assert_eq!(stored, done.order, "the order reads back as placed");
            (done.order.id, discounts(&done.order))
        })
    };
    let first = checkout(&[(shirt, 2), (book, 1)], &["summer-once", "freeship"]);
    let again = checkout(&[(shirt, 1)], &["SUMMER-ONCE"]);
    let refusals = [
        checkout(&[(shirt, 1)], &["nope-nope"]),
        checkout(&[(shirt, 1)], &["old-5"]),
        checkout(&[(book, 1)], &["freeship"]),
        checkout(&[(book, 1)], &["freeship", "FreeShip"]),
    ];
    let first_id = first.as_ref().map(|(id, _)| *id).ok();
    let cancelled = first_id.map(|id| {
        store
            .transition(id, OrderEvent::Cancel, None)
            .map_err(d)
            .map(|o| o.status.to_string())
    });
    let after_cancel = checkout(&[(shirt, 1)], &["summer-once"]);
    let plain = checkout(&[(book, 2)], &[]);
    let mut out = made;
    out.extend(
        [first, again]
            .into_iter()
            .chain(refusals)
            .chain([after_cancel, plain])
            .map(|r| r.map(|(_, s)| s)),
    );
    out.push(cancelled.unwrap_or_else(|| Ok("no order".into())));
    out.push(
        store
            .coupon(&code("summer-once"))
            .map_err(d)
            .map(|c| c.uses.to_string()),
    );
    out
}

#[test]
fn coupons_and_promotions_match_the_reference_store_and_the_hand_sums() {
    let db = TestDb::new();
    let pg = PgStore::with_rules(db.pool().clone(), rules());
    let memory = MemoryStore::with_rules(rules());
    let actual = scenario(&pg);
    assert_eq!(actual, scenario(&memory));
    let ok = |i: usize| actual[i].as_ref().unwrap().as_str();
    assert_eq!(ok(0), "1");
    assert!(matches!(
        &actual[3],
        Err(DomainError::Coupon(CouponError::Taken(_)))
    ));
    // Worked by hand: 23.80 + 4.28 = 28.08; 10 % = 2.808 → 2.81, allocated
    // 238|17 and 42|83 → 2.38 and 0.43; then 2.00 off 21.42 + 3.85 = 25.27,
    // allocated 169|53 and 30|47 → 1.70 and 0.30; shipping waived (28.08 ≥ 20.00).
    // The shirts, 23.80 − 4.08 = 19.72, hold 19.72 × 19/119 = 3.1486… → 3.15; the
    // book, 4.28 − 0.73 = 3.55, holds 3.55 × 7/107 = 0.2322… → 0.23. Grand total
    // 28.08 − 4.81 + 0 = 23.27, the tax inside it. A refund of a line gives back
    // what was paid for it: 19.72 and 3.55, which sum to the grand total.
    assert_eq!(
        ok(4),
        r#"[("SHIRT", "23.80", "4.08", "16.57", "3.15", "19.72"), ("BOOK", "4.28", "0.73", "3.32", "0.23", "3.55")] [("Spring 10 %", None, "2.81", "0.00"), ("Summer 2 off", Some("SUMMER-ONCE"), "2.00", "0.00"), ("Free shipping over 20", Some("FREESHIP"), "0.00", "4.90")] ["28.08", "4.81", "0.00", "3.38", "23.27"]"#
    );
    assert!(matches!(
        &actual[5],
        Err(DomainError::Coupon(CouponError::Exhausted(_)))
    ));
    assert!(matches!(
        &actual[6],
        Err(DomainError::Coupon(CouponError::Unknown(_)))
    ));
    assert!(matches!(
        &actual[7],
        Err(DomainError::Coupon(CouponError::Expired(_)))
    ));
    assert!(matches!(
        &actual[8],
        Err(DomainError::Coupon(CouponError::NotApplicable { .. }))
    ));
    assert!(matches!(
        &actual[9],
        Err(DomainError::Coupon(CouponError::TooMany { .. }))
    ));
    // The cancelled order gave its use back: the code works again, once.
    assert!(actual[10].is_ok(), "{:?}", actual[10]);
    assert!(ok(11).contains("Spring 10 %"), "automatic, no code");
    assert_eq!(ok(12), "cancelled");
    assert_eq!(ok(13), "1");
}

/// 32 buyers race for a code limited to 10 uses: exactly 10 orders carry it, 22
/// get `CouponExhausted`; cancelling 3 gives 3 uses back, once.
#[test]
fn a_usage_limit_holds_under_racing_buyers() {
    const BUYERS: u32 = 32;
    let db = TestDb::new();
    let store = pg_store(&db);
    let (shirt, _) = shop(&store);
    let promotion = store
        .create_promotion(promotion(
            "Ten lucky",
            Discount::Percent {
                rate: Decimal::new(50, 2),
            },
            true,
            0,
        ))
        .unwrap();
    store
        .create_coupons(NewCoupons {
            promotion: promotion.id,
            codes: CouponCodes::Given(vec![code("LUCKY-TEN")]),
            max_uses: Some(10),
            per_customer: None,
        })
        .unwrap();
    let requests: Vec<CheckoutRequest> = (0..BUYERS)
        .map(|n| {
            let cart = store.open_cart(&guest_owner(n), Currency::EUR).unwrap();
            store
                .add_item(cart.id, shirt, Quantity::new(1).unwrap())
                .unwrap();
            let mut req = request(cart.id, &format!("race-{n}"));
            req.shipping_method = Some(Slug::parse("standard").unwrap());
            req.coupon_codes = vec![code("lucky-ten")];
            req
        })
        .collect();
    let outcomes = all_at_once(requests.len(), |i| store.checkout(&requests[i]));
    let placed: Vec<&Checkout> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    let exhausted = outcomes
        .iter()
        .filter(|o| {
            matches!(
                o,
                Err(StoreError::Domain(DomainError::Coupon(
                    CouponError::Exhausted(_)
                )))
            )
        })
        .count();
    assert_eq!((placed.len(), exhausted), (10, 22), "{outcomes:?}");
    assert_eq!(store.coupon(&code("LUCKY-TEN")).unwrap().uses, 10);
    for done in &placed[..3] {
        store
            .transition(done.order.id, OrderEvent::Cancel, None)
            .unwrap();
        // A second cancellation is refused by the state machine: nothing given twice.
        assert!(
            store
                .transition(done.order.id, OrderEvent::Cancel, None)
                .is_err()
        );
    }
    assert_eq!(store.coupon(&code("LUCKY-TEN")).unwrap().uses, 7);
    let mut conn = db.connect();
    assert_eq!(
        scalar(
            &mut conn,
            "count(*) FROM coupon_redemptions WHERE released_at IS NULL"
        ),
        7
    );
}

/// The schema refuses what the domain refuses, written around the store: a use
/// past the limit, a lower-case code, a malformed promotion.
#[test]
fn the_schema_refuses_codes_and_promotions_that_break_the_rules() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let p = store
        .create_promotion(promotion(
            "Once",
            Discount::Percent {
                rate: Decimal::new(10, 2),
            },
            true,
            0,
        ))
        .unwrap();
    store
        .create_coupons(NewCoupons {
            promotion: p.id,
            codes: CouponCodes::Given(vec![code("ONCE")]),
            max_uses: Some(1),
            per_customer: None,
        })
        .unwrap();
    let mut conn = db.connect();
    let refused = |sql: &str, conn: &mut diesel::PgConnection| match exec(conn, sql) {
        Err(StoreError::Conflict { constraint, .. }) => constraint,
        Err(StoreError::Invalid { constraint, .. }) => constraint.unwrap_or_default(),
        other => panic!("{sql}: {other:?}"),
    };
    for (sql, constraint) in [
        (
            "UPDATE coupon_codes SET uses = 2",
            "coupon_codes_uses_range",
        ),
        (
            "UPDATE coupon_codes SET uses = -1",
            "coupon_codes_uses_range",
        ),
        (
            "INSERT INTO coupon_codes (code, promotion_id) SELECT 'lower', id FROM promotions",
            "coupon_codes_code_format",
        ),
        (
            "INSERT INTO promotions (name, discount, target, coupon_only, exclusive, priority) \
             VALUES ('x', '{\"type\": \"fixed\", \"amount\": {\"amount\": \"1\", \"currency\": \"EUR\"}}', \
                     '{\"type\": \"order\"}', false, false, 0)",
            "promotions_amounts_have_currency",
        ),
        (
            "INSERT INTO promotions (name, discount, target, coupon_only, exclusive, priority) \
             VALUES ('x', '{\"type\": \"free_shipping\"}', '{\"type\": \"products\", \"ids\": [1]}', false, false, 0)",
            "promotions_free_shipping_off_the_order",
        ),
    ] {
        assert_eq!(refused(sql, &mut conn), constraint, "{sql}");
    }
    // 100 generated codes: distinct, of the pattern asked, all stored.
    let made = store
        .create_coupons(NewCoupons {
            promotion: p.id,
            codes: CouponCodes::Generated {
                count: 100,
                prefix: "SPRING-".into(),
                length: 10,
            },
            max_uses: Some(1),
            per_customer: None,
        })
        .unwrap();
    assert_eq!(made.len(), 100);
    assert!(
        made.iter()
            .all(|c| c.as_str().starts_with("SPRING-") && c.as_str().len() == 17)
    );
    assert_eq!(scalar(&mut conn, "count(*) FROM coupon_codes"), 101);
}

/// One customer (one e-mail, eight guest carts) checks out eight times at once
/// with a code they may use once: exactly one order carries it, seven get
/// `CouponCustomerLimit`; another customer can still use it.
#[test]
fn a_per_customer_limit_holds_under_one_customers_racing_checkouts() {
    const CARTS: u32 = 8;
    let db = TestDb::new();
    let store = pg_store(&db);
    let (shirt, _) = shop(&store);
    let promotion = store
        .create_promotion(promotion(
            "Once each",
            Discount::Fixed {
                amount: eur("1.00"),
            },
            true,
            0,
        ))
        .unwrap();
    store
        .create_coupons(NewCoupons {
            promotion: promotion.id,
            codes: CouponCodes::Given(vec![code("ONCE-EACH")]),
            max_uses: None,
            per_customer: Some(1),
        })
        .unwrap();
    let checkout_of = |n: u32, email: &str| {
        let cart = store.open_cart(&guest_owner(n), Currency::EUR).unwrap();
        store
            .add_item(cart.id, shirt, Quantity::new(1).unwrap())
            .unwrap();
        let mut req = request(cart.id, &format!("each-{n}"));
        req.guest_email = Some(Email::parse(email).unwrap());
        req.shipping_method = Some(Slug::parse("standard").unwrap());
        req.coupon_codes = vec![code("once-each")];
        req
    };
    let requests: Vec<CheckoutRequest> = (0..CARTS)
        .map(|n| checkout_of(n, "Same@Example.com"))
        .collect();
    let outcomes = all_at_once(requests.len(), |i| store.checkout(&requests[i]));
    let placed = outcomes.iter().filter(|o| o.is_ok()).count();
    let limited = outcomes
        .iter()
        .filter(|o| {
            matches!(
                o,
                Err(StoreError::Domain(DomainError::Coupon(
                    CouponError::CustomerLimit(_)
                )))
            )
        })
        .count();
    assert_eq!((placed, limited), (1, 7), "{outcomes:?}");
    // The address's case does not make another customer; another address does.
    assert!(
        store
            .checkout(&checkout_of(100, "same@example.com"))
            .is_err()
    );
    assert!(
        store
            .checkout(&checkout_of(101, "other@example.com"))
            .is_ok()
    );
    assert_eq!(store.coupon(&code("ONCE-EACH")).unwrap().uses, 2);
}

/// A tax engine set in the rules (as a service that asks an external one would)
/// prices a checkout from the price book instead of the rate tables, in both
/// stores: 10 % contained in 11.90 is 1.0818… → 1.08, in the 4.90 shipping
/// 0.4454… → 0.45.
#[test]
fn a_tax_engine_in_the_rules_replaces_the_rate_tables() {
    #[derive(Debug)]
    struct TenPercent;
    impl TaxRates for TenPercent {
        fn rate(
            &self,
            to: &Destination,
            class: TaxClass,
            _at: chrono::DateTime<Utc>,
        ) -> Result<Option<AppliedRate>, PricingError> {
            Ok(Some(AppliedRate {
                name: TaxRateName::parse("Engine 10 %").unwrap(),
                country: to.country,
                region: None,
                class,
                rate: Decimal::new(10, 2),
            }))
        }
    }
    fn checkout<S>(store: &S) -> Result<String, DomainError>
    where
        S: CatalogRepository + PriceBookRepository + CartRepository + CheckoutRepository,
        <S as CatalogReader>::Error: RepoError,
        <S as PriceBookRepository>::Error: RepoError,
        <S as CartRepository>::Error: RepoError,
        <S as CheckoutRepository>::Error: RepoError,
    {
        let (shirt, _) = shop(store);
        let cart = store.open_cart(&guest_owner(1), Currency::EUR).map_err(d)?;
        store
            .add_item(cart.id, shirt, Quantity::new(1).unwrap())
            .map_err(d)?;
        let mut req = request(cart.id, "engine");
        req.shipping_method = Some(Slug::parse("standard").unwrap());
        let order = store.checkout(&req).map_err(d)?.order;
        let invoice = order.invoice.unwrap();
        Ok(format!(
            "{:?} {}",
            invoice
                .tax_lines
                .iter()
                .map(|t| (t.rate.name.as_str().to_owned(), t.tax.amount().to_string()))
                .collect::<Vec<_>>(),
            order.totals.tax.amount()
        ))
    }
    let engine = || StoreRules {
        tax_rates: Some(std::sync::Arc::new(TenPercent)),
        ..rules()
    };
    let db = TestDb::new();
    let pg = checkout(&PgStore::with_rules(db.pool().clone(), engine()));
    assert_eq!(pg, checkout(&MemoryStore::with_rules(engine())));
    assert_eq!(pg.unwrap(), r#"[("Engine 10 %", "1.53")] 1.53"#);
}
