//! Embedding ecom-store in an HTTP JSON service, the way a shop's backend would:
//! axum handlers turn JSON into domain types at the edge, run the store's blocking
//! calls on `spawn_blocking`, and map every outcome to an HTTP status with a typed
//! JSON error body.
//!
//! | method and path | what it does |
//! |---|---|
//! | `GET /categories/{id}/products?after=&limit=` | a category page (with subcategories), keyset-paginated |
//! | `GET /products/search?q=` | name search |
//! | `POST /users` | register `{email, name, password}` |
//! | `POST /carts` | open a cart `{guest_token}` or `{user_id}`, currency `EUR` by default |
//! | `GET /carts/{id}` | the cart |
//! | `POST /carts/{id}/items` | add `{product_id, quantity}` |
//! | `PUT /carts/{id}/items/{product_id}` | set `{quantity}` |
//! | `DELETE /carts/{id}/items/{product_id}` | remove a line |
//! | `POST /carts/{id}/attach` | give a guest cart to `{user_id}` |
//! | `POST /checkout` | place an order; needs an `Idempotency-Key` header |
//! | `POST /payments/{id}/events` | a provider report `{type, amount?, provider_ref?, reason?}`; needs `Idempotency-Key` |
//! | `GET /orders/{id}` | the order with lines, history and payments |
//!
//! Errors: `400` malformed request, `401` bad credentials, `404` not found, `409`
//! conflict (out of stock, illegal transition, key reused...), `413` body too large,
//! `422` invalid value, `503` retry later. The body is always
//! `{"error": {"code": "...", "message": "...", "details": ...}}`.
//!
//! The modules follow a request through: [`extract`] and `request` decode it,
//! `handlers` call the store, `response` writes the JSON, [`error`] maps every
//! refusal to a status; `limits` holds the bounds a client cannot change.

pub mod error;
pub mod extract;
mod handlers;
mod limits;
mod request;
mod response;
mod running;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use ecom_store::PgStore;

pub use error::ApiError;
pub use extract::{ApiJson, ApiPath, ApiQuery};
pub use limits::MAX_BODY_BYTES;
pub use request::{BodyKind, decode_body};
pub use running::RunningService;

/// The service's routes over a store.
pub fn router(store: PgStore) -> Router {
    use handlers::*;
    Router::new()
        .route("/categories/{id}/products", get(category_page))
        .route("/products/search", get(search))
        .route("/users", post(register))
        .route("/carts", post(open_cart))
        .route("/carts/{id}", get(cart))
        .route("/carts/{id}/items", post(add_item))
        .route(
            "/carts/{id}/items/{product_id}",
            put(set_quantity).delete(remove_item),
        )
        .route("/carts/{id}/attach", post(attach))
        .route("/checkout", post(checkout))
        .route("/payments/{id}/events", post(payment_event))
        .route("/orders/{id}", get(order))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(store)
}
