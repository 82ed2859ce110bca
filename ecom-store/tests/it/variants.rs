//! Variants sold side by side: each counts its own stock, and an order keeps what
//! it was sold as.

use std::sync::{Arc, Barrier};
use std::thread;

use ecom_domain::prelude::*;
use ecom_store::testing::TestDb;
use ecom_store::{PgStore, StoreError};

use crate::util::{category, domain, guest_owner, pg_store, request};

fn option(name: &str, values: &[&str]) -> OptionType {
    let values = values
        .iter()
        .map(|v| OptionValue::parse(v).unwrap())
        .collect();
    OptionType::new(OptionName::parse(name).unwrap(), values).unwrap()
}

fn colour(value: &str) -> OptionSelection {
    OptionSelection::new(vec![OptionChoice {
        option: OptionName::parse("Colour").unwrap(),
        value: OptionValue::parse(value).unwrap(),
    }])
    .unwrap()
}

/// A tee in red, blue and green, with `stocks` units of each.
fn tee(store: &PgStore, stocks: [u32; 3]) -> Product {
    let tees = category(store, "tees");
    let variant = |(value, stock): (&str, u32)| NewVariant {
        selection: colour(value),
        ..NewVariant::default_of(
            Sku::parse(&format!("TEE-{value}")).unwrap(),
            Money::parse("19.90", Currency::EUR).unwrap(),
            stock,
        )
    };
    store
        .create_product(NewProduct {
            slug: Slug::parse("tee").unwrap(),
            name: ProductName::parse("Tee").unwrap(),
            description: Description::default(),
            category_id: tees.id,
            status: ProductStatus::Active,
            options: ProductOptions::new(vec![option("Colour", &["Red", "Blue", "Green"])])
                .unwrap(),
            variants: ["Red", "Blue", "Green"]
                .into_iter()
                .zip(stocks)
                .map(variant)
                .collect(),
        })
        .unwrap()
}

fn stock(store: &PgStore, id: VariantId) -> u32 {
    store.variant(id).unwrap().variant.stock_on_hand
}

#[test]
fn buyers_racing_for_one_variants_last_units_leave_its_siblings_selling() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let tee = tee(&store, [5, 100, 100]);
    let [red, blue, green] = [0, 1, 2].map(|i| tee.variants[i].id);
    // 16 buyers race for the last five red tees, 16 more buy blue and green ones.
    let wants: Vec<VariantId> = (0..32)
        .map(|i| match i % 4 {
            0 | 2 => red,
            1 => blue,
            _ => green,
        })
        .collect();
    let carts: Vec<CartId> = wants
        .iter()
        .zip(0u32..)
        .map(|(variant, n)| {
            let cart = store.open_cart(&guest_owner(n), Currency::EUR).unwrap();
            store
                .add_item(cart.id, *variant, Quantity::new(1).unwrap())
                .unwrap();
            cart.id
        })
        .collect();
    let start = Arc::new(Barrier::new(carts.len()));
    let outcomes: Vec<Result<Checkout, StoreError>> = thread::scope(|scope| {
        let handles: Vec<_> = carts
            .iter()
            .enumerate()
            .map(|(i, cart)| {
                let (store, start) = (&store, start.clone());
                scope.spawn(move || {
                    start.wait();
                    store.checkout(&request(*cart, &format!("tee-{i}")))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sold = |variant: VariantId| {
        outcomes
            .iter()
            .zip(&wants)
            .filter(|(o, w)| o.is_ok() && **w == variant)
            .count()
    };
    assert_eq!((sold(red), sold(blue), sold(green)), (5, 8, 8));
    for (outcome, want) in outcomes.iter().zip(&wants) {
        if let Err(err) = outcome {
            assert_eq!(*want, red, "only red runs out: {err}");
            assert!(
                matches!(domain(err), DomainError::OutOfStock(s) if s[0].variant_id == red),
                "{err:?}"
            );
        }
    }
    assert_eq!(
        (
            stock(&store, red),
            stock(&store, blue),
            stock(&store, green)
        ),
        (0, 92, 92)
    );
}

#[test]
fn an_order_keeps_its_lines_when_the_catalog_changes() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let tee = tee(&store, [5, 5, 5]);
    let blue = tee.variants[1].id;
    let cart = store.open_cart(&guest_owner(1), Currency::EUR).unwrap();
    store
        .add_item(cart.id, blue, Quantity::new(2).unwrap())
        .unwrap();
    let placed = store.checkout(&request(cart.id, "keep")).unwrap().order;
    let line = &placed.lines[0];
    assert_eq!(
        (
            line.sku.as_str(),
            line.name.as_str(),
            line.selection.to_string()
        ),
        ("TEE-BLUE", "Tee", "Colour: Blue".to_owned())
    );

    store
        .set_price(blue, Money::parse("24.90", Currency::EUR).unwrap())
        .unwrap();
    store
        .update_product(
            tee.id,
            ProductUpdate {
                name: Some(ProductName::parse("Organic tee").unwrap()),
                ..ProductUpdate::default()
            },
        )
        .unwrap();
    store
        .set_product_status(tee.id, ProductStatus::Archived)
        .unwrap();

    let read = store.order(placed.id).unwrap().order;
    assert_eq!(read.lines, placed.lines, "the lines are as they were sold");
    assert_eq!(read.totals, placed.totals);
    let now = store.variant(blue).unwrap();
    assert_eq!(
        (
            now.product_name.as_str(),
            now.variant.price.amount().to_string()
        ),
        ("Organic tee", "24.90".to_owned()),
        "while the catalog moved on"
    );
}
