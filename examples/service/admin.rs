//! The back office, under `/admin`, behind a credential of its own (`ADMIN_TOKEN`):
//! the store's privileged, id-based API, which no customer session reaches.
//!
//! | method and path | what it does |
//! |---|---|
//! | `POST /admin/categories` | create `{slug, name, parent_id?}` |
//! | `POST /admin/products` | create `{sku, name, description?, category_id, price, currency?, stock}` |
//! | `POST /admin/products/{id}/restock` | add `{units}` to the stock |
//! | `GET /admin/orders?status=&limit=` | orders in a status, oldest first |
//! | `POST /admin/orders/{id}/events` | `{event: ship / deliver / cancel, note?}` |
//! | `POST /admin/payments/{id}/refunds` | refund `{amount, currency?, reason?}`; needs `Idempotency-Key` |

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use ecom_domain::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::app::App;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::request::idempotency_key;
use super::response::{payment_json, product_json};

/// The shortest admin token accepted: 32 characters.
pub const MIN_ADMIN_TOKEN_LEN: usize = 32;

/// The back office's credential, kept as its digest.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken([u8; 32]);

impl AdminToken {
    /// A token of at least [`MIN_ADMIN_TOKEN_LEN`] characters, or `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() >= MIN_ADMIN_TOKEN_LEN).then(|| Self(Sha256::digest(raw.as_bytes()).into()))
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

/// A request that carries the admin token as `Authorization: Bearer <token>`.
/// Digests are compared, so the time taken says nothing about the token.
pub struct Staff;

impl FromRequestParts<App> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let Some(expected) = &app.config.admin_token else {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "admin_not_configured",
                "the back office has no token configured",
            ));
        };
        let given = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        if digest == expected.0 {
            Ok(Staff)
        } else {
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the back office needs its token",
            ))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CategoryBody {
    slug: String,
    name: String,
    parent_id: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProductBody {
    sku: String,
    name: String,
    description: Option<String>,
    category_id: i64,
    price: String,
    currency: Option<String>,
    stock: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RestockBody {
    units: u32,
}

#[derive(Deserialize)]
pub(super) struct OrdersQuery {
    status: String,
    limit: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventBody {
    event: String,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RefundBody {
    amount: String,
    currency: Option<String>,
    reason: Option<String>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

pub(super) async fn create_category(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<CategoryBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let new = NewCategory {
        parent_id: body.parent_id.map(CategoryId::new),
        slug: Slug::parse(&body.slug)?,
        name: CategoryName::parse(&body.name)?,
    };
    app.blocking(move |store| {
        let category = store.create_category(new)?;
        Ok((
            StatusCode::CREATED,
            Json(json!({ "id": category.id, "slug": category.slug.as_str() })),
        ))
    })
    .await
}

pub(super) async fn create_product(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<ProductBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let currency = Currency::from_code(body.currency.as_deref().unwrap_or("EUR"))?;
    let new = NewProduct {
        sku: Sku::parse(&body.sku)?,
        name: ProductName::parse(&body.name)?,
        description: Description::parse(body.description.as_deref().unwrap_or_default())?,
        category_id: CategoryId::new(body.category_id),
        price: Money::parse(&body.price, currency)?,
        stock_on_hand: body.stock,
    };
    app.blocking(move |store| {
        Ok((
            StatusCode::CREATED,
            Json(product_json(&store.create_product(new)?)),
        ))
    })
    .await
}

pub(super) async fn restock(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RestockBody>,
) -> Result<Json<Value>, ApiError> {
    app.blocking(move |store| {
        Ok(Json(product_json(
            &store.restock(ProductId::new(id), body.units)?,
        )))
    })
    .await
}

pub(super) async fn orders(
    _: Staff,
    State(app): State<App>,
    ApiQuery(q): ApiQuery<OrdersQuery>,
) -> Result<Json<Value>, ApiError> {
    let status: OrderStatus = q
        .status
        .parse()
        .map_err(|e: ecom_domain::UnknownVariant| invalid(e.to_string()))?;
    app.blocking(move |store| {
        let page = store.orders_in_status(status, PageRequest::first(q.limit.unwrap_or(50)))?;
        let items: Vec<Value> = page
            .items
            .iter()
            .map(|o| {
                json!({
                    "id": o.id, "reference": o.reference.to_string(), "status": o.status.as_str(),
                    "grand_total": super::response::money_json(o.grand_total),
                    "line_count": o.line_count, "created_at": o.created_at,
                })
            })
            .collect();
        Ok(Json(json!({ "items": items })))
    })
    .await
}

pub(super) async fn order_event(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<EventBody>,
) -> Result<Json<Value>, ApiError> {
    let event: OrderEvent = body
        .event
        .parse()
        .map_err(|e: ecom_domain::UnknownVariant| invalid(e.to_string()))?;
    let note = body
        .note
        .map(|n| Reason::parse(&n).map(String::from))
        .transpose()?;
    app.blocking(move |store| {
        let order = store.transition(OrderId::new(id), event, note)?;
        Ok(Json(
            json!({ "id": order.id, "status": order.status.as_str() }),
        ))
    })
    .await
}

pub(super) async fn refund(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefundBody>,
) -> Result<Json<Value>, ApiError> {
    let key = idempotency_key(&headers)?;
    let currency = Currency::from_code(body.currency.as_deref().unwrap_or("EUR"))?;
    let action = PaymentAction::Refund {
        amount: Money::parse(&body.amount, currency)?,
        reason: body.reason.as_deref().map(Reason::parse).transpose()?,
    };
    app.blocking(move |store| {
        let out = store.record_payment_event(PaymentId::new(id), PaymentEvent { key, action })?;
        Ok(Json(json!({
            "payment": payment_json(&out.payment),
            "order_status": out.order_status.as_str(),
            "duplicate": out.applied == Applied::Duplicate,
        })))
    })
    .await
}
