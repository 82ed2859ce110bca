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
use super::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery, Bearer, guest_session_header};
use super::limits::{DEFAULT_PAGE_LIMIT, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_CHARS};
use super::provider::SIGNATURE_HEADER;
use super::request::{
    AddItemBody, CheckoutBody, LoginBody, OpenCartBody, PageQuery, ProviderReport, QuantityBody,
    RegisterBody, SearchQuery, cart_ref, idempotency_key, order_ref,
};
use super::response::{
    PaymentOutcomeBody, cart_json, order_json, payment_json, product_json, session_json,
};

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
    if q.q.chars().count() > MAX_SEARCH_CHARS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "query_too_long",
            format!("a search query has at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    app.blocking(move |store| {
        let hits = store.search_products(&q.q, q.limit.unwrap_or(DEFAULT_SEARCH_LIMIT))?;
        Ok(Json(
            json!({ "items": hits.iter().map(product_json).collect::<Vec<_>>() }),
        ))
    })
    .await
}

/// `POST /users`. The answer is the same whether the address was free or taken,
/// after the same work: a registration does not tell who has an account.
pub(super) async fn register(
    State(app): State<App>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let new = body.into_new_user()?;
    app.hashing(move |store| match store.register(new) {
        Ok(_) | Err(StoreError::Domain(DomainError::AlreadyTaken { .. })) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "status": "accepted", "next": "sign in with POST /sessions" })),
        )),
        Err(err) => Err(err.into()),
    })
    .await
}

/// `POST /sessions/guest`: a session for a guest, whose carts and orders are its own.
pub(super) async fn guest_session(
    State(app): State<App>,
    // Read (and ignored), bounded like every body: a body left unread makes the
    // server close a keep-alive connection the client may be about to reuse.
    ApiBytes(_): ApiBytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    app.blocking(|store| {
        let session = store.start_guest_session()?;
        Ok((StatusCode::CREATED, Json(session_json(&session, None))))
    })
    .await
}

/// `POST /sessions`: sign in with e-mail and password.
pub(super) async fn login(
    State(app): State<App>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (email, password) = body.credentials()?;
    app.hashing(move |store| {
        let (session, user) = store.login(&email, &password)?;
        Ok((
            StatusCode::CREATED,
            Json(session_json(&session, Some(&user))),
        ))
    })
    .await
}

/// `DELETE /sessions/current`: sign out.
pub(super) async fn logout(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiBytes(_): ApiBytes,
) -> Result<StatusCode, ApiError> {
    app.blocking(move |store| {
        store.end_session(&who)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// `POST /carts`: the caller's open cart, created if there is none.
pub(super) async fn open_cart(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiJson(body): ApiJson<OpenCartBody>,
) -> Result<Json<Value>, ApiError> {
    let currency = body.currency()?;
    app.blocking(move |store| Ok(Json(cart_json(&store.my_cart(&who, currency)?))))
        .await
}

pub(super) async fn cart(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(cart): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let cart = cart_ref(&cart)?;
    app.blocking(move |store| Ok(Json(cart_json(&store.cart_of(&who, cart)?))))
        .await
}

pub(super) async fn add_item(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(cart): ApiPath<String>,
    ApiJson(body): ApiJson<AddItemBody>,
) -> Result<Json<Value>, ApiError> {
    let cart = cart_ref(&cart)?;
    let quantity = Quantity::new(body.quantity)?;
    let product = ProductId::new(body.product_id);
    app.blocking(move |store| {
        Ok(Json(cart_json(
            &store.add_to_cart(&who, cart, product, quantity)?,
        )))
    })
    .await
}

pub(super) async fn set_quantity(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath((cart, product)): ApiPath<(String, i64)>,
    ApiJson(body): ApiJson<QuantityBody>,
) -> Result<Json<Value>, ApiError> {
    let cart = cart_ref(&cart)?;
    let quantity = Quantity::new(body.quantity)?;
    app.blocking(move |store| {
        Ok(Json(cart_json(&store.set_cart_quantity(
            &who,
            cart,
            ProductId::new(product),
            quantity,
        )?)))
    })
    .await
}

pub(super) async fn remove_item(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath((cart, product)): ApiPath<(String, i64)>,
) -> Result<Json<Value>, ApiError> {
    let cart = cart_ref(&cart)?;
    app.blocking(move |store| {
        Ok(Json(cart_json(&store.remove_from_cart(
            &who,
            cart,
            ProductId::new(product),
        )?)))
    })
    .await
}

/// `POST /carts/claim`: a signed-in user takes over the open cart of the guest
/// session named in `Guest-Session` (at login): both tokens are needed.
pub(super) async fn claim(
    State(app): State<App>,
    Bearer(user): Bearer,
    headers: HeaderMap,
    ApiBytes(_): ApiBytes,
) -> Result<Json<Value>, ApiError> {
    let guest = guest_session_header(&headers)?;
    app.blocking(move |store| Ok(Json(cart_json(&store.claim_guest_cart(&user, &guest)?))))
        .await
}

pub(super) async fn checkout(
    State(app): State<App>,
    Bearer(who): Bearer,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckoutBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let order = body.into_order(idempotency_key(&headers)?)?;
    let metrics = app.metrics.clone();
    let placed = app
        .blocking(move |store| Ok(store.place_order(&who, &order)))
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
    Bearer(who): Bearer,
    ApiPath(order): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let order = order_ref(&order)?;
    app.blocking(move |store| {
        let details = store.order_of(&who, order)?;
        Ok(Json(order_json(&details.order, &details.payments)))
    })
    .await
}
