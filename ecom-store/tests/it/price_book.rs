//! Prices, tax and shipping as data on PostgreSQL: the same quotes as the reference
//! store for carts in a gross market (EUR) and a net one (USD) with customer-group
//! prices, tiers, a sale, several tax rates and a chosen shipping method; and the
//! schema's own rules behind them.

use chrono::{Duration, Utc};
use ecom_domain::memory::MemoryStore;
use ecom_domain::prelude::*;
use ecom_domain::pricing::{
    Area, ListPrice, NewPriceList, NewShippingMethod, NewShippingZone, PriceListError,
    ShippingRate, TaxError, WeightBand,
};
use ecom_domain::repo::PriceBookRepository;
use ecom_store::testing::TestDb;
use ecom_store::{PgStore, StoreError};
use rust_decimal::Decimal;

use crate::util::{exec, pg_store, rules};

fn country(code: &str) -> CountryCode {
    CountryCode::parse(code).unwrap()
}

fn region(code: &str) -> Option<RegionCode> {
    Some(RegionCode::parse(code).unwrap())
}

fn rate(name: &str, c: &str, r: Option<&str>, class: TaxClass, value: Decimal) -> TaxRate {
    TaxRate {
        name: TaxRateName::parse(name).unwrap(),
        country: country(c),
        region: r.and_then(region),
        class,
        rate: value,
        valid_from: Utc::now() - Duration::days(365),
        valid_until: None,
    }
}

/// What a quote says, without ids: per line (SKU, unit, amount, net, tax), the
/// shipping (code, amount, tax), the tax lines (name, taxable, tax) and the totals.
type Shape = (
    Vec<(String, String, String, String, String)>,
    (String, String, String),
    Vec<(String, String, String)>,
    [String; 4],
);

fn shape(q: &Quote) -> Shape {
    let m = |m: Money| m.amount().to_string();
    (
        q.lines
            .iter()
            .map(|l| {
                (
                    l.sku.as_str().to_owned(),
                    m(l.unit_price),
                    m(l.amount),
                    m(l.net),
                    m(l.tax),
                )
            })
            .collect(),
        (
            q.shipping.code.as_str().to_owned(),
            m(q.shipping.amount),
            m(q.shipping.tax),
        ),
        q.tax_lines
            .iter()
            .map(|t| (t.rate.name.as_str().to_owned(), m(t.taxable), m(t.tax)))
            .collect(),
        [
            q.totals.subtotal,
            q.totals.shipping,
            q.totals.tax,
            q.totals.grand_total,
        ]
        .map(m),
    )
}

/// A shop with a shirt (standard rate, 11.90 EUR), a book (reduced, 5.35 EUR), a
/// mug (14.00 USD) and a guide (reduced, 6.00 USD), a B2B list with a tier, a staff
/// list, a sale on the book and one that is over, German and New York rates, and
/// shipping by weight in the EU and flat in New York. Returns the options and
/// quotes of a German guest's cart (EUR, gross) and a New York trade customer's
/// (USD, net, with their group's tier), and the refusals of bad writes.
fn scenario<S>(store: &S) -> Vec<Result<String, DomainError>>
where
    S: CatalogRepository
        + PriceBookRepository
        + CartRepository
        + AccountRepository
        + CheckoutRepository
        + OrderReader,
    <S as CatalogReader>::Error: RepoError,
    <S as PriceBookRepository>::Error: RepoError,
    <S as CartRepository>::Error: RepoError,
    <S as AccountRepository>::Error: RepoError,
    <S as CheckoutRepository>::Error: RepoError,
    <S as OrderReader>::Error: RepoError,
{
    fn d<E: RepoError>(e: E) -> DomainError {
        e.domain().cloned().unwrap_or_else(|| panic!("{e}"))
    }
    let eur = Currency::EUR;
    let usd = Currency::USD;
    let root = store
        .create_category(NewCategory {
            parent_id: None,
            slug: Slug::parse("shop").unwrap(),
            name: CategoryName::parse("Shop").unwrap(),
        })
        .map_err(d)
        .unwrap();
    let product = |slug: &str, sku: &str, price: &str, currency, grams: u32| {
        let mut new = NewProduct::single(
            Slug::parse(slug).unwrap(),
            ProductName::parse(slug).unwrap(),
            root.id,
            Sku::parse(sku).unwrap(),
            Money::parse(price, currency).unwrap(),
            50,
        );
        new.variants[0].weight_grams = Some(grams);
        store.create_product(new).map_err(d).unwrap()
    };
    let shirt = product("shirt", "SHIRT", "11.90", eur, 300);
    let book = product("book", "BOOK", "5.35", eur, 800);
    let mug = product("mug", "MUG", "14.00", usd, 300);
    let guide = product("guide", "GUIDE", "6.00", usd, 100);
    let (shirt_v, book_v) = (shirt.variants[0].id, book.variants[0].id);
    let (mug_v, guide_v) = (mug.variants[0].id, guide.variants[0].id);
    for reduced in [book.id, guide.id] {
        store
            .set_tax_class(reduced, TaxClass::Reduced)
            .map_err(d)
            .unwrap();
    }
    store
        .set_market(Market {
            currency: eur,
            prices_include_tax: true,
        })
        .map_err(d)
        .unwrap();
    let now = Utc::now();
    let list = |name: &str, currency, group: Option<&str>, window: Option<(i64, i64)>| {
        store
            .create_price_list(NewPriceList {
                name: PriceListName::parse(name).unwrap(),
                currency,
                group: group.map(|g| Slug::parse(g).unwrap()),
                starts_at: window.map(|(s, _)| now + Duration::days(s)),
                ends_at: window.map(|(_, e)| now + Duration::days(e)),
            })
            .map_err(d)
            .unwrap()
    };
    let prices = |l: &PriceList, entries: &[(VariantId, u32, &str)]| {
        store
            .set_list_prices(
                l.id,
                entries
                    .iter()
                    .map(|(v, min, p)| ListPrice {
                        variant: *v,
                        min_quantity: *min,
                        price: Money::parse(p, l.currency).unwrap(),
                    })
                    .collect(),
            )
            .map_err(d)
    };
    let trade = list("Trade", usd, Some("b2b"), None);
    prices(&trade, &[(mug_v, 1, "13.00"), (mug_v, 10, "11.50")]).unwrap();
    // Not for this customer's group.
    let staff = list("Staff", usd, Some("staff"), None);
    prices(&staff, &[(mug_v, 1, "1.00"), (guide_v, 1, "1.00")]).unwrap();
    let sale = list("Book sale", eur, None, Some((-1, 1)));
    prices(&sale, &[(book_v, 1, "4.28")]).unwrap();
    let over = list("Last year's sale", eur, None, Some((-10, -5)));
    prices(&over, &[(shirt_v, 1, "1.00")]).unwrap();
    for r in [
        rate(
            "MwSt 19 %",
            "DE",
            None,
            TaxClass::Standard,
            Decimal::new(19, 2),
        ),
        rate(
            "MwSt 7 %",
            "DE",
            None,
            TaxClass::Reduced,
            Decimal::new(7, 2),
        ),
        rate(
            "NY sales tax",
            "US",
            Some("NY"),
            TaxClass::Standard,
            Decimal::new(8875, 5),
        ),
        rate(
            "NY sales tax, reduced",
            "US",
            Some("NY"),
            TaxClass::Reduced,
            Decimal::new(4, 2),
        ),
    ] {
        store.add_tax_rate(r).map_err(d).unwrap();
    }
    let eu = store
        .create_shipping_zone(NewShippingZone {
            name: ShippingZoneName::parse("EU").unwrap(),
            areas: vec![
                Area {
                    country: country("DE"),
                    region: None,
                },
                Area {
                    country: country("AT"),
                    region: None,
                },
            ],
        })
        .map_err(d)
        .unwrap();
    let east = store
        .create_shipping_zone(NewShippingZone {
            name: ShippingZoneName::parse("US East").unwrap(),
            areas: vec![Area {
                country: country("US"),
                region: region("NY"),
            }],
        })
        .map_err(d)
        .unwrap();
    let method =
        |zone: ShippingZoneId, code: &str, currency, rate: ShippingRate, free: Option<&str>| {
            store
                .create_shipping_method(NewShippingMethod {
                    zone,
                    code: Slug::parse(code).unwrap(),
                    name: ShippingMethodName::parse(code).unwrap(),
                    currency,
                    rate,
                    free_from: free.map(|f| Money::parse(f, currency).unwrap()),
                    tax_class: TaxClass::Standard,
                })
                .map_err(d)
        };
    let eur_m = |s: &str| Money::parse(s, eur).unwrap();
    method(
        eu.id,
        "standard",
        eur,
        ShippingRate::ByWeight {
            bands: vec![
                WeightBand {
                    up_to_grams: 1000,
                    price: eur_m("4.90"),
                },
                WeightBand {
                    up_to_grams: 10_000,
                    price: eur_m("6.90"),
                },
            ],
        },
        Some("100.00"),
    )
    .unwrap();
    method(
        eu.id,
        "express",
        eur,
        ShippingRate::Flat {
            price: eur_m("14.90"),
        },
        None,
    )
    .unwrap();
    method(
        east.id,
        "ground",
        usd,
        ShippingRate::Flat {
            price: Money::parse("7.50", usd).unwrap(),
        },
        None,
    )
    .unwrap();
    let taken = method(
        eu.id,
        "express",
        eur,
        ShippingRate::Flat {
            price: eur_m("1.00"),
        },
        None,
    );

    // A German guest: 2 shirts and the book on sale, gross.
    let guest = store
        .open_cart(&crate::util::guest_owner(1), eur)
        .map_err(d)
        .unwrap();
    let q = |n| Quantity::new(n).unwrap();
    store.add_item(guest.id, shirt_v, q(2)).map_err(d).unwrap();
    store.add_item(guest.id, book_v, q(1)).map_err(d).unwrap();
    let germany = Destination::country(country("DE"));
    // A New York trade customer: 10 shirts (their tier) and 2 books, net.
    let user = store
        .register(NewUser {
            email: Email::parse("buyer@example.com").unwrap(),
            name: PersonName::parse("Buyer").unwrap(),
            password: Password::new("correct horse battery").unwrap(),
        })
        .map_err(d)
        .unwrap();
    store
        .set_customer_groups(
            user.id,
            vec![Slug::parse("b2b").unwrap(), Slug::parse("b2b").unwrap()],
        )
        .map_err(d)
        .unwrap();
    let trade_cart = store
        .open_cart(&CartOwner::User(user.id), usd)
        .map_err(d)
        .unwrap();
    store
        .add_item(trade_cart.id, mug_v, q(10))
        .map_err(d)
        .unwrap();
    store
        .add_item(trade_cart.id, guide_v, q(2))
        .map_err(d)
        .unwrap();
    let new_york = Destination {
        country: country("US"),
        region: region("NY"),
    };
    let texas = Destination {
        country: country("US"),
        region: region("TX"),
    };

    let options = |cart: CartId, to: &Destination| {
        store.shipping_options(cart, to).map_err(d).map(|o| {
            format!(
                "{:?}",
                o.iter()
                    .map(|o| (
                        o.method.code.as_str().to_owned(),
                        o.price.amount().to_string()
                    ))
                    .collect::<Vec<_>>()
            )
        })
    };
    let quote = |cart: CartId, to: &Destination, code: &str| {
        store
            .quote_cart(cart, to, &Slug::parse(code).unwrap())
            .map_err(d)
            .map(|q| format!("{:?}", shape(&q)))
    };
    // A price list in EUR lets a EUR cart take the mug, priced in USD itself; a
    // GBP cart still cannot.
    let euro_mugs = list("Euro mugs", eur, None, None);
    prices(&euro_mugs, &[(mug_v, 1, "12.50")]).unwrap();
    let second = store
        .open_cart(&crate::util::guest_owner(2), eur)
        .map_err(d)
        .unwrap();
    let pounds = store
        .open_cart(&crate::util::guest_owner(3), Currency::GBP)
        .map_err(d)
        .unwrap();
    let add = |cart: CartId, variant| {
        store
            .add_item(cart, variant, q(1))
            .map_err(d)
            .map(|c| format!("{} lines", c.lines.len()))
    };
    let to = |city: &str, region: Option<&str>, country: &str| {
        AddressChoice::Given(
            PostalAddress::parse(&RawAddress {
                recipient: "Grace Hopper".into(),
                line1: "1 Navy Way".into(),
                city: city.into(),
                region: region.unwrap_or_default().to_owned(),
                postal_code: "10115".into(),
                country: country.into(),
                ..RawAddress::default()
            })
            .unwrap(),
        )
    };
    let checkout = |cart: CartId, key: &str, address: AddressChoice, code: &str| {
        let done = store
            .checkout(&CheckoutRequest {
                cart_id: cart,
                shipping: address.clone(),
                billing: address,
                guest_email: Some(Email::parse("guest@example.com").unwrap()),
                provider: ProviderName::parse("test").unwrap(),
                shipping_method: Some(Slug::parse(code).unwrap()),
                coupon_codes: vec![],
                gift_cards: vec![],
                idempotency_key: IdempotencyKey::parse(key).unwrap(),
            })
            .map_err(d)?;
        let stored = store.order(done.order.id).map_err(d)?.order;
        assert_eq!(stored, done.order, "the order reads back as it was placed");
        assert_eq!(
            done.payment.as_ref().unwrap().amount,
            done.order.totals.grand_total
        );
        // What a refund of each line gives back, and the shipping with its tax,
        // sum to what was paid.
        let invoice = done.order.invoice.as_ref().unwrap();
        let shipping = match invoice.prices_include_tax {
            true => invoice.shipping.amount,
            false => invoice
                .shipping
                .amount
                .checked_add(invoice.shipping.tax)
                .unwrap(),
        };
        let paid = done
            .order
            .lines
            .iter()
            .map(|l| done.order.paid_for_line(l.line_no).unwrap())
            .fold(shipping, |a, b| a.checked_add(b).unwrap());
        assert_eq!(paid, done.order.totals.grand_total);
        Ok(invoice_shape(&done.order))
    };

    vec![
        taken.map(|m| m.code.to_string()),
        options(guest.id, &germany),
        quote(guest.id, &germany, "standard"),
        quote(guest.id, &germany, "express"),
        quote(guest.id, &germany, "ground"),
        options(trade_cart.id, &new_york),
        quote(trade_cart.id, &new_york, "ground"),
        options(trade_cart.id, &texas),
        quote(trade_cart.id, &texas, "ground"),
        prices(&trade, &[(mug_v, 0, "1.00")]).map(|e| e.len().to_string()),
        prices(&trade, &[(mug_v, 1, "1.00"), (mug_v, 1, "2.00")]).map(|e| e.len().to_string()),
        prices(&trade, &[(VariantId::new(999_999), 1, "1.00")]).map(|e| e.len().to_string()),
        store
            .add_tax_rate(rate(
                "MwSt 19 % bis",
                "DE",
                None,
                TaxClass::Standard,
                Decimal::new(19, 2),
            ))
            .map_err(d)
            .map(|r| r.name.to_string()),
        store
            .set_customer_groups(
                user.id,
                (0..21)
                    .map(|i| Slug::parse(&format!("g{i}")).unwrap())
                    .collect(),
            )
            .map_err(d)
            .map(|g| g.len().to_string()),
        add(second.id, mug_v),
        add(pounds.id, mug_v),
        checkout(guest.id, "gross", to("Berlin", None, "DE"), "standard"),
        checkout(
            trade_cart.id,
            "net",
            to("Albany", Some("NY"), "US"),
            "ground",
        ),
        checkout(
            second.id,
            "nowhere",
            to("Austin", Some("TX"), "US"),
            "ground",
        ),
    ]
}

/// What an order's invoice says, without ids: per line (SKU, amount, net, tax,
/// rate), the shipping (code, amount, net, tax), whether prices include tax, the
/// tax lines (name, rate, taxable, tax) and the totals.
fn invoice_shape(order: &Order) -> String {
    let m = |m: Money| m.amount().to_string();
    let rate = |r: &Option<AppliedRate>| r.as_ref().map(|r| r.name.as_str().to_owned());
    let invoice = order.invoice.as_ref().expect("an invoice");
    format!(
        "{:?}",
        (
            order
                .lines
                .iter()
                .map(|l| {
                    let t = l.tax.as_ref().expect("a line's tax");
                    (
                        l.sku.as_str().to_owned(),
                        m(l.line_total()),
                        m(t.net),
                        m(t.tax),
                        rate(&t.rate),
                    )
                })
                .collect::<Vec<_>>(),
            (
                invoice.shipping.code.as_str().to_owned(),
                m(invoice.shipping.amount),
                m(invoice.shipping.net),
                m(invoice.shipping.tax),
            ),
            invoice.prices_include_tax,
            invoice
                .tax_lines
                .iter()
                .map(|t| {
                    (
                        t.rate.name.as_str().to_owned(),
                        t.rate.rate.to_string(),
                        m(t.taxable),
                        m(t.tax),
                    )
                })
                .collect::<Vec<_>>(),
            [
                order.totals.subtotal,
                order.totals.shipping,
                order.totals.tax,
                order.totals.grand_total,
            ]
            .map(m),
        )
    )
}

#[test]
fn quotes_in_a_gross_and_a_net_market_match_the_reference_store_and_the_hand_sums() {
    let db = TestDb::new();
    let pg = PgStore::with_rules(db.pool().clone(), rules());
    let memory = MemoryStore::with_rules(rules());
    // The stores number variants each their own way: an id in an error is not
    // compared.
    let without_ids = |outcomes: Vec<Result<String, DomainError>>| -> Vec<_> {
        outcomes
            .into_iter()
            .map(|o| match o {
                Err(DomainError::PriceList(PriceListError::DuplicatePrice {
                    min_quantity,
                    ..
                })) => Err(DomainError::PriceList(PriceListError::DuplicatePrice {
                    variant: VariantId::new(0),
                    min_quantity,
                })),
                other => other,
            })
            .collect()
    };
    let actual = without_ids(scenario(&pg));
    let expected = without_ids(scenario(&memory));
    assert_eq!(actual, expected);
    orders_keep_their_prices_and_rates(&db, &pg);
    invoices_reconcile_in_the_database(&db);

    assert!(matches!(
        &actual[0],
        Err(DomainError::AlreadyTaken {
            what: Taken::ShippingMethod,
            ..
        })
    ));
    assert_eq!(
        actual[1].as_ref().unwrap(),
        r#"[("standard", "6.90"), ("express", "14.90")]"#
    );
    // Worked by hand: 2 × 11.90 = 23.80 holds 3.80 at 19 %; the book on sale at
    // 4.28 holds 0.28 at 7 %; 1.4 kg ships for 6.90, holding 1.10 at 19 %.
    assert_eq!(
        actual[2].as_ref().unwrap(),
        r#"([("SHIRT", "11.90", "23.80", "20.00", "3.80"), ("BOOK", "4.28", "4.28", "4.00", "0.28")], ("standard", "6.90", "1.10"), [("MwSt 19 %", "25.80", "4.90"), ("MwSt 7 %", "4.00", "0.28")], ["28.08", "6.90", "5.18", "34.98"])"#
    );
    assert!(
        actual[4].is_err(),
        "ground does not go to Germany: {:?}",
        actual[4]
    );
    assert_eq!(actual[5].as_ref().unwrap(), r#"[("ground", "7.50")]"#);
    // Net: 10 mugs at the trade tier 11.50 = 115.00, tax 10.20625 → 10.21; 2
    // guides at 6.00 = 12.00, reduced 4 % → 0.48; shipping 7.50 → 0.665625 → 0.67.
    assert_eq!(
        actual[6].as_ref().unwrap(),
        r#"([("MUG", "11.50", "115.00", "115.00", "10.21"), ("GUIDE", "6.00", "12.00", "12.00", "0.48")], ("ground", "7.50", "0.67"), [("NY sales tax", "122.50", "10.88"), ("NY sales tax, reduced", "12.00", "0.48")], ["127.00", "7.50", "11.36", "145.86"])"#
    );
    assert_eq!(actual[7].as_ref().unwrap(), "[]", "no zone covers Texas");
    assert!(matches!(
        &actual[9],
        Err(DomainError::PriceList(PriceListError::Tier(0)))
    ));
    assert!(matches!(
        &actual[10],
        Err(DomainError::PriceList(
            PriceListError::DuplicatePrice { .. }
        ))
    ));
    assert!(matches!(
        &actual[11],
        Err(DomainError::NotFound {
            entity: "variant",
            ..
        })
    ));
    assert!(matches!(
        &actual[12],
        Err(DomainError::Tax(TaxError::Overlap { .. }))
    ));
    assert!(matches!(&actual[13], Err(DomainError::TooManyGroups(21))));
    assert_eq!(actual[14].as_ref().unwrap(), "1 lines");
    assert!(
        matches!(
            &actual[15],
            Err(DomainError::Money(MoneyError::CurrencyMismatch { .. }))
        ),
        "{:?}",
        actual[15]
    );
    // The orders carry the quotes' numbers, worked by hand above.
    assert_eq!(
        actual[16].as_ref().unwrap(),
        r#"([("SHIRT", "23.80", "20.00", "3.80", Some("MwSt 19 %")), ("BOOK", "4.28", "4.00", "0.28", Some("MwSt 7 %"))], ("standard", "6.90", "5.80", "1.10"), true, [("MwSt 19 %", "0.19", "25.80", "4.90"), ("MwSt 7 %", "0.07", "4.00", "0.28")], ["28.08", "6.90", "5.18", "34.98"])"#
    );
    assert_eq!(
        actual[17].as_ref().unwrap(),
        r#"([("MUG", "115.00", "115.00", "10.21", Some("NY sales tax")), ("GUIDE", "12.00", "12.00", "0.48", Some("NY sales tax, reduced"))], ("ground", "7.50", "7.50", "0.67"), false, [("NY sales tax", "0.08875", "122.50", "10.88"), ("NY sales tax, reduced", "0.04", "12.00", "0.48")], ["127.00", "7.50", "11.36", "145.86"])"#
    );
    assert!(
        matches!(&actual[18], Err(DomainError::ShippingUnavailable(_))),
        "{:?}",
        actual[18]
    );
}

/// New rates, list prices and variant prices after the scenario's checkouts
/// change none of its orders.
fn orders_keep_their_prices_and_rates(db: &TestDb, store: &PgStore) {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    use diesel::RunQueryDsl;
    let mut conn = db.connect();
    let ids: Vec<OrderId> = diesel::sql_query("SELECT id FROM orders ORDER BY id")
        .load::<Id>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|i| OrderId::new(i.id))
        .collect();
    assert_eq!(ids.len(), 2, "the gross and the net order");
    let read = || -> Vec<Order> {
        ids.iter()
            .map(|id| store.order(*id).unwrap().order)
            .collect()
    };
    let before = read();
    for sql in [
        "UPDATE tax_rates SET valid_until = now()",
        "INSERT INTO tax_rates (name, country, region, class, rate, valid_from) \
         SELECT name || ' new', country, region, class, rate + 0.01, now() FROM tax_rates",
        "UPDATE price_list_entries SET price = price + 1",
        "UPDATE product_variants SET price = price + 1",
        "UPDATE markets SET prices_include_tax = NOT prices_include_tax",
        "UPDATE shipping_methods SET name = name || ' new'",
    ] {
        exec(&mut conn, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    assert_eq!(read(), before);
}

/// The invoices the scenario's checkouts wrote, changed around the store: each
/// change that breaks a sum is refused by the database, at commit.
fn invoices_reconcile_in_the_database(db: &TestDb) {
    let mut conn = db.connect();
    let refused = |sql: &str, conn: &mut diesel::PgConnection| match exec(conn, sql) {
        Err(StoreError::Conflict { constraint, .. }) => constraint,
        Err(StoreError::Invalid { constraint, .. }) => constraint.unwrap_or_default(),
        other => panic!("{sql}: {other:?}"),
    };
    let gross = "shipping_method_code = 'standard'";
    let net = "shipping_method_code = 'ground'";
    for (sql, constraint) in [
        (
            format!("UPDATE orders SET tax = tax + 0.01 WHERE {gross}"),
            "orders_tax_sum",
        ),
        (
            format!(
                "UPDATE orders SET tax = tax + 0.01, grand_total = grand_total + 0.01 WHERE {net}"
            ),
            "orders_tax_sum",
        ),
        (
            format!(
                "UPDATE orders SET subtotal = subtotal + 1, grand_total = grand_total + 1 WHERE {net}"
            ),
            "orders_subtotal_sum",
        ),
        (
            format!("UPDATE orders SET prices_include_tax = false WHERE {gross}"),
            "orders_grand_total_sum",
        ),
        (
            format!(
                "UPDATE orders SET shipping_tax = shipping_tax + 0.01, tax = tax + 0.01 WHERE {gross}"
            ),
            "orders_shipping_tax_split",
        ),
        (
            format!("UPDATE orders SET shipping_method_name = NULL WHERE {net}"),
            "orders_shipping_method_parts",
        ),
        ("UPDATE order_tax_lines SET tax = tax + 0.01".to_owned(), ""),
        (
            "UPDATE order_lines SET tax = tax + 0.01 WHERE tax IS NOT NULL".to_owned(),
            "",
        ),
    ] {
        assert_eq!(refused(&sql, &mut conn), constraint, "{sql}");
    }
}

#[test]
fn the_schema_refuses_overlapping_rates_and_malformed_rows_written_around_the_store() {
    let db = TestDb::new();
    let store = pg_store(&db);
    store
        .add_tax_rate(rate(
            "MwSt 19 %",
            "DE",
            None,
            TaxClass::Standard,
            Decimal::new(19, 2),
        ))
        .unwrap();
    let shop = crate::util::category(&store, "shop");
    crate::util::product(&store, shop.id, "LAMP-1", 1);
    let mut conn = db.connect();
    let conflict = |sql: &str, conn: &mut diesel::PgConnection| match exec(conn, sql) {
        Err(StoreError::Conflict { constraint, .. }) => constraint,
        Err(StoreError::Invalid { constraint, .. }) => constraint.unwrap_or_default(),
        other => panic!("{sql}: {other:?}"),
    };
    assert_eq!(
        conflict(
            "INSERT INTO tax_rates (name, country, class, rate, valid_from) \
             VALUES ('again', 'DE', 'standard', 0.16, now())",
            &mut conn
        ),
        "tax_rates_no_overlap"
    );
    // A rate that starts when the other ends does not overlap.
    exec(
        &mut conn,
        "UPDATE tax_rates SET valid_until = now() + interval '1 day'",
    )
    .unwrap();
    exec(
        &mut conn,
        "INSERT INTO tax_rates (name, country, class, rate, valid_from) \
         VALUES ('MwSt 16 %', 'DE', 'standard', 0.16, now() + interval '1 day')",
    )
    .unwrap();
    assert_eq!(store.price_book().unwrap().taxes.rates().len(), 2);
    for (sql, constraint) in [
        (
            "INSERT INTO tax_rates (name, country, class, rate, valid_from) VALUES ('x', 'FR', 'exempt', 0, now())",
            "tax_rates_class_check",
        ),
        (
            "INSERT INTO tax_rates (name, country, class, rate, valid_from) VALUES ('x', 'FR', 'standard', 1.5, now())",
            "tax_rates_rate_range",
        ),
        (
            "INSERT INTO price_lists (name, currency, starts_at, ends_at) VALUES ('x', 'EUR', now(), now())",
            "price_lists_window",
        ),
        (
            "INSERT INTO markets (currency, prices_include_tax) VALUES ('eur', true)",
            "markets_currency_format",
        ),
        (
            "UPDATE products SET tax_class = 'luxury'",
            "products_tax_class_check",
        ),
    ] {
        assert_eq!(conflict(sql, &mut conn), constraint, "{sql}");
    }
}
