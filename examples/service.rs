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

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use ecom_domain::prelude::*;
use ecom_store::{PgStore, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The service's routes over a store.
pub fn router(store: PgStore) -> Router {
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

/// An error as the service answers it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Value,
}

impl ApiError {
    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code of its body (`invalid`, `malformed_json`...).
    pub fn code(&self) -> &'static str {
        self.code
    }

    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message, "details": self.details } });
        (self.status, Json(body)).into_response()
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        use StatusCode as S;
        let (status, code) = match &err {
            DomainError::Validation(_) | DomainError::Money(_) | DomainError::NegativePrice(_) => {
                (S::UNPROCESSABLE_ENTITY, "invalid")
            }
            DomainError::StockOutOfRange(_) => (S::UNPROCESSABLE_ENTITY, "invalid"),
            DomainError::EmptyCart
            | DomainError::GuestEmailRequired
            | DomainError::NotAManualEvent(_) => (S::UNPROCESSABLE_ENTITY, "invalid"),
            DomainError::NotFound { .. } => (S::NOT_FOUND, "not_found"),
            DomainError::InvalidCredentials => (S::UNAUTHORIZED, "invalid_credentials"),
            DomainError::OutOfStock(_) => (S::CONFLICT, "out_of_stock"),
            DomainError::AlreadyTaken { .. } => (S::CONFLICT, "already_taken"),
            DomainError::IdempotencyConflict { .. } => (S::CONFLICT, "idempotency_conflict"),
            DomainError::OrderTransition(_) => (S::CONFLICT, "illegal_transition"),
            DomainError::Payment(_) => (S::CONFLICT, "payment_refused"),
            DomainError::OrderNotPayable { .. } => (S::CONFLICT, "order_not_payable"),
            DomainError::CartNotOpen { .. } => (S::CONFLICT, "cart_not_open"),
            DomainError::CartFull { .. } => (S::UNPROCESSABLE_ENTITY, "cart_full"),
            DomainError::NotInCart { .. } => (S::NOT_FOUND, "not_in_cart"),
            DomainError::ProductUnavailable(_) => (S::CONFLICT, "product_unavailable"),
            DomainError::CategoryCycle { .. } | DomainError::ConcurrentUpdate { .. } => {
                (S::CONFLICT, "conflict")
            }
            DomainError::Password(_) | DomainError::PolicyError(_) => {
                (S::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let details = match &err {
            DomainError::OutOfStock(short) => json!(short
                .iter()
                .map(|s| json!({ "product_id": s.product_id, "sku": s.sku.as_str(), "requested": s.requested, "available": s.available }))
                .collect::<Vec<_>>()),
            DomainError::OrderTransition(t) => json!({ "from": t.from.as_str(), "allowed": t.allowed.iter().map(|e| e.as_str()).collect::<Vec<_>>() }),
            _ => Value::Null,
        };
        Self {
            status,
            code,
            message: err.to_string(),
            details,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Domain(domain) => domain.into(),
            other if other.is_retryable() => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is busy; retry later",
            ),
            // Store internals stay in the logs, not in the answer.
            other => {
                eprintln!("store error: {other}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        DomainError::from(err).into()
    }
}

impl From<MoneyError> for ApiError {
    fn from(err: MoneyError) -> Self {
        DomainError::from(err).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match &rejection {
            JsonRejection::JsonDataError(_) => "invalid_body",
            JsonRejection::JsonSyntaxError(_) => "malformed_json",
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            _ => "bad_request",
        };
        ApiError::new(status, code, rejection.body_text())
    }
}

/// JSON bodies whose rejections (malformed JSON, wrong types, too large) are typed errors.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Checks the content type, reads the body within the limit, then decodes it
        // with `Json::from_bytes`, as `decode_body` does.
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

/// Path parameters whose rejections (`/carts/abc`) are typed errors.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| {
                ApiError::new(rejection.status(), "invalid_path", rejection.body_text())
            })
    }
}

/// Query strings whose rejections (`?limit=-1`) are typed errors.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| {
                ApiError::new(rejection.status(), "invalid_query", rejection.body_text())
            })
    }
}

/// The JSON request bodies of the service, for [`decode_body`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `POST /users`.
    Register,
    /// `POST /carts`.
    OpenCart,
    /// `POST /carts/{id}/items`.
    AddItem,
    /// `PUT /carts/{id}/items/{product_id}`.
    SetQuantity,
    /// `POST /carts/{id}/attach`.
    Attach,
    /// `POST /checkout`.
    Checkout,
    /// `POST /payments/{id}/events`.
    PaymentEvent,
}

impl BodyKind {
    /// Every body.
    pub const ALL: [BodyKind; 7] = [
        BodyKind::Register,
        BodyKind::OpenCart,
        BodyKind::AddItem,
        BodyKind::SetQuantity,
        BodyKind::Attach,
        BodyKind::Checkout,
        BodyKind::PaymentEvent,
    ];
}

/// Decodes `body` as the request body `kind` and turns it into domain values, through
/// the same types and conversions as the handlers, stopping before the store: the
/// error a client would get for it. The fuzz target of `examples/fuzz` drives this.
pub fn decode_body(kind: BodyKind, body: &[u8]) -> Result<(), ApiError> {
    // What `ApiJson` does once the content type and size are checked.
    fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
        Ok(Json::<T>::from_bytes(body)?.0)
    }
    match kind {
        BodyKind::Register => decode::<RegisterBody>(body)?.into_new_user().map(drop),
        BodyKind::OpenCart => decode::<OpenCartBody>(body)?.into_owner().map(drop),
        BodyKind::AddItem => {
            let body = decode::<AddItemBody>(body)?;
            let _ = ProductId::new(body.product_id);
            Quantity::new(body.quantity)
                .map(drop)
                .map_err(ApiError::from)
        }
        BodyKind::SetQuantity => Quantity::new(decode::<QuantityBody>(body)?.quantity)
            .map(drop)
            .map_err(ApiError::from),
        BodyKind::Attach => decode::<AttachBody>(body).map(drop),
        BodyKind::Checkout => {
            let key = IdempotencyKey::parse("fuzz").map_err(ApiError::from)?;
            decode::<CheckoutBody>(body)?.into_request(key).map(drop)
        }
        BodyKind::PaymentEvent => decode::<PaymentEventBody>(body)?.action().map(drop),
    }
}

/// Runs a blocking store call off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "worker failed",
        )
    })?
}

fn money_json(m: Money) -> Value {
    json!({ "amount": m.amount().to_string(), "currency": m.currency().code() })
}

fn product_json(p: &Product) -> Value {
    json!({
        "id": p.id, "sku": p.sku.as_str(), "name": p.name.as_str(), "price": money_json(p.price),
        "stock": p.stock_on_hand, "category_id": p.category_id,
    })
}

fn cart_json(c: &Cart) -> Value {
    json!({
        "id": c.id, "status": c.status.as_str(), "currency": c.currency.code(),
        "lines": c.lines.iter().map(|l| json!({ "product_id": l.product_id, "quantity": l.quantity.get() })).collect::<Vec<_>>(),
    })
}

fn payment_json(p: &Payment) -> Value {
    json!({
        "id": p.id, "status": p.status.as_str(), "amount": money_json(p.amount),
        "authorized": money_json(p.authorized), "captured": money_json(p.captured), "refunded": money_json(p.refunded),
    })
}

fn order_json(o: &Order, payments: &[Payment]) -> Value {
    json!({
        "id": o.id, "status": o.status.as_str(), "currency": o.currency.code(),
        "lines": o.lines.iter().map(|l| json!({
            "line_no": l.line_no, "product_id": l.product_id, "sku": l.sku.as_str(), "name": l.name.as_str(),
            "unit_price": money_json(l.unit_price), "quantity": l.quantity.get(),
        })).collect::<Vec<_>>(),
        "totals": {
            "subtotal": money_json(o.totals.subtotal), "shipping": money_json(o.totals.shipping),
            "tax": money_json(o.totals.tax), "grand_total": money_json(o.totals.grand_total),
        },
        "payment_deadline": o.payment_deadline,
        "history": o.history.iter().map(|h| json!({
            "from": h.from.map(OrderStatus::as_str), "to": h.to.as_str(), "event": h.event.map(OrderEvent::as_str), "at": h.at,
        })).collect::<Vec<_>>(),
        "payments": payments.iter().map(payment_json).collect::<Vec<_>>(),
    })
}

fn idempotency_key(headers: &HeaderMap) -> Result<IdempotencyKey, ApiError> {
    let raw = headers
        .get("idempotency-key")
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "send an Idempotency-Key header",
            )
        })?
        .to_str()
        .map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                "Idempotency-Key must be ASCII",
            )
        })?;
    Ok(IdempotencyKey::parse(raw)?)
}

#[derive(Deserialize)]
struct PageQuery {
    after: Option<i64>,
    limit: Option<u32>,
}

async fn category_page(
    State(store): State<PgStore>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let page = store.list_products(
            CategoryId::new(id),
            PageRequest { after: q.after.map(ProductId::new), limit: q.limit.unwrap_or(50) },
        )?;
        Ok(Json(json!({ "items": page.items.iter().map(product_json).collect::<Vec<_>>(), "next": page.next })))
    })
    .await
}

#[derive(Deserialize)]
struct SearchQuery {
    q: String,
    limit: Option<u32>,
}

async fn search(
    State(store): State<PgStore>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let hits = store.search_products(&q.q, q.limit.unwrap_or(20))?;
        Ok(Json(
            json!({ "items": hits.iter().map(product_json).collect::<Vec<_>>() }),
        ))
    })
    .await
}

#[derive(Deserialize)]
struct RegisterBody {
    email: String,
    name: String,
    password: String,
}

impl RegisterBody {
    fn into_new_user(self) -> Result<NewUser, ApiError> {
        Ok(NewUser {
            email: Email::parse(&self.email)?,
            name: PersonName::parse(&self.name)?,
            password: Password::new(self.password)?,
        })
    }
}

async fn register(
    State(store): State<PgStore>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let new = body.into_new_user()?;
    blocking(move || {
        let user = store.register(new)?;
        Ok((
            StatusCode::CREATED,
            Json(json!({ "id": user.id, "email": user.email.as_str() })),
        ))
    })
    .await
}

#[derive(Deserialize)]
struct OpenCartBody {
    guest_token: Option<String>,
    user_id: Option<i64>,
    currency: Option<String>,
}

impl OpenCartBody {
    fn into_owner(self) -> Result<(CartOwner, Currency), ApiError> {
        let owner = match (self.user_id, self.guest_token) {
            (Some(user), None) => CartOwner::User(UserId::new(user)),
            (None, Some(token)) => CartOwner::Guest(GuestToken::parse(&token)?),
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    "give exactly one of guest_token and user_id",
                ));
            }
        };
        let currency = Currency::from_code(self.currency.as_deref().unwrap_or("EUR"))?;
        Ok((owner, currency))
    }
}

async fn open_cart(
    State(store): State<PgStore>,
    ApiJson(body): ApiJson<OpenCartBody>,
) -> Result<Json<Value>, ApiError> {
    let (owner, currency) = body.into_owner()?;
    blocking(move || Ok(Json(cart_json(&store.open_cart(&owner, currency)?)))).await
}

async fn cart(
    State(store): State<PgStore>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || Ok(Json(cart_json(&store.cart(CartId::new(id))?)))).await
}

#[derive(Deserialize)]
struct AddItemBody {
    product_id: i64,
    quantity: i64,
}

async fn add_item(
    State(store): State<PgStore>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AddItemBody>,
) -> Result<Json<Value>, ApiError> {
    let quantity = Quantity::new(body.quantity)?;
    blocking(move || {
        Ok(Json(cart_json(&store.add_item(
            CartId::new(id),
            ProductId::new(body.product_id),
            quantity,
        )?)))
    })
    .await
}

#[derive(Deserialize)]
struct QuantityBody {
    quantity: i64,
}

async fn set_quantity(
    State(store): State<PgStore>,
    ApiPath((id, product)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<QuantityBody>,
) -> Result<Json<Value>, ApiError> {
    let quantity = Quantity::new(body.quantity)?;
    blocking(move || {
        Ok(Json(cart_json(&store.set_quantity(
            CartId::new(id),
            ProductId::new(product),
            quantity,
        )?)))
    })
    .await
}

async fn remove_item(
    State(store): State<PgStore>,
    ApiPath((id, product)): ApiPath<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        Ok(Json(cart_json(
            &store.remove_item(CartId::new(id), ProductId::new(product))?,
        )))
    })
    .await
}

#[derive(Deserialize)]
struct AttachBody {
    user_id: i64,
}

async fn attach(
    State(store): State<PgStore>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AttachBody>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        Ok(Json(cart_json(&store.attach_cart(
            CartId::new(id),
            UserId::new(body.user_id),
        )?)))
    })
    .await
}

/// An address in a request: given in full, or a saved one by id.
#[derive(Deserialize)]
#[serde(untagged)]
enum AddressBody {
    Saved { address_id: i64 },
    Given(RawAddress),
}

impl AddressBody {
    fn parse(self) -> Result<AddressChoice, ApiError> {
        Ok(match self {
            AddressBody::Saved { address_id } => AddressChoice::Saved(AddressId::new(address_id)),
            AddressBody::Given(raw) => AddressChoice::Given(PostalAddress::parse(&raw)?),
        })
    }
}

#[derive(Deserialize)]
struct CheckoutBody {
    cart_id: i64,
    shipping: AddressBody,
    billing: Option<AddressBody>,
    email: Option<String>,
    provider: Option<String>,
}

impl CheckoutBody {
    fn into_request(self, idempotency_key: IdempotencyKey) -> Result<CheckoutRequest, ApiError> {
        let shipping = self.shipping.parse()?;
        let billing = match self.billing {
            Some(b) => b.parse()?,
            None => shipping.clone(),
        };
        Ok(CheckoutRequest {
            cart_id: CartId::new(self.cart_id),
            shipping,
            billing,
            guest_email: self.email.as_deref().map(Email::parse).transpose()?,
            provider: ProviderName::parse(self.provider.as_deref().unwrap_or("test"))?,
            idempotency_key,
        })
    }
}

async fn checkout(
    State(store): State<PgStore>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckoutBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request = body.into_request(idempotency_key(&headers)?)?;
    blocking(move || {
        let done = store.checkout(&request)?;
        let status = if done.replayed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        Ok((status, Json(order_json(&done.order, &[done.payment]))))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum EventType {
    Authorize,
    Capture,
    Void,
    Refund,
    Fail,
}

#[derive(Deserialize)]
struct PaymentEventBody {
    #[serde(rename = "type")]
    kind: EventType,
    amount: Option<String>,
    currency: Option<String>,
    provider_ref: Option<String>,
    reason: Option<String>,
}

impl PaymentEventBody {
    fn action(&self) -> Result<PaymentAction, ApiError> {
        let amount = || -> Result<Money, ApiError> {
            let raw = self.amount.as_deref().ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    "amount is required",
                )
            })?;
            let currency = Currency::from_code(self.currency.as_deref().unwrap_or("EUR"))?;
            // Money::parse forgives spaces around an amount a person typed; a
            // provider's amount has none, so one with spaces is refused.
            if raw.trim() != raw {
                return Err(MoneyError::InvalidAmount(raw.to_owned()).into());
            }
            Ok(Money::parse(raw, currency)?)
        };
        let reason = self.reason.as_deref().map(Reason::parse).transpose()?;
        Ok(match self.kind {
            EventType::Authorize => PaymentAction::Authorize {
                amount: amount()?,
                provider_ref: self
                    .provider_ref
                    .as_deref()
                    .map(ProviderRef::parse)
                    .transpose()?,
            },
            EventType::Capture => PaymentAction::Capture { amount: amount()? },
            EventType::Void => PaymentAction::Void,
            EventType::Refund => PaymentAction::Refund {
                amount: amount()?,
                reason,
            },
            EventType::Fail => PaymentAction::Fail {
                reason: reason.unwrap_or_default(),
            },
        })
    }
}

/// What `POST /payments/{id}/events` answers.
#[derive(Serialize)]
struct PaymentOutcomeBody {
    payment: Value,
    order_status: &'static str,
    duplicate: bool,
}

async fn payment_event(
    State(store): State<PgStore>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PaymentEventBody>,
) -> Result<Json<PaymentOutcomeBody>, ApiError> {
    let key = idempotency_key(&headers)?;
    let action = body.action()?;
    blocking(move || {
        let out = store.record_payment_event(PaymentId::new(id), PaymentEvent { key, action })?;
        Ok(Json(PaymentOutcomeBody {
            payment: payment_json(&out.payment),
            order_status: out.order_status.as_str(),
            duplicate: out.applied == Applied::Duplicate,
        }))
    })
    .await
}

async fn order(
    State(store): State<PgStore>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let details = store.order(OrderId::new(id))?;
        Ok(Json(order_json(&details.order, &details.payments)))
    })
    .await
}

/// A service running on its own runtime in the background, for tests and load runs.
pub struct RunningService {
    addr: std::net::SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningService {
    /// Serves `router(store)` on a free port of 127.0.0.1.
    pub fn start(store: PgStore) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let _ = axum::serve(listener, router(store))
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Ok(Self {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
