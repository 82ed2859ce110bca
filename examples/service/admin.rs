//! The back office, under `/admin`, behind a credential of its own (`ADMIN_TOKEN`):
//! the store's privileged, id-based API, which no customer session reaches.
//!
//! | method and path | what it does |
//! |---|---|
//! | `POST /admin/categories` | create `{slug, name, parent_id?}` |
//! | `POST /admin/products` | create `{slug, name, description?, category_id, status?, options?, variants}`, each variant `{sku, options?, price, currency?, stock, weight_grams?, gtin?}`; a product without options has exactly one variant |
//! | `POST /admin/products/{id}/variants` | add a variant `{sku, options, price, currency?, stock, weight_grams?, gtin?}`: a combination of the product's option values it does not sell yet |
//! | `POST /admin/variants/{id}/restock` | add `{units}` to a variant's stock |
//! | `GET /admin/orders?status=&limit=` | orders in a status, oldest first |
//! | `POST /admin/orders/{id}/events` | `{event: ship / deliver / cancel, note?}` |
//! | `POST /admin/payments/{id}/refunds` | refund `{amount, currency?, reason?}`; needs `Idempotency-Key` |

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use ecom_domain::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

use super::app::App;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::openapi::{
    BadRequest, Conflict, Invalid, NotFound, TooLarge, Unauthenticated, Unavailable,
    UnsupportedMediaType,
};
use super::request::idempotency_key;
use super::response::{
    CategoryView, OptionTypeJson, OptionValueJson, OrderListView, OrderStatusView,
    PaymentOutcomeView, ProductView, VariantView, currency_schema, order_status_schema,
    product_status_schema,
};

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

/// `POST /admin/categories`: a new category.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCategory)]
pub(super) struct CategoryBody {
    /// Lower-case words joined by `-`, unique.
    #[schema(example = "green-tea")]
    slug: String,
    name: String,
    /// The parent category; none for a top-level one.
    parent_id: Option<i64>,
}

/// `POST /admin/products`: a new product with its variants.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewProduct)]
pub(super) struct ProductBody {
    /// Lower-case words joined by `-`, unique: the product's URL key.
    #[schema(example = "sencha")]
    slug: String,
    name: String,
    description: Option<String>,
    category_id: i64,
    #[schema(schema_with = new_product_status_schema)]
    status: Option<String>,
    /// Its option types (Colour, Size...), at most five; none for a product of one
    /// variant.
    options: Option<Vec<OptionTypeJson>>,
    /// What it sells: one variant per combination of option values offered, each
    /// naming one value of every option type; exactly one, without options, for a
    /// product without option types. All in one currency.
    variants: Vec<VariantBody>,
}

impl ProductBody {
    /// The product it asks for; the store checks the variants against the options.
    fn into_new_product(self) -> Result<NewProduct, ApiError> {
        let status = match self.status.as_deref() {
            None => ProductStatus::Active,
            Some(raw) => raw
                .parse()
                .map_err(|e: ecom_domain::UnknownVariant| invalid(e.to_string()))?,
        };
        let types = self
            .options
            .unwrap_or_default()
            .iter()
            .map(option_type)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NewProduct {
            slug: Slug::parse(&self.slug)?,
            name: ProductName::parse(&self.name)?,
            description: Description::parse(self.description.as_deref().unwrap_or_default())?,
            category_id: CategoryId::new(self.category_id),
            status,
            options: ProductOptions::new(types)?,
            variants: self
                .variants
                .into_iter()
                .map(VariantBody::into_new_variant)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A variant to create, with a new product or on its own.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewVariant)]
pub(super) struct VariantBody {
    /// Unique stock-keeping unit.
    #[schema(example = "SENCHA-100")]
    sku: String,
    /// One value of each of the product's option types, matched ignoring case; none
    /// for a product without options.
    options: Option<Vec<OptionValueJson>>,
    /// A decimal string.
    #[schema(example = "8.50")]
    price: String,
    /// EUR when not given; every variant of a product is priced in one currency.
    #[schema(schema_with = currency_schema)]
    currency: Option<String>,
    /// Units on hand.
    stock: u32,
    /// Shipping weight in grams.
    weight_grams: Option<u32>,
    /// A GTIN-8, -12 (UPC-A), -13 (EAN-13) or -14 barcode, its check digit
    /// verified; unique across the catalog.
    #[schema(example = "4006381333931")]
    gtin: Option<String>,
}

impl VariantBody {
    /// The variant it asks for; the store checks its options against the product's.
    fn into_new_variant(self) -> Result<NewVariant, ApiError> {
        let currency = Currency::from_code(self.currency.as_deref().unwrap_or("EUR"))?;
        let choices = self
            .options
            .unwrap_or_default()
            .iter()
            .map(|c| {
                Ok(OptionChoice {
                    option: OptionName::parse(&c.option)?,
                    value: OptionValue::parse(&c.value)?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(NewVariant {
            sku: Sku::parse(&self.sku)?,
            selection: OptionSelection::new(choices)?,
            price: Money::parse(&self.price, currency)?,
            stock_on_hand: self.stock,
            weight_grams: self.weight_grams,
            gtin: self
                .gtin
                .as_deref()
                .map(Gtin::parse)
                .transpose()
                .map_err(ValidationError::from)?,
        })
    }
}

/// A new product's status: the catalog's list, and what happens when none is given.
fn new_product_status_schema() -> Object {
    ObjectBuilder::from(product_status_schema())
        .description(Some(
            "`active` (listed and sold) when not given; `draft` and `archived` \
             products are neither listed nor sold",
        ))
        .build()
}

/// An option type as a request names it.
fn option_type(raw: &OptionTypeJson) -> Result<OptionType, ApiError> {
    let values = raw
        .values
        .iter()
        .map(|v| OptionValue::parse(v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(OptionType::new(OptionName::parse(&raw.name)?, values)?)
}

/// `POST /admin/variants/{id}/restock`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Restock)]
pub(super) struct RestockBody {
    /// Units to add to the variant's stock.
    units: u32,
}

/// `GET /admin/orders`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct OrdersQuery {
    /// The status to list.
    #[param(value_type = OrderStatusName, inline)]
    status: String,
    /// Orders to return (50 when not given; the store caps it).
    limit: Option<u32>,
}

/// An order status by name, in a query: its schema is the domain's list.
// `schema_with` would do for the schema, but utoipa then drops `required`.
struct OrderStatusName;

impl utoipa::PartialSchema for OrderStatusName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        order_status_schema().into()
    }
}

impl ToSchema for OrderStatusName {}

/// The events staff may apply to an order: the domain's manual ones.
fn manual_event_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(
            OrderEvent::ALL
                .iter()
                .filter(|e| e.is_manual())
                .map(|e| e.as_str()),
        ))
        .description(Some("what staff did"))
        .build()
}

/// `POST /admin/orders/{id}/events`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = StaffEvent)]
pub(super) struct EventBody {
    #[schema(schema_with = manual_event_schema)]
    event: String,
    /// Kept in the order's history, e.g. a carrier's tracking number.
    note: Option<String>,
}

/// `POST /admin/payments/{id}/refunds`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewRefund)]
pub(super) struct RefundBody {
    /// A decimal string, at most what was captured and not yet refunded.
    #[schema(example = "8.50")]
    amount: String,
    /// EUR when not given.
    #[schema(schema_with = currency_schema)]
    currency: Option<String>,
    reason: Option<String>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

/// Creates a category.
#[utoipa::path(
    post,
    path = "/admin/categories",
    tag = "admin",
    security(("admin" = [])),
    request_body = CategoryBody,
    responses(
        (status = 201, description = "The category created", body = CategoryView),
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
pub(super) async fn create_category(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<CategoryBody>,
) -> Result<(StatusCode, Json<CategoryView>), ApiError> {
    let new = NewCategory {
        parent_id: body.parent_id.map(CategoryId::new),
        slug: Slug::parse(&body.slug)?,
        name: CategoryName::parse(&body.name)?,
    };
    app.blocking(move |store| {
        let category = store.create_category(new)?;
        Ok((StatusCode::CREATED, Json(CategoryView::from(&category))))
    })
    .await
}

/// Creates a product with its variants.
///
/// A product without options has exactly one variant; a product with options has
/// one per combination of values it sells, each combination once (`invalid_options`
/// otherwise). SKUs, barcodes and the slug are unique (`already_taken`).
#[utoipa::path(
    post,
    path = "/admin/products",
    tag = "admin",
    security(("admin" = [])),
    request_body = ProductBody,
    responses(
        (status = 201, description = "The product created, with its variants", body = ProductView),
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
pub(super) async fn create_product(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<ProductBody>,
) -> Result<(StatusCode, Json<ProductView>), ApiError> {
    let new = body.into_new_product()?;
    app.blocking(move |store| {
        Ok((
            StatusCode::CREATED,
            Json(ProductView::from(&store.create_product(new)?)),
        ))
    })
    .await
}

/// Adds a variant to a product.
///
/// Its options name one value of each of the product's option types, a combination
/// the product does not sell yet (`invalid_options` otherwise); its price is in the
/// currency of its siblings.
#[utoipa::path(
    post,
    path = "/admin/products/{id}/variants",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The product's id")),
    request_body = VariantBody,
    responses(
        (status = 201, description = "The variant created", body = VariantView),
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
pub(super) async fn add_variant(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<VariantBody>,
) -> Result<(StatusCode, Json<VariantView>), ApiError> {
    let new = body.into_new_variant()?;
    app.blocking(move |store| {
        let variant = store.add_variant(ProductId::new(id), new)?;
        Ok((StatusCode::CREATED, Json(VariantView::from(&variant))))
    })
    .await
}

/// Adds units to a variant's stock.
#[utoipa::path(
    post,
    path = "/admin/variants/{id}/restock",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The variant's id")),
    request_body = RestockBody,
    responses(
        (status = 200, description = "The variant after the change", body = VariantView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn restock(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RestockBody>,
) -> Result<Json<VariantView>, ApiError> {
    app.blocking(move |store| {
        Ok(Json(VariantView::from(
            &store.restock(VariantId::new(id), body.units)?,
        )))
    })
    .await
}

/// Orders in one status, oldest first.
#[utoipa::path(
    get,
    path = "/admin/orders",
    tag = "admin",
    security(("admin" = [])),
    params(OrdersQuery),
    responses(
        (status = 200, description = "The orders", body = OrderListView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(super) async fn orders(
    _: Staff,
    State(app): State<App>,
    ApiQuery(q): ApiQuery<OrdersQuery>,
) -> Result<Json<OrderListView>, ApiError> {
    let status: OrderStatus = q
        .status
        .parse()
        .map_err(|e: ecom_domain::UnknownVariant| invalid(e.to_string()))?;
    app.blocking(move |store| {
        let page = store.orders_in_status(status, PageRequest::first(q.limit.unwrap_or(50)))?;
        Ok(Json(OrderListView::new(&page.items)))
    })
    .await
}

/// Ships, delivers or cancels an order.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/events",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The order's id")),
    request_body = EventBody,
    responses(
        (status = 200, description = "The order's new status", body = OrderStatusView),
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
pub(super) async fn order_event(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<EventBody>,
) -> Result<Json<OrderStatusView>, ApiError> {
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
        Ok(Json(OrderStatusView::from(&order)))
    })
    .await
}

/// Refunds a payment, in part or in full.
///
/// A retry with the same `Idempotency-Key` books nothing twice.
#[utoipa::path(
    post,
    path = "/admin/payments/{id}/refunds",
    tag = "admin",
    security(("admin" = [])),
    params(
        ("id" = i64, Path, description = "The payment's id"),
        ("Idempotency-Key" = String, Header, description = "Staff's id for this refund; a retry sends the same"),
    ),
    request_body = RefundBody,
    responses(
        (status = 200, description = "Booked (or booked before)", body = PaymentOutcomeView),
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
pub(super) async fn refund(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefundBody>,
) -> Result<Json<PaymentOutcomeView>, ApiError> {
    let key = idempotency_key(&headers)?;
    let currency = Currency::from_code(body.currency.as_deref().unwrap_or("EUR"))?;
    let action = PaymentAction::Refund {
        amount: Money::parse(&body.amount, currency)?,
        reason: body.reason.as_deref().map(Reason::parse).transpose()?,
    };
    app.blocking(move |store| {
        let out = store.record_payment_event(PaymentId::new(id), PaymentEvent { key, action })?;
        Ok(Json(PaymentOutcomeView::from(&out)))
    })
    .await
}
