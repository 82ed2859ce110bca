//! The back office's order routes: listing orders, moving them on, refunding
//! them (an amount or a line, spread over their payments) and refunding one of
//! their payments.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use ecom_domain::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

use super::{Staff, by_name};
use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::{ApiJson, ApiPath, ApiQuery};
use crate::service::openapi::{
    BadRequest, Conflict, Invalid, NotFound, TooLarge, Unauthenticated, Unavailable,
    UnsupportedMediaType,
};
use crate::service::request::idempotency_key;
use crate::service::response::{
    OrderListView, OrderRefundView, OrderStatusView, PaymentOutcomeView, currency_schema,
    order_status_schema,
};

/// `GET /admin/orders`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(in crate::service) struct OrdersQuery {
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
pub(in crate::service) struct EventBody {
    #[schema(schema_with = manual_event_schema)]
    event: String,
    /// Kept in the order's history, e.g. a carrier's tracking number.
    note: Option<String>,
}

/// `POST /admin/payments/{id}/refunds`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewRefund)]
pub(in crate::service) struct RefundBody {
    /// A decimal string, at most what was captured and not yet refunded.
    #[schema(example = "8.50")]
    amount: String,
    /// EUR when not given.
    #[schema(schema_with = currency_schema)]
    currency: Option<String>,
    reason: Option<String>,
}

/// `POST /admin/orders/{id}/refunds`: an amount, or a line, not both.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewOrderRefund)]
pub(in crate::service) struct OrderRefundBody {
    /// A decimal string in the order's currency, above zero (`422 invalid`), at
    /// most what its payments captured and have not refunded yet.
    #[schema(example = "12.34")]
    amount: Option<String>,
    /// A line of the order (its `line_no`): what the customer paid for it, its
    /// amount less its discount with its tax. Only for an order priced from the
    /// price book (checked out with a `shipping_method`); each line once.
    #[schema(minimum = 1, example = 2)]
    line_no: Option<u16>,
    /// Why, for the records.
    reason: Option<String>,
}

/// What a refund body asks for, before the order's currency is known.
enum Asked {
    /// A decimal amount, in the order's currency.
    Amount(Decimal),
    Line(u16),
}

impl OrderRefundBody {
    /// The amount or the line, and the reason: exactly one of `amount` (a
    /// decimal above zero) and `line_no`, or `422 invalid`.
    fn asked(self) -> Result<(Asked, Option<Reason>), ApiError> {
        let asked = match (self.amount, self.line_no) {
            (Some(raw), None) => {
                let invalid = || MoneyError::InvalidAmount(raw.chars().take(40).collect());
                let value = Decimal::from_str_exact(raw.trim()).map_err(|_| invalid())?;
                if value <= Decimal::ZERO {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid",
                        "a refund's amount is above zero",
                    ));
                }
                Asked::Amount(value)
            }
            (None, Some(line_no)) => Asked::Line(line_no),
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    "give either `amount` or `line_no`, and not both",
                ));
            }
        };
        let reason = self.reason.as_deref().map(Reason::parse).transpose()?;
        Ok((asked, reason))
    }
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
pub(in crate::service) async fn orders(
    _: Staff,
    State(app): State<App>,
    ApiQuery(q): ApiQuery<OrdersQuery>,
) -> Result<Json<OrderListView>, ApiError> {
    let status: OrderStatus = by_name(&q.status)?;
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
pub(in crate::service) async fn order_event(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<EventBody>,
) -> Result<Json<OrderStatusView>, ApiError> {
    let event: OrderEvent = by_name(&body.event)?;
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
pub(in crate::service) async fn refund(
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

/// Refunds an order: an amount, or what was paid for one line, spread over its
/// payments.
///
/// The money goes back to the order's gift cards first (the latest first), put
/// back on each card's balance, then to the provider's payment. When every
/// payment is refunded in full the order is `refunded`. Only a paid, shipped or
/// delivered order takes a refund (`409 order_not_payable`); more than its
/// payments hold is `409 payment_refused`; a line the order does not have, or
/// any line of an order priced by the flat rules, is `422 no_refundable_line`.
/// A retry with the same `Idempotency-Key` and amount books nothing twice and
/// answers 200; the same key for another amount is `409 idempotency_conflict`. A
/// line is refunded once, whatever the key: asking again answers 200 and
/// changes nothing.
#[utoipa::path(
    post,
    path = "/admin/orders/{id}/refunds",
    tag = "admin",
    security(("admin" = [])),
    params(
        ("id" = i64, Path, description = "The order's id"),
        ("Idempotency-Key" = String, Header, description = "Staff's id for this refund; a retry sends the same"),
    ),
    request_body = OrderRefundBody,
    responses(
        (status = 201, description = "Booked", body = OrderRefundView),
        (status = 200, description = "Booked before: nothing changed", body = OrderRefundView),
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
pub(in crate::service) async fn refund_order(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<OrderRefundBody>,
) -> Result<(StatusCode, Json<OrderRefundView>), ApiError> {
    let key = idempotency_key(&headers)?;
    let (asked, reason) = body.asked()?;
    let order = OrderId::new(id);
    app.blocking(move |store| {
        let of = match asked {
            // An order's currency never changes: read before the refund's
            // transaction, it is still the order's when the refund runs.
            Asked::Amount(value) => {
                RefundOf::Amount(Money::new(value, store.order(order)?.order.currency)?)
            }
            Asked::Line(line_no) => RefundOf::Line(line_no),
        };
        let out = store.refund(order, OrderRefund { of, reason, key })?;
        let status = if out.applied == Applied::Duplicate {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        Ok((status, Json(OrderRefundView::new(order, &out))))
    })
    .await
}
