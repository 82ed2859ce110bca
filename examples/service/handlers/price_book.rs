//! What one of the caller's carts costs to a destination, from the price book: the
//! shipping methods that take it there, and its quote by one of them. Owner-scoped
//! like every cart route: another customer's cart is `404`, exactly as a missing
//! one.

use axum::Json;
use axum::extract::State;
use ecom_domain::prelude::*;

use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::{ApiPath, ApiQuery, Bearer};
use crate::service::openapi::{
    BadRequest, Conflict, Invalid, NotFound, Unauthenticated, Unavailable,
};
use crate::service::request::{CartPath, DestinationQuery, QuoteQuery, cart_ref};
use crate::service::response::{QuoteView, ShippingOptionsView};

/// The shipping methods that take one of the caller's carts to a destination,
/// with their prices for it, cheapest first: what its checkout may choose as
/// `shipping_method`.
///
/// A method is offered when one of its zones covers the country (or the region),
/// it is in the cart's currency, and the cart is no heavier than its last weight
/// band. An empty cart is `422 invalid`; a line without a price in the cart's
/// currency is `422 no_price`.
#[utoipa::path(
    get,
    path = "/carts/{id}/shipping-options",
    tag = "carts",
    security(("session" = [])),
    params(CartPath, DestinationQuery),
    responses(
        (status = 200, description = "The methods that take the cart there, cheapest first; none when no zone covers the destination", body = ShippingOptionsView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn shipping_options(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(CartPath { id: cart }): ApiPath<CartPath>,
    ApiQuery(q): ApiQuery<DestinationQuery>,
) -> Result<Json<ShippingOptionsView>, ApiError> {
    let cart = cart_ref(&cart)?;
    let to = q.destination()?;
    app.blocking(move |store| {
        let options = store.shipping_options_of(&who, cart, &to)?;
        Ok(Json(ShippingOptionsView::new(&options)))
    })
    .await
}

/// One of the caller's carts quoted for delivery to a destination by one shipping
/// method: what its checkout by that method would charge, line by line, with each
/// line's tax and the tax summary.
///
/// Prices are the lowest that apply to the caller (the variant's own, or a price
/// list's for the currency, the caller's customer groups, the moment and the
/// line's quantity); tax is per line at the destination's rate for the product's
/// class, contained in the amounts where the currency's prices include tax. A
/// method that does not take the cart there is `422 shipping_unavailable`; a
/// destination without a rate for a class the cart needs is `422 no_tax_rate`.
#[utoipa::path(
    get,
    path = "/carts/{id}/quote",
    tag = "carts",
    security(("session" = [])),
    params(CartPath, QuoteQuery),
    responses(
        (status = 200, description = "The quote", body = QuoteView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn quote(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(CartPath { id: cart }): ApiPath<CartPath>,
    ApiQuery(q): ApiQuery<QuoteQuery>,
) -> Result<Json<QuoteView>, ApiError> {
    let cart = cart_ref(&cart)?;
    let (to, method) = q.destination_and_method()?;
    let coupons = q.coupons()?;
    app.blocking(move |store| {
        let quote = store.quote_of(&who, cart, &to, &method, &coupons)?;
        Ok(Json(QuoteView::from(&quote)))
    })
    .await
}
