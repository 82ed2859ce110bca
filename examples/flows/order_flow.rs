//! A whole order, from browsing to delivery: browse a category, fill a cart with
//! variants (one coffee comes in two grinds), check out with an idempotency key (and
//! retry, as a client that timed out would), authorize and capture the payment, ship,
//! deliver.

use ecom_domain::prelude::*;
use ecom_store::PgStore;

use super::{FlowError, slug_for};

/// What the order flow saw.
#[derive(Debug, Clone)]
pub struct OrderFlow {
    /// The category browsed.
    pub category: Category,
    /// The first page of it, its subcategories' products included.
    pub browsed: Vec<Product>,
    /// Whether the retried checkout was answered as a replay of the first.
    pub replayed: bool,
    /// What the payment had captured once the capture was reported.
    pub captured: Money,
    /// The order's status right after the capture.
    pub paid_status: OrderStatus,
    /// The order at the end, delivered, with its lines, totals and history.
    pub order: Order,
}

/// Runs the flow on `store`; see the module documentation.
pub fn run(store: &PgStore, run: i64) -> Result<OrderFlow, FlowError> {
    let category = stock_the_shelves(store, run)?;
    let (user, home) = register_customer(store, run)?;
    let browsed = browse(store, &category)?;
    let cart = fill_cart(store, user.id, &browsed)?;
    let (placed, replayed) = check_out_twice(store, cart.id, home.id, run)?;
    let paid = pay(store, &placed, run)?;
    ship_and_deliver(store, placed.order.id)?;
    Ok(OrderFlow {
        category,
        browsed,
        replayed,
        captured: paid.payment.captured,
        paid_status: paid.order_status,
        order: store.order(placed.order.id)?.order,
    })
}

/// A category "Coffee" with a subcategory "Beans" of three products; returns "Coffee".
/// The first comes in two grinds, a variant each with its own stock; the others are
/// one variant each.
fn stock_the_shelves(store: &PgStore, run: i64) -> Result<Category, FlowError> {
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
    let grind = OptionName::parse("Grind")?;
    let ground = |code: &str, how: &str, stock: u32| -> Result<NewVariant, FlowError> {
        Ok(NewVariant {
            selection: OptionSelection::new(vec![OptionChoice {
                option: grind.clone(),
                value: OptionValue::parse(how)?,
            }])?,
            ..NewVariant::default_of(
                Sku::parse(&format!("ETHIOPIA-{run}-{code}"))?,
                Money::parse("12.90", Currency::EUR)?,
                stock,
            )
        })
    };
    let name = ProductName::parse("Yirgacheffe, 250 g")?;
    store.create_product(NewProduct {
        slug: slug_for(&name, run)?,
        name,
        description: Description::parse("Whole or ground for filter, roasted this week.")?,
        category_id: beans.id,
        status: ProductStatus::Active,
        options: ProductOptions::new(vec![OptionType::new(
            grind.clone(),
            vec![
                OptionValue::parse("Whole beans")?,
                OptionValue::parse("Filter")?,
            ],
        )?])?,
        variants: vec![
            ground("WHOLE", "Whole beans", 40)?,
            ground("FILTER", "Filter", 20)?,
        ],
    })?;
    for (sku, name, price, stock) in [
        ("COLOMBIA", "Huila, 250 g", "10.50", 25),
        ("KENYA", "Nyeri AA, 250 g", "14.20", 10),
    ] {
        let name = ProductName::parse(name)?;
        store.create_product(NewProduct {
            description: Description::parse("Whole beans, roasted this week.")?,
            ..NewProduct::single(
                slug_for(&name, run)?,
                name,
                beans.id,
                Sku::parse(&format!("{sku}-{run}"))?,
                Money::parse(price, Currency::EUR)?,
                stock,
            )
        })?;
    }
    Ok(coffee)
}

/// A customer with a saved default shipping address.
fn register_customer(store: &PgStore, run: i64) -> Result<(User, Address), FlowError> {
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
    Ok((user, home))
}

/// The first page of the category and its subcategories.
fn browse(store: &PgStore, category: &Category) -> Result<Vec<Product>, FlowError> {
    Ok(store
        .list_products(category.id, PageRequest::first(50))?
        .items)
}

/// Two of the first product browsed, ground for filter, and one of the third.
fn fill_cart(store: &PgStore, user: UserId, browsed: &[Product]) -> Result<Cart, FlowError> {
    let filter = browsed
        .first()
        .and_then(|p| {
            p.variants.iter().find(|v| {
                v.selection
                    .value_of("grind")
                    .is_some_and(|how| how.as_str() == "Filter")
            })
        })
        .ok_or_else(|| FlowError::Broken("the first coffee has no filter grind".into()))?;
    let third = browsed
        .get(2)
        .and_then(|p| p.variants.first())
        .ok_or_else(|| FlowError::Broken("the page has no third coffee".into()))?;
    let cart = store.open_cart(&CartOwner::User(user), Currency::EUR)?;
    store.add_item(cart.id, filter.id, Quantity::new(2)?)?;
    store.add_item(cart.id, third.id, Quantity::new(1)?)?;
    Ok(cart)
}

/// Checks out, then again with the same key, as a client that timed out retries;
/// returns the order and whether the retry was answered as a replay.
fn check_out_twice(
    store: &PgStore,
    cart: CartId,
    home: AddressId,
    run: i64,
) -> Result<(Checkout, bool), FlowError> {
    let request = CheckoutRequest {
        cart_id: cart,
        shipping: AddressChoice::Saved(home),
        billing: AddressChoice::Saved(home),
        guest_email: None,
        provider: ProviderName::parse("test-provider")?,
        shipping_method: None,
        coupon_codes: vec![],
        gift_cards: vec![],
        idempotency_key: IdempotencyKey::parse(&format!("checkout-{run}"))?,
    };
    let placed = store.checkout(&request)?;
    let retried = store.checkout(&request)?;
    if retried.order.id != placed.order.id {
        return Err(FlowError::Broken(format!(
            "the retried checkout placed order {} besides {}",
            retried.order.id, placed.order.id
        )));
    }
    Ok((placed, retried.replayed))
}

/// The provider reports the authorization, then the capture, of the whole amount.
fn pay(store: &PgStore, placed: &Checkout, run: i64) -> Result<PaymentOutcome, FlowError> {
    let payment = placed.provider_payment()?.id;
    let due = placed.provider_payment()?.amount;
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
    Ok(store.record_payment_event(
        payment,
        PaymentEvent {
            key: IdempotencyKey::parse("capture-1")?,
            action: PaymentAction::Capture { amount: due },
        },
    )?)
}

fn ship_and_deliver(store: &PgStore, order: OrderId) -> Result<(), FlowError> {
    store.transition(
        order,
        OrderEvent::Ship,
        Some("tracking DHL 00340434161234567890".into()),
    )?;
    store.transition(order, OrderEvent::Deliver, None)?;
    Ok(())
}
