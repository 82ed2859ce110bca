//! One handler per route: decode at the edge, call the store off the async runtime,
//! answer JSON.

mod gift_cards;
mod listing;
mod price_book;
mod returns;

// Globs, as in `admin`: each handler's `__path_<handler>` type goes with it.
pub(super) use gift_cards::*;
pub(super) use listing::*;
pub(super) use price_book::*;
pub(super) use returns::*;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use ecom_domain::prelude::*;
use ecom_store::StoreError;

use super::app::App;
use super::error::ApiError;
use super::extract::{ApiBytes, ApiJson, ApiPath, ApiQuery, Bearer, guest_session_header};
use super::limits::{DEFAULT_PAGE_LIMIT, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_CHARS};
use super::openapi::{
    BadRequest, Conflict, Invalid, NotFound, RateLimited, TooLarge, Unauthenticated, Unavailable,
    UnsupportedMediaType,
};
use super::provider::SIGNATURE_HEADER;
use super::request::{
    AddItemBody, CartLinePath, CartPath, CheckoutBody, LoginBody, OpenCartBody, PageQuery,
    ProviderReport, QuantityBody, RegisterBody, SearchQuery, cart_ref, idempotency_key, order_ref,
};
use super::response::{
    AcceptedView, CartView, GuestCartView, OrderView, PaymentOutcomeView, ProductListView,
    ProductPageView, SessionView, ShipmentListView,
};

// Each route's `#[utoipa::path]` is its entry in the OpenAPI document (see
// `openapi`): the path must be the one `router_with` registers, which a test checks.

/// A page of a category's products, with its subcategories'.
///
/// Keyset-paginated: pass the page's `next` as `after` for the following page.
#[utoipa::path(
    get,
    path = "/categories/{id}/products",
    tag = "catalog",
    params(("id" = i64, Path, description = "The category's id"), PageQuery),
    responses(
        (status = 200, description = "A page of products", body = ProductPageView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn category_page(
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ProductPageView>, ApiError> {
    app.blocking(move |store| {
        let page = store.list_products(
            CategoryId::new(id),
            PageRequest {
                after: q.after.map(ProductId::new),
                limit: q.limit.unwrap_or(DEFAULT_PAGE_LIMIT),
            },
        )?;
        Ok(Json(ProductPageView::from(&page)))
    })
    .await
}

/// Products whose name matches the query.
#[utoipa::path(
    get,
    path = "/products/search",
    tag = "catalog",
    params(SearchQuery),
    responses(
        (status = 200, description = "The best matches", body = ProductListView),
        (status = 400, response = BadRequest),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn search(
    State(app): State<App>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<ProductListView>, ApiError> {
    if q.q.chars().count() > MAX_SEARCH_CHARS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "query_too_long",
            format!("a search query has at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    app.blocking(move |store| {
        let hits = store.search_products(&q.q, q.limit.unwrap_or(DEFAULT_SEARCH_LIMIT))?;
        Ok(Json(ProductListView::new(&hits)))
    })
    .await
}

/// Registers an account.
///
/// The answer is the same whether the address was free or taken, after the same
/// work: a registration does not tell who has an account.
#[utoipa::path(
    post,
    path = "/users",
    tag = "accounts",
    request_body = RegisterBody,
    responses(
        (status = 202, description = "Accepted; sign in with `POST /sessions`", body = AcceptedView),
        (status = 400, response = BadRequest),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn register(
    State(app): State<App>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<AcceptedView>), ApiError> {
    let new = body.into_new_user()?;
    app.hashing(move |store| match store.register(new) {
        Ok(_) | Err(StoreError::Domain(DomainError::AlreadyTaken { .. })) => {
            Ok((StatusCode::ACCEPTED, Json(AcceptedView::REGISTRATION)))
        }
        Err(err) => Err(err.into()),
    })
    .await
}

/// Starts a guest's session, whose carts and orders are its own.
///
/// Any body is read and ignored.
#[utoipa::path(
    post,
    path = "/sessions/guest",
    tag = "accounts",
    responses(
        (status = 201, description = "A new guest session; its token is shown this once", body = SessionView),
        (status = 413, response = TooLarge),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn guest_session(
    State(app): State<App>,
    // Read (and ignored), bounded like every body: a body left unread makes the
    // server close a keep-alive connection the client may be about to reuse.
    ApiBytes(_): ApiBytes,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    app.blocking(|store| {
        let session = store.start_guest_session()?;
        Ok((StatusCode::CREATED, Json(SessionView::new(&session, None))))
    })
    .await
}

/// Starts a guest's session and opens its empty cart, in one step: a guest's first
/// request, without one of its own for the session.
#[utoipa::path(
    post,
    path = "/sessions/guest/cart",
    tag = "accounts",
    request_body = OpenCartBody,
    responses(
        (status = 201, description = "A new guest session (its token is shown this once) and its empty cart", body = GuestCartView),
        (status = 400, response = BadRequest),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn guest_cart(
    State(app): State<App>,
    ApiJson(body): ApiJson<OpenCartBody>,
) -> Result<(StatusCode, Json<GuestCartView>), ApiError> {
    let currency = body.currency()?;
    app.blocking(move |store| {
        let (session, cart) = store.open_guest_cart(currency)?;
        Ok((
            StatusCode::CREATED,
            Json(GuestCartView {
                session: SessionView::new(&session, None),
                cart: CartView::from(&cart),
            }),
        ))
    })
    .await
}

/// Signs a user in with e-mail and password.
#[utoipa::path(
    post,
    path = "/sessions",
    tag = "accounts",
    request_body = LoginBody,
    responses(
        (status = 201, description = "A new session; its token is shown this once", body = SessionView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn login(
    State(app): State<App>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let (email, password) = body.credentials()?;
    app.hashing(move |store| {
        let (session, user) = store.login(&email, &password)?;
        Ok((
            StatusCode::CREATED,
            Json(SessionView::new(&session, Some(&user))),
        ))
    })
    .await
}

/// Ends the caller's session (signs out).
#[utoipa::path(
    delete,
    path = "/sessions/current",
    tag = "accounts",
    security(("session" = [])),
    responses(
        (status = 204, description = "The session is over"),
        (status = 401, response = Unauthenticated),
        (status = 413, response = TooLarge),
        (status = 503, response = Unavailable),
    )
)]
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

/// The caller's open cart, created if there is none.
#[utoipa::path(
    post,
    path = "/carts",
    tag = "carts",
    security(("session" = [])),
    request_body = OpenCartBody,
    responses(
        (status = 200, description = "The caller's open cart", body = CartView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn open_cart(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiJson(body): ApiJson<OpenCartBody>,
) -> Result<Json<CartView>, ApiError> {
    let currency = body.currency()?;
    app.blocking(move |store| Ok(Json(CartView::from(&store.my_cart(&who, currency)?))))
        .await
}

/// One of the caller's carts.
#[utoipa::path(
    get,
    path = "/carts/{id}",
    tag = "carts",
    security(("session" = [])),
    params(CartPath),
    responses(
        (status = 200, description = "The cart", body = CartView),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn cart(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(CartPath { id: cart }): ApiPath<CartPath>,
) -> Result<Json<CartView>, ApiError> {
    let cart = cart_ref(&cart)?;
    app.blocking(move |store| Ok(Json(CartView::from(&store.cart_of(&who, cart)?))))
        .await
}

/// Adds units of a variant to one of the caller's carts.
///
/// Only variants of active products go in: a draft's or an archived product's is
/// `409 not_on_sale`.
#[utoipa::path(
    post,
    path = "/carts/{id}/items",
    tag = "carts",
    security(("session" = [])),
    params(CartPath),
    request_body = AddItemBody,
    responses(
        (status = 200, description = "The cart after the change", body = CartView),
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
pub(super) async fn add_item(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(CartPath { id: cart }): ApiPath<CartPath>,
    ApiJson(body): ApiJson<AddItemBody>,
) -> Result<Json<CartView>, ApiError> {
    let cart = cart_ref(&cart)?;
    let quantity = Quantity::new(body.quantity)?;
    let variant = VariantId::new(body.variant_id);
    app.blocking(move |store| {
        Ok(Json(CartView::from(
            &store.add_to_cart(&who, cart, variant, quantity)?,
        )))
    })
    .await
}

/// Sets the quantity of a line of one of the caller's carts.
#[utoipa::path(
    put,
    path = "/carts/{id}/items/{variant_id}",
    tag = "carts",
    security(("session" = [])),
    params(CartLinePath),
    request_body = QuantityBody,
    responses(
        (status = 200, description = "The cart after the change", body = CartView),
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
pub(super) async fn set_quantity(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(CartLinePath {
        id: cart,
        variant_id: variant,
    }): ApiPath<CartLinePath>,
    ApiJson(body): ApiJson<QuantityBody>,
) -> Result<Json<CartView>, ApiError> {
    let cart = cart_ref(&cart)?;
    let quantity = Quantity::new(body.quantity)?;
    app.blocking(move |store| {
        Ok(Json(CartView::from(&store.set_cart_quantity(
            &who,
            cart,
            VariantId::new(variant),
            quantity,
        )?)))
    })
    .await
}

/// Removes a line from one of the caller's carts.
#[utoipa::path(
    delete,
    path = "/carts/{id}/items/{variant_id}",
    tag = "carts",
    security(("session" = [])),
    params(CartLinePath),
    responses(
        (status = 200, description = "The cart after the change", body = CartView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn remove_item(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(CartLinePath {
        id: cart,
        variant_id: variant,
    }): ApiPath<CartLinePath>,
) -> Result<Json<CartView>, ApiError> {
    let cart = cart_ref(&cart)?;
    app.blocking(move |store| {
        Ok(Json(CartView::from(&store.remove_from_cart(
            &who,
            cart,
            VariantId::new(variant),
        )?)))
    })
    .await
}

/// A signed-in user takes over a guest's open cart.
///
/// At sign-in: the guest's session names the cart in `Guest-Session`, the user's is
/// the bearer; both tokens are needed.
#[utoipa::path(
    post,
    path = "/carts/claim",
    tag = "carts",
    security(("session" = [])),
    params(("Guest-Session" = String, Header, description = "The guest session's token")),
    responses(
        (status = 200, description = "The user's open cart, with the guest's lines", body = CartView),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn claim(
    State(app): State<App>,
    Bearer(user): Bearer,
    headers: HeaderMap,
    ApiBytes(_): ApiBytes,
) -> Result<Json<CartView>, ApiError> {
    let guest = guest_session_header(&headers)?;
    app.blocking(move |store| {
        Ok(Json(CartView::from(
            &store.claim_guest_cart(&user, &guest)?,
        )))
    })
    .await
}

/// Places an order from one of the caller's carts.
///
/// Stock is reserved and a pending payment created; the payment provider then
/// reports on `/webhooks/payments`. Gift cards named in `gift_cards` pay first,
/// each a captured payment of its own; the provider's payment is what they
/// leave, and when they leave nothing there is none and the order is `paid` at
/// once. A retry with the same `Idempotency-Key` answers the same order with 200;
/// the key is the caller's own.
#[utoipa::path(
    post,
    path = "/checkout",
    tag = "orders",
    security(("session" = [])),
    params(("Idempotency-Key" = String, Header, description = "The client's id for this checkout; a retry sends the same")),
    request_body = CheckoutBody,
    responses(
        (status = 201, description = "The order placed", body = OrderView),
        (status = 200, description = "The order this key placed before", body = OrderView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn checkout(
    State(app): State<App>,
    Bearer(who): Bearer,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckoutBody>,
) -> Result<(StatusCode, Json<OrderView>), ApiError> {
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
    Ok((status, Json(OrderView::new(&done.order, &done.payments()))))
}

/// A payment provider's report.
///
/// Believed only when `Webhook-Signature` signs the body exactly as received
/// under one of the shop's secrets (`PAYMENT_WEBHOOK_SECRETS`) within five minutes,
/// and booked once per provider event id: a report delivered twice answers
/// `duplicate: true` and changes nothing.
#[utoipa::path(
    post,
    path = "/webhooks/payments",
    tag = "webhooks",
    params(("Webhook-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">`; several `v1` during a secret's rotation")),
    request_body = ProviderReport,
    responses(
        (status = 200, description = "Booked (or booked before)", body = PaymentOutcomeView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn provider_report(
    State(app): State<App>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<PaymentOutcomeView>, ApiError> {
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
        Ok(Json(PaymentOutcomeView::from(&out)))
    })
    .await
}

/// One of the caller's orders, with its lines, history and payments.
#[utoipa::path(
    get,
    path = "/orders/{id}",
    tag = "orders",
    security(("session" = [])),
    params(("id" = String, Path, format = "uuid", description = "The order's public reference")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn order(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(order): ApiPath<String>,
) -> Result<Json<OrderView>, ApiError> {
    let order = order_ref(&order)?;
    app.blocking(move |store| {
        let details = store.order_of(&who, order)?;
        Ok(Json(OrderView::new(&details.order, &details.payments)))
    })
    .await
}

/// The shipments of one of the caller's orders, oldest first: what each holds,
/// where it is, and how to track it.
#[utoipa::path(
    get,
    path = "/orders/{id}/shipments",
    tag = "orders",
    security(("session" = [])),
    params(("id" = String, Path, format = "uuid", description = "The order's public reference")),
    responses(
        (status = 200, description = "The order's shipments", body = ShipmentListView),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn order_shipments(
    State(app): State<App>,
    Bearer(who): Bearer,
    ApiPath(order): ApiPath<String>,
) -> Result<Json<ShipmentListView>, ApiError> {
    let order = order_ref(&order)?;
    app.blocking(move |store| {
        let shipments = store.shipments_of(&who, order)?;
        Ok(Json(ShipmentListView::new(&shipments)))
    })
    .await
}
