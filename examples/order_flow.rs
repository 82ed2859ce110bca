//! A whole order, from browsing to delivery, on the private database (or on
//! `DATABASE_URL`): browse a category, fill a cart, check out with an idempotency
//! key, authorize and capture the payment, ship, deliver, and print the result.
//!
//! Run it with `cargo run -p ecom-examples --bin order-flow`.

use std::error::Error;

use ecom_domain::prelude::*;
use ecom_store::{PgStore, StoreConfig, build_pool, migrate_pool};

fn main() -> Result<(), Box<dyn Error>> {
    let config = StoreConfig::from_env_or_dev()?;
    println!(
        "database: {}",
        ecom_store::config::redact_url(&config.database_url)
    );
    let pool = build_pool(&config)?;
    migrate_pool(&pool)?;
    let store = PgStore::new(pool);

    // Every run gets its own catalog and customer, so the demo can run again.
    let run = chrono::Utc::now().timestamp_millis();
    let coffee = store.create_category(NewCategory {
        parent_id: None,
        slug: Slug::parse(&format!("coffee-{run}"))?,
        name: CategoryName::parse("Coffee")?,
    })?;
    let beans = store.create_category(NewCategory {
        parent_id: Some(coffee.id),
        slug: Slug::parse(&format!("beans-{run}"))?,
        name: CategoryName::parse("Beans")?,
    })?;
    for (sku, name, price, stock) in [
        ("ETHIOPIA", "Yirgacheffe, 250 g", "12.90", 40),
        ("COLOMBIA", "Huila, 250 g", "10.50", 25),
        ("KENYA", "Nyeri AA, 250 g", "14.20", 10),
    ] {
        store.create_product(NewProduct {
            sku: Sku::parse(&format!("{sku}-{run}"))?,
            name: ProductName::parse(name)?,
            description: Description::parse("Whole beans, roasted this week.")?,
            category_id: beans.id,
            price: Money::parse(price, Currency::EUR)?,
            stock_on_hand: stock,
        })?;
    }

    let user = store.register(NewUser {
        email: Email::parse(&format!("ada+{run}@example.com"))?,
        name: PersonName::parse("Ada Lovelace")?,
        password: Password::new("correct horse battery staple")?,
    })?;
    let home = store.add_address(
        user.id,
        NewAddress {
            kind: AddressKind::Shipping,
            postal: PostalAddress::parse(&RawAddress {
                recipient: "Ada Lovelace".into(),
                line1: "12 St James's Square".into(),
                city: "London".into(),
                postal_code: "SW1Y 4JH".into(),
                country: "GB".into(),
                ..RawAddress::default()
            })?,
            make_default: true,
        },
    )?;

    println!("\nbrowsing {} (and its subcategories):", coffee.name);
    let page = store.list_products(coffee.id, PageRequest::first(50))?;
    for p in &page.items {
        println!(
            "  {:<22} {:<20} {:>10}  {} in stock",
            p.sku.as_str(),
            p.name,
            p.price.to_string(),
            p.stock_on_hand
        );
    }

    let cart = store.open_cart(&CartOwner::User(user.id), Currency::EUR)?;
    store.add_item(cart.id, page.items[0].id, Quantity::new(2)?)?;
    store.add_item(cart.id, page.items[2].id, Quantity::new(1)?)?;

    let request = CheckoutRequest {
        cart_id: cart.id,
        shipping: AddressChoice::Saved(home.id),
        billing: AddressChoice::Saved(home.id),
        guest_email: None,
        provider: ProviderName::parse("test-provider")?,
        idempotency_key: IdempotencyKey::parse(&format!("checkout-{run}"))?,
    };
    let placed = store.checkout(&request)?;
    // The client timed out and retries: the same key gives back the same order.
    let retried = store.checkout(&request)?;
    assert_eq!(retried.order.id, placed.order.id);
    println!(
        "\ncheckout: order {} placed (retry replayed it: {})",
        placed.order.id, retried.replayed
    );

    let payment = placed.payment.id;
    let due = placed.payment.amount;
    store.record_payment_event(
        payment,
        PaymentEvent {
            key: IdempotencyKey::parse("auth-1")?,
            action: PaymentAction::Authorize {
                amount: due,
                provider_ref: Some(ProviderRef::parse(&format!("ch_{run}"))?),
            },
        },
    )?;
    let captured = store.record_payment_event(
        payment,
        PaymentEvent {
            key: IdempotencyKey::parse("capture-1")?,
            action: PaymentAction::Capture { amount: due },
        },
    )?;
    println!(
        "payment: {} captured, order is {}",
        captured.payment.captured, captured.order_status
    );

    store.transition(
        placed.order.id,
        OrderEvent::Ship,
        Some("tracking DHL 00340434161234567890".into()),
    )?;
    store.transition(placed.order.id, OrderEvent::Deliver, None)?;

    let details = store.order(placed.order.id)?;
    let order = &details.order;
    println!("\norder {} ({})", order.id, order.status);
    for line in &order.lines {
        println!(
            "  {}. {:<22} {} x {:>10} = {:>10}",
            line.line_no,
            line.name,
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
    Ok(())
}
