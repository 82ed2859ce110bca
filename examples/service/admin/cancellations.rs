//! The back office's cancellations of part of an order: units of an order's
//! lines cancelled before they ship, their stock released and their share of the
//! order refunded, or, before it is paid, taken off what its payment is due.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use ecom_domain::prelude::*;
use ecom_store::StoreError;
use serde::Deserialize;
use utoipa::ToSchema;

use super::Staff;
use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::{ApiJson, ApiPath};
use crate::service::openapi::{
    BadRequest, Conflict, Invalid, NotFound, TooLarge, Unauthenticated, Unavailable,
    UnsupportedMediaType,
};
use crate::service::request::idempotency_key;
use crate::service::response::{CancellationListView, UnitsCancelledView};

/// The most lines one cancellation names: an order has at most as many.
const MAX_LINES: usize = ecom_domain::cart::Cart::MAX_LINES;

/// Units of one order line to cancel.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CancellationLine)]
pub(in crate::service) struct CancellationLineBody {
    /// The order line, from 1.
    line_no: u16,
    /// Its units to cancel, at least 1.
    quantity: i64,
}

/// `POST /admin/orders/{id}/cancellations`: units to cancel.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCancellation)]
pub(in crate::service) struct CancellationBody {
    /// The lines and units, each line once.
    lines: Vec<CancellationLineBody>,
    /// Why, for the records (at most 500 characters).
    reason: Option<String>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_cancellation",
        message,
    )
}

impl CancellationBody {
    fn into_new_cancellation(
        self,
        order: OrderId,
        key: IdempotencyKey,
    ) -> Result<NewCancellation, ApiError> {
        if self.lines.len() > MAX_LINES {
            return Err(invalid(format!(
                "a cancellation names at most {MAX_LINES} lines"
            )));
        }
        let lines = self
            .lines
            .iter()
            .map(|l| {
                Ok(CancellationLine {
                    line_no: l.line_no,
                    quantity: Quantity::new(l.quantity)?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(NewCancellation {
            order,
            key,
            lines,
            reason: self.reason.as_deref().map(Reason::parse).transpose()?,
        })
    }
}

/// The store's answer, with a malformed cancellation named as one (the domain
/// shares those errors with shipments).
fn cancellation_error(err: StoreError) -> ApiError {
    match err {
        StoreError::Domain(DomainError::Fulfillment(
            e @ (FulfillmentError::Empty
            | FulfillmentError::UnknownLine { .. }
            | FulfillmentError::DuplicateLine(_)),
        )) => invalid(e.to_string()),
        other => other.into(),
    }
}

/// Cancels units of an order (waiting for payment, paid or partially shipped)
/// before they ship.
///
/// Their reservations are released (from the locations holding the most of the
/// line's units still to ship first), units taken from a variant's own count go
/// back onto it, and their share of the order is given back: refunded through
/// the payments once it is paid (`refunded`); before, taken off what the
/// provider's payment is due (`released`), its authorization lowered to what is
/// still due, so that the service asks the provider to adjust it rather than void
/// it. The order's status then follows its shipments: cancelling the last units
/// left to ship makes it shipped; before payment, leaving due only what was
/// captured makes it paid. Units already in a shipment, an order cancelled or
/// already shipped, or every unit of the order (cancel the order instead) is
/// `409 cancellation_conflict`; a reduction that would leave the payment less
/// due than it captured (or nothing) is `409 payment_refused`; an empty
/// cancellation, a line named twice or one the order does not have is `422
/// invalid_cancellation`. A retry
/// with the same `Idempotency-Key` and lines cancels and refunds nothing twice and
/// answers `200` with what was done (`changed: false`); the same key for other
/// lines is `409 idempotency_conflict`.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/cancellations",
    tag = "admin",
    security(("admin" = [])),
    params(
        ("id" = i64, Path, description = "The order's id"),
        ("Idempotency-Key" = String, Header, description = "Staff's id for this cancellation; a retry sends the same"),
    ),
    request_body = CancellationBody,
    responses(
        (status = 201, description = "The cancellation and the order's status", body = UnitsCancelledView),
        (status = 200, description = "Made before with this key: nothing changed", body = UnitsCancelledView),
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
pub(in crate::service) async fn cancel_units(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CancellationBody>,
) -> Result<(StatusCode, Json<UnitsCancelledView>), ApiError> {
    let key = idempotency_key(&headers)?;
    let new = body.into_new_cancellation(OrderId::new(id), key)?;
    app.blocking(move |store| {
        let cancelled = store.cancel_units(new).map_err(cancellation_error)?;
        let status = match cancelled.applied {
            Applied::Changed => StatusCode::CREATED,
            Applied::Duplicate => StatusCode::OK,
        };
        Ok((status, Json(UnitsCancelledView::from(&cancelled))))
    })
    .await
}

/// An order's cancellations, oldest first.
#[utoipa::path(
    get,
    path = "/admin/orders/{id}/cancellations",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The order's id")),
    responses(
        (status = 200, description = "Its cancellations", body = CancellationListView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn cancellations(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CancellationListView>, ApiError> {
    app.blocking(move |store| {
        let cancellations = store.order_cancellations(OrderId::new(id))?;
        Ok(Json(CancellationListView::new(&cancellations)))
    })
    .await
}
