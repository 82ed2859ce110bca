//! Money going back: a partial refund after delivery of an order paid partly by gift
//! card, a cancellation before shipping that puts the stock back and refunds the
//! capture, and an illegal transition with the typed error it gets. The flow itself is
//! `ecom_examples::flows::cancel_refund`; this prints it.
//!
//! Run it with `cargo run -p ecom-examples --bin cancel-refund`.

use std::error::Error;
use std::time::Duration;

use ecom_examples::flows;
use ecom_store::{PgStore, StoreConfig, build_pool, migrate_database};

fn main() -> Result<(), Box<dyn Error>> {
    let outcome = run();
    // The pools are dropped; let their threads finish opening connections first.
    ecom_store::wait_for_opening_connections(Duration::from_secs(10));
    outcome
}

fn run() -> Result<(), Box<dyn Error>> {
    let config = StoreConfig::from_env_or_dev()?;
    // A one-shot program: it migrates as the owner, then runs as the application role.
    migrate_database(&config)?;
    let pool = build_pool(&config)?;
    let store = PgStore::new(pool);

    let flow = flows::cancel_refund::run(&store, flows::fresh_run())?;
    let refund = &flow.refund;
    let [issued, spent, back] = flow.card_balance;
    println!(
        "order {}: gift card {issued} -> {spent} at checkout -> {back} after the return; order still {}",
        flow.returned_order, refund.order_status
    );
    for payment in &refund.payments {
        println!(
            "  {} payment: refunded {} of {}, {}",
            payment.provider, payment.refunded, payment.captured, payment.status
        );
    }
    let (stock, payment) = (flow.stock, &flow.cancelled_payment);
    println!(
        "order {}: {}; stock {} -> {} -> {}; payment {} ({} refunded)",
        flow.cancelled.id,
        flow.cancelled.status,
        stock.before,
        stock.during,
        stock.after,
        payment.status,
        payment.refunded
    );
    println!("shipping it anyway: refused: {}", flow.ship_cancelled);
    println!(
        "cancelling a delivered order: refused: {}",
        flow.cancel_delivered
    );
    Ok(())
}
