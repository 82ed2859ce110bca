//! Money going back: a partial refund after delivery of an order paid partly by gift
//! card (the card gets its money back first), a cancellation before shipping that
//! puts the stock back and refunds the capture, and illegal transitions with the
//! typed errors they get.

use ecom_domain::prelude::*;
use ecom_store::{PgStore, StoreError};

use super::{FlowError, only_variant, slug_for};

/// Kettles on the shelf at three moments of the cancelled order's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevels {
    /// Before it was placed.
    pub before: u32,
    /// While it held its two kettles.
    pub during: u32,
    /// After its cancellation.
    pub after: u32,
}

/// What the cancel-and-refund flow saw.
#[derive(Debug, Clone)]
pub struct CancelRefund {
    /// The delivered order one of whose two kettles came back, paid partly by a
    /// gift card.
    pub returned_order: OrderId,
    /// The refund of that kettle: the order's payments after it (the card's first,
    /// then the provider's) and its status.
    pub refund: RefundOutcome,
    /// The gift card's balance before the order, after it, and after the refund.
    pub card_balance: [Money; 3],
    /// The order cancelled after payment, before shipping.
    pub cancelled: Order,
    /// Its payment after the cancellation.
    pub cancelled_payment: Payment,
    /// The kettles' stock around the cancelled order.
    pub stock: StockLevels,
    /// Why the cancelled order could not be shipped.
    pub ship_cancelled: OrderTransitionError,
    /// Why the delivered order could not be cancelled.
    pub cancel_delivered: DomainError,
}

/// Runs the flow on `store`; see the module documentation.
pub fn run(store: &PgStore, run: i64) -> Result<CancelRefund, FlowError> {
    let kettle = stock_kettles(store, run)?;
    let shop = Shop {
        store,
        kettle,
        address: guest_address()?,
        run,
    };

    let card = store.issue_gift_card(NewGiftCard {
        value: Money::parse("40.00", Currency::EUR)?,
        expires_at: None,
    })?;
    let balance = || -> Result<Money, StoreError> { Ok(store.gift_card(&card.code)?.balance) };
    let issued = balance()?;
    let first = shop.paid_order(1, std::slice::from_ref(&card.code))?;
    let spent = balance()?;
    deliver(store, first.order.id)?;
    let refund = return_one_kettle(store, &first)?;
    let card_balance = [issued, spent, balance()?];

    let before = on_shelf(store, kettle)?;
    let second = shop.paid_order(2, &[])?;
    let during = on_shelf(store, kettle)?;
    let cancelled = cancel_before_shipping(store, second.order.id)?;
    let after = on_shelf(store, kettle)?;

    Ok(CancelRefund {
        returned_order: first.order.id,
        refund,
        card_balance,
        cancelled_payment: store.payment(second.provider_payment()?.id)?,
        cancelled,
        stock: StockLevels {
            before,
            during,
            after,
        },
        ship_cancelled: ship_cancelled(store, second.order.id)?,
        cancel_delivered: cancel_delivered(store, first.order.id)?,
    })
}

/// A category "Kitchen" with ten kettles at 64.00, a product of one variant; returns
/// the variant.
fn stock_kettles(store: &PgStore, run: i64) -> Result<VariantId, FlowError> {
    let category = store.create_category(NewCategory {
        parent_id: None,
        slug: Slug::parse(&format!("kitchen-{run}"))?,
        name: CategoryName::parse("Kitchen")?,
    })?;
    let name = ProductName::parse("Gooseneck kettle")?;
    let kettle = store.create_product(NewProduct::single(
        slug_for(&name, run)?,
        name,
        category.id,
        Sku::parse(&format!("KETTLE-{run}"))?,
        Money::parse("64.00", Currency::EUR)?,
        10,
    ))?;
    only_variant(&kettle)
}

/// The kettles in stock.
fn on_shelf(store: &PgStore, kettle: VariantId) -> Result<u32, StoreError> {
    Ok(store.variant(kettle)?.variant.stock_on_hand)
}

fn guest_address() -> Result<PostalAddress, ValidationError> {
    PostalAddress::parse(&RawAddress {
        recipient: "Grace Hopper".into(),
        line1: "1 Navy Way".into(),
        city: "Arlington".into(),
        region: "VA".into(),
        postal_code: "22202".into(),
        country: "US".into(),
        ..RawAddress::default()
    })
}

/// What every order of the flow shares: the store, the kettle, the guest's address.
struct Shop<'a> {
    store: &'a PgStore,
    kettle: VariantId,
    address: PostalAddress,
    run: i64,
}

impl Shop<'_> {
    /// A guest's order `n` of two kettles, paid with the gift `cards` first and the
    /// rest authorized and captured in full.
    fn paid_order(&self, n: u32, cards: &[GiftCardCode]) -> Result<Checkout, FlowError> {
        let Self {
            store, kettle, run, ..
        } = *self;
        // Padded like a 13-digit `fresh_run`: a guest token has at least 16 characters.
        let token = GuestToken::parse(&format!("refund-demo-{run:013}-{n}"))?;
        let cart = store.open_cart(&CartOwner::guest(&token), Currency::EUR)?;
        store.add_item(cart.id, kettle, Quantity::new(2)?)?;
        let done = store.checkout(&CheckoutRequest {
            cart_id: cart.id,
            shipping: AddressChoice::Given(self.address.clone()),
            billing: AddressChoice::Given(self.address.clone()),
            guest_email: Some(Email::parse("grace@example.com")?),
            provider: ProviderName::parse("test-provider")?,
            shipping_method: None,
            coupon_codes: vec![],
            gift_cards: cards.to_vec(),
            idempotency_key: IdempotencyKey::parse(&format!("refund-demo-{run}-{n}"))?,
        })?;
        authorize_and_capture(store, &done)?;
        Ok(done)
    }
}

fn authorize_and_capture(store: &PgStore, done: &Checkout) -> Result<(), StoreError> {
    let due = done.provider_payment()?.amount;
    let pay = |key: &str, action| -> Result<PaymentOutcome, StoreError> {
        store.record_payment_event(
            done.provider_payment()?.id,
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
    Ok(())
}

fn deliver(store: &PgStore, order: OrderId) -> Result<(), StoreError> {
    store.transition(order, OrderEvent::Ship, None)?;
    store.transition(order, OrderEvent::Deliver, None)?;
    Ok(())
}

/// One of the two kettles comes back: a refund of one unit price, spread over the
/// order's payments by the store (the gift card's first, by default). The store
/// books it; the outbox's `payment.refund` events tell the provider's integration
/// what to send back.
fn return_one_kettle(store: &PgStore, order: &Checkout) -> Result<RefundOutcome, FlowError> {
    let one_kettle = order.order.lines[0].unit_price;
    Ok(store.refund(
        order.order.id,
        OrderRefund {
            of: RefundOf::Amount(one_kettle),
            reason: Some(Reason::parse("one kettle returned")?),
            key: IdempotencyKey::parse("return-1")?,
        },
    )?)
}

/// Paid but not shipped: the store puts the stock back and refunds the capture.
fn cancel_before_shipping(store: &PgStore, order: OrderId) -> Result<Order, StoreError> {
    store.transition(
        order,
        OrderEvent::Cancel,
        Some("customer changed their mind".into()),
    )
}

/// A cancelled order can't be shipped: the error names the state and what it accepts.
fn ship_cancelled(store: &PgStore, order: OrderId) -> Result<OrderTransitionError, FlowError> {
    match store.transition(order, OrderEvent::Ship, None) {
        Err(StoreError::Domain(DomainError::OrderTransition(err))) => Ok(err),
        other => Err(FlowError::Broken(format!(
            "expected a refused transition, got {other:?}"
        ))),
    }
}

/// A delivered order can't be cancelled any more.
fn cancel_delivered(store: &PgStore, order: OrderId) -> Result<DomainError, FlowError> {
    match store.transition(order, OrderEvent::Cancel, None) {
        Err(StoreError::Domain(err)) => Ok(err),
        other => Err(FlowError::Broken(format!(
            "expected a refused transition, got {other:?}"
        ))),
    }
}
