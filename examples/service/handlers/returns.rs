//! A customer's returns: units of one of their orders asked back, and where the
//! returns stand; and the units of their orders the shop cancelled.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ecom_domain::prelude::*;

use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::{ApiJson, ApiPath, Bearer};
use crate::service::openapi::{
    BadRequest, Conflict, Invalid, NotFound, TooLarge, Unauthenticated, Unavailable,
    UnsupportedMediaType,
};
use crate::service::request::{ReturnBody, order_ref};
use crate::service::response::{CancellationListView, ReturnListView, ReturnView};

/// Asks for units of one of the caller's orders that left to come back, with a
/// reason: a requested return, which the shop approves or rejects.
///
/// More units than left (less those already asked back), or an order nothing of
/// which left, is `409 return_conflict`; an empty return, a line named twice or
/// one the order does not have is `422 invalid_return`; another's order is `404`.
#[utoipa::path(
    post,
    path = "/orders/{id}/returns",
    tag = "orders",
    security(("session" = [])),
    params(("id" = String, Path, format = "uuid", description = "The order's public reference")),
    request_body = ReturnBody,
    responses(
        (status = 201, description = "The return, requested", body = ReturnView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn request_order_return(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(order): ApiPath<String>,
    ApiJson(body): ApiJson<ReturnBody>,
) -> Result<(StatusCode, Json<ReturnView>), ApiError> {
    let order = order_ref(&order)?;
    let (lines, reason, note) = body.checked()?;
    app.blocking(move |store| {
        let ret = store.request_return_of(&who, order, lines, reason, note)?;
        Ok((StatusCode::CREATED, Json(ReturnView::from(&ret))))
    })
    .await
}

/// The returns of one of the caller's orders, oldest first: their lines, status
/// and what each refunded.
#[utoipa::path(
    get,
    path = "/orders/{id}/returns",
    tag = "orders",
    security(("session" = [])),
    params(("id" = String, Path, format = "uuid", description = "The order's public reference")),
    responses(
        (status = 200, description = "The order's returns", body = ReturnListView),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn order_returns(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(order): ApiPath<String>,
) -> Result<Json<ReturnListView>, ApiError> {
    let order = order_ref(&order)?;
    app.blocking(move |store| {
        let returns = store.returns_of(&who, order)?;
        Ok(Json(ReturnListView::new(&returns)))
    })
    .await
}

/// The cancellations of units of one of the caller's orders, oldest first: the
/// units, and what each refunded.
#[utoipa::path(
    get,
    path = "/orders/{id}/cancellations",
    tag = "orders",
    security(("session" = [])),
    params(("id" = String, Path, format = "uuid", description = "The order's public reference")),
    responses(
        (status = 200, description = "The order's cancellations", body = CancellationListView),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn order_cancellations(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(order): ApiPath<String>,
) -> Result<Json<CancellationListView>, ApiError> {
    let order = order_ref(&order)?;
    app.blocking(move |store| {
        let cancellations = store.cancellations_of(&who, order)?;
        Ok(Json(CancellationListView::new(&cancellations)))
    })
    .await
}
