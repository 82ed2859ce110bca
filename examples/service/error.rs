//! Every refusal as an HTTP status and a typed JSON body.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ecom_domain::prelude::*;
use ecom_domain::pricing::{PriceListError, TaxError};
use ecom_domain::promotion::CouponError;
use ecom_store::StoreError;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// An error as the service answers it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Boxed: a `Value` is large, and errors travel in every `Result`.
    details: Box<Value>,
    retry_after: Option<u32>,
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

    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Box::new(Value::Null),
            retry_after: None,
        }
    }

    /// A client over its rate limit, told when to come back.
    pub(super) fn rate_limited(err: tower_governor::GovernorError) -> Self {
        match err {
            tower_governor::GovernorError::TooManyRequests { wait_time, .. } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests from this address; retry later",
            )
            .retry_after(u32::try_from(wait_time.max(1)).unwrap_or(u32::MAX)),
            other => {
                tracing::error!(error = %other, "rate limiter failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }

    /// `422` for a list in a request longer than the service takes: `code` names
    /// which list, the details say `{count, max}`. Refused before any item is
    /// parsed, so the work a request can cause stays bounded.
    pub(super) fn too_many(code: &'static str, what: &str, count: usize, max: usize) -> Self {
        Self {
            details: Box::new(json!({ "count": count, "max": max })),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                format!("{count} {what}, at most {max} are allowed"),
            )
        }
    }

    /// The same error, telling the client to retry after `seconds`.
    pub(super) fn retry_after(self, seconds: u32) -> Self {
        Self {
            retry_after: Some(seconds),
            ..self
        }
    }
}

/// The body of every refusal.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub(super) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ErrorDetail {
    /// Machine-readable and stable: `not_found`, `out_of_stock`, `invalid`...
    #[schema(example = "out_of_stock")]
    code: &'static str,
    /// For people; its wording may change.
    message: String,
    /// What a client can act on, or null: the short lines of `out_of_stock`
    /// (`[{variant_id, sku, requested, available}]`), the state and allowed events
    /// of `illegal_transition` (`{from, allowed}`), the gift card a checkout
    /// refused (`{last_four}`).
    details: Value,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                details: *self.details,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The status and code a domain refusal answers with. Exhaustive on purpose: a new
/// refusal in the domain does not compile here until someone decides what a client sees.
fn status_and_code(err: &DomainError) -> (StatusCode, &'static str) {
    use StatusCode as S;
    match err {
        DomainError::Validation(_) | DomainError::Money(_) | DomainError::NegativePrice(_) => {
            (S::UNPROCESSABLE_ENTITY, "invalid")
        }
        DomainError::StockOutOfRange(_) => (S::UNPROCESSABLE_ENTITY, "invalid"),
        DomainError::EmptyCart
        | DomainError::GuestEmailRequired
        | DomainError::NotAManualEvent(_) => (S::UNPROCESSABLE_ENTITY, "invalid"),
        DomainError::NotFound { .. } => (S::NOT_FOUND, "not_found"),
        DomainError::InvalidCredentials => (S::UNAUTHORIZED, "invalid_credentials"),
        DomainError::Unauthenticated => (S::UNAUTHORIZED, "unauthenticated"),
        DomainError::OutOfStock(_) => (S::CONFLICT, "out_of_stock"),
        DomainError::AlreadyTaken { .. } => (S::CONFLICT, "already_taken"),
        DomainError::IdempotencyConflict { .. } => (S::CONFLICT, "idempotency_conflict"),
        DomainError::OrderTransition(_) => (S::CONFLICT, "illegal_transition"),
        // A key used before for another event (or refund amount): the same answer
        // as a checkout's key reused for another request.
        DomainError::Payment(PaymentError::KeyReused(_)) => (S::CONFLICT, "idempotency_conflict"),
        DomainError::Payment(_) => (S::CONFLICT, "payment_refused"),
        DomainError::OrderNotPayable { .. } => (S::CONFLICT, "order_not_payable"),
        DomainError::CartNotOpen { .. } => (S::CONFLICT, "cart_not_open"),
        DomainError::CartFull { .. } => (S::UNPROCESSABLE_ENTITY, "cart_full"),
        DomainError::NotInCart { .. } => (S::NOT_FOUND, "not_in_cart"),
        DomainError::NotOnSale(_) => (S::CONFLICT, "not_on_sale"),
        DomainError::Options(_) => (S::UNPROCESSABLE_ENTITY, "invalid_options"),
        DomainError::Attribute(_) => (S::UNPROCESSABLE_ENTITY, "invalid_attributes"),
        DomainError::Media(_) => (S::UNPROCESSABLE_ENTITY, "invalid_images"),
        DomainError::Collection(_) => (S::UNPROCESSABLE_ENTITY, "invalid_collection"),
        DomainError::Browse(_) => (S::UNPROCESSABLE_ENTITY, "invalid_filter"),
        DomainError::PriceList(_) => (S::UNPROCESSABLE_ENTITY, "invalid_price_list"),
        // Another rate holds the country, region and class for part of the window:
        // the data, not the request, is in the way.
        DomainError::Tax(TaxError::Overlap { .. }) => (S::CONFLICT, "tax_rate_overlap"),
        DomainError::Tax(_) => (S::UNPROCESSABLE_ENTITY, "invalid_tax_rate"),
        DomainError::Shipping(_) => (S::UNPROCESSABLE_ENTITY, "invalid_shipping"),
        DomainError::TooManyGroups(_) => (S::UNPROCESSABLE_ENTITY, "too_many_groups"),
        // What a cart cannot be priced with: a variant without a price in its
        // currency, a method that does not take it, a destination the shop has no
        // rate for. The client can change the cart or the destination; nothing
        // failed on the server, so none of them is a 500.
        DomainError::NoPrice { .. } => (S::UNPROCESSABLE_ENTITY, "no_price"),
        DomainError::ShippingUnavailable(_) => (S::UNPROCESSABLE_ENTITY, "shipping_unavailable"),
        DomainError::NoTaxRate { .. } => (S::UNPROCESSABLE_ENTITY, "no_tax_rate"),
        // A code that does not exist, or not (yet, or any more) for this cart: the
        // request is what is wrong. A code used up, by all or by this customer: the
        // data is in the way, as stock is.
        DomainError::Coupon(err) => match err {
            CouponError::Exhausted(_) => (S::CONFLICT, "coupon_exhausted"),
            CouponError::CustomerLimit(_) => (S::CONFLICT, "coupon_customer_limit"),
            CouponError::Taken(_) => (S::CONFLICT, "coupon_taken"),
            CouponError::Unknown(_) => (S::UNPROCESSABLE_ENTITY, "coupon_unknown"),
            CouponError::Expired(_) => (S::UNPROCESSABLE_ENTITY, "coupon_expired"),
            CouponError::NotYetValid(_) => (S::UNPROCESSABLE_ENTITY, "coupon_not_yet_valid"),
            CouponError::WrongCurrency { .. } => (S::UNPROCESSABLE_ENTITY, "coupon_wrong_currency"),
            CouponError::NotApplicable { .. } => (S::UNPROCESSABLE_ENTITY, "coupon_not_applicable"),
            CouponError::TooMany { .. }
            | CouponError::Repeated(_)
            | CouponError::Count(_)
            | CouponError::Limit
            | CouponError::Pattern => (S::UNPROCESSABLE_ENTITY, "invalid_coupons"),
        },
        DomainError::Promotion(_) => (S::UNPROCESSABLE_ENTITY, "invalid_promotion"),
        // A card that is not there, not for this cart, or past its date: the
        // request is what is wrong. A card spent to zero: the data is in the way.
        DomainError::GiftCard(err) => match err {
            GiftCardError::Unknown => (S::UNPROCESSABLE_ENTITY, "gift_card_unknown"),
            GiftCardError::Expired { .. } => (S::UNPROCESSABLE_ENTITY, "gift_card_expired"),
            GiftCardError::WrongCurrency { .. } => {
                (S::UNPROCESSABLE_ENTITY, "gift_card_wrong_currency")
            }
            GiftCardError::Empty { .. } => (S::CONFLICT, "gift_card_empty"),
            GiftCardError::MalformedCode
            | GiftCardError::Repeated
            | GiftCardError::TooMany(_)
            | GiftCardError::Value(_)
            | GiftCardError::ExpiresBeforeIssue
            | GiftCardError::Money(_) => (S::UNPROCESSABLE_ENTITY, "invalid_gift_cards"),
        },
        DomainError::GiftCardPayment(_) => (S::CONFLICT, "gift_card_payment"),
        // Stock that is not there to move or to allocate: the data is in the way,
        // as for out_of_stock. A move that could never be made: the request.
        DomainError::Inventory(err) => match err {
            InventoryError::Refused { .. } | InventoryError::Short(_) => {
                (S::CONFLICT, "insufficient_stock")
            }
            InventoryError::Overflow
            | InventoryError::NotByHand(_)
            | InventoryError::SameLocation(_) => (S::UNPROCESSABLE_ENTITY, "invalid_stock_move"),
        },
        // A shipment the order's state or stock does not allow: a conflict with
        // the data; a malformed one: the request.
        DomainError::Fulfillment(err) => match err {
            FulfillmentError::NotShippable { .. }
            | FulfillmentError::TooMany { .. }
            | FulfillmentError::Transition { .. }
            | FulfillmentError::Closed { .. }
            | FulfillmentError::HasShipments(_) => (S::CONFLICT, "shipment_conflict"),
            FulfillmentError::NotCancellable { .. }
            | FulfillmentError::TooManyToCancel { .. }
            | FulfillmentError::WholeOrder(_) => (S::CONFLICT, "cancellation_conflict"),
            FulfillmentError::Empty
            | FulfillmentError::UnknownLine { .. }
            | FulfillmentError::DuplicateLine(_) => (S::UNPROCESSABLE_ENTITY, "invalid_shipment"),
        },
        // A return the order's shipments or the return's state do not allow: a
        // conflict; a malformed one: the request.
        DomainError::Return(err) => match err {
            ReturnError::NotReturnable { .. }
            | ReturnError::TooMany { .. }
            | ReturnError::Step { .. }
            | ReturnError::ReceivedDifferently(_) => (S::CONFLICT, "return_conflict"),
            ReturnError::Empty
            | ReturnError::UnknownLine { .. }
            | ReturnError::DuplicateLine(_) => (S::UNPROCESSABLE_ENTITY, "invalid_return"),
        },
        DomainError::NoRefundableLine { .. } => (S::UNPROCESSABLE_ENTITY, "no_refundable_line"),
        DomainError::CategoryCycle { .. } | DomainError::ConcurrentUpdate { .. } => {
            (S::CONFLICT, "conflict")
        }
        DomainError::Password(_) | DomainError::PolicyError(_) => {
            (S::INTERNAL_SERVER_ERROR, "internal")
        }
    }
}

/// What a client can act on beyond the message: which lines are short, which
/// events the order would have accepted, which gift card was refused.
fn details(err: &DomainError) -> Value {
    match err {
        DomainError::OutOfStock(short) => json!(short
            .iter()
            .map(|s| json!({ "variant_id": s.variant_id, "sku": s.sku.as_str(), "requested": s.requested, "available": s.available }))
            .collect::<Vec<_>>()),
        DomainError::OrderTransition(t) => json!({ "from": t.from.as_str(), "allowed": t.allowed.iter().map(|e| e.as_str()).collect::<Vec<_>>() }),
        DomainError::NoPrice { variant, currency } => {
            json!({ "variant_id": variant, "currency": currency.code() })
        }
        DomainError::ShippingUnavailable(code) => json!({ "method": code.as_str() }),
        DomainError::NoTaxRate {
            country,
            region,
            class,
        } => json!({
            "country": country.as_str(),
            "region": region.as_ref().map(RegionCode::as_str),
            "class": class.as_str(),
        }),
        DomainError::PriceList(PriceListError::DuplicatePrice {
            variant,
            min_quantity,
        }) => json!({ "variant_id": variant, "min_quantity": min_quantity }),
        DomainError::TooManyGroups(count) => {
            json!({ "count": count, "max": ecom_domain::repo::MAX_GROUPS })
        }
        // Which of a checkout's cards was refused, by what names it to its holder.
        DomainError::GiftCard(
            GiftCardError::Expired { last_four }
            | GiftCardError::WrongCurrency { last_four, .. }
            | GiftCardError::Empty { last_four },
        ) => json!({ "last_four": last_four }),
        _ => Value::Null,
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        let (status, code) = status_and_code(&err);
        Self {
            status,
            code,
            message: err.to_string(),
            details: Box::new(details(&err)),
            retry_after: None,
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
            )
            .retry_after(1),
            // Store internals stay in the logs, not in the answer.
            other => {
                tracing::error!(error = %other, "store error");
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

impl From<OptionError> for ApiError {
    fn from(err: OptionError) -> Self {
        DomainError::from(err).into()
    }
}

impl From<AttributeError> for ApiError {
    fn from(err: AttributeError) -> Self {
        DomainError::from(err).into()
    }
}

impl From<MediaError> for ApiError {
    fn from(err: MediaError) -> Self {
        DomainError::from(err).into()
    }
}

impl From<CollectionError> for ApiError {
    fn from(err: CollectionError) -> Self {
        DomainError::from(err).into()
    }
}

impl From<BrowseError> for ApiError {
    fn from(err: BrowseError) -> Self {
        DomainError::from(err).into()
    }
}

/// A report whose signature does not hold: `400`, as a provider expects, so it
/// retries only what it should.
impl From<ecom_domain::webhook::WebhookError> for ApiError {
    fn from(err: ecom_domain::webhook::WebhookError) -> Self {
        use ecom_domain::webhook::WebhookError as W;
        let code = match &err {
            W::MalformedHeader(_) => "malformed_signature",
            W::OutsideTolerance { .. } => "stale_signature",
            W::BadSignature => "bad_signature",
            W::NoSecrets | W::SecretTooShort => "webhooks_not_configured",
        };
        ApiError::new(StatusCode::BAD_REQUEST, code, err.to_string())
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
