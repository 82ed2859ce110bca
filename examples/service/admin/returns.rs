//! The back office's returns (RMAs): asked for on a customer's behalf, approved
//! or rejected, received at a stock location, where sellable units go back on the
//! shelf and the units' share of what was paid is refunded through the order's
//! payments, once.
//!
//! Lines, reasons and receipts become checked domain values here, before the
//! store is called: a malformed one is a typed `422` without a database round
//! trip.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ecom_domain::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use super::{Staff, by_name};
use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::{ApiJson, ApiPath};
use crate::service::openapi::{
    BadRequest, Conflict, Invalid, NotFound, TooLarge, Unauthenticated, Unavailable,
    UnsupportedMediaType,
};
use crate::service::request::ReturnBody;
use crate::service::response::{
    ReturnListView, ReturnReceivedView, ReturnView, item_condition_schema,
};

/// Asks, on a customer's behalf, for units of an order that left to come back.
///
/// More units than left (less those already asked back), or an order nothing of
/// which left, is `409 return_conflict`; an empty return, a line named twice or
/// one the order does not have is `422 invalid_return`.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/returns",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The order's id")),
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
pub(in crate::service) async fn request_return(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReturnBody>,
) -> Result<(StatusCode, Json<ReturnView>), ApiError> {
    let (lines, reason, note) = body.checked()?;
    let new = NewReturn {
        order: OrderId::new(id),
        lines,
        reason,
        note,
    };
    app.blocking(move |store| {
        let ret = store.request_return(new)?;
        Ok((StatusCode::CREATED, Json(ReturnView::from(&ret))))
    })
    .await
}

/// An order's returns, oldest first.
#[utoipa::path(
    get,
    path = "/admin/orders/{id}/returns",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The order's id")),
    responses(
        (status = 200, description = "Its returns", body = ReturnListView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn returns(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ReturnListView>, ApiError> {
    app.blocking(move |store| {
        let returns = store.order_returns(OrderId::new(id))?;
        Ok(Json(ReturnListView::new(&returns)))
    })
    .await
}

/// The decisions on a return, as the domain names them.
fn decision_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ReturnDecision::ALL.iter().map(|e| e.as_str())))
        .build()
}

/// `POST /admin/returns/{id}/decision`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReturnDecisionRequest)]
pub(in crate::service) struct DecisionBody {
    #[schema(schema_with = decision_schema)]
    decision: String,
}

/// Approves or rejects a requested return; a rejected return's units may be
/// asked back again. A return no longer requested is `409 return_conflict`.
#[utoipa::path(
    post,
    path = "/admin/returns/{id}/decision",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The return's id")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "The return, approved or rejected", body = ReturnView),
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
pub(in crate::service) async fn decide_return(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<ReturnView>, ApiError> {
    let decision: ReturnDecision = by_name(&body.decision)?;
    app.blocking(move |store| {
        let ret = store.decide_return(ReturnId::new(id), decision)?;
        Ok(Json(ReturnView::from(&ret)))
    })
    .await
}

/// `POST /admin/returns/{id}/receipt`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReturnReceiptRequest)]
pub(in crate::service) struct ReceiptBody {
    /// The stock location that received the units.
    location_id: i64,
    #[schema(schema_with = item_condition_schema)]
    condition: String,
    /// Whether the units' share of the shipping charge is refunded too (false
    /// when absent).
    #[serde(default)]
    refund_shipping: bool,
}

/// Receives an approved return's units at a stock location.
///
/// Sellable units go back on the shelf through the inventory ledger; the units'
/// share of what was paid (their lines' part of the grand total, shared over
/// each line's units, and the shipping's if asked) is refunded through the
/// order's payments, at most what they still hold. The same receipt again
/// changes nothing (`changed: false`), so a clerk's retry is safe; another
/// receipt of a received return, or a receipt of one not approved, is `409
/// return_conflict`.
#[utoipa::path(
    post,
    path = "/admin/returns/{id}/receipt",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The return's id")),
    request_body = ReceiptBody,
    responses(
        (status = 200, description = "The return, received and refunded", body = ReturnReceivedView),
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
pub(in crate::service) async fn receive_return(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReceiptBody>,
) -> Result<Json<ReturnReceivedView>, ApiError> {
    let receipt = ReturnReceipt {
        location: StockLocationId::new(body.location_id),
        condition: by_name(&body.condition)?,
        refund_shipping: body.refund_shipping,
    };
    app.blocking(move |store| {
        let received = store.receive_return(ReturnId::new(id), receipt)?;
        Ok(Json(ReturnReceivedView::from(&received)))
    })
    .await
}
