//! Orders, with their converted carts, lines, address snapshots, status history and
//! payment ledger.
//!
//! Each order's timing, customer, basket and path through the state machines are
//! drawn by [`Baskets`](basket::Baskets), the one stateful part: it tracks each
//! variant's stock left so nothing is sold that was not on the shelf. It runs twice
//! with the same results: once before the products are written, to learn the stock
//! left, and once alongside the orders. The path is then walked through the domain's own machines
//! ([`life`]), and the order's rows are written ([`rows`]).

mod basket;
mod life;
mod rows;

use chrono::{DateTime, Utc};
use ecom_domain::catalog::Sellable;
use ecom_domain::pricing::{OrderDraft, Pricing};
use ecom_domain::values::{Email, GuestToken, PostalAddress, Quantity};

use self::basket::{Basket, Baskets, Buyer};
use self::life::Life;
use self::rows::Serials;
use super::accounts::profile;
use super::catalog::Catalog;
use super::rng::{SeedRng, Stream, rng_for, secs};
use super::values::{self, Country};
use super::{Out, Phase};
use crate::SeedError;
use crate::plan::Plan;

/// The stock each variant has left once every order is placed.
pub(crate) fn stock_left(plan: &Plan, catalog: &Catalog) -> Result<Vec<u32>, SeedError> {
    let mut baskets = Baskets::new(plan, catalog);
    for k in 0..plan.sizes.orders {
        baskets.next(k)?;
    }
    Ok(baskets.into_stock())
}

/// Writes every order with everything that belongs to it.
pub(crate) fn orders(plan: &Plan, catalog: &Catalog, out: &mut Out<'_>) -> Result<(), SeedError> {
    out.start(Phase::Orders);
    let pricing = Pricing::default();
    let mut baskets = Baskets::new(plan, catalog);
    let mut serials = Serials::after(plan);
    for k in 0..plan.sizes.orders {
        let order = place(plan, catalog, &pricing, &mut baskets, k)?;
        rows::write(out, plan, catalog, &order, &mut serials);
        if !out.done() {
            break;
        }
    }
    Ok(())
}

/// The ids of the `k`th order (from 0) and of the rows that are its own.
struct OrderIds {
    order: i64,
    cart: i64,
    payment: i64,
}

impl OrderIds {
    fn of(plan: &Plan, k: u64) -> Self {
        let k = k as i64;
        Self {
            order: plan.ids.orders + k + 1,
            cart: plan.ids.carts + k + 1,
            payment: plan.ids.payments + k + 1,
        }
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

/// The `k`th order: its basket, customer, prices, life and cart.
fn place(
    plan: &Plan,
    catalog: &Catalog,
    pricing: &Pricing,
    baskets: &mut Baskets<'_>,
    k: u64,
) -> Result<Placed, SeedError> {
    let basket = baskets.next(k)?;
    let ids = OrderIds::of(plan, k);
    let mut rng = rng_for(plan.seed, Stream::Order, ids.order);
    // The steps draw from one stream in this order: reordering them changes the data.
    let customer = customer(plan, basket.buyer, ids.order, &mut rng)?;
    let draft = price(plan, pricing, catalog, &basket, &customer)?;
    let life = life::live(&basket, &ids, draft.totals.grand_total, &mut rng)?;
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
