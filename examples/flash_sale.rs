//! A flash sale: many buyers race for the last units of one product. Exactly the
//! stock is sold; everyone else gets a typed out-of-stock error, and nothing is
//! oversold or half-written. The sale itself is `ecom_examples::flows::flash_sale`;
//! this prints it.
//!
//! Run it with `cargo run -p ecom-examples --bin flash-sale`.

use std::error::Error;
use std::time::Duration;

use ecom_examples::flows::{self, flash_sale};
use ecom_store::{PgStore, StoreConfig, build_pool, migrate_database};

fn main() -> Result<(), Box<dyn Error>> {
    let outcome = run();
    // The pools are dropped; let their threads finish opening connections first.
    ecom_store::wait_for_opening_connections(Duration::from_secs(10));
    outcome
}

fn run() -> Result<(), Box<dyn Error>> {
    let config = StoreConfig {
        pool_max_size: flash_sale::POOL_SIZE,
        ..StoreConfig::from_env_or_dev()?
    };
    // A one-shot program: it migrates as the owner, then buys as the application role.
    migrate_database(&config)?;
    let pool = build_pool(&config)?;
    let store = PgStore::new(pool);

    let (buyers, units) = (flash_sale::BUYERS, flash_sale::UNITS);
    println!("{buyers} buyers, {units} consoles in stock: go!");
    let sale = flash_sale::run(&store, flows::fresh_run())?;
    println!(
        "sold: {}, out of stock: {}, left on the shelf: {}",
        sale.sold, sale.out_of_stock, sale.left
    );
    if let Some(example) = &sale.late_buyer_saw {
        println!("what a late buyer saw: {example}");
    }
    if !sale.reconciles() {
        return Err("the sale did not reconcile".into());
    }
    Ok(())
}
