//! The price book as loaded: read back through the store, every row parses into the
//! domain's types and passes its rules; every address the seed wrote is taxed in
//! every class and shipped to; the seeded carts quote from it, with their owners'
//! prices.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use ecom_domain::ids::{CartId, UserId};
use ecom_domain::money::Currency;
use ecom_domain::pricing::{
    Destination, Market, PriceBook, PriceContext, PriceList, PriceSource, ShippingMethod, TaxClass,
    unit_price,
};
use ecom_domain::repo::{AccountRepository, CartRepository, CatalogReader, PriceBookRepository};
use ecom_domain::values::{CountryCode, PostalAddress, Quantity, RawAddress, Slug};
use ecom_seed::{LoadOptions, Plan, Report, Scale, Table, load};
use ecom_store::PgStore;
use ecom_store::testing::TestDb;

use crate::plan;

/// A fresh database holding the small preset under seed 7, with a store on it.
fn loaded() -> (TestDb, PgStore, Report, Plan) {
    let db = TestDb::new();
    let mut conn = db.connect();
    let plan = plan(Scale::Small, 7);
    let report = load(&mut conn, &plan, &LoadOptions::default(), &mut |_| {}).unwrap();
    let store = PgStore::new(db.pool().clone());
    (db, store, report, plan)
}

/// The list for a customer group; `None`: the one for everyone, the sale.
fn list<'a>(book: &'a PriceBook, group: Option<&str>) -> &'a PriceList {
    book.lists
        .iter()
        .find(|l| l.group.as_ref().map(Slug::as_str) == group)
        .unwrap()
}

#[test]
fn the_price_book_reads_back_into_the_domain_s_types_and_passes_its_rules() {
    let (_db, store, report, plan) = loaded();
    // The store parses every row, and checks the rates against each other
    // (TaxTable::new): a rate overlapping another would fail here.
    let book = store.price_book().unwrap();
    assert_eq!(
        book.markets,
        [Market {
            currency: Currency::EUR,
            prices_include_tax: true
        }]
    );
    assert_eq!(book.lists.len() as u64, report.rows(Table::PriceLists));
    assert_eq!(
        book.entries.len() as u64,
        report.rows(Table::PriceListEntries)
    );
    assert_eq!(
        book.taxes.rates().len() as u64,
        report.rows(Table::TaxRates)
    );
    assert_eq!(book.zones.len() as u64, report.rows(Table::ShippingZones));
    assert_eq!(
        book.zones.iter().map(|z| z.areas.len() as u64).sum::<u64>(),
        report.rows(Table::ShippingZoneAreas)
    );
    assert_eq!(
        book.methods.len() as u64,
        report.rows(Table::ShippingMethods)
    );

    // Lists: a sale for everyone inside the period, business and staff prices.
    for l in &book.lists {
        assert_eq!(l.clone().checked().as_ref(), Ok(l));
        assert_eq!(l.currency, plan.currency);
    }
    let sale = list(&book, None);
    let (starts, ends) = (sale.starts_at.unwrap(), sale.ends_at.unwrap());
    assert!(plan.since <= starts && ends <= plan.until, "{sale:?}");
    let business = list(&book, Some("b2b"));
    let staff = list(&book, Some("staff"));
    assert_eq!((business.starts_at, staff.ends_at), (None, None));
    let mut tiers = std::collections::BTreeSet::new();
    for e in &book.entries {
        let of = book.lists.iter().find(|l| l.id == e.list).unwrap();
        assert_eq!(e.clone().checked(of).as_ref(), Ok(e));
        // Each undercuts its variant's own price.
        let variant = store.variant(e.variant).unwrap();
        assert!(variant.is_buyable());
        assert!(e.price.amount() < variant.variant.price.amount(), "{e:?}");
        if e.list == business.id {
            tiers.insert(e.min_quantity);
        } else {
            assert_eq!(e.min_quantity, 1);
        }
    }
    assert_eq!(tiers.into_iter().collect::<Vec<_>>(), [1, 10, 50]);
    for l in [sale, business, staff] {
        assert!(
            book.entries.iter().any(|e| e.list == l.id),
            "{} is empty",
            l.name
        );
    }

    // Zones and methods pass the rules they were created by.
    for zone in &book.zones {
        assert_eq!(zone.clone().checked().as_ref(), Ok(zone));
    }
    for method in &book.methods {
        assert_eq!(method.clone().checked().as_ref(), Ok(method));
        assert_eq!(method.currency, plan.currency);
    }
    let codes = |zone: &str| -> Vec<&str> {
        let zone = book.zones.iter().find(|z| z.name.as_str() == zone).unwrap();
        book.methods
            .iter()
            .filter(|m| m.zone == zone.id)
            .map(|m| m.code.as_str())
            .collect()
    };
    assert_eq!(codes("Germany"), ["standard", "express", "pickup"]);
    assert_eq!(codes("European Union"), ["standard", "express"]);
    assert_eq!(codes("Rest of the world"), ["standard", "express"]);

    // Rates with a past that ended, and today's.
    assert!(book.taxes.rates().iter().any(|r| r.valid_until.is_some()));
    let de = Destination::country(CountryCode::parse("DE").unwrap());
    let now = book
        .taxes
        .rate(&de, TaxClass::Standard, Utc::now())
        .unwrap()
        .unwrap();
    assert_eq!(now.name.as_str(), "DE VAT 19 %");
}

#[derive(QueryableByName)]
struct AddressRow {
    #[diesel(sql_type = Text)]
    recipient: String,
    #[diesel(sql_type = Text)]
    line1: String,
    #[diesel(sql_type = Nullable<Text>)]
    line2: Option<String>,
    #[diesel(sql_type = Text)]
    city: String,
    #[diesel(sql_type = Nullable<Text>)]
    region: Option<String>,
    #[diesel(sql_type = Text)]
    postal_code: String,
    #[diesel(sql_type = Text)]
    country: String,
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
}

#[test]
fn every_seeded_address_is_taxed_in_every_class_and_shipped_to() {
    let (db, store, _, _) = loaded();
    let book = store.price_book().unwrap();
    let rows: Vec<AddressRow> = diesel::sql_query(
        "SELECT recipient, line1, line2, city, region, postal_code, country::text AS country, \
                created_at AS at FROM addresses \
         UNION ALL \
         SELECT a.recipient, a.line1, a.line2, a.city, a.region, a.postal_code, \
                a.country::text, o.created_at \
         FROM order_addresses a JOIN orders o ON o.id = a.order_id WHERE a.kind = 'shipping'",
    )
    .load(&mut db.connect())
    .unwrap();
    assert!(rows.len() > 500, "{}", rows.len());
    let mut with_region = 0;
    for row in rows {
        let address = PostalAddress::parse(&RawAddress {
            recipient: row.recipient,
            line1: row.line1,
            line2: row.line2.unwrap_or_default(),
            city: row.city,
            region: row.region.unwrap_or_default(),
            postal_code: row.postal_code,
            country: row.country,
        })
        .unwrap();
        let to = Destination::of(&address);
        with_region += usize::from(to.region.is_some());
        for class in [TaxClass::Standard, TaxClass::Reduced, TaxClass::Zero] {
            let rate = book.taxes.rate(&to, class, row.at).unwrap();
            assert!(rate.is_some(), "{to:?} {class}");
        }
        assert_eq!(book.taxes.rate(&to, TaxClass::Exempt, row.at), Ok(None));
        let zones: Vec<_> = book.zones.iter().filter(|z| z.covers(&to)).collect();
        assert_eq!(zones.len(), 1, "{to:?}");
        let methods: Vec<&ShippingMethod> = book
            .methods
            .iter()
            .filter(|m| m.zone == zones[0].id)
            .collect();
        assert!(methods.len() >= 2, "{to:?}");
    }
    // US states, Italian provinces and Brazilian states: region rates or the
    // country's.
    assert!(with_region > 50, "{with_region}");
}

#[derive(QueryableByName)]
struct CartRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    user_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    customer_group: Option<String>,
}

#[test]
fn open_carts_quote_from_the_price_book_at_their_owners_prices() {
    let (db, store, _, plan) = loaded();
    let mut conn = db.connect();
    let book = store.price_book().unwrap();
    let carts: Vec<CartRow> = diesel::sql_query(
        "SELECT c.id, c.user_id, g.customer_group FROM carts c \
         LEFT JOIN customer_groups g ON g.user_id = c.user_id \
         WHERE c.status = 'open' ORDER BY c.id",
    )
    .load(&mut conn)
    .unwrap();
    assert!(carts.len() >= 10, "{}", carts.len());
    let germany = Destination::country(CountryCode::parse("DE").unwrap());
    let (mut quoted, mut staff_lines, mut staff_cheaper) = (0, 0, 0);
    for row in &carts {
        let cart = CartId::new(row.id);
        // Shipped to the owner's default address; a guest's to Germany.
        let to = match row.user_id {
            Some(user) => Destination::of(&store.addresses(UserId::new(user)).unwrap()[0].postal),
            None => germany.clone(),
        };
        let options = store.shipping_options(cart, &to).unwrap();
        // Express takes any cart anywhere.
        assert!(
            options.iter().any(|o| o.method.code.as_str() == "express"),
            "{to:?}"
        );
        let quote = store
            .quote_cart(cart, &to, &options[0].method.code)
            .unwrap();
        // Gross prices: the tax is in the amounts, and its lines sum to it.
        assert!(quote.market.prices_include_tax);
        let t = quote.totals;
        assert_eq!(t.grand_total, t.subtotal.checked_add(t.shipping).unwrap());
        let tax: rust_decimal::Decimal = quote.tax_lines.iter().map(|l| l.tax.amount()).sum();
        assert_eq!(tax, t.tax.amount());
        assert_eq!(quote.shipping.amount, options[0].price);
        quoted += 1;
        // Staff pay less for everything.
        if row.customer_group.as_deref() == Some("staff") {
            for line in &quote.lines {
                let own = store.variant(line.variant_id).unwrap().variant.price;
                staff_lines += 1;
                staff_cheaper += usize::from(line.unit_price.amount() < own.amount());
            }
        }
    }
    assert_eq!(quoted, carts.len());
    assert_eq!(staff_cheaper, staff_lines);

    // Each line of a cart for each kind of customer, during the sale, by the
    // domain's rule (the lowest price that applies): a guest pays the sale price
    // where there is one, business customers their tier's, staff 25 % less.
    let sale = list(&book, None);
    let during = sale.starts_at.unwrap() + Duration::days(1);
    let groups = |g: &str| [Slug::parse(g).unwrap()];
    let (mut on_sale, mut tiered) = (0, 0);
    for row in &carts {
        for line in store.cart(CartId::new(row.id)).unwrap().lines {
            let item = store.variant(line.variant_id).unwrap();
            let own = item.variant.price.amount();
            let price = |quantity: i64, groups: &[Slug]| {
                let context = PriceContext {
                    currency: plan.currency,
                    groups,
                    at: during,
                };
                let quantity = Quantity::new(quantity).unwrap();
                unit_price(&item.variant, quantity, &book.lists, &book.entries, context).unwrap()
            };
            let guest = price(1, &[]);
            on_sale += usize::from(guest.source != PriceSource::Variant);
            assert!(guest.price.amount() <= own);
            let staff = price(1, &groups("staff"));
            assert!(staff.price.amount() < own && staff.price.amount() <= guest.price.amount());
            let (one, fifty) = (price(1, &groups("b2b")), price(50, &groups("b2b")));
            assert!(fifty.price.amount() <= one.price.amount());
            assert!(staff.price.amount() <= one.price.amount());
            tiered += usize::from(fifty.price.amount() < one.price.amount());
        }
    }
    assert!(on_sale > 0 && tiered > 0, "{on_sale} {tiered}");
}
