//! The back office's shipments: an order shipped in parts from its stock
//! locations, each shipment moved on (packed, shipped, delivered, returned to
//! sender, cancelled) and tracked; the order follows its shipments.
//!
//! Lines and tracking become checked domain values here, before the store is
//! called: a malformed line, carrier or URL is a typed `422` without a database
//! round trip.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
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
use crate::service::request::idempotency_key;
use crate::service::response::{ShipmentChangeView, ShipmentListView, ShipmentView};

/// The most lines one shipment takes: an order has at most as many.
const MAX_LINES: usize = ecom_domain::cart::Cart::MAX_LINES;

/// Units of one order line.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewShipmentLine)]
pub(in crate::service) struct ShipmentLineBody {
    /// The order line, from 1.
    line_no: u16,
    /// Its units in the shipment, at least 1.
    quantity: i64,
}

/// `POST /admin/orders/{id}/shipments`: a shipment to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewShipment)]
pub(in crate::service) struct ShipmentBody {
    /// The stock location its units leave from.
    location_id: i64,
    /// The lines and units, each line once; at most as many as an order has.
    lines: Vec<ShipmentLineBody>,
    /// The carrier ("DHL"), if known yet.
    carrier: Option<String>,
    /// The carrier's number for the parcel, if known yet.
    tracking_number: Option<String>,
    /// Where the parcel is followed: an https URL, if known yet.
    tracking_url: Option<String>,
}

/// `PUT /admin/shipments/{id}/tracking`: the carrier and tracking, each optional.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ShipmentTracking)]
pub(in crate::service) struct TrackingBody {
    carrier: Option<String>,
    tracking_number: Option<String>,
    /// An https URL.
    tracking_url: Option<String>,
}

fn tracking(
    carrier: Option<&str>,
    number: Option<&str>,
    url: Option<&str>,
) -> Result<Tracking, ApiError> {
    Ok(Tracking {
        carrier: carrier.map(CarrierName::parse).transpose()?,
        number: number.map(TrackingNumber::parse).transpose()?,
        url: url.map(TrackingUrl::parse).transpose()?,
    })
}

impl ShipmentBody {
    fn into_new_shipment(
        self,
        order: OrderId,
        key: IdempotencyKey,
    ) -> Result<NewShipment, ApiError> {
        if self.lines.len() > MAX_LINES {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_shipment",
                format!("a shipment holds at most {MAX_LINES} lines"),
            ));
        }
        let lines = self
            .lines
            .iter()
            .map(|l| {
                Ok(ShipmentLine {
                    line_no: l.line_no,
                    quantity: Quantity::new(l.quantity)?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(NewShipment {
            order,
            key,
            location: StockLocationId::new(self.location_id),
            lines,
            tracking: tracking(
                self.carrier.as_deref(),
                self.tracking_number.as_deref(),
                self.tracking_url.as_deref(),
            )?,
        })
    }
}

/// Creates a pending shipment of a paid (or partially shipped) order from one
/// stock location.
///
/// A line reserved at locations ships what is reserved at this one; a line taken
/// from its variant's own count ships from any. More than a line may still ship
/// from here, or an order that is not paid, is `409 shipment_conflict`; an
/// empty shipment, a line named twice or one the order does not have is `422
/// invalid_shipment`. A retry with the same `Idempotency-Key`, location and
/// lines creates nothing and answers `200` with the shipment as it is now (a
/// second parcel is never made for one request); the same key for another
/// location or other lines is `409 idempotency_conflict`.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/shipments",
    tag = "admin",
    security(("admin" = [])),
    params(
        ("id" = i64, Path, description = "The order's id"),
        ("Idempotency-Key" = String, Header, description = "Staff's id for this shipment; a retry sends the same"),
    ),
    request_body = ShipmentBody,
    responses(
        (status = 201, description = "The shipment, pending", body = ShipmentView),
        (status = 200, description = "Made before with this key: the shipment as it is now", body = ShipmentView),
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
pub(in crate::service) async fn create_shipment(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ShipmentBody>,
) -> Result<(StatusCode, Json<ShipmentView>), ApiError> {
    let key = idempotency_key(&headers)?;
    let new = body.into_new_shipment(OrderId::new(id), key)?;
    app.blocking(move |store| {
        let created = store.create_shipment(new)?;
        let status = match created.applied {
            Applied::Changed => StatusCode::CREATED,
            Applied::Duplicate => StatusCode::OK,
        };
        Ok((status, Json(ShipmentView::from(&created.shipment))))
    })
    .await
}

/// An order's shipments, oldest first.
#[utoipa::path(
    get,
    path = "/admin/orders/{id}/shipments",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The order's id")),
    responses(
        (status = 200, description = "Its shipments", body = ShipmentListView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn shipments(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ShipmentListView>, ApiError> {
    app.blocking(move |store| {
        let shipments = store.order_shipments(OrderId::new(id))?;
        Ok(Json(ShipmentListView::new(&shipments)))
    })
    .await
}

/// The events of a shipment, as the domain names them.
fn shipment_event_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ShipmentEvent::ALL.iter().map(|e| e.as_str())))
        .build()
}

/// `POST /admin/shipments/{id}/events`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ShipmentEventRequest)]
pub(in crate::service) struct ShipmentEventBody {
    #[schema(schema_with = shipment_event_schema)]
    event: String,
}

/// Packs, ships, delivers, returns to sender or cancels a shipment; the order
/// follows.
///
/// Shipping takes its reserved units out of their level through the inventory
/// ledger. An event its state does not take is `409 shipment_conflict`.
#[utoipa::path(
    post,
    path = "/admin/shipments/{id}/events",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The shipment's id")),
    request_body = ShipmentEventBody,
    responses(
        (status = 200, description = "The shipment and its order's status", body = ShipmentChangeView),
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
pub(in crate::service) async fn shipment_event(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ShipmentEventBody>,
) -> Result<Json<ShipmentChangeView>, ApiError> {
    let event: ShipmentEvent = by_name(&body.event)?;
    app.blocking(move |store| {
        let change = store.change_shipment(ShipmentId::new(id), event)?;
        Ok(Json(ShipmentChangeView::from(&change)))
    })
    .await
}

/// Sets a shipment's carrier and tracking, until it is delivered, returned or
/// cancelled (then `409 shipment_conflict`).
#[utoipa::path(
    put,
    path = "/admin/shipments/{id}/tracking",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The shipment's id")),
    request_body = TrackingBody,
    responses(
        (status = 200, description = "The shipment", body = ShipmentView),
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
pub(in crate::service) async fn track_shipment(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<TrackingBody>,
) -> Result<Json<ShipmentView>, ApiError> {
    let tracking = tracking(
        body.carrier.as_deref(),
        body.tracking_number.as_deref(),
        body.tracking_url.as_deref(),
    )?;
    app.blocking(move |store| {
        let shipment = store.track_shipment(ShipmentId::new(id), tracking)?;
        Ok(Json(ShipmentView::from(&shipment)))
    })
    .await
}
