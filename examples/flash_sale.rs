//! A flash sale: many buyers race for the last units of one product. Exactly the
//! stock is sold; everyone else gets a typed out-of-stock error, and nothing is
//! oversold or half-written.
//!
//! Run it with `cargo run -p ecom-examples --bin flash-sale`.

use std::error::Error;
use std::sync::{Arc, Barrier};
use std::thread;

use ecom_domain::prelude::*;
use ecom_store::{PgStore, StoreConfig, StoreError, build_pool, migrate_pool};

const BUYERS: u32 = 24;
const UNITS: u32 = 7;

fn main() -> Result<(), Box<dyn Error>> {
    let config = StoreConfig {
        pool_max_size: BUYERS + 2,
        ..StoreConfig::from_env_or_dev()?
    };
    let pool = build_pool(&config)?;
    migrate_pool(&pool)?;
    let store = PgStore::new(pool);

    let run = chrono::Utc::now().timestamp_millis();
    let category = store.create_category(NewCategory {
        parent_id: None,
        slug: Slug::parse(&format!("flash-{run}"))?,
        name: CategoryName::parse("Flash sale")?,
    })?;
    let console = store.create_product(NewProduct {
        sku: Sku::parse(&format!("CONSOLE-{run}"))?,
        name: ProductName::parse("Game console, limited edition")?,
        description: Description::parse("")?,
        category_id: category.id,
        price: Money::parse("299.00", Currency::EUR)?,
        stock_on_hand: UNITS,
    })?;
    let address = PostalAddress::parse(&RawAddress {
        recipient: "Flash Buyer".into(),
        line1: "1 Queue Street".into(),
        city: "Paris".into(),
        postal_code: "75001".into(),
        country: "FR".into(),
        ..RawAddress::default()
    })?;

    // Every buyer fills a cart first; then all check out at the same instant.
    let mut carts = Vec::new();
    for buyer in 0..BUYERS {
        let token = GuestToken::parse(&format!("flash-{run}-{buyer:04}"))?;
        let cart = store.open_cart(&CartOwner::Guest(token), Currency::EUR)?;
        store.add_item(cart.id, console.id, Quantity::new(1)?)?;
        carts.push(cart.id);
    }
    println!("{BUYERS} buyers, {UNITS} consoles in stock: go!");
    let start = Arc::new(Barrier::new(carts.len()));
    let outcomes: Vec<Result<Checkout, StoreError>> = thread::scope(|scope| {
        let handles: Vec<_> = carts
            .iter()
            .enumerate()
            .map(|(buyer, cart)| {
                let (store, start, address) = (&store, start.clone(), address.clone());
                scope.spawn(move || {
                    start.wait();
                    store.checkout(&CheckoutRequest {
                        cart_id: *cart,
                        shipping: AddressChoice::Given(address.clone()),
                        billing: AddressChoice::Given(address),
                        guest_email: Some(Email::parse(&format!("buyer{buyer}@example.com"))?),
                        provider: ProviderName::parse("test-provider")?,
                        idempotency_key: IdempotencyKey::parse(&format!("flash-{run}-{buyer}"))?,
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("buyer thread panicked"))
            .collect()
    });

    let sold = outcomes.iter().filter(|o| o.is_ok()).count();
    let mut out_of_stock = 0;
    for outcome in &outcomes {
        match outcome {
            Ok(_) => {}
            Err(StoreError::Domain(DomainError::OutOfStock(_))) => out_of_stock += 1,
            Err(other) => return Err(format!("unexpected error: {other}").into()),
        }
    }
    let left = store.product(console.id)?.stock_on_hand;
    println!("sold: {sold}, out of stock: {out_of_stock}, left on the shelf: {left}");
    if let Some(Err(example)) = outcomes.iter().find(|o| o.is_err()) {
        println!("what a late buyer saw: {example}");
    }
    if sold != UNITS as usize || left != 0 || sold + out_of_stock != BUYERS as usize {
        return Err("the sale did not reconcile".into());
    }
    Ok(())
}
