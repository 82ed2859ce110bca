//! Embedding ecom-store in an HTTP JSON service, the way a shop's backend would:
//! axum handlers turn JSON into domain types at the edge, run the store's blocking
//! calls on `spawn_blocking`, and map every outcome to an HTTP status with a typed
//! JSON error body.
//!
//! | method and path | what it does |
//! |---|---|
//! | `GET /categories/{id}/products?after=&limit=` | a category page (with subcategories), keyset-paginated |
//! | `GET /products/search?q=` | name search |
//! | `POST /users` | register `{email, name, password}`; `202` whether or not the address was taken |
//! | `POST /sessions/guest` | a guest session `{token, expires_at}` |
//! | `POST /sessions` | sign in `{email, password}`: a session `{token, expires_at, user}` |
//! | `DELETE /sessions/current` | sign out |
//! | `POST /carts` | the caller's open cart, created if needed, `{currency?}` (EUR) |
//! | `GET /carts/{ref}` | one of the caller's carts |
//! | `POST /carts/{ref}/items` | add `{product_id, quantity}` |
//! | `PUT /carts/{ref}/items/{product_id}` | set `{quantity}` |
//! | `DELETE /carts/{ref}/items/{product_id}` | remove a line |
//! | `POST /carts/claim` | a signed-in user takes over the guest's open cart named by the `Guest-Session` header |
//! | `POST /checkout` | place an order `{cart, shipping, billing?, email?, provider?}`; needs an `Idempotency-Key` header (the caller's own) |
//! | `GET /orders/{ref}` | one of the caller's orders, with lines, history and payments |
//! | `POST /webhooks/payments` | a payment provider's report `{id, payment_id, type, amount?, provider_ref?, reason?}`, signed in `Webhook-Signature` (see [`provider`]); booked once per `id` |
//! | `GET /orders/{id}` | the order with lines, history and payments |
//! | `GET /health/live` | `204` while the process answers |
//! | `GET /health/ready` | `204` while the database answers, else `503` |
//! | `GET /metrics` | Prometheus metrics (see `metrics`) |
//!
//! Every cart and order route takes the caller's session as `Authorization: Bearer
//! <token>` and answers `404` for a cart or order that is not the caller's, exactly
//! as for one that does not exist; `{ref}` is the cart's or order's public reference
//! (a UUID), never its id.
//!
//! Errors: `400` malformed request, `401` no valid session or bad credentials,
//! `404` not found, `409`
//! conflict (out of stock, illegal transition, key reused...), `413` body too large,
//! `422` invalid value, `429` too many registrations or checkouts from one address,
//! `503` retry later (the database is busy or down, the service is at capacity, or
//! the request took longer than its timeout). `429` and `503` carry `Retry-After`.
//! The body is always `{"error": {"code": "...", "message": "...", "details": ...}}`.
//!
//! Every answer carries an `x-request-id` (the client's, or a new UUID), which the
//! request's log span carries too.
//!
//! The back office's routes are under `/admin` (see [`admin`]), behind a token of
//! their own.
//!
//! The modules follow a request through: [`extract`] and `request` decode it,
//! `handlers` call the store, `response` writes the JSON, [`error`] maps every
//! refusal to a status; `limits` holds the bounds a client cannot change; [`app`]
//! holds the state every handler shares and the bounds on work a client can cause.

pub mod admin;
pub mod app;
pub mod background;
pub mod error;
pub mod extract;
mod handlers;
mod limits;
mod metrics;
pub mod provider;
mod request;
mod response;
mod running;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use ecom_store::PgStore;
use tower::ServiceBuilder;
use tower_governor::GovernorLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use admin::AdminToken;
pub use app::{App, ServiceConfig};
pub use background::{Background, Intervals};
pub use error::ApiError;
pub use extract::{ApiJson, ApiPath, ApiQuery, Bearer};
pub use limits::MAX_BODY_BYTES;
pub use provider::{SIGNATURE_HEADER, TestProvider};
pub use request::{BodyKind, decode_body};
pub use running::{RunningService, serve, shutdown_signal};

/// The service's routes over a store, with bounds sized to its pool
/// ([`ServiceConfig::for_store`]). Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()`: the rate limits key on the
/// client's address.
pub fn router(store: PgStore) -> Router {
    let config = ServiceConfig::for_store(&store);
    router_with(App::new(store, config))
}

/// The service's routes over `app`.
pub fn router_with(app: App) -> Router {
    use handlers::*;
    // Registration and checkout cost the most (a password hash; stock locks): each
    // client address gets a burst, then a steady rate, then 429 with Retry-After.
    let mut limited = Router::new()
        .route("/users", post(register))
        .route("/sessions", post(login))
        .route("/sessions/guest", post(guest_session))
        .route("/checkout", post(checkout));
    if let Some(guarded) = app.guarded.clone() {
        let metrics = app.metrics.clone();
        limited = limited.layer(GovernorLayer::new(guarded).error_handler(move |err| {
            metrics.rejected("rate");
            ApiError::rate_limited(err).into_response()
        }));
    }
    let admin = Router::new()
        .route("/categories", post(admin::create_category))
        .route("/products", post(admin::create_product))
        .route("/products/{id}/restock", post(admin::restock))
        .route("/orders", get(admin::orders))
        .route("/orders/{id}/events", post(admin::order_event))
        .route("/payments/{id}/refunds", post(admin::refund));
    let timeout = app.config.request_timeout;
    let timeouts = app.metrics.clone();
    Router::new()
        .route("/categories/{id}/products", get(category_page))
        .route("/products/search", get(search))
        .route("/carts", post(open_cart))
        .route("/carts/{id}", get(cart))
        .route("/carts/{id}/items", post(add_item))
        .route(
            "/carts/{id}/items/{product_id}",
            put(set_quantity).delete(remove_item),
        )
        .route("/carts/claim", post(claim))
        .route("/sessions/current", delete(logout))
        .route("/webhooks/payments", post(provider_report))
        .route("/orders/{id}", get(order))
        .merge(limited)
        .nest("/admin", admin)
        .route("/health/live", get(metrics::live))
        .route("/health/ready", get(metrics::ready))
        .route("/metrics", get(metrics::metrics))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "no_route", "no such route")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "the route does not take this method",
            )
        })
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            metrics::track,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                        let id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
                    }),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(HandleErrorLayer::new(move |_: tower::BoxError| {
                    let timeouts = timeouts.clone();
                    async move {
                        timeouts.rejected("timeout");
                        ApiError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "timeout",
                            "the request took too long; retry later",
                        )
                        .retry_after(1)
                    }
                }))
                .timeout(timeout),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}
