//! Orders, with their converted carts, lines, address snapshots, status history and
//! payment ledger.
//!
//! Each order's timing, customer, basket and path through the state machines are
//! drawn by [`Baskets`](basket::Baskets), the one stateful part: it tracks each
//! variant's stock left so nothing is sold that was not on the shelf. It runs twice
//! with the same results: once before the products are written, to learn the stock
//! left, and once alongside the orders. The path is then walked through the domain's own machines
//! ([`life`]), and the order's rows are written ([`rows`]).
//!
//! A few orders are paid entirely by a gift card: the first walk decides which
//! (a card issued before, not expired, with enough left), so that the cards,
//! written before the orders, have their balances at the end.

mod basket;
mod life;
mod rows;

use chrono::{DateTime, Utc};
use ecom_domain::catalog::Sellable;
use ecom_domain::ids::GiftCardId;
use ecom_domain::money::Money;
use ecom_domain::payment::PaymentAction;
use ecom_domain::pricing::{OrderDraft, Pricing};
use ecom_domain::values::{Email, GuestToken, PostalAddress, Quantity};
use rand::RngExt;

use self::basket::{Basket, Baskets, Buyer, Step};
use self::life::Life;
use self::rows::Serials;
use super::accounts::profile;
use super::catalog::Catalog;
use super::gift_cards::{GiftCards, Spending, Tenders};
use super::rng::{SeedRng, Stream, rng_for, secs};
use super::values::{self, Country};
use super::{Out, Phase};
use crate::SeedError;
use crate::plan::Plan;

/// What the walk through every order before writing learns.
pub(crate) struct Walked {
    /// The stock each variant has left once every order is placed.
    pub stock_left: Vec<u32>,
    /// Which gift card paid which order, and the cards' balances at the end.
    pub tenders: Tenders,
}

/// Walks every order's basket against the stock, and places those a gift card
/// may pay for, to learn which card pays and what its refunds give back.
pub(crate) fn walk(plan: &Plan, catalog: &Catalog, cards: &GiftCards) -> Result<Walked, SeedError> {
    let pricing = Pricing::default();
    let mut baskets = Baskets::new(plan, catalog);
    let mut spending = Spending::new(cards);
    for k in 0..plan.sizes.orders {
        let basket = baskets.next(k)?;
        let ids = OrderIds::of(plan, k);
        let Some(mut tender) = wants_a_card(plan, &basket, ids.order) else {
            continue;
        };
        let order_id = ids.order;
        let placed = place(plan, catalog, &pricing, basket, ids, |at, total| {
            spending.redeem(order_id, at, total, &mut tender)
        })?;
        let Some(card) = placed.life.payment.gift_card else {
            continue;
        };
        for e in &placed.life.events {
            if let PaymentAction::Refund { amount, .. } = &e.event.action {
                spending.refund(card, amount.amount(), e.at);
            }
        }
    }
    Ok(Walked {
        stock_left: baskets.into_stock(),
        tenders: spending.finish(),
    })
}

/// The share of orders (in percent) whose customer offers a gift card; it pays
/// when one of the cards can pay all of the order.
const CARD_SHARE: u32 = 10;

/// The stream that chooses a card, for an order whose customer offers one: a
/// paid order never fails nor expires, so an order whose path does is paid
/// otherwise.
fn wants_a_card(plan: &Plan, basket: &Basket, order_id: i64) -> Option<SeedRng> {
    let mut rng = rng_for(plan.seed, Stream::Tender, order_id);
    let unpaid = basket
        .steps
        .iter()
        .any(|(step, _)| matches!(step, Step::Fail | Step::Expire));
    (rng.random_range(0..100u32) < CARD_SHARE && !unpaid).then_some(rng)
}

/// Writes every order with everything that belongs to it.
pub(crate) fn orders(
    plan: &Plan,
    catalog: &Catalog,
    cards: &GiftCards,
    tenders: &Tenders,
    out: &mut Out<'_>,
) -> Result<(), SeedError> {
    out.start(Phase::Orders);
    locations(plan, out);
    let pricing = Pricing::default();
    let mut baskets = Baskets::new(plan, catalog);
    let mut serials = Serials::after(plan, cards);
    for k in 0..plan.sizes.orders {
        let basket = baskets.next(k)?;
        let ids = OrderIds::of(plan, k);
        let card = tenders.card_of(ids.order);
        let order = place(plan, catalog, &pricing, basket, ids, |_, _| card)?;
        rows::write(out, plan, catalog, &order, &mut serials)?;
        if !out.done() {
            return Ok(());
        }
    }
    serials.check_balances(tenders)
}

/// The ids of the `k`th order (from 0) and of the rows that are its own.
struct OrderIds {
    order: i64,
    cart: i64,
    payment: i64,
    /// Its shipment's, should it ship (an order ships at most once).
    shipment: i64,
    /// Its return's, should it have one (at most one).
    ret: i64,
    /// The stock location it ships from: one of the two, by turns.
    location: i64,
}

impl OrderIds {
    fn of(plan: &Plan, k: u64) -> Self {
        let k = k as i64;
        Self {
            order: plan.ids.orders + k + 1,
            cart: plan.ids.carts + k + 1,
            payment: plan.ids.payments + k + 1,
            shipment: plan.ids.shipments + k + 1,
            ret: plan.ids.returns + k + 1,
            location: plan.ids.stock_locations + 1 + k % LOCATIONS.len() as i64,
        }
    }
}

/// The shop's stock locations: (name, country, priority). The seed's orders
/// ship from them by turns.
const LOCATIONS: [(&str, &str, i64); 2] = [
    ("Berlin warehouse", "DE", 1),
    ("Rotterdam warehouse", "NL", 2),
];

/// Writes the stock locations, set up before the period.
fn locations(plan: &Plan, out: &mut Out<'_>) {
    let created = plan.since - chrono::Duration::days(400);
    for (id, (name, country, priority)) in (plan.ids.stock_locations + 1..).zip(LOCATIONS) {
        let w = out.w(crate::table::Table::StockLocations);
        w.int(id);
        w.text(name);
        w.text(country);
        w.int(priority);
        w.ts(created);
        w.end();
    }
}

/// Who placed an order, with the addresses it is shipped and billed to.
struct Customer {
    user_id: Option<i64>,
    guest_email: Option<Email>,
    shipping: PostalAddress,
    billing: PostalAddress,
}

/// The cart an order was checked out from.
struct CheckedOutCart {
    created: DateTime<Utc>,
    /// A guest's cart token; users' carts have none.
    token: Option<GuestToken>,
}

/// An order as it will be written: drawn, priced and lived.
struct Placed {
    ids: OrderIds,
    basket: Basket,
    customer: Customer,
    draft: OrderDraft,
    life: Life,
    cart: CheckedOutCart,
}

/// An order of `basket`: its customer, prices, life and cart. `card` says which
/// gift card, if any, pays all of its grand total at checkout.
fn place(
    plan: &Plan,
    catalog: &Catalog,
    pricing: &Pricing,
    basket: Basket,
    ids: OrderIds,
    card: impl FnOnce(DateTime<Utc>, Money) -> Option<GiftCardId>,
) -> Result<Placed, SeedError> {
    let mut rng = rng_for(plan.seed, Stream::Order, ids.order);
    // The steps draw from one stream in this order: reordering them changes the data.
    let customer = customer(plan, basket.buyer, ids.order, &mut rng)?;
    let draft = price(plan, pricing, catalog, &basket, &customer)?;
    let total = draft.totals.grand_total;
    let life = match card(basket.at, total) {
        Some(card) => life::live_on_card(&basket, &ids, total, card, &mut rng)?,
        None => life::live(&basket, &ids, total, &mut rng)?,
    };
    let cart = checked_out_cart(&basket, ids.cart, &mut rng)?;
    Ok(Placed {
        ids,
        basket,
        customer,
        draft,
        life,
        cart,
    })
}

/// A user's default addresses, rebuilt from their id; or a guest made up on the spot,
/// shipped and billed to one address.
fn customer(
    plan: &Plan,
    buyer: Buyer,
    order_id: i64,
    rng: &mut SeedRng,
) -> Result<Customer, SeedError> {
    match buyer {
        Buyer::User(user) => {
            let p = profile(plan, user)?;
            Ok(Customer {
                user_id: Some(user),
                guest_email: None,
                shipping: p.shipping().clone(),
                billing: p.billing().clone(),
            })
        }
        Buyer::Guest => {
            let country = Country::pick(rng);
            let (first, last) = values::person(rng, country);
            let name = values::full_name(&first, &last)?;
            let email = values::email(rng, &first, &last, order_id)?;
            let address = values::postal_address(rng, country, &name)?;
            Ok(Customer {
                user_id: None,
                guest_email: Some(email),
                shipping: address.clone(),
                billing: address,
            })
        }
    }
}

/// Lines and totals as the store prices a checkout: the variants' SKUs, options
/// and prices and their products' names now, tax and shipping to the shipping
/// address's country.
fn price(
    plan: &Plan,
    pricing: &Pricing,
    catalog: &Catalog,
    basket: &Basket,
    customer: &Customer,
) -> Result<OrderDraft, SeedError> {
    let items = basket
        .lines
        .iter()
        .map(|(v, q)| Ok((catalog.sellable(*v)?, *q)))
        .collect::<Result<Vec<(Sellable, Quantity)>, SeedError>>()?;
    let priced: Vec<(&Sellable, Quantity)> = items.iter().map(|(s, q)| (s, *q)).collect();
    pricing
        .price(plan.currency, &priced, customer.shipping.country())
        .map_err(|e| SeedError::invalid("order", e))
}

/// The cart was created up to an hour before checkout; a guest's cart has a token.
fn checked_out_cart(
    basket: &Basket,
    cart_id: i64,
    rng: &mut SeedRng,
) -> Result<CheckedOutCart, SeedError> {
    let created = basket.at - secs(rng, 60..3_600);
    let token = match basket.buyer {
        Buyer::User(_) => None,
        Buyer::Guest => Some(values::guest_token(rng, cart_id)?),
    };
    Ok(CheckedOutCart { created, token })
}
