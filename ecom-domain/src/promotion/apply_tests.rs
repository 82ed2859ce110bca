use super::*;
use crate::ids::CategoryId;
use chrono::TimeZone;
use proptest::prelude::*;
use rust_decimal_macros::dec;

fn eur(amount: &str) -> Money {
    Money::parse(amount, Currency::EUR).unwrap()
}

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

/// A line of variant `id` (product `id`, category `id % 2`) at `price` × `units`.
fn line(id: i64, price: &str, units: u32) -> PromotionLine {
    PromotionLine {
        variant: VariantId::new(id),
        product: ProductId::new(id),
        category: Some(CategoryId::new(id % 2)),
        collections: if id == 3 {
            vec![CollectionId::new(9)]
        } else {
            vec![]
        },
        unit_price: eur(price),
        quantity: crate::values::Quantity::new(i64::from(units)).unwrap(),
    }
}

/// An automatic, stackable promotion of priority `priority` and id `id`.
fn promotion(id: i64, priority: i32, discount: Discount, target: Target) -> Promotion {
    NewPromotion {
        name: PromotionName::parse(&format!("Promotion {id}")).unwrap(),
        currency: match &discount {
            Discount::Fixed { amount } => Some(amount.currency()),
            _ => None,
        },
        discount,
        target,
        min_subtotal: None,
        min_quantity: None,
        group: None,
        starts_at: None,
        ends_at: None,
        coupon_only: false,
        exclusive: false,
        priority,
    }
    .checked()
    .unwrap()
    .with_id(PromotionId::new(id))
}

fn percent(rate: Decimal) -> Discount {
    Discount::Percent { rate }
}

fn run(
    lines: &[PromotionLine],
    shipping: &str,
    offers: &[Offer<'_>],
) -> Result<Applied, ApplyError> {
    apply(
        PromotionCart {
            currency: Currency::EUR,
            lines,
            shipping: eur(shipping),
            groups: &[],
            at: noon(),
        },
        offers,
    )
}

fn shown(money: &[Money]) -> Vec<String> {
    money.iter().map(|m| m.amount().to_string()).collect()
}

fn auto(p: &Promotion) -> Offer<'_> {
    Offer {
        promotion: p,
        code: None,
    }
}

/// 10 % of 23.33 is 2.333 → 2.33, allocated by largest remainder over 10.00,
/// 10.00 and 3.33: 0.99|87, 0.99|87, 0.33|25 → the two cents left go to the first
/// two: 1.00, 1.00, 0.33.
#[test]
fn a_percentage_off_the_order_is_allocated_by_largest_remainder() {
    let lines = [line(1, "10.00", 1), line(2, "5.00", 2), line(3, "3.33", 1)];
    let ten = promotion(1, 0, percent(dec!(0.10)), Target::Order);
    let applied = run(&lines, "4.90", &[auto(&ten)]).unwrap();
    assert_eq!(shown(&applied.line_discounts), ["1.00", "1.00", "0.33"]);
    assert_eq!(applied.promotions[0].amount, eur("2.33"));
    assert!(applied.shipping_discount.is_zero());
}

/// A fixed amount larger than the lines takes them to zero, never below.
#[test]
fn a_fixed_amount_is_capped_at_what_the_lines_are_worth() {
    let lines = [line(1, "10.00", 1), line(2, "3.00", 1)];
    let fifty = promotion(
        1,
        0,
        Discount::Fixed {
            amount: eur("50.00"),
        },
        Target::Order,
    );
    let applied = run(&lines, "0", &[auto(&fifty)]).unwrap();
    assert_eq!(shown(&applied.line_discounts), ["10.00", "3.00"]);
}

/// Buy 2 get 1 over 4 targeted units (2 × 10.00, 4.00, 6.00): one unit free, the
/// cheapest, 4.00.
#[test]
fn buy_two_get_one_frees_the_cheapest_unit() {
    let lines = [line(1, "10.00", 2), line(2, "4.00", 1), line(3, "6.00", 1)];
    let b2g1 = promotion(1, 0, Discount::BuyXGetY { buy: 2, get: 1 }, Target::Order);
    let applied = run(&lines, "0", &[auto(&b2g1)]).unwrap();
    assert_eq!(shown(&applied.line_discounts), ["0.00", "4.00", "0.00"]);
    assert_eq!(
        applied.promotions[0].lines,
        [(VariantId::new(2), eur("4.00"))]
    );
}

/// Stacking, by hand: 10 % off everything (priority 1), then 5.00 off the lines
/// of category 1 (priority 2), on what the first left. Lines 20.00 (category 1)
/// and 10.00 (category 0): 10 % → 2.00 and 1.00; then 5.00 off 18.00 → the first
/// line gives all 5.00.
#[test]
fn stackable_promotions_apply_in_priority_order_on_what_is_left() {
    let lines = [line(1, "20.00", 1), line(2, "10.00", 1)];
    let ten = promotion(7, 1, percent(dec!(0.10)), Target::Order);
    let five = promotion(
        3,
        2,
        Discount::Fixed {
            amount: eur("5.00"),
        },
        Target::Categories(vec![CategoryId::new(1)]),
    );
    // Given in any order, they apply by priority.
    let applied = run(&lines, "0", &[auto(&five), auto(&ten)]).unwrap();
    assert_eq!(shown(&applied.line_discounts), ["7.00", "1.00"]);
    let order: Vec<_> = applied.promotions.iter().map(|p| p.promotion).collect();
    assert_eq!(
        order,
        [Some(PromotionId::new(7)), Some(PromotionId::new(3))]
    );
}

/// An exclusive promotion first in the order applies alone; one later is skipped,
/// and a code of a skipped promotion is refused, not dropped.
#[test]
fn an_exclusive_promotion_applies_alone_and_a_skipped_code_is_refused() {
    let lines = [line(1, "20.00", 1)];
    let mut half = promotion(1, 0, percent(dec!(0.5)), Target::Order);
    half.exclusive = true;
    let ten = promotion(2, 5, percent(dec!(0.10)), Target::Order);
    let applied = run(&lines, "0", &[auto(&ten), auto(&half)]).unwrap();
    assert_eq!(shown(&applied.line_discounts), ["10.00"]);
    assert_eq!(applied.promotions.len(), 1);

    let mut late = promotion(3, 9, percent(dec!(0.2)), Target::Order);
    late.exclusive = true;
    late.coupon_only = true;
    let code = CouponCode::parse("late-20").unwrap();
    let coded = Offer {
        promotion: &late,
        code: Some(&code),
    };
    // Stackable ten first: the exclusive code is skipped, so refused.
    assert!(matches!(
        run(&lines, "0", &[auto(&ten), coded]),
        Err(ApplyError::Coupon(CouponError::NotApplicable { .. }))
    ));
}

/// Each reason a code does not apply is its own error; an automatic promotion
/// that does not apply is left out in silence.
#[test]
fn a_code_that_does_not_apply_says_why() {
    let lines = [line(1, "20.00", 1)];
    let code = CouponCode::parse("SUMMER").unwrap();
    let check = |p: &Promotion| {
        run(
            &lines,
            "4.90",
            &[Offer {
                promotion: p,
                code: Some(&code),
            }],
        )
    };
    let base = promotion(1, 0, percent(dec!(0.10)), Target::Order);
    let mut later = base.clone();
    later.starts_at = Some(noon() + chrono::Duration::days(1));
    assert!(matches!(
        check(&later),
        Err(ApplyError::Coupon(CouponError::NotYetValid(_)))
    ));
    let mut over = base.clone();
    over.ends_at = Some(noon());
    assert!(matches!(
        check(&over),
        Err(ApplyError::Coupon(CouponError::Expired(_)))
    ));
    let mut pounds = base.clone();
    pounds.currency = Some(Currency::GBP);
    assert!(matches!(
        check(&pounds),
        Err(ApplyError::Coupon(CouponError::WrongCurrency {
            currency: Currency::GBP,
            ..
        }))
    ));
    let mut staff = base.clone();
    staff.group = Some(Slug::parse("staff").unwrap());
    let mut big = base.clone();
    big.currency = Some(Currency::EUR);
    big.min_subtotal = Some(eur("50.00"));
    let mut elsewhere = base.clone();
    elsewhere.target = Target::Collections(vec![CollectionId::new(9)]);
    for refused in [&staff, &big, &elsewhere] {
        assert!(matches!(
            check(refused),
            Err(ApplyError::Coupon(CouponError::NotApplicable { .. }))
        ));
        // Automatic: left out, nothing taken off.
        let applied = run(&lines, "4.90", &[auto(refused)]).unwrap();
        assert!(applied.promotions.is_empty());
    }
}

/// Free shipping takes the charge off, and a coupon-only promotion offered
/// without its code does nothing.
#[test]
fn free_shipping_takes_the_charge_and_coupon_only_needs_its_code() {
    let lines = [line(1, "20.00", 1)];
    let free = promotion(1, 0, Discount::FreeShipping, Target::Order);
    let applied = run(&lines, "4.90", &[auto(&free)]).unwrap();
    assert_eq!(applied.shipping_discount, eur("4.90"));
    assert_eq!(applied.promotions[0].shipping, eur("4.90"));
    let mut coded = free.clone();
    coded.coupon_only = true;
    assert!(
        run(&lines, "4.90", &[auto(&coded)])
            .unwrap()
            .promotions
            .is_empty()
    );
}

#[test]
fn the_rules_refuse_a_promotion_that_makes_no_sense() {
    let base = || NewPromotion {
        name: PromotionName::parse("x").unwrap(),
        discount: percent(dec!(0.1)),
        target: Target::Order,
        currency: None,
        min_subtotal: None,
        min_quantity: None,
        group: None,
        starts_at: None,
        ends_at: None,
        coupon_only: false,
        exclusive: false,
        priority: 0,
    };
    let refused = |new: NewPromotion| new.checked().unwrap_err();
    assert!(matches!(
        refused(NewPromotion {
            discount: percent(dec!(1.5)),
            ..base()
        }),
        PromotionError::Rate(_)
    ));
    assert!(matches!(
        refused(NewPromotion {
            discount: Discount::Fixed { amount: eur("5") },
            ..base()
        }),
        PromotionError::Currency
    ));
    assert!(matches!(
        refused(NewPromotion {
            discount: Discount::BuyXGetY { buy: 0, get: 1 },
            ..base()
        }),
        PromotionError::BuyGet { .. }
    ));
    assert!(matches!(
        refused(NewPromotion {
            discount: Discount::FreeShipping,
            target: Target::Variants(vec![VariantId::new(1)]),
            ..base()
        }),
        PromotionError::ShippingTarget
    ));
    assert!(matches!(
        refused(NewPromotion {
            target: Target::Products(vec![]),
            ..base()
        }),
        PromotionError::Target { .. }
    ));
    assert!(matches!(
        refused(NewPromotion {
            starts_at: Some(noon()),
            ends_at: Some(noon()),
            ..base()
        }),
        PromotionError::EmptyWindow
    ));
}

#[test]
fn codes_fold_case_and_generated_ones_avoid_look_alike_letters() {
    assert_eq!(
        CouponCode::parse(" summer-10 ").unwrap().as_str(),
        "SUMMER-10"
    );
    assert!(CouponCode::parse("abc").is_err());
    assert!(CouponCode::parse("-ABCD").is_err());
    assert!(CouponCode::parse("AB CD").is_err());
    let codes = random_codes("X-", 10, 500);
    assert_eq!(codes.len(), 500);
    for c in &codes {
        assert!(c.as_str().starts_with("X-") && c.as_str().len() == 12);
        assert!(!c.as_str()[2..].contains(['0', 'O', '1', 'I', 'L']));
    }
    assert!(distinct_codes(&[codes[0].clone(), codes[0].clone()]).is_err());
}

fn arb_discount() -> impl Strategy<Value = Discount> {
    prop_oneof![
        (1i64..=10_000).prop_map(|bp| percent(Decimal::new(bp, 4))),
        (1i64..100_000).prop_map(|minor| Discount::Fixed {
            amount: Money::from_minor(minor, Currency::EUR)
        }),
        (1u32..4, 1u32..3).prop_map(|(buy, get)| Discount::BuyXGetY { buy, get }),
        Just(Discount::FreeShipping),
    ]
}

fn arb_target() -> impl Strategy<Value = Target> {
    prop_oneof![
        Just(Target::Order),
        proptest::collection::vec(1i64..6, 1..3)
            .prop_map(|ids| Target::Variants(ids.into_iter().map(VariantId::new).collect())),
        Just(Target::Categories(vec![CategoryId::new(1)])),
    ]
}

proptest! {
    /// Whatever promotions apply: no line, nor the shipping, goes below zero; each
    /// promotion's lines sum to its amount; the lines' discounts sum to the
    /// promotions'; and the same offers in any order give the same result.
    #[test]
    fn discounts_never_go_negative_sum_exactly_and_do_not_depend_on_the_order_given(
        prices in proptest::collection::vec((1i64..50_000, 1u32..5), 1..5),
        promos in proptest::collection::vec((arb_discount(), arb_target(), 0i32..3, any::<bool>()), 0..4),
        shipping in 0i64..2_000,
    ) {
        let lines: Vec<PromotionLine> = prices.iter().enumerate().map(|(i, (minor, units))| {
            let mut l = line(i as i64 + 1, "0", *units);
            l.unit_price = Money::from_minor(*minor, Currency::EUR);
            l
        }).collect();
        let promotions: Vec<Promotion> = promos.into_iter().enumerate().map(|(i, (d, t, priority, exclusive))| {
            let target = if d == Discount::FreeShipping { Target::Order } else { t };
            let mut p = promotion(i as i64 + 1, priority, d, target);
            p.exclusive = exclusive;
            p
        }).collect();
        let offers: Vec<Offer<'_>> = promotions.iter().map(auto).collect();
        let ship = Money::from_minor(shipping, Currency::EUR).amount().to_string();
        let applied = run(&lines, &ship, &offers).unwrap();
        for (l, off) in lines.iter().zip(&applied.line_discounts) {
            prop_assert!(!off.is_negative());
            prop_assert!(off.amount() <= l.unit_price.times(l.quantity.get()).unwrap().amount());
        }
        prop_assert!(applied.shipping_discount.amount() <= Money::from_minor(shipping, Currency::EUR).amount());
        let mut total = Money::zero(Currency::EUR);
        for p in &applied.promotions {
            prop_assert_eq!(Money::sum(Currency::EUR, p.lines.iter().map(|(_, m)| m)).unwrap(), p.amount);
            total = total.checked_add(p.amount).unwrap();
        }
        prop_assert_eq!(Money::sum(Currency::EUR, applied.line_discounts.iter()).unwrap(), total);
        let reversed: Vec<Offer<'_>> = offers.iter().rev().copied().collect();
        prop_assert_eq!(run(&lines, &ship, &reversed).unwrap(), applied);
    }
}

#[test]
fn amounts_and_limits_fit_what_the_database_holds() {
    let base = NewPromotion {
        name: PromotionName::parse("x").unwrap(),
        discount: percent(dec!(0.1)),
        target: Target::Order,
        currency: Some(Currency::EUR),
        min_subtotal: None,
        min_quantity: None,
        group: None,
        starts_at: None,
        ends_at: None,
        coupon_only: false,
        exclusive: false,
        priority: 0,
    };
    assert!(matches!(
        NewPromotion {
            min_subtotal: Some(eur("-1")),
            ..base.clone()
        }
        .checked(),
        Err(PromotionError::Amount(_))
    ));
    assert!(matches!(
        NewPromotion {
            min_quantity: Some(u32::MAX),
            ..base
        }
        .checked(),
        Err(PromotionError::MinQuantity)
    ));
    let coupons = |max_uses, prefix: &str| {
        NewCoupons {
            promotion: PromotionId::new(1),
            codes: CouponCodes::Generated {
                count: 10,
                prefix: prefix.to_owned(),
                length: 8,
            },
            max_uses,
            per_customer: None,
        }
        .checked()
        .map(|_| ())
    };
    assert_eq!(coupons(Some(1), "SPRING-"), Ok(()));
    assert_eq!(coupons(Some(u32::MAX), "SPRING-"), Err(CouponError::Limit));
    assert_eq!(coupons(Some(0), "SPRING-"), Err(CouponError::Limit));
    assert_eq!(coupons(None, " SPRING-"), Err(CouponError::Pattern));
}

#[test]
fn a_code_given_twice_is_refused_before_any_is_made() {
    let once = CouponCode::parse("summer").unwrap();
    let new = NewCoupons {
        promotion: PromotionId::new(1),
        codes: CouponCodes::Given(vec![once.clone(), CouponCode::parse("SUMMER").unwrap()]),
        max_uses: None,
        per_customer: None,
    };
    assert_eq!(new.checked(), Err(CouponError::Repeated(once)));
}
