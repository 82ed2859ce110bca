//! Loading into PostgreSQL: constraints, reconciliation, refusal, atomicity.

use diesel::prelude::*;
use ecom_domain::ids::ProductId;
use ecom_domain::repo::CatalogReader;
use ecom_seed::{Existing, LoadOptions, Plan, Report, Scale, SeedError, Table, load};
use ecom_store::PgStore;
use ecom_store::testing::TestDb;

use crate::golden::{GOLDEN, assert_same_data, golden};
use crate::{count, loaded_checksum, plan, violations};

fn seed(conn: &mut PgConnection, plan: &Plan, options: &LoadOptions) -> Result<Report, SeedError> {
    load(conn, plan, options, &mut |_| {})
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct SchemaObject {
    #[diesel(sql_type = diesel::sql_types::Text)]
    definition: String,
}

/// Every index and constraint of the schema, as the catalog prints them.
fn schema_objects(conn: &mut PgConnection) -> Vec<SchemaObject> {
    diesel::sql_query(
        "SELECT pg_get_indexdef(indexrelid) AS definition FROM pg_index \
         WHERE indrelid::regclass::text NOT LIKE 'pg_%' \
         UNION ALL \
         SELECT format('%s %s %s validated=%s', conrelid::regclass, conname, \
                       pg_get_constraintdef(oid), convalidated) \
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace \
         ORDER BY 1",
    )
    .load(conn)
    .unwrap()
}

fn assert_counts_match(conn: &mut PgConnection, report: &Report) {
    for table in Table::ALL {
        assert_eq!(count(conn, table), report.rows(table), "{table}");
    }
}

#[test]
fn the_medium_preset_loads_and_reconciles() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let plan = plan(Scale::Medium, 42);
    let report = seed(&mut conn, &plan, &LoadOptions::default()).unwrap();
    // Every constraint held while loading (COPY checks them all); now the rules no
    // constraint can express: totals, stock, ledgers, histories.
    assert_counts_match(&mut conn, &report);
    assert_eq!(report.rows(Table::Orders), plan.sizes.orders);
    assert_eq!(report.rows(Table::Users), plan.sizes.users);
    let broken = violations(&mut conn);
    assert!(
        broken.is_empty(),
        "{} violations, first {:?}",
        broken.len(),
        broken.first()
    );
    // The database holds exactly the rows the printed checksum describes.
    assert_eq!(
        loaded_checksum(db.owner_url(), plan.currency),
        report.checksum
    );
    // Sequences were moved on: the application's next insert gets a fresh id.
    let next: i64 = diesel::insert_into(ecom_store::schema::categories::table)
        .values((
            ecom_store::schema::categories::slug.eq("after-seed"),
            ecom_store::schema::categories::name.eq("After seed"),
        ))
        .returning(ecom_store::schema::categories::id)
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(next, plan.sizes.categories as i64 + 1);
}

#[test]
fn the_database_holds_the_committed_data() {
    for (random_seed, _, _) in GOLDEN {
        let db = TestDb::new();
        let mut conn = db.connect();
        let plan = plan(Scale::Small, random_seed);
        let before = schema_objects(&mut conn);
        let report = seed(&mut conn, &plan, &LoadOptions::default()).unwrap();
        // The indexes and foreign keys set aside for the load are back, as they were.
        assert_eq!(schema_objects(&mut conn), before);
        // Read back from the server, not taken from the generator.
        let loaded = loaded_checksum(db.owner_url(), plan.currency);
        assert_same_data(
            &loaded,
            &golden(random_seed),
            &format!("seed {random_seed} in the database"),
        );
        assert_eq!(
            report.checksum, loaded,
            "seed {random_seed}: printed checksum"
        );
    }
}

#[test]
fn a_database_with_data_is_refused_unless_told_what_to_do() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let plan = plan(Scale::Small, 1);
    let first = seed(&mut conn, &plan, &LoadOptions::default()).unwrap();
    let err = seed(&mut conn, &plan, &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            SeedError::NotEmpty {
                table: "attribute_definitions"
            }
        ),
        "{err}"
    );
    assert_counts_match(&mut conn, &first);

    let truncate = LoadOptions {
        existing: Existing::Truncate,
        ..LoadOptions::default()
    };
    let again = seed(&mut conn, &plan, &truncate).unwrap();
    assert_eq!(again.checksum, first.checksum);
    assert_counts_match(&mut conn, &again);

    let append = LoadOptions {
        existing: Existing::Append,
        ..LoadOptions::default()
    };
    let more = seed(&mut conn, &plan, &append).unwrap();
    for table in Table::ALL {
        assert_eq!(
            count(&mut conn, table),
            first.rows(table) + more.rows(table),
            "{table}"
        );
    }
    let broken = violations(&mut conn);
    assert!(broken.is_empty(), "{:?}", broken.first());
}

#[test]
fn a_load_that_fails_part_way_leaves_no_rows() {
    let db = TestDb::new();
    let mut conn = db.connect();
    // Categories, products and users are a batch each; orders fill several more, so
    // the failure comes after COPYs into every table.
    let plan = plan(Scale::Small, 3);
    let options = LoadOptions {
        fail_after_batches: Some(6),
        ..LoadOptions::default()
    };
    let mut bigger = plan.clone();
    bigger.sizes.orders = 10_000;
    let before = schema_objects(&mut conn);
    let err = seed(&mut conn, &bigger, &options).unwrap_err();
    assert!(matches!(err, SeedError::Injected(6)), "{err}");
    for table in Table::ALL {
        assert_eq!(count(&mut conn, table), 0, "{table} kept rows");
    }
    // Nor does it lose the indexes and foreign keys it set aside.
    assert_eq!(schema_objects(&mut conn), before);
    // And the database is usable afterwards.
    seed(&mut conn, &plan, &LoadOptions::default()).unwrap();
}

#[test]
fn without_migrations_a_missing_schema_is_an_error_and_with_them_it_is_created() {
    let db = TestDb::unmigrated();
    let mut conn = db.connect();
    let plan = plan(Scale::Small, 5);
    let no_migrate = LoadOptions {
        no_migrate: true,
        ..LoadOptions::default()
    };
    let err = seed(&mut conn, &plan, &no_migrate).unwrap_err();
    assert!(matches!(err, SeedError::SchemaMissing(_)), "{err}");
    let report = seed(&mut conn, &plan, &LoadOptions::default()).unwrap();
    assert_counts_match(&mut conn, &report);
    assert!(
        !ecom_store::migrate::applied_versions(&mut conn)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_reconciliation_query_catches_a_broken_rule() {
    let db = TestDb::new();
    let mut conn = db.connect();
    seed(&mut conn, &plan(Scale::Small, 9), &LoadOptions::default()).unwrap();
    assert!(violations(&mut conn).is_empty());
    // Totals that still add up (so the CHECK holds) but no longer match the lines.
    diesel::sql_query(
        "UPDATE orders SET subtotal = subtotal + 1, grand_total = grand_total + 1 WHERE id = 1",
    )
    .execute(&mut conn)
    .unwrap();
    let broken = violations(&mut conn);
    let whats: Vec<&str> = broken.iter().map(|v| v.what.as_str()).collect();
    assert!(
        whats.contains(&"order subtotal is not the sum of its lines"),
        "{whats:?}"
    );
    assert!(
        whats.contains(&"payment amount is not the order total"),
        "{whats:?}"
    );

    // A barcode mistyped in its last digit (still 14 digits, so the CHECK holds),
    // and a variant choosing a colour its product does not offer.
    diesel::sql_query(
        "UPDATE product_variants \
         SET gtin = overlay(gtin PLACING ((substr(gtin, 14, 1)::int + 1) % 10)::text FROM 14) \
         WHERE id = (SELECT min(id) FROM product_variants WHERE gtin IS NOT NULL)",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "UPDATE product_variants SET options = jsonb_set(options, '{0,value}', '\"Mauve\"') \
         WHERE id = (SELECT min(id) FROM product_variants WHERE options <> '[]')",
    )
    .execute(&mut conn)
    .unwrap();
    // A material the definition does not list, an image of a colour the product is
    // not offered in, and facets changed behind the triggers' back.
    diesel::sql_query(
        "UPDATE products SET attributes = jsonb_set(attributes, '{0,value,value}', '\"Mauve\"') \
         WHERE id = (SELECT min(id) FROM products WHERE attributes @> '[{\"name\": \"Material\"}]')",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "UPDATE products SET images = jsonb_set(images, '{1,option,value}', '\"Mauve\"') \
         WHERE id = (SELECT min(id) FROM products WHERE images -> 1 -> 'option' <> 'null')",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "UPDATE products SET facets = '{}' WHERE id = (SELECT max(id) FROM products)",
    )
    .execute(&mut conn)
    .unwrap();
    let broken = violations(&mut conn);
    let whats: Vec<&str> = broken.iter().map(|v| v.what.as_str()).collect();
    for what in [
        "variant barcode has a wrong check digit",
        "variant options are not one value of each of its product's option types",
        "attribute value does not fit its definition",
        "image tied to a value its product does not offer",
        "product facets or search document are not what the catalog derives",
    ] {
        assert!(whats.contains(&what), "{what}: {whats:?}");
    }

    // The price book: staff prices in another currency than the variants', a group
    // no list is for, an order shipped where no zone and no rate reaches, express
    // priced in pounds by a method in euros.
    for sql in [
        "UPDATE price_lists SET currency = 'USD' WHERE customer_group = 'staff'",
        "INSERT INTO customer_groups (user_id, customer_group) VALUES (1, 'vip')",
        "UPDATE order_addresses SET country = 'JP', region = NULL \
         WHERE order_id = 1 AND kind = 'shipping'",
        "UPDATE shipping_methods SET rate = jsonb_set(rate, '{price,currency}', '\"GBP\"') \
         WHERE id = (SELECT min(id) FROM shipping_methods WHERE code = 'express')",
    ] {
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
    let broken = violations(&mut conn);
    let whats: Vec<&str> = broken.iter().map(|v| v.what.as_str()).collect();
    for what in [
        "price list entry of a variant priced in another currency than the list",
        "customer group no price list is for",
        "shipping address in no shipping zone",
        "ordered goods without a tax rate where and when they were ordered",
        "shipping method priced in another currency, or its weight bands not lightest first",
    ] {
        assert!(whats.contains(&what), "{what}: {whats:?}");
    }

    // Gift cards: a balance moved behind the ledger's back, and a redemption
    // taken out of it. The database itself refuses both at commit (its deferred
    // trigger), so they are made and looked at in a transaction rolled back.
    let mut whats: Vec<String> = Vec::new();
    let rolled_back = conn.transaction::<(), diesel::result::Error, _>(|conn| {
        for sql in [
            "UPDATE gift_cards SET balance = balance - 0.01 \
             WHERE id = (SELECT min(id) FROM gift_cards WHERE balance > 0)",
            "DELETE FROM gift_card_entries \
             WHERE id = (SELECT min(id) FROM gift_card_entries WHERE kind = 'redeem')",
        ] {
            diesel::sql_query(sql).execute(conn)?;
        }
        whats = violations(conn).into_iter().map(|v| v.what).collect();
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(matches!(
        rolled_back,
        Err(diesel::result::Error::RollbackTransaction)
    ));
    for what in [
        "gift card balance is not the sum of its ledger",
        "gift card entry balance is not the running sum of its ledger",
        "gift card payment without a redemption of its amount",
    ] {
        assert!(whats.iter().any(|w| w == what), "{what}: {whats:?}");
    }
}

#[test]
fn every_product_reads_back_through_the_store_with_its_variants() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let report = seed(&mut conn, &plan(Scale::Small, 7), &LoadOptions::default()).unwrap();
    let store = PgStore::new(db.pool().clone());
    let mut variants = 0;
    let (mut with_options, mut with_barcodes) = (0, 0);
    for id in 1..=report.rows(Table::Products) as i64 {
        // The store parses every column into domain values: options and selections
        // from their jsonb, SKUs, barcodes with their check digits.
        let product = store.product(ProductId::new(id)).unwrap();
        let selections: Vec<_> = product
            .variants
            .iter()
            .map(|v| v.selection.clone())
            .collect();
        product.options.check_variants(&selections).unwrap();
        variants += product.variants.len() as u64;
        with_options += u32::from(!product.options.is_empty());
        with_barcodes += u32::from(product.variants.iter().any(|v| v.gtin.is_some()));
        for variant in &product.variants {
            let sellable = store.variant_by_sku(&variant.sku).unwrap();
            assert_eq!(&sellable.variant, variant);
        }
    }
    assert_eq!(variants, report.rows(Table::ProductVariants));
    assert!(with_options > 0 && with_barcodes > 0);
}

/// The orders that shipped left in one shipment each, from one of the two
/// warehouses; those sent back came back in a return received at it, whose refund
/// the store reads back from the payment's ledger as what the order had left to
/// give back; a few delivered orders have a unit asked back, waiting for the
/// shop. All of it reads back through the store and follows the domain's rules.
#[test]
fn shipments_and_returns_read_back_through_the_store() {
    use ecom_domain::prelude::*;
    let db = TestDb::new();
    let mut conn = db.connect();
    let report = seed(&mut conn, &plan(Scale::Small, 7), &LoadOptions::default()).unwrap();
    assert_eq!(report.rows(Table::StockLocations), 2);
    assert!(report.rows(Table::Shipments) > 0, "no shipments");
    let store = PgStore::new(db.pool().clone());
    let (mut shipped, mut received, mut requested) = (0, 0, 0);
    for id in 1..=report.rows(Table::Orders) as i64 {
        let order = OrderId::new(id);
        let details = store.order(order).unwrap();
        let shipments = store.order_shipments(order).unwrap();
        let returns = store.order_returns(order).unwrap();
        let left = details
            .order
            .history
            .iter()
            .any(|h| h.event == Some(OrderEvent::Ship));
        assert_eq!(shipments.len(), usize::from(left), "order {id}");
        for s in &shipments {
            shipped += 1;
            assert!(s.status.has_left());
            let units: Vec<(u16, u32)> = s
                .lines
                .iter()
                .map(|l| (l.line_no, l.quantity.get()))
                .collect();
            let ordered: Vec<(u16, u32)> = details
                .order
                .lines
                .iter()
                .map(|l| (l.line_no, l.quantity.get()))
                .collect();
            assert_eq!(units, ordered, "order {id} ships whole");
            assert!(s.tracking.url.is_some());
        }
        for r in &returns {
            match r.status {
                ReturnStatus::Received => {
                    received += 1;
                    assert_eq!(details.order.status, OrderStatus::Refunded, "order {id}");
                    let refunded = r.refunded.unwrap();
                    assert!(!refunded.is_zero(), "order {id}");
                    assert!(
                        refunded
                            .try_cmp(&details.payments[0].refunded)
                            .unwrap()
                            .is_le()
                    );
                }
                ReturnStatus::Requested => {
                    requested += 1;
                    assert_eq!(details.order.status, OrderStatus::Delivered);
                    assert_eq!(r.refunded, None);
                }
                other => panic!("order {id}: a seeded return is {other}"),
            }
            // Every unit came back: nothing more of them may be asked back.
            if r.status != ReturnStatus::Received {
                continue;
            }
            let again = ecom_domain::returns::check_return(
                &NewReturn {
                    order,
                    lines: r.lines.clone(),
                    reason: ReturnReason::Other,
                    note: None,
                },
                &Order {
                    status: OrderStatus::Delivered,
                    ..details.order.clone()
                },
                &shipments,
                &returns,
            );
            assert!(again.is_err(), "order {id}: {again:?}");
        }
    }
    assert!(
        shipped > 0 && received > 0 && requested > 0,
        "{shipped} {received} {requested}"
    );
}
