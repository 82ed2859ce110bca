//! A whole order, from browsing to delivery, on the private database (or on
//! `DATABASE_URL`): browse a category, fill a cart with variants, check out with an
//! idempotency key, authorize and capture the payment, ship, deliver, and print the
//! result.
//! The flow itself is `ecom_examples::flows::order_flow`; this prints it.
//!
//! Run it with `cargo run -p ecom-examples --bin order-flow`.

use std::error::Error;
use std::time::Duration;

use ecom_domain::prelude::*;
use ecom_examples::flows::{self, order_flow::OrderFlow};
use ecom_store::{PgStore, StoreConfig, build_pool, migrate_database};

fn main() -> Result<(), Box<dyn Error>> {
    let outcome = run();
    // The pools are dropped; let their threads finish opening connections first.
    ecom_store::wait_for_opening_connections(Duration::from_secs(10));
    outcome
}

fn run() -> Result<(), Box<dyn Error>> {
    let config = StoreConfig::from_env_or_dev()?;
    println!(
        "database: {}",
        ecom_store::config::redact_url(&config.database_url)
    );
    // A one-shot program, so it migrates first, as the owner of the schema
    // (DATABASE_MIGRATION_URL), then runs as the application role (DATABASE_URL). A
    // service leaves migrating to a command of its own: see shop-service.
    migrate_database(&config)?;
    let pool = build_pool(&config)?;
    let store = PgStore::new(pool);

    let flow = flows::order_flow::run(&store, flows::fresh_run())?;
    print_browsing(&flow);
    print_checkout_and_payment(&flow);
    print_order(&flow.order);
    print_history(&flow.order);
    Ok(())
}

fn print_browsing(flow: &OrderFlow) {
    println!("\nbrowsing {} (and its subcategories):", flow.category.name);
    for p in &flow.browsed {
        println!("  {}", p.name);
        for v in &p.variants {
            println!(
                "    {:<30} {:<20} {:>10}  {} in stock",
                v.sku.as_str(),
                options(&v.selection),
                v.price.to_string(),
                v.stock_on_hand
            );
        }
    }
}

/// "Grind: Filter"; nothing for the one variant of a product without options.
fn options(selection: &OptionSelection) -> String {
    if selection.is_empty() {
        String::new()
    } else {
        selection.to_string()
    }
}

fn print_checkout_and_payment(flow: &OrderFlow) {
    println!(
        "\ncheckout: order {} placed (retry replayed it: {})",
        flow.order.id, flow.replayed
    );
    println!(
        "payment: {} captured, order is {}",
        flow.captured, flow.paid_status
    );
}

fn print_order(order: &Order) {
    println!("\norder {} ({})", order.id, order.status);
    for line in &order.lines {
        println!(
            "  {}. {:<22} {:<20} {} x {:>10} = {:>10}",
            line.line_no,
            line.name,
            options(&line.selection),
            line.quantity,
            line.unit_price.to_string(),
            line.line_total().to_string()
        );
    }
    let t = order.totals;
    println!("  subtotal {:>12}", t.subtotal.to_string());
    println!("  shipping {:>12}", t.shipping.to_string());
    println!("  tax      {:>12}", t.tax.to_string());
    println!("  total    {:>12}", t.grand_total.to_string());
    println!(
        "ships to {}, {} {}",
        order.shipping_address.line1(),
        order.shipping_address.postal_code(),
        order.shipping_address.city()
    );
}

fn print_history(order: &Order) {
    println!("history:");
    for change in &order.history {
        let from = change.from.map_or("-".to_owned(), |s| s.to_string());
        let event = change
            .event
            .map_or("checkout".to_owned(), |e| e.to_string());
        let note = change.note.as_deref().unwrap_or("");
        println!(
            "  {}  {:<16} {:<16} -> {:<16} {}",
            change.at.format("%H:%M:%S%.3f"),
            event,
            from,
            change.to,
            note
        );
    }
}
