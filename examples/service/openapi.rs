//! The service's OpenAPI 3.1 document, generated from the code: each handler's
//! `#[utoipa::path]` names its route, parameters and answers, and the request and
//! response types derive their schemas. It is served at `GET /openapi.json` and
//! checked in as `docs/openapi.json`; a test fails when either drifts from the
//! code, and another when a route of the router is missing from the document.
//! The POSTs the service makes, to the outbox webhook, are in its `webhooks`.
//!
//! Regenerate the checked-in copy with
//! `cargo run -p ecom-examples --bin shop-service -- openapi > docs/openapi.json`
//! (or run the drift test with `UPDATE_OPENAPI=1`).

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, PathItem, Ref, RefOr, Required};
use utoipa::{Modify, OpenApi, ToResponse};

use super::error::ErrorBody;
use super::outbox::OutboxDelivery;
use super::{admin, handlers, metrics};

/// The security scheme of customers' routes: a session token.
pub const SESSION_SCHEME: &str = "session";
/// The security scheme of the back office: the admin token.
pub const ADMIN_SCHEME: &str = "admin";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ecom-dms reference shop service",
        description = "The HTTP JSON service of `examples/service/`: a shop's backend \
            embedding ecom-store. Customers act through sessions (`Authorization: Bearer`), \
            see only their own carts and orders (anything else is 404, exactly as if it did \
            not exist), and never report payments: the payment provider does, on a signed \
            webhook. The back office is under `/admin`, behind a token of its own. Every \
            refusal is `{\"error\": {\"code\", \"message\", \"details\"}}`; `429` and `503` \
            carry `Retry-After`; every answer carries `x-request-id`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        handlers::category_page,
        handlers::search,
        handlers::browse,
        handlers::catalog_search,
        handlers::collection,
        handlers::collection_products,
        handlers::attributes,
        handlers::register,
        handlers::guest_session,
        handlers::guest_cart,
        handlers::login,
        handlers::logout,
        handlers::open_cart,
        handlers::cart,
        handlers::add_item,
        handlers::set_quantity,
        handlers::remove_item,
        handlers::shipping_options,
        handlers::quote,
        handlers::claim,
        handlers::checkout,
        handlers::order,
        handlers::order_shipments,
        handlers::request_order_return,
        handlers::order_returns,
        handlers::order_cancellations,
        handlers::provider_report,
        handlers::gift_card_balance,
        admin::create_category,
        admin::create_product,
        admin::set_product_status,
        admin::add_variant,
        admin::set_price,
        admin::restock,
        admin::orders,
        admin::order_event,
        admin::add_stock_location,
        admin::stock_locations,
        admin::change_stock,
        admin::create_shipment,
        admin::shipments,
        admin::shipment_event,
        admin::track_shipment,
        admin::cancel_units,
        admin::cancellations,
        admin::request_return,
        admin::returns,
        admin::decide_return,
        admin::receive_return,
        admin::refund_order,
        admin::refund,
        admin::define_attribute,
        admin::set_product_attributes,
        admin::set_variant_attributes,
        admin::set_images,
        admin::create_collection,
        admin::set_collection_products,
        admin::set_search_language,
        admin::set_market,
        admin::create_price_list,
        admin::set_list_prices,
        admin::set_tax_class,
        admin::add_tax_rate,
        admin::create_shipping_zone,
        admin::create_shipping_method,
        admin::set_customer_groups,
        admin::price_book,
        admin::create_promotion,
        admin::promotions,
        admin::create_coupons,
        admin::coupon,
        admin::issue_gift_card,
        admin::gift_card,
        admin::gift_card_ledger,
        metrics::live,
        metrics::ready,
        metrics::metrics,
        document,
    ),
    components(
        schemas(ErrorBody, OutboxDelivery),
        responses(
            BadRequest,
            Unauthenticated,
            NotFound,
            Conflict,
            TooLarge,
            UnsupportedMediaType,
            Invalid,
            RateLimited,
            Unavailable
        )
    ),
    modifiers(&Security, &OutboxWebhookDoc),
    tags(
        (name = "catalog", description = "Browsing and searching products"),
        (name = "accounts", description = "Registration and sessions"),
        (name = "carts", description = "The caller's carts"),
        (name = "orders", description = "Checkout and the caller's orders"),
        (name = "gift_cards", description = "A gift card's balance, for whoever holds its code"),
        (name = "webhooks", description = "Reports from the payment provider, signed"),
        (name = "admin", description = "The back office, behind the admin token"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
struct ApiDoc;

/// Adds the two credentials: customers' sessions and the back office's token.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION_SCHEME,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session token from `POST /sessions/guest` (a guest) or \
                         `POST /sessions` (a user): opaque, random, shown once, stored \
                         hashed; it expires, and `DELETE /sessions/current` ends it.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            ADMIN_SCHEME,
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The back office's token (`ADMIN_TOKEN`, 32 characters or more), \
                         as `Authorization: Bearer <token>`. Without one configured, \
                         `/admin` answers 503.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds the POST the service makes to `OUTBOX_WEBHOOK_URL` as an OpenAPI 3.1
/// webhook, so a receiver's author finds its body and signature here.
struct OutboxWebhookDoc;

impl Modify for OutboxWebhookDoc {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let operation = OperationBuilder::new()
            .operation_id(Some("outbox_delivery"))
            .summary(Some("A batch of the outbox's events, oldest first"))
            .description(Some(
                "POSTed by the service to `OUTBOX_WEBHOOK_URL` when it is set. Delivery \
                 is at least once: the events are marked published only when the \
                 receiver answers 2xx within `OUTBOX_WEBHOOK_TIMEOUT_MS`; otherwise the \
                 same batch comes again after a backoff (one second, doubling to a \
                 minute). Dedupe by event `id`. Verify `Webhook-Signature` as the \
                 service verifies its payment webhooks (`ecom_domain::webhook::\
                 WebhookVerifier`), with `OUTBOX_WEBHOOK_SECRET`.",
            ))
            .tag("webhooks")
            .parameter(
                ParameterBuilder::new()
                    .name("Webhook-Signature")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::True)
                    .description(Some(
                        "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">`",
                    ))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
            )
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("OutboxDelivery")))
                            .build(),
                    )
                    .required(Some(Required::True))
                    .build(),
            ))
            .response(
                "2XX",
                ResponseBuilder::new()
                    .description("Received: the events are marked published")
                    .build(),
            )
            .response(
                "default",
                ResponseBuilder::new()
                    .description("Anything else, or no answer in time: the batch comes again")
                    .build(),
            )
            .build();
        let item = PathItem::new(HttpMethod::Post, operation);
        let item = serde_json::to_value(item).unwrap_or(Value::Null);
        // utoipa 5 has no field for 3.1's `webhooks`; an extension serializes at the
        // document's top level, which is where the specification puts them.
        openapi
            .extensions
            .get_or_insert_with(Default::default)
            .insert("webhooks".to_owned(), json!({ "outbox": item }));
    }
}

/// An error answer: the typed error body, and `Retry-After` when `retry` is set.
fn error_response(description: &str, retry: bool) -> RefOr<Response> {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Error")))
            .build(),
    );
    if retry {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1)),
                )
                .description(Some("Seconds to wait before trying again"))
                .build(),
        );
    }
    response.build().into()
}

/// Declares reusable error answers, each a component the routes refer to.
macro_rules! error_responses {
    ($($(#[$doc:meta])* $name:ident = $description:literal, retry: $retry:literal;)+) => {$(
        $(#[$doc])*
        pub(super) struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), error_response($description, $retry))
            }
        }
    )+};
}

error_responses! {
    /// 400.
    BadRequest = "The request is malformed: JSON syntax (`malformed_json`), a path \
        or query parameter of the wrong type (`invalid_path`, `invalid_query`), a \
        missing or non-ASCII `Idempotency-Key`, or a webhook signature that does not \
        hold (`malformed_signature`, `stale_signature`, `bad_signature`).", retry: false;
    /// 401.
    Unauthenticated = "No valid credential: the session (or admin token) is missing, \
        malformed, expired or ended (`unauthenticated`), or sign-in credentials are \
        wrong (`invalid_credentials`).", retry: false;
    /// 404.
    NotFound = "Not found, or not the caller's: the answer is the same \
        (`not_found`, `not_in_cart`).", retry: false;
    /// 409.
    Conflict = "The state does not allow it: `out_of_stock` (details: the short \
        lines), `illegal_transition` (details: the events allowed), \
        `idempotency_conflict` (a key reused for another request), `cart_not_open`, \
        `not_on_sale` (a variant of a draft or archived product), `payment_refused`, \
        `order_not_payable`, `already_taken` (e-mail, SKU, barcode, slug, attribute \
        name, a shipping method's code in its zone), `tax_rate_overlap` (another \
        rate of the country, region and class is valid at the same time), \
        `coupon_exhausted` (a coupon code used as often as it may be), \
        `coupon_customer_limit` (as often as one customer may), `coupon_taken` (a \
        code to create exists already), `gift_card_empty` (a gift card at checkout \
        with nothing left on it; details: `{last_four}`), `gift_card_payment` (a \
        gift card's payment takes no provider report or payment refund: refund \
        the order), `conflict`.", retry: false;
    /// 413.
    TooLarge = "The body is larger than 64 KiB (`body_too_large`).", retry: false;
    /// 415.
    UnsupportedMediaType = "The body is not sent as `application/json` \
        (`unsupported_media_type`).", retry: false;
    /// 422.
    Invalid = "A value is refused: `invalid` (e-mail, quantity, amount, address...), \
        `invalid_body` (a field missing or of the wrong type), `invalid_options` (a \
        product's option types or its variants' option values break the variant \
        rules), `invalid_attributes` (an attribute not defined, given twice, or a \
        value not of its type), `invalid_images`, `invalid_collection` (a product \
        twice), `invalid_filter` (a facet, price range, sort or search query \
        refused), `invalid_cursor` (an `after` the route did not make), `cart_full`, \
        `query_too_long`, `guest_session_required`; the price book's: \
        `invalid_price_list` (a window that ends before it starts, a price in \
        another currency or negative, a tier below 1, a variant and tier twice), \
        `invalid_tax_rate` (not 0 to 1 with at most 5 decimals, for the exempt \
        class, an empty window), `invalid_shipping` (a zone without an area or with \
        one twice, weight bands out of order, a price in another currency or \
        negative), `too_many_prices`, `too_many_areas`, `too_many_bands`, \
        `too_many_groups` (details: `{count, max}`); pricing a cart from it: \
        `no_price` (a line without a price in the cart's currency), \
        `shipping_unavailable` (the method does not take the cart to the \
        destination), `no_tax_rate` (the shop has no rate at the destination for a \
        class the cart needs); coupon codes at checkout: `coupon_unknown`, \
        `coupon_expired`, `coupon_not_yet_valid`, `coupon_wrong_currency`, \
        `coupon_not_applicable` (its promotion does not apply to the cart, or the \
        checkout names no shipping method), `invalid_coupons` (more than 5, or one \
        twice); promotions and codes: `invalid_promotion` (a rate, amount, currency, \
        target or window refused), `invalid_coupons` (a count or limit of 0, a \
        pattern that makes no code, a code given twice), `too_many_coupons` \
        (details: `{count, max}`); gift cards: `gift_card_unknown` (no card has \
        the code), `gift_card_expired`, `gift_card_wrong_currency` (details: \
        `{last_four}`), `invalid_gift_cards` (a code that is not 16 letters and \
        digits, more than 5 at a checkout or one twice, a value to issue not above \
        zero or too large, an end date not after now); refunds: \
        `no_refundable_line` (a line the order does not have, or an order priced \
        by the flat rules).", retry: false;
    /// 429.
    RateLimited = "Too many requests from this address (`rate_limited`).", retry: true;
    /// 503.
    Unavailable = "Retry later: the database is busy or down (`unavailable`), the \
        service is at capacity (`busy`), the request took longer than its timeout \
        (`timeout`), or the feature is not configured (`webhooks_not_configured`, \
        `admin_not_configured`).", retry: true;
}

/// The service's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as served and checked in: pretty JSON with every object's keys in
/// sorted order, so the text does not depend on map implementations, and a final
/// newline.
pub fn openapi_json() -> String {
    let value = serde_json::to_value(openapi()).unwrap_or(Value::Null);
    let mut text = serde_json::to_string_pretty(&sorted(value)).unwrap_or_default();
    text.push('\n');
    text
}

/// `value` with the keys of every object in sorted order.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Built once: the document does not change while the service runs.
static DOCUMENT: LazyLock<String> = LazyLock::new(openapi_json);

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this service", body = Object),
    )
)]
pub(super) async fn document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}
