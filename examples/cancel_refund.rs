//! Money going back: a partial refund after delivery, a cancellation before
//! shipping that puts the stock back and refunds the capture, and an illegal
//! transition with the typed error it gets.
//!
//! Run it with `cargo run -p ecom-examples --bin cancel-refund`.

use std::error::Error;

use ecom_domain::prelude::*;
use ecom_store::{PgStore, StoreConfig, StoreError, build_pool, migrate_pool};

fn main() -> Result<(), Box<dyn Error>> {
    let pool = build_pool(&StoreConfig::from_env_or_dev()?)?;
    migrate_pool(&pool)?;
    let store = PgStore::new(pool);

    let run = chrono::Utc::now().timestamp_millis();
    let category = store.create_category(NewCategory {
        parent_id: None,
        slug: Slug::parse(&format!("kitchen-{run}"))?,
        name: CategoryName::parse("Kitchen")?,
    })?;
    let kettle = store.create_product(NewProduct {
        sku: Sku::parse(&format!("KETTLE-{run}"))?,
        name: ProductName::parse("Gooseneck kettle")?,
        description: Description::parse("")?,
        category_id: category.id,
        price: Money::parse("64.00", Currency::EUR)?,
        stock_on_hand: 10,
    })?;
    let address = PostalAddress::parse(&RawAddress {
        recipient: "Grace Hopper".into(),
        line1: "1 Navy Way".into(),
        city: "Arlington".into(),
        region: "VA".into(),
        postal_code: "22202".into(),
        country: "US".into(),
        ..RawAddress::default()
    })?;
    let paid_order = |n: u32| -> Result<Checkout, Box<dyn Error>> {
        let token = GuestToken::parse(&format!("refund-demo-{run}-{n}"))?;
        let cart = store.open_cart(&CartOwner::Guest(token), Currency::EUR)?;
        store.add_item(cart.id, kettle.id, Quantity::new(2)?)?;
        let done = store.checkout(&CheckoutRequest {
            cart_id: cart.id,
            shipping: AddressChoice::Given(address.clone()),
            billing: AddressChoice::Given(address.clone()),
            guest_email: Some(Email::parse("grace@example.com")?),
            provider: ProviderName::parse("test-provider")?,
            idempotency_key: IdempotencyKey::parse(&format!("refund-demo-{run}-{n}"))?,
        })?;
        let due = done.payment.amount;
        let pay = |key: &str, action| -> Result<PaymentOutcome, StoreError> {
            store.record_payment_event(
                done.payment.id,
                PaymentEvent {
                    key: IdempotencyKey::parse(key)?,
                    action,
                },
            )
        };
        pay(
            "auth",
            PaymentAction::Authorize {
                amount: due,
                provider_ref: None,
            },
        )?;
        pay("capture", PaymentAction::Capture { amount: due })?;
        Ok(done)
    };

    // 1. Delivered, then one of the two kettles comes back: a partial refund.
    let first = paid_order(1)?;
    store.transition(first.order.id, OrderEvent::Ship, None)?;
    store.transition(first.order.id, OrderEvent::Deliver, None)?;
    let one_kettle = first.order.lines[0].unit_price;
    let refund = store.record_payment_event(
        first.payment.id,
        PaymentEvent {
            key: IdempotencyKey::parse("return-1")?,
            action: PaymentAction::Refund {
                amount: one_kettle,
                reason: Some(Reason::parse("one kettle returned")?),
            },
        },
    )?;
    println!(
        "order {}: refunded {} of {}, payment {}, order still {}",
        first.order.id,
        refund.payment.refunded,
        refund.payment.captured,
        refund.payment.status,
        refund.order_status
    );

    // 2. Paid but not shipped: cancel. Stock goes back, the capture is refunded.
    let before = store.product(kettle.id)?.stock_on_hand;
    let second = paid_order(2)?;
    let during = store.product(kettle.id)?.stock_on_hand;
    let cancelled = store.transition(
        second.order.id,
        OrderEvent::Cancel,
        Some("customer changed their mind".into()),
    )?;
    let after = store.product(kettle.id)?.stock_on_hand;
    let payment = store.payment(second.payment.id)?;
    println!(
        "order {}: {}; stock {before} -> {during} -> {after}; payment {} ({} refunded)",
        second.order.id, cancelled.status, payment.status, payment.refunded
    );

    // 3. A cancelled order can't be shipped: the error names the state and what it accepts.
    match store.transition(second.order.id, OrderEvent::Ship, None) {
        Err(StoreError::Domain(DomainError::OrderTransition(err))) => {
            println!("shipping it anyway: refused: {err}");
        }
        other => return Err(format!("expected a refused transition, got {other:?}").into()),
    }
    match store.transition(first.order.id, OrderEvent::Cancel, None) {
        Err(StoreError::Domain(err)) => println!("cancelling a delivered order: refused: {err}"),
        other => return Err(format!("expected a refused transition, got {other:?}").into()),
    }
    Ok(())
}
