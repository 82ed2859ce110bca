//! The back office's stock locations and the stock kept at them: add a location,
//! list them, receive or adjust a variant's stock at one (each change a row of the
//! inventory ledger).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ecom_domain::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use super::Staff;
use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::{ApiJson, ApiPath};
use crate::service::openapi::{
    BadRequest, Conflict, Invalid, NotFound, TooLarge, Unauthenticated, Unavailable,
    UnsupportedMediaType,
};
use crate::service::response::{InventoryLevelView, StockLocationListView, StockLocationView};

/// `POST /admin/stock-locations`: a location to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewStockLocation)]
pub(in crate::service) struct LocationBody {
    /// 1 to 100 characters.
    name: String,
    /// ISO 3166-1 alpha-2: the country it ships from.
    country: String,
    /// Lower is drawn from first; 0 when not given.
    priority: Option<i32>,
}

/// Adds a stock location.
#[utoipa::path(
    post,
    path = "/admin/stock-locations",
    tag = "admin",
    security(("admin" = [])),
    request_body = LocationBody,
    responses(
        (status = 201, description = "The location", body = StockLocationView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn add_stock_location(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<LocationBody>,
) -> Result<(StatusCode, Json<StockLocationView>), ApiError> {
    let new = NewStockLocation {
        name: LocationName::parse(&body.name)?,
        country: CountryCode::parse(&body.country)?,
        priority: body.priority.unwrap_or(0),
    };
    app.blocking(move |store| {
        let location = store.add_stock_location(new)?;
        Ok((
            StatusCode::CREATED,
            Json(StockLocationView::from(&location)),
        ))
    })
    .await
}

/// Every stock location, by priority then id.
#[utoipa::path(
    get,
    path = "/admin/stock-locations",
    tag = "admin",
    security(("admin" = [])),
    responses(
        (status = 200, description = "The locations", body = StockLocationListView),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn stock_locations(
    _: Staff,
    State(app): State<App>,
) -> Result<Json<StockLocationListView>, ApiError> {
    app.blocking(move |store| {
        let locations = store.stock_locations()?;
        Ok(Json(StockLocationListView::new(&locations)))
    })
    .await
}

/// The kinds of stock change made by hand.
fn by_hand_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["receipt", "adjustment"]))
        .build()
}

/// `POST /admin/stock-locations/{id}/stock`: a change of one variant's stock there.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = StockChange)]
pub(in crate::service) struct StockChangeBody {
    variant_id: i64,
    /// A receipt adds units; an adjustment adds or (negative) takes them away.
    #[schema(schema_with = by_hand_schema)]
    kind: String,
    quantity: i64,
    /// Why, for the ledger.
    reason: Option<String>,
}

/// Receives or adjusts a variant's stock at a location: a row of its ledger.
///
/// An adjustment that would leave fewer units on hand than are reserved is `409
/// insufficient_stock`; a receipt of nothing, or a quantity past the store's
/// range, is `422 invalid_stock_move`.
#[utoipa::path(
    post,
    path = "/admin/stock-locations/{id}/stock",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The location's id")),
    request_body = StockChangeBody,
    responses(
        (status = 200, description = "The level after it", body = InventoryLevelView),
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
pub(in crate::service) async fn change_stock(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StockChangeBody>,
) -> Result<Json<InventoryLevelView>, ApiError> {
    let kind = match body.kind.as_str() {
        "receipt" => MoveKind::Receipt,
        "adjustment" => MoveKind::Adjustment,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_stock_move",
                "kind is receipt or adjustment",
            ));
        }
    };
    let change = StockChange {
        location: StockLocationId::new(id),
        variant: VariantId::new(body.variant_id),
        movement: InventoryMove {
            kind,
            quantity: body.quantity,
        },
        reason: body.reason.as_deref().map(Reason::parse).transpose()?,
    };
    app.blocking(move |store| {
        let level = store.change_stock(change)?;
        Ok(Json(InventoryLevelView::from(&level)))
    })
    .await
}
