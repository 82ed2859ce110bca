//! One handler per route: decode at the edge, call the store off the async runtime,
//! answer JSON.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use ecom_domain::prelude::*;
use ecom_store::StoreError;
use serde_json::{Value, json};

use super::app::App;
use super::error::ApiError;
use super::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery};
use super::limits::{DEFAULT_PAGE_LIMIT, DEFAULT_SEARCH_LIMIT};
use super::provider::SIGNATURE_HEADER;
use super::request::{
    AddItemBody, AttachBody, CheckoutBody, OpenCartBody, PageQuery, ProviderReport, QuantityBody,
    RegisterBody, SearchQuery, idempotency_key,
};
use super::response::{PaymentOutcomeBody, cart_json, order_json, payment_json, product_json};

pub(super) async fn category_page(
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    app.blocking(move |store| {
        let page = store.list_products(
            CategoryId::new(id),
            PageRequest {
                after: q.after.map(ProductId::new),
                limit: q.limit.unwrap_or(DEFAULT_PAGE_LIMIT),
            },
        )?;
        Ok(Json(json!({ "items": page.items.iter().map(product_json).collect::<Vec<_>>(), "next": page.next })))
    })
    .await
}

pub(super) async fn search(
    State(app): State<App>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    app.blocking(move |store| {
        let hits = store.search_products(&q.q, q.limit.unwrap_or(DEFAULT_SEARCH_LIMIT))?;
        Ok(Json(
            json!({ "items": hits.iter().map(product_json).collect::<Vec<_>>() }),
        ))
    })
    .await
}

pub(super) async fn register(
    State(app): State<App>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let new = body.into_new_user()?;
    app.hashing(move |store| {
        let user = store.register(new)?;
        Ok((
            StatusCode::CREATED,
            Json(json!({ "id": user.id, "email": user.email.as_str() })),
        ))
    })
    .await
}

pub(super) async fn open_cart(
    State(app): State<App>,
    ApiJson(body): ApiJson<OpenCartBody>,
) -> Result<Json<Value>, ApiError> {
    let (owner, currency) = body.into_owner()?;
    app.blocking(move |store| Ok(Json(cart_json(&store.open_cart(&owner, currency)?))))
        .await
}

pub(super) async fn cart(
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    app.blocking(move |store| Ok(Json(cart_json(&store.cart(CartId::new(id))?))))
        .await
}

pub(super) async fn add_item(
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AddItemBody>,
) -> Result<Json<Value>, ApiError> {
    let quantity = Quantity::new(body.quantity)?;
    app.blocking(move |store| {
        Ok(Json(cart_json(&store.add_item(
            CartId::new(id),
            ProductId::new(body.product_id),
            quantity,
        )?)))
    })
    .await
}

pub(super) async fn set_quantity(
    State(app): State<App>,
    ApiPath((id, product)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<QuantityBody>,
) -> Result<Json<Value>, ApiError> {
    let quantity = Quantity::new(body.quantity)?;
    app.blocking(move |store| {
        Ok(Json(cart_json(&store.set_quantity(
            CartId::new(id),
            ProductId::new(product),
            quantity,
        )?)))
    })
    .await
}

pub(super) async fn remove_item(
    State(app): State<App>,
    ApiPath((id, product)): ApiPath<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    app.blocking(move |store| {
        Ok(Json(cart_json(
            &store.remove_item(CartId::new(id), ProductId::new(product))?,
        )))
    })
    .await
}

pub(super) async fn attach(
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AttachBody>,
) -> Result<Json<Value>, ApiError> {
    app.blocking(move |store| {
        Ok(Json(cart_json(&store.attach_cart(
            CartId::new(id),
            UserId::new(body.user_id),
        )?)))
    })
    .await
}

pub(super) async fn checkout(
    State(app): State<App>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckoutBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request = body.into_request(idempotency_key(&headers)?)?;
    let metrics = app.metrics.clone();
    let placed = app
        .blocking(move |store| Ok(store.checkout(&request)))
        .await?;
    metrics.checkout(match &placed {
        Ok(done) if done.replayed => "replayed",
        Ok(_) => "created",
        Err(StoreError::Domain(DomainError::OutOfStock(_))) => "out_of_stock",
        Err(StoreError::Domain(_)) => "refused",
        Err(_) => "failed",
    });
    let done = placed?;
    // A replay is the same order again, not a new one.
    let status = if done.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(order_json(&done.order, &[done.payment]))))
}

/// `POST /webhooks/payments`: a payment provider's report, believed only when its
/// `Webhook-Signature` header signs the body exactly as received under one of the
/// shop's secrets, and booked once per provider event id.
pub(super) async fn provider_report(
    State(app): State<App>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<PaymentOutcomeBody>, ApiError> {
    let verifier = app.webhooks.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhooks_not_configured",
            "no webhook secret is configured",
        )
    })?;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    verifier
        .verify(signature, &body, chrono::Utc::now())
        .map_err(ApiError::from)?;
    let report: ProviderReport = Json::from_bytes(&body)?.0;
    let event = report.event()?;
    let payment = PaymentId::new(report.payment_id);
    app.blocking(move |store| {
        let out = store.record_payment_event(payment, event)?;
        Ok(Json(PaymentOutcomeBody {
            payment: payment_json(&out.payment),
            order_status: out.order_status.as_str(),
            duplicate: out.applied == Applied::Duplicate,
        }))
    })
    .await
}

pub(super) async fn order(
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    app.blocking(move |store| {
        let details = store.order(OrderId::new(id))?;
        Ok(Json(order_json(&details.order, &details.payments)))
    })
    .await
}
