//! Embedding ecom-store in an HTTP JSON service, the way a shop's backend would:
//! axum handlers turn JSON into domain types at the edge, run the store's blocking
//! calls on `spawn_blocking`, and map every outcome to an HTTP status with a typed
//! JSON error body.
//!
//! | method and path | what it does |
//! |---|---|
//! | `GET /categories/{id}/products?after=&limit=` | a category page (with subcategories), keyset-paginated: active products with their option types and variants |
//! | `GET /products/search?q=` | name search, products as on a category page |
//! | `GET /categories/{id}/browse?facet=colour:red,blue&facet=size:m&min_price=&max_price=&currency=&in_stock=&sort=&limit=&after=` | a category listing filtered by facets (AND across, OR within), "from" price and stock, sorted `newest` / `price_asc` / `price_desc` / `name`, keyset-paginated by an opaque cursor, with its `total` and facet counts |
//! | `GET /search?q=&limit=&after=` | full-text search over names, descriptions, attribute and option values (the last word a prefix; similar names when nothing matches), hits with their score |
//! | `GET /collections/{slug}` | a collection |
//! | `GET /collections/{slug}/products?after=&limit=` | its active products, in its order |
//! | `GET /attributes` | the attribute definitions |
//! | `POST /users` | register `{email, name, password}`; `202` whether or not the address was taken |
//! | `POST /sessions/guest` | a guest session `{token, expires_at}` |
//! | `POST /sessions/guest/cart` | a guest session and its empty cart in one step, `{currency?}` (EUR) |
//! | `POST /sessions` | sign in `{email, password}`: a session `{token, expires_at, user}` |
//! | `DELETE /sessions/current` | sign out |
//! | `POST /carts` | the caller's open cart, created if needed, `{currency?}` (EUR) |
//! | `GET /carts/{ref}` | one of the caller's carts |
//! | `POST /carts/{ref}/items` | add `{variant_id, quantity}`; a variant of a draft or archived product (`PUT /admin/products/{id}/status`) is `409 not_on_sale` |
//! | `PUT /carts/{ref}/items/{variant_id}` | set `{quantity}` |
//! | `DELETE /carts/{ref}/items/{variant_id}` | remove a line |
//! | `GET /carts/{ref}/shipping-options?country=&region=` | the shipping methods that take the cart there, with their prices for it, cheapest first |
//! | `GET /carts/{ref}/quote?country=&region=&method=` | the cart priced from the price book for that destination and method: lines with their discount, net, tax and rate, the shipping charge, the tax lines, the automatic promotions applied, the totals |
//! | `POST /carts/claim` | a signed-in user takes over the guest's open cart named by the `Guest-Session` header |
//! | `POST /checkout` | place an order `{cart, shipping, billing?, email?, provider?, shipping_method?, coupon_codes?, gift_cards?}`; needs an `Idempotency-Key` header (the caller's own); without a `shipping_method` each line is charged its variant's price at that moment (`PUT /admin/variants/{id}/price`) and the flat rules add shipping and tax; with one (a code of the cart's shipping options to the shipping address) the order is priced as its quote is, with the automatic promotions and those of up to 5 coupon codes, and keeps an invoice; a method that does not take the cart there is `422 shipping_unavailable`; a code used up is `409 coupon_exhausted` (`coupon_customer_limit` for this customer), one that does not exist or apply is `422 coupon_unknown`, `coupon_expired`, `coupon_not_yet_valid`, `coupon_wrong_currency` or `coupon_not_applicable` (also any code without a `shipping_method`); up to 5 gift card codes pay first, in their order, each what its balance covers, and the provider's payment is the rest (none, and the order `paid` at once, when the cards cover it all); a card that does not exist, has expired or is in another currency is `422 gift_card_unknown`, `gift_card_expired`, `gift_card_wrong_currency`, one spent to zero `409 gift_card_empty` |
//! | `POST /gift-cards/balance` | `{code}`: the balance, last four letters and end date of the card whose code it is, for whoever holds the code (no session; the code goes in the body, never in a URL, which logs keep); rate-limited per address like checkout |
//! | `GET /orders/{ref}` | one of the caller's orders, with lines (each its variant and option values at checkout, and its discount, net, tax and rate when priced from the price book), its totals with their discount, its invoice (or null) with the promotions applied, history and payments (a gift card's with its `gift_card_id`) |
//! | `GET /orders/{ref}/shipments` | the shipments of one of the caller's orders, oldest first: their lines, status, carrier and tracking number and URL |
//! | `POST /orders/{ref}/returns` | ask for units of one of the caller's orders that left to come back `{lines: [{line_no, quantity}], reason, note?}`: a requested return, which the shop approves or rejects |
//! | `GET /orders/{ref}/returns` | the returns of one of the caller's orders, oldest first: lines, status, receipt and what each refunded |
//! | `GET /orders/{ref}/cancellations` | the units of one of the caller's orders the shop cancelled before they shipped, and what each cancellation refunded |
//! | `POST /webhooks/payments` | a payment provider's report `{id, payment_id, type, amount?, provider_ref?, reason?}`, signed in `Webhook-Signature` (see [`provider`]); booked once per `id` |
//! | `GET /health/live` | `204` while the process answers |
//! | `GET /health/ready` | `204` while the database answers, else `503` |
//! | `GET /metrics` | Prometheus metrics (see `metrics`) |
//! | `GET /openapi.json` | the OpenAPI 3.1 document of all of this, generated from the code (see [`openapi`]); checked in as `docs/openapi.json` |
//!
//! Every cart and order route takes the caller's session as `Authorization: Bearer
//! <token>` and answers `404` for a cart or order that is not the caller's, exactly
//! as for one that does not exist; `{ref}` is the cart's or order's public reference
//! (a UUID), never its id.
//!
//! Errors: `400` malformed request, `401` no valid session or bad credentials,
//! `404` not found, `409` conflict (out of stock, not on sale, illegal transition,
//! key reused...), `413` body too large, `422` invalid value (or option values that
//! break the variant rules), `429` too many registrations or checkouts from one
//! address, `503` retry later (the database is busy or down, the service is at
//! capacity, or the request took longer than its timeout). `429` and `503` carry
//! `Retry-After`.
//! The body is always `{"error": {"code": "...", "message": "...", "details": ...}}`.
//!
//! Every answer carries an `x-request-id` (the client's, or a new UUID), which the
//! request's log span carries too.
//!
//! The back office's routes are under `/admin` (see [`admin`], which lists them),
//! behind a token of their own: staff build the catalog, put a product on or off
//! sale (`PUT /admin/products/{id}/status`), reprice a variant
//! (`PUT /admin/variants/{id}/price`), restock, define attributes and set their
//! values, set images, curate collections, move orders on and refund payments,
//! keep the price book (markets, price lists, customer groups, tax classes and
//! rates, shipping zones and methods), set promotions and their coupon codes,
//! issue gift cards and refund orders.
//!
//! The modules follow a request through: [`extract`] and `request` decode it,
//! `handlers` call the store, `response` writes the JSON, [`error`] maps every
//! refusal to a status; `limits` holds the bounds a client cannot change; [`app`]
//! holds the state every handler shares and the bounds on work a client can cause.

pub mod admin;
pub mod app;
pub mod background;
mod cursor;
pub mod error;
pub mod extract;
mod handlers;
mod limits;
mod metrics;
pub mod openapi;
pub mod outbox;
pub mod provider;
mod request;
mod response;
mod running;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{MethodFilter, on};
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
pub use outbox::OutboxWebhook;
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

/// Routes that remember what was registered on them, so that a test can hold the
/// OpenAPI document to every route the router serves ([`registered_routes`]).
struct Routes {
    router: Router<App>,
    /// `(method, path)` of every route, as registered.
    registered: Vec<(&'static str, String)>,
}

/// The methods the service's routes use, by the name the OpenAPI document uses.
const METHODS: [(MethodFilter, &str); 4] = [
    (MethodFilter::GET, "get"),
    (MethodFilter::POST, "post"),
    (MethodFilter::PUT, "put"),
    (MethodFilter::DELETE, "delete"),
];

impl Routes {
    fn new() -> Self {
        Self {
            router: Router::new(),
            registered: Vec::new(),
        }
    }

    /// Serves `handler` for `method` on `path`. Two methods of one path are two
    /// calls: axum merges them.
    fn add<H, T>(mut self, method: MethodFilter, path: &str, handler: H) -> Self
    where
        H: Handler<T, App>,
        T: 'static,
    {
        let name = METHODS
            .iter()
            .find(|(filter, _)| *filter == method)
            // Not a method of the document: the route test names it.
            .map_or("unknown", |(_, name)| name);
        self.registered.push((name, path.to_owned()));
        self.router = self.router.route(path, on(method, handler));
        self
    }

    fn merge(mut self, other: Routes) -> Self {
        self.registered.extend(other.registered);
        self.router = self.router.merge(other.router);
        self
    }

    fn nest(mut self, prefix: &str, other: Routes) -> Self {
        self.registered.extend(
            other
                .registered
                .into_iter()
                .map(|(method, path)| (method, format!("{prefix}{path}"))),
        );
        self.router = self.router.nest(prefix, other.router);
        self
    }
}

/// Every route of the service, with `limit` applied to the ones a client may only
/// call at a bounded rate.
fn routes(limit: impl FnOnce(Router<App>) -> Router<App>) -> Routes {
    use MethodFilter as M;
    use handlers::*;
    // Registration and checkout cost the most (a password hash; stock locks); a
    // gift card's balance answers whoever holds a code, so guesses are rationed
    // too.
    let mut limited = Routes::new()
        .add(M::POST, "/users", register)
        .add(M::POST, "/sessions", login)
        .add(M::POST, "/sessions/guest", guest_session)
        .add(M::POST, "/sessions/guest/cart", guest_cart)
        .add(M::POST, "/checkout", checkout)
        .add(M::POST, "/gift-cards/balance", gift_card_balance);
    limited.router = limit(limited.router);
    let admin = Routes::new()
        .add(M::POST, "/categories", admin::create_category)
        .add(M::POST, "/products", admin::create_product)
        .add(M::PUT, "/products/{id}/status", admin::set_product_status)
        .add(M::POST, "/products/{id}/variants", admin::add_variant)
        .add(M::PUT, "/variants/{id}/price", admin::set_price)
        .add(M::POST, "/variants/{id}/restock", admin::restock)
        .add(M::GET, "/orders", admin::orders)
        .add(M::POST, "/orders/{id}/events", admin::order_event)
        .add(M::POST, "/stock-locations", admin::add_stock_location)
        .add(M::GET, "/stock-locations", admin::stock_locations)
        .add(M::POST, "/stock-locations/{id}/stock", admin::change_stock)
        .add(M::POST, "/orders/{id}/shipments", admin::create_shipment)
        .add(M::GET, "/orders/{id}/shipments", admin::shipments)
        .add(M::POST, "/orders/{id}/cancellations", admin::cancel_units)
        .add(M::GET, "/orders/{id}/cancellations", admin::cancellations)
        .add(M::POST, "/shipments/{id}/events", admin::shipment_event)
        .add(M::PUT, "/shipments/{id}/tracking", admin::track_shipment)
        .add(M::POST, "/orders/{id}/returns", admin::request_return)
        .add(M::GET, "/orders/{id}/returns", admin::returns)
        .add(M::POST, "/returns/{id}/decision", admin::decide_return)
        .add(M::POST, "/returns/{id}/receipt", admin::receive_return)
        .add(M::POST, "/orders/{id}/refunds", admin::refund_order)
        .add(M::POST, "/payments/{id}/refunds", admin::refund)
        .add(M::POST, "/attributes", admin::define_attribute)
        .add(
            M::PUT,
            "/products/{id}/attributes",
            admin::set_product_attributes,
        )
        .add(
            M::PUT,
            "/variants/{id}/attributes",
            admin::set_variant_attributes,
        )
        .add(M::PUT, "/products/{id}/images", admin::set_images)
        .add(M::POST, "/collections", admin::create_collection)
        .add(
            M::PUT,
            "/collections/{id}/products",
            admin::set_collection_products,
        )
        .add(M::PUT, "/search-language", admin::set_search_language)
        .add(M::PUT, "/markets/{currency}", admin::set_market)
        .add(M::POST, "/price-lists", admin::create_price_list)
        .add(M::PUT, "/price-lists/{id}/prices", admin::set_list_prices)
        .add(M::PUT, "/products/{id}/tax-class", admin::set_tax_class)
        .add(M::POST, "/tax-rates", admin::add_tax_rate)
        .add(M::POST, "/shipping-zones", admin::create_shipping_zone)
        .add(M::POST, "/shipping-methods", admin::create_shipping_method)
        .add(M::PUT, "/users/{id}/groups", admin::set_customer_groups)
        .add(M::GET, "/price-book", admin::price_book)
        .add(M::POST, "/promotions", admin::create_promotion)
        .add(M::GET, "/promotions", admin::promotions)
        .add(M::POST, "/promotions/{id}/coupons", admin::create_coupons)
        .add(M::GET, "/coupons/{code}", admin::coupon)
        .add(M::POST, "/gift-cards", admin::issue_gift_card)
        .add(M::GET, "/gift-cards/{id}", admin::gift_card)
        .add(M::GET, "/gift-cards/{id}/ledger", admin::gift_card_ledger);
    Routes::new()
        .add(M::GET, "/categories/{id}/products", category_page)
        .add(M::GET, "/products/search", search)
        .add(M::GET, "/categories/{id}/browse", browse)
        .add(M::GET, "/search", catalog_search)
        .add(M::GET, "/collections/{slug}", collection)
        .add(M::GET, "/collections/{slug}/products", collection_products)
        .add(M::GET, "/attributes", attributes)
        .add(M::POST, "/carts", open_cart)
        .add(M::GET, "/carts/{id}", cart)
        .add(M::POST, "/carts/{id}/items", add_item)
        .add(M::PUT, "/carts/{id}/items/{variant_id}", set_quantity)
        .add(M::DELETE, "/carts/{id}/items/{variant_id}", remove_item)
        .add(M::GET, "/carts/{id}/shipping-options", shipping_options)
        .add(M::GET, "/carts/{id}/quote", quote)
        .add(M::POST, "/carts/claim", claim)
        .add(M::DELETE, "/sessions/current", logout)
        .add(M::POST, "/webhooks/payments", provider_report)
        .add(M::GET, "/orders/{id}", order)
        .add(M::GET, "/orders/{id}/shipments", order_shipments)
        .add(M::POST, "/orders/{id}/returns", request_order_return)
        .add(M::GET, "/orders/{id}/returns", order_returns)
        .add(M::GET, "/orders/{id}/cancellations", order_cancellations)
        .merge(limited)
        .nest("/admin", admin)
        .add(M::GET, "/health/live", metrics::live)
        .add(M::GET, "/health/ready", metrics::ready)
        .add(M::GET, "/metrics", metrics::metrics)
        .add(M::GET, "/openapi.json", openapi::document)
}

/// `(method, path)` of every route the service serves, as the router registers it
/// (`("get", "/carts/{id}")`), for checking the OpenAPI document against.
pub fn registered_routes() -> Vec<(String, String)> {
    routes(|router| router)
        .registered
        .into_iter()
        .map(|(method, path)| (method.to_owned(), path))
        .collect()
}

/// The service's routes over `app`.
pub fn router_with(app: App) -> Router {
    let guarded = app.guarded.clone();
    let metrics = app.metrics.clone();
    // Each client address gets a burst of the limited routes, then a steady rate,
    // then 429 with Retry-After.
    let routes = routes(move |limited| match guarded {
        Some(guarded) => limited.layer(GovernorLayer::new(guarded).error_handler(move |err| {
            metrics.rejected("rate");
            ApiError::rate_limited(err).into_response()
        })),
        None => limited,
    });
    let timeout = app.config.request_timeout;
    let timeouts = app.metrics.clone();
    routes
        .router
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
