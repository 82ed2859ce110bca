//! A flash sale: many buyers race for the last units of one product, a product of one
//! variant. Exactly the stock is sold; everyone else gets a typed out-of-stock error,
//! and nothing is oversold or half-written.

use std::sync::{Arc, Barrier};
use std::thread;

use ecom_domain::prelude::*;
use ecom_store::{PgStore, StoreError};

use super::{FlowError, only_variant, slug_for};

/// Buyers racing.
pub const BUYERS: u32 = 24;
/// Consoles in stock.
pub const UNITS: u32 = 7;
/// Connections the store's pool needs: one per buyer, so all check out at once
/// instead of queueing for a connection, and two to spare.
pub const POOL_SIZE: u32 = BUYERS + 2;

/// How the sale ended.
#[derive(Debug)]
pub struct FlashSale {
    /// Checkouts that went through.
    pub sold: usize,
    /// Checkouts refused as out of stock.
    pub out_of_stock: usize,
    /// Consoles left on the shelf.
    pub left: u32,
    /// The error one buyer who came too late got, if any did.
    pub late_buyer_saw: Option<StoreError>,
}

impl FlashSale {
    /// Exactly the stock sold, the shelf empty, and every other buyer refused.
    pub fn reconciles(&self) -> bool {
        self.sold == UNITS as usize
            && self.left == 0
            && self.sold + self.out_of_stock == BUYERS as usize
    }
}

/// Runs the sale on `store`, whose pool should hold [`POOL_SIZE`] connections.
pub fn run(store: &PgStore, run: i64) -> Result<FlashSale, FlowError> {
    let console = stock_consoles(store, run)?;
    let carts = fill_carts(store, console, run)?;
    let outcomes = race_to_checkout(store, &carts, &buyer_address()?, run);
    tally(outcomes, store.variant(console)?.variant.stock_on_hand)
}

/// A category "Flash sale" with [`UNITS`] consoles, a product of one variant; returns
/// the variant.
fn stock_consoles(store: &PgStore, run: i64) -> Result<VariantId, FlowError> {
    let category = store.create_category(NewCategory {
        parent_id: None,
        slug: Slug::parse(&format!("flash-{run}"))?,
        name: CategoryName::parse("Flash sale")?,
    })?;
    let name = ProductName::parse("Game console, limited edition")?;
    let console = store.create_product(NewProduct::single(
        slug_for(&name, run)?,
        name,
        category.id,
        Sku::parse(&format!("CONSOLE-{run}"))?,
        Money::parse("299.00", Currency::EUR)?,
        UNITS,
    ))?;
    only_variant(&console)
}

fn buyer_address() -> Result<PostalAddress, ValidationError> {
    PostalAddress::parse(&RawAddress {
        recipient: "Flash Buyer".into(),
        line1: "1 Queue Street".into(),
        city: "Paris".into(),
        postal_code: "75001".into(),
        country: "FR".into(),
        ..RawAddress::default()
    })
}

/// Every buyer fills a cart with one console before anyone checks out, so the race
/// is for the stock alone.
fn fill_carts(store: &PgStore, console: VariantId, run: i64) -> Result<Vec<CartId>, FlowError> {
    let mut carts = Vec::new();
    for buyer in 0..BUYERS {
        // Padded like a 13-digit `fresh_run`: a guest token has at least 16 characters.
        let token = GuestToken::parse(&format!("flash-{run:013}-{buyer:04}"))?;
        let cart = store.open_cart(&CartOwner::guest(&token), Currency::EUR)?;
        store.add_item(cart.id, console, Quantity::new(1)?)?;
        carts.push(cart.id);
    }
    Ok(carts)
}

/// All buyers check out at the same instant, each on its own thread; the outcomes
/// in buyer order.
fn race_to_checkout(
    store: &PgStore,
    carts: &[CartId],
    address: &PostalAddress,
    run: i64,
) -> Vec<Result<Checkout, StoreError>> {
    let start = Arc::new(Barrier::new(carts.len()));
    thread::scope(|scope| {
        let handles: Vec<_> = carts
            .iter()
            .enumerate()
            .map(|(buyer, cart)| {
                let (start, address) = (start.clone(), address.clone());
                scope.spawn(move || {
                    start.wait();
                    store.checkout(&CheckoutRequest {
                        cart_id: *cart,
                        shipping: AddressChoice::Given(address.clone()),
                        billing: AddressChoice::Given(address),
                        guest_email: Some(Email::parse(&format!("buyer{buyer}@example.com"))?),
                        provider: ProviderName::parse("test-provider")?,
                        shipping_method: None,
                        coupon_codes: vec![],
                        gift_cards: vec![],
                        idempotency_key: IdempotencyKey::parse(&format!("flash-{run}-{buyer}"))?,
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("buyer thread panicked"))
            .collect()
    })
}

/// Counts sales and refusals; any refusal but out-of-stock breaks the sale's promise.
fn tally(outcomes: Vec<Result<Checkout, StoreError>>, left: u32) -> Result<FlashSale, FlowError> {
    let mut sale = FlashSale {
        sold: 0,
        out_of_stock: 0,
        left,
        late_buyer_saw: None,
    };
    for outcome in outcomes {
        match outcome {
            Ok(_) => sale.sold += 1,
            Err(StoreError::Domain(DomainError::OutOfStock(short))) => {
                sale.out_of_stock += 1;
                sale.late_buyer_saw
                    .get_or_insert(StoreError::Domain(DomainError::OutOfStock(short)));
            }
            Err(other) => return Err(FlowError::Broken(format!("unexpected error: {other}"))),
        }
    }
    Ok(sale)
}
