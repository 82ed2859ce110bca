use super::*;
use crate::catalog::tests::sellable;
use crate::ids::{PriceListId, ShippingMethodId, ShippingZoneId};
use crate::pricing::{
    Area, PriceContext, PriceEntry, PriceList, PriceSource, RegionCode, ShippingRate, ShippingZone,
    TaxError, TaxRate, TaxTable, WeightBand, shipping_options, unit_price,
};
use crate::values::{CountryCode, PriceListName, ShippingZoneName, TaxRateName};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn at(day: u32) -> DateTime<Utc> {
    chrono::NaiveDate::from_ymd_opt(2026, 1, day)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
}

fn country(code: &str) -> CountryCode {
    CountryCode::parse(code).unwrap()
}

fn rate(name: &str, c: &str, region: Option<&str>, class: TaxClass, r: Decimal) -> TaxRate {
    TaxRate {
        name: TaxRateName::parse(name).unwrap(),
        country: country(c),
        region: region.map(|r| RegionCode::parse(r).unwrap()),
        class,
        rate: r,
        valid_from: at(1),
        valid_until: None,
    }
}

fn taxes() -> TaxTable {
    TaxTable::new(vec![
        rate("MwSt 19 %", "DE", None, TaxClass::Standard, dec!(0.19)),
        rate("MwSt 7 %", "DE", None, TaxClass::Reduced, dec!(0.07)),
        rate(
            "NY sales tax",
            "US",
            Some("NY"),
            TaxClass::Standard,
            dec!(0.08875),
        ),
        rate("US no state tax", "US", None, TaxClass::Standard, dec!(0)),
        rate("消費税 10%", "JP", None, TaxClass::Standard, dec!(0.10)),
        rate("消費税 8%", "JP", None, TaxClass::Reduced, dec!(0.08)),
    ])
    .unwrap()
}

fn flat(code: &str, price: Money) -> ShippingMethod {
    ShippingMethod {
        id: ShippingMethodId::new(1),
        zone: ShippingZoneId::new(1),
        code: Slug::parse(code).unwrap(),
        name: ShippingMethodName::parse("Standard").unwrap(),
        currency: price.currency(),
        rate: ShippingRate::Flat { price },
        free_from: None,
        tax_class: TaxClass::Standard,
    }
}

fn item(id: i64, currency: Currency, grams: u32) -> Sellable {
    let mut item = sellable(id, &format!("SKU-{id}"), 100);
    item.variant.price = Money::zero(currency);
    item.variant.weight_grams = Some(grams);
    item
}

fn money(amount: &str, currency: Currency) -> Money {
    Money::parse(amount, currency).unwrap()
}

/// Each line: (item, quantity, unit price, class).
fn quote_of(
    market: Market,
    to: &Destination,
    shipping: &ShippingMethod,
    lines: &[(&Sellable, u32, &str, TaxClass)],
) -> Quote {
    let lines: Vec<QuoteLine> = lines
        .iter()
        .map(|(item, q, price, class)| QuoteLine {
            item,
            quantity: Quantity::new(i64::from(*q)).unwrap(),
            unit_price: money(price, market.currency),
            tax_class: *class,
        })
        .collect();
    quote(
        QuoteRequest {
            market,
            destination: to,
            shipping,
            taxes: &taxes(),
            at: at(15),
            promotions: Promotions::default(),
        },
        &lines,
    )
    .unwrap()
}

/// (rate name, taxable, tax) of each tax line.
fn summary(q: &Quote) -> Vec<(String, String, String)> {
    q.tax_lines
        .iter()
        .map(|t| {
            (
                t.rate.name.as_str().to_owned(),
                t.taxable.amount().to_string(),
                t.tax.amount().to_string(),
            )
        })
        .collect()
}

fn totals(q: &Quote) -> [String; 4] {
    let t = q.totals;
    [t.subtotal, t.shipping, t.tax, t.grand_total].map(|m| m.amount().to_string())
}

/// A German consumer: gross prices, 19 % and 7 % lines, shipping taxed at 19 %.
/// Worked by hand: 2 × 11.90 = 23.80 gross holds 23.80 × 19/119 = 3.80 tax; 5.35
/// holds 5.35 × 7/107 = 0.35; shipping 4.90 holds 4.90 × 19/119 = 0.7823… → 0.78.
#[test]
fn a_german_invoice_with_two_rates_and_shipping() {
    let eur = Currency::EUR;
    let (shirt, book) = (item(1, eur, 200), item(2, eur, 400));
    let q = quote_of(
        Market {
            currency: eur,
            prices_include_tax: true,
        },
        &Destination::country(country("DE")),
        &flat("standard", money("4.90", eur)),
        &[
            (&shirt, 2, "11.90", TaxClass::Standard),
            (&book, 1, "5.35", TaxClass::Reduced),
        ],
    );
    let line = |i: usize| {
        let l = &q.lines[i];
        [l.amount, l.net, l.tax].map(|m| m.amount().to_string())
    };
    assert_eq!(line(0), ["23.80", "20.00", "3.80"]);
    assert_eq!(line(1), ["5.35", "5.00", "0.35"]);
    assert_eq!(
        [q.shipping.amount, q.shipping.net, q.shipping.tax].map(|m| m.amount().to_string()),
        ["4.90", "4.12", "0.78"]
    );
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        summary(&q),
        [
            s("MwSt 19 %", "24.12", "4.58"),
            s("MwSt 7 %", "5.00", "0.35")
        ]
    );
    // Gross: the tax is inside the amounts, not added to them.
    assert_eq!(totals(&q), ["29.15", "4.90", "4.93", "34.05"]);
}

/// A New York customer: net prices, 8.875 % state and local tax added per line and
/// on shipping. 3 × 19.99 = 59.97 → 5.3223… → 5.32; 5.00 → 0.44375 → 0.44;
/// shipping 7.50 → 0.665625 → 0.67.
#[test]
fn a_new_york_invoice_adds_sales_tax_per_line() {
    let usd = Currency::USD;
    let (mug, card) = (item(1, usd, 350), item(2, usd, 10));
    let ny = Destination {
        country: country("US"),
        region: Some(RegionCode::parse("NY").unwrap()),
    };
    let q = quote_of(
        Market {
            currency: usd,
            prices_include_tax: false,
        },
        &ny,
        &flat("ground", money("7.50", usd)),
        &[
            (&mug, 3, "19.99", TaxClass::Standard),
            (&card, 1, "5.00", TaxClass::Standard),
        ],
    );
    assert_eq!(
        q.lines
            .iter()
            .map(|l| l.tax.amount().to_string())
            .collect::<Vec<_>>(),
        ["5.32", "0.44"]
    );
    assert_eq!(q.shipping.tax.amount(), dec!(0.67));
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(summary(&q), [s("NY sales tax", "72.47", "6.43")]);
    // Net: the tax is added.
    assert_eq!(totals(&q), ["64.97", "7.50", "6.43", "78.90"]);
    // Elsewhere in the US the country's own rate applies.
    let texas = Destination {
        country: country("US"),
        region: Some(RegionCode::parse("TX").unwrap()),
    };
    let q = quote_of(
        Market {
            currency: usd,
            prices_include_tax: false,
        },
        &texas,
        &flat("ground", money("7.50", usd)),
        &[(&mug, 1, "19.99", TaxClass::Standard)],
    );
    assert_eq!(totals(&q), ["19.99", "7.50", "0.00", "27.49"]);
}

/// A Japanese cart, in yen (no minor unit): 1,080 of food holds 80 at 8 %; 2 × 550
/// holds 100 at 10 %; shipping 800 holds 72.7… → 73.
#[test]
fn a_yen_invoice_rounds_to_whole_yen() {
    let jpy = Currency::JPY;
    let (rice, towel) = (item(1, jpy, 1000), item(2, jpy, 100));
    let q = quote_of(
        Market {
            currency: jpy,
            prices_include_tax: true,
        },
        &Destination::country(country("JP")),
        &flat("takkyubin", money("800", jpy)),
        &[
            (&rice, 1, "1080", TaxClass::Reduced),
            (&towel, 2, "550", TaxClass::Standard),
        ],
    );
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        summary(&q),
        [s("消費税 10%", "1727", "173"), s("消費税 8%", "1000", "80")]
    );
    assert_eq!(totals(&q), ["2180", "800", "253", "2980"]);
}

#[test]
fn exempt_goods_have_no_tax_line_and_a_missing_rate_is_an_error() {
    let eur = Currency::EUR;
    let voucher = item(1, eur, 0);
    let q = quote_of(
        Market {
            currency: eur,
            prices_include_tax: true,
        },
        &Destination::country(country("DE")),
        &flat("email", money("0", eur)),
        &[(&voucher, 1, "25.00", TaxClass::Exempt)],
    );
    assert_eq!(q.lines[0].rate, None);
    assert_eq!(totals(&q), ["25.00", "0.00", "0.00", "25.00"]);
    assert_eq!(summary(&q).len(), 1, "only the shipping's 19 % line");
    let lines = [QuoteLine {
        item: &voucher,
        quantity: Quantity::new(1).unwrap(),
        unit_price: money("25.00", eur),
        tax_class: TaxClass::Reduced,
    }];
    let france = Destination::country(country("FR"));
    let method = flat("standard", money("4.90", eur));
    let request = QuoteRequest {
        market: Market {
            currency: eur,
            prices_include_tax: true,
        },
        destination: &france,
        shipping: &method,
        taxes: &taxes(),
        at: at(15),
        promotions: Promotions::default(),
    };
    assert!(matches!(
        quote(request, &lines),
        Err(PricingError::NoTaxRate {
            class: TaxClass::Reduced,
            ..
        })
    ));
}

#[test]
fn an_order_keeps_the_rate_it_was_placed_with() {
    let mut table = taxes().rates().to_vec();
    table[0].valid_until = Some(at(20));
    table.push(TaxRate {
        valid_from: at(20),
        ..rate("MwSt 16 %", "DE", None, TaxClass::Standard, dec!(0.16))
    });
    let table = TaxTable::new(table).unwrap();
    let de = Destination::country(country("DE"));
    let before = table
        .rate(&de, TaxClass::Standard, at(19))
        .unwrap()
        .unwrap();
    let after = table
        .rate(&de, TaxClass::Standard, at(20))
        .unwrap()
        .unwrap();
    assert_eq!((before.rate, after.rate), (dec!(0.19), dec!(0.16)));
    let mut overlapping = table.rates().to_vec();
    overlapping.push(rate(
        "MwSt 19 % again",
        "DE",
        None,
        TaxClass::Standard,
        dec!(0.19),
    ));
    assert!(matches!(
        TaxTable::new(overlapping),
        Err(TaxError::Overlap { .. })
    ));
    assert!(matches!(
        rate("none", "DE", None, TaxClass::Exempt, dec!(0)).checked(),
        Err(TaxError::ExemptRate(_))
    ));
    for bad in [dec!(-0.01), dec!(1.01), dec!(0.123456)] {
        assert!(TaxTable::new(vec![rate("x", "DE", None, TaxClass::Zero, bad)]).is_err());
    }
}

#[test]
fn shipping_options_are_the_methods_that_take_the_cart_cheapest_first() {
    let eur = Currency::EUR;
    let eu = ShippingZone {
        id: ShippingZoneId::new(1),
        name: ShippingZoneName::parse("EU").unwrap(),
        areas: vec![
            Area {
                country: country("DE"),
                region: None,
            },
            Area {
                country: country("FR"),
                region: None,
            },
        ],
    }
    .checked()
    .unwrap();
    let standard = ShippingMethod {
        rate: ShippingRate::ByWeight {
            bands: vec![
                WeightBand {
                    up_to_grams: 1000,
                    price: money("4.90", eur),
                },
                WeightBand {
                    up_to_grams: 5000,
                    price: money("7.90", eur),
                },
            ],
        },
        free_from: Some(money("50.00", eur)),
        ..flat("standard", money("0", eur))
    }
    .checked()
    .unwrap();
    let express = ShippingMethod {
        id: ShippingMethodId::new(2),
        name: ShippingMethodName::parse("Express").unwrap(),
        ..flat("express", money("12.00", eur))
    };
    let methods = [express.clone(), standard.clone()];
    let de = Destination::country(country("DE"));
    let codes = |subtotal: &str, grams| {
        shipping_options(
            std::slice::from_ref(&eu),
            &methods,
            &de,
            money(subtotal, eur),
            grams,
        )
        .into_iter()
        .map(|o| {
            (
                o.method.code.as_str().to_owned(),
                o.price.amount().to_string(),
            )
        })
        .collect::<Vec<_>>()
    };
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        codes("20.00", 800),
        [pair("standard", "4.90"), pair("express", "12.00")]
    );
    assert_eq!(
        codes("20.00", 3000),
        [pair("standard", "7.90"), pair("express", "12.00")]
    );
    assert_eq!(
        codes("60.00", 3000),
        [pair("standard", "0.00"), pair("express", "12.00")]
    );
    assert_eq!(
        codes("20.00", 6000),
        [pair("express", "12.00")],
        "too heavy for standard"
    );
    let us = Destination::country(country("US"));
    assert!(shipping_options(&[eu], &methods, &us, money("20.00", eur), 10).is_empty());
    assert!(
        ShippingMethod {
            rate: ShippingRate::ByWeight {
                bands: vec![
                    WeightBand {
                        up_to_grams: 1000,
                        price: money("4.90", eur)
                    },
                    WeightBand {
                        up_to_grams: 1000,
                        price: money("5.90", eur)
                    },
                ],
            },
            ..standard
        }
        .checked()
        .is_err()
    );
}

fn list(id: i64, currency: Currency, group: Option<&str>, days: Option<(u32, u32)>) -> PriceList {
    PriceList {
        id: PriceListId::new(id),
        name: PriceListName::parse(&format!("list {id}")).unwrap(),
        currency,
        group: group.map(|g| Slug::parse(g).unwrap()),
        starts_at: days.map(|(s, _)| at(s)),
        ends_at: days.map(|(_, e)| at(e)),
    }
    .checked()
    .unwrap()
}

fn entry(list: i64, variant: i64, min: u32, price: Money) -> PriceEntry {
    PriceEntry {
        list: PriceListId::new(list),
        variant: VariantId::new(variant),
        min_quantity: min,
        price,
    }
}

#[test]
fn the_lowest_applicable_price_wins_and_says_where_it_came_from() {
    let eur = Currency::EUR;
    let mut tee = item(1, eur, 0);
    tee.variant.price = money("10.00", eur);
    let lists = [
        list(1, eur, None, Some((10, 20))), // a sale
        list(2, eur, Some("b2b"), None),    // trade prices
        list(3, Currency::GBP, None, None), // the UK
    ];
    let entries = [
        entry(1, 1, 1, money("8.00", eur)),
        entry(2, 1, 1, money("9.00", eur)),
        entry(2, 1, 10, money("7.50", eur)),
        entry(3, 1, 1, Money::parse("8.50", Currency::GBP).unwrap()),
    ];
    let price = |currency, groups: &[Slug], day, q: i64| {
        unit_price(
            &tee.variant,
            Quantity::new(q).unwrap(),
            &lists,
            &entries,
            PriceContext {
                currency,
                groups,
                at: at(day),
            },
        )
    };
    let b2b = [Slug::parse("b2b").unwrap()];
    let got = |r: Result<crate::pricing::UnitPrice, PricingError>| {
        let r = r.unwrap();
        (r.price.amount().to_string(), r.source)
    };
    let list_of = |id| PriceSource::List(PriceListId::new(id));
    assert_eq!(
        got(price(eur, &[], 5, 1)),
        ("10.00".into(), PriceSource::Variant)
    );
    assert_eq!(
        got(price(eur, &[], 15, 1)),
        ("8.00".into(), list_of(1)),
        "on sale"
    );
    assert_eq!(
        got(price(eur, &[], 20, 1)),
        ("10.00".into(), PriceSource::Variant),
        "sale over"
    );
    assert_eq!(got(price(eur, &b2b, 5, 9)), ("9.00".into(), list_of(2)));
    assert_eq!(
        got(price(eur, &b2b, 5, 10)),
        ("7.50".into(), list_of(2)),
        "a tier"
    );
    assert_eq!(
        got(price(eur, &b2b, 15, 1)),
        ("8.00".into(), list_of(1)),
        "the sale beats trade"
    );
    assert_eq!(
        got(price(Currency::GBP, &[], 5, 1)),
        ("8.50".into(), list_of(3))
    );
    assert_eq!(
        price(Currency::USD, &b2b, 15, 10).unwrap_err(),
        PricingError::NoPrice {
            variant: VariantId::new(1),
            currency: Currency::USD
        }
    );
}

fn arb_class() -> impl Strategy<Value = TaxClass> {
    prop::sample::select(vec![
        TaxClass::Standard,
        TaxClass::Reduced,
        TaxClass::Zero,
        TaxClass::Exempt,
    ])
}

proptest! {
    /// The laws of a quote, on random carts in both tax modes and every currency's
    /// minor unit.
    #[test]
    fn tax_lines_reconcile_to_the_totals_and_no_cent_is_lost(
        currency in prop::sample::select(vec![Currency::EUR, Currency::JPY, Currency::KWD]),
        gross in any::<bool>(),
        lines in prop::collection::vec((1i64..5_000_000, 1i64..50, arb_class()), 1..8),
        shipping in 0i64..5000,
    ) {
        let items: Vec<Sellable> = (0..lines.len()).map(|i| item(i as i64 + 1, currency, 100)).collect();
        let quote_lines: Vec<QuoteLine> = items.iter().zip(&lines).map(|(item, (minor, q, class))| QuoteLine {
            item,
            quantity: Quantity::new(*q).unwrap(),
            unit_price: Money::from_minor(*minor, currency),
            tax_class: *class,
        }).collect();
        let method = flat("standard", Money::from_minor(shipping, currency));
        let de = Destination::country(country("DE"));
        let market = Market { currency, prices_include_tax: gross };
        let table = taxes();
        let request = QuoteRequest { market, destination: &de, shipping: &method, taxes: &table, at: at(15), promotions: Promotions::default() };
        let q = quote(request, &quote_lines)?;
        prop_assert_eq!(&quote(request, &quote_lines)?, &q, "the same cart priced twice");
        let zero = Money::zero(currency);
        let sum = |ms: Vec<Money>| Money::sum(currency, ms.iter()).unwrap();
        prop_assert_eq!(sum(q.lines.iter().map(|l| l.amount).collect()), q.totals.subtotal);
        prop_assert_eq!(sum(q.tax_lines.iter().map(|t| t.tax).collect()), q.totals.tax);
        let taxed_net = q.lines.iter().filter(|l| l.rate.is_some()).map(|l| l.net)
            .chain(q.shipping.rate.as_ref().map(|_| q.shipping.net));
        prop_assert_eq!(sum(q.tax_lines.iter().map(|t| t.taxable).collect()), sum(taxed_net.collect()));
        let expected_grand = if gross {
            q.totals.subtotal.checked_add(q.totals.shipping)?
        } else {
            q.totals.subtotal.checked_add(q.totals.shipping)?.checked_add(q.totals.tax)?
        };
        prop_assert_eq!(q.totals.grand_total, expected_grand);
        let half_minor = Decimal::new(5, currency.minor_units() + 1);
        for (amount, net, tax, rate) in q.lines.iter().map(|l| (l.amount, l.net, l.tax, &l.rate))
            .chain([(q.shipping.amount, q.shipping.net, q.shipping.tax, &q.shipping.rate)])
        {
            prop_assert!(tax.try_cmp(&zero)?.is_ge());
            let r = rate.as_ref().map_or(Decimal::ZERO, |r| r.rate);
            if gross {
                prop_assert_eq!(net.checked_add(tax)?, amount, "net + tax = gross");
                let exact = amount.amount() * r / (Decimal::ONE + r);
                prop_assert!((tax.amount() - exact).abs() <= half_minor);
            } else {
                prop_assert_eq!(net, amount);
                prop_assert!((tax.amount() - amount.amount() * r).abs() <= half_minor);
            }
            for m in [amount, net, tax] {
                prop_assert_eq!(m.amount().scale(), currency.minor_units());
            }
        }
    }

    /// Whatever the order of lists and entries, the price is the lowest candidate,
    /// and buying more never raises the unit price.
    #[test]
    fn the_chosen_price_is_the_lowest_candidate_in_any_order(
        prices in prop::collection::vec((1i64..4, 1u32..20, 1i64..10_000, any::<bool>()), 0..10),
        quantity in 1i64..30,
        seed in any::<u64>(),
    ) {
        let eur = Currency::EUR;
        let mut tee = item(1, eur, 0);
        tee.variant.price = Money::from_minor(5_000, eur);
        let lists = [
            list(1, eur, None, None),
            list(2, eur, Some("staff"), None),
            list(3, eur, None, Some((1, 2))),
        ];
        let entries: Vec<PriceEntry> = prices.iter()
            .map(|(l, min, minor, other)| entry(*l, if *other { 2 } else { 1 }, *min, Money::from_minor(*minor, eur)))
            .collect();
        let context = PriceContext { currency: eur, groups: &[], at: at(15) };
        let chosen = unit_price(&tee.variant, Quantity::new(quantity).unwrap(), &lists, &entries, context)?;
        let brute = entries.iter()
            .filter(|e| e.list.get() == 1 && e.variant.get() == 1 && i64::from(e.min_quantity) <= quantity)
            .map(|e| e.price.amount())
            .chain([dec!(50.00)])
            .min()
            .unwrap();
        prop_assert_eq!(chosen.price.amount(), brute);
        let mut shuffled = entries.clone();
        let len = shuffled.len().max(1);
        shuffled.rotate_left((seed as usize) % len);
        shuffled.reverse();
        let again = unit_price(&tee.variant, Quantity::new(quantity).unwrap(), &lists, &shuffled, context)?;
        prop_assert_eq!(again, chosen);
        let more = unit_price(&tee.variant, Quantity::new(quantity + 1).unwrap(), &lists, &entries, context)?;
        prop_assert!(more.price.amount() <= chosen.price.amount());
    }
}

/// `quote_of` with `promotions` offered (automatic).
fn quote_promoted(
    market: Market,
    to: &Destination,
    shipping: &ShippingMethod,
    lines: &[(&Sellable, u32, &str, TaxClass)],
    promotions: &[crate::promotion::Promotion],
) -> Quote {
    let lines: Vec<QuoteLine> = lines
        .iter()
        .map(|(item, q, price, class)| QuoteLine {
            item,
            quantity: Quantity::new(i64::from(*q)).unwrap(),
            unit_price: money(price, market.currency),
            tax_class: *class,
        })
        .collect();
    let offers: Vec<crate::promotion::Offer<'_>> = promotions
        .iter()
        .map(|promotion| crate::promotion::Offer {
            promotion,
            code: None,
        })
        .collect();
    quote(
        QuoteRequest {
            market,
            destination: to,
            shipping,
            taxes: &taxes(),
            at: at(15),
            promotions: Promotions {
                offers: &offers,
                places: &[],
                groups: &[],
            },
        },
        &lines,
    )
    .unwrap()
}

fn order_promotion(discount: crate::promotion::Discount) -> crate::promotion::Promotion {
    crate::promotion::NewPromotion {
        name: crate::values::PromotionName::parse("Spring").unwrap(),
        currency: match &discount {
            crate::promotion::Discount::Fixed { amount } => Some(amount.currency()),
            _ => None,
        },
        discount,
        target: crate::promotion::Target::Order,
        min_subtotal: None,
        min_quantity: None,
        group: None,
        starts_at: None,
        ends_at: None,
        coupon_only: false,
        exclusive: false,
        priority: 0,
    }
    .checked()
    .unwrap()
    .with_id(crate::ids::PromotionId::new(1))
}

/// Tax after discount, gross (Germany), worked by hand: 2 × 11.90 = 23.80 and a
/// book at 4.28: 28.08, 10 % off = 2.808 → 2.81, allocated 238|17 and 42|83 → the
/// leftover cent to the book: 2.38 and 0.43. The shirts then hold 21.42 × 19/119 =
/// 3.42 (net 18.00), the book 3.85 × 7/107 = 0.2518… → 0.25 (net 3.60); shipping
/// 4.90 holds 0.78. Grand total 28.08 − 2.81 + 4.90 = 30.17, the tax inside it.
#[test]
fn a_german_invoice_after_a_percentage_off() {
    let eur = Currency::EUR;
    let (shirt, book) = (item(1, eur, 200), item(2, eur, 400));
    let q = quote_promoted(
        Market {
            currency: eur,
            prices_include_tax: true,
        },
        &Destination::country(country("DE")),
        &flat("standard", money("4.90", eur)),
        &[
            (&shirt, 2, "11.90", TaxClass::Standard),
            (&book, 1, "4.28", TaxClass::Reduced),
        ],
        &[order_promotion(crate::promotion::Discount::Percent {
            rate: dec!(0.10),
        })],
    );
    let line = |i: usize| {
        let l = &q.lines[i];
        [l.amount, l.discount, l.net, l.tax].map(|m| m.amount().to_string())
    };
    assert_eq!(line(0), ["23.80", "2.38", "18.00", "3.42"]);
    assert_eq!(line(1), ["4.28", "0.43", "3.60", "0.25"]);
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        summary(&q),
        [
            s("MwSt 19 %", "22.12", "4.20"),
            s("MwSt 7 %", "3.60", "0.25")
        ]
    );
    assert_eq!(q.totals.discount.amount().to_string(), "2.81");
    assert_eq!(totals(&q), ["28.08", "4.90", "4.45", "30.17"]);
    assert_eq!(q.promotions[0].amount, q.totals.discount);
}

/// Tax after discount, net (New York, 8.875 %), worked by hand: 59.97 and 10.00,
/// 5.00 off the order allocated 428|54 and 71|46 → 4.29 and 0.71; tax on 55.68 is
/// 4.9416 → 4.94, on 9.29 is 0.8244… → 0.82, on shipping 7.50 is 0.6656… → 0.67.
/// Grand total 69.97 − 5.00 + 7.50 + 6.43 = 78.90.
#[test]
fn a_new_york_invoice_after_an_amount_off() {
    let usd = Currency::USD;
    let (a, b) = (item(1, usd, 200), item(2, usd, 400));
    let q = quote_promoted(
        Market {
            currency: usd,
            prices_include_tax: false,
        },
        &Destination {
            country: country("US"),
            region: Some(RegionCode::parse("NY").unwrap()),
        },
        &flat("ground", money("7.50", usd)),
        &[
            (&a, 3, "19.99", TaxClass::Standard),
            (&b, 1, "10.00", TaxClass::Standard),
        ],
        &[order_promotion(crate::promotion::Discount::Fixed {
            amount: money("5.00", usd),
        })],
    );
    let line = |i: usize| {
        let l = &q.lines[i];
        [l.amount, l.discount, l.net, l.tax].map(|m| m.amount().to_string())
    };
    assert_eq!(line(0), ["59.97", "4.29", "55.68", "4.94"]);
    assert_eq!(line(1), ["10.00", "0.71", "9.29", "0.82"]);
    assert_eq!(
        summary(&q),
        [(
            "NY sales tax".to_owned(),
            "72.47".to_owned(),
            "6.43".to_owned()
        )]
    );
    assert_eq!(totals(&q), ["69.97", "7.50", "6.43", "78.90"]);
}

#[test]
fn a_zone_names_each_area_once() {
    let de = Area {
        country: country("DE"),
        region: None,
    };
    let zone = |areas| {
        crate::pricing::NewShippingZone {
            name: ShippingZoneName::parse("EU").unwrap(),
            areas,
        }
        .checked()
    };
    assert!(zone(vec![de.clone()]).is_ok());
    assert!(matches!(
        zone(vec![de.clone(), de]),
        Err(crate::pricing::ShippingError::DuplicateArea(_))
    ));
    assert!(matches!(
        zone(vec![]),
        Err(crate::pricing::ShippingError::EmptyZone)
    ));
}
