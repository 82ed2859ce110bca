//! The back office's gift cards: issue one (the one answer that shows its code),
//! read one by id, and read its ledger.
//!
//! The value becomes a checked [`NewGiftCard`] here, before the store is called:
//! a value that is not a decimal, not above zero, too large or too precise for
//! its currency, or an end date already past, is a typed `422` without a
//! database round trip.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ecom_domain::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::Staff;
use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::{ApiJson, ApiPath};
use crate::service::openapi::{
    BadRequest, Invalid, NotFound, TooLarge, Unauthenticated, Unavailable, UnsupportedMediaType,
};
use crate::service::response::{
    GiftCardLedgerView, GiftCardView, IssuedGiftCardView, currency_schema,
};

/// `POST /admin/gift-cards`: a card to issue.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewGiftCard)]
pub(in crate::service) struct GiftCardBody {
    /// Its value, the first balance: a decimal string above zero, at most
    /// 1,000,000, at the currency's minor unit at most.
    #[schema(example = "50.00")]
    value: String,
    /// The currency it is spent in; EUR when not given.
    #[schema(schema_with = currency_schema)]
    currency: Option<String>,
    /// When it stops being accepted, after now; never when not given.
    expires_at: Option<DateTime<Utc>>,
}

impl GiftCardBody {
    fn into_new_gift_card(self) -> Result<NewGiftCard, ApiError> {
        let currency = Currency::from_code(self.currency.as_deref().unwrap_or("EUR"))?;
        let new = NewGiftCard {
            value: Money::parse(&self.value, currency)?,
            expires_at: self.expires_at,
        };
        Ok(new.checked(Utc::now()).map_err(DomainError::from)?)
    }
}

/// Issues a gift card with a new random code.
///
/// The answer is the only place the code is ever shown: the store keeps its
/// digest and its last four letters, no route reads it back, and a card whose
/// code is lost cannot be spent. A value that is not above zero, above
/// 1,000,000 or finer than the currency's minor unit, or an end date not after
/// now, is `422` (`invalid`, `invalid_gift_cards`). Each call issues a new card:
/// a retried call issues a second one.
#[utoipa::path(
    post,
    path = "/admin/gift-cards",
    tag = "admin",
    security(("admin" = [])),
    request_body = GiftCardBody,
    responses(
        (status = 201, description = "The card issued, with its code: shown this once, never again", body = IssuedGiftCardView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn issue_gift_card(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<GiftCardBody>,
) -> Result<(StatusCode, Json<IssuedGiftCardView>), ApiError> {
    let new = body.into_new_gift_card()?;
    app.blocking(move |store| {
        let issued = store.issue_gift_card(new)?;
        Ok((StatusCode::CREATED, Json(IssuedGiftCardView::from(&issued))))
    })
    .await
}

/// One gift card by id: its value, balance and dates, without its code.
#[utoipa::path(
    get,
    path = "/admin/gift-cards/{id}",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The card's id")),
    responses(
        (status = 200, description = "The card", body = GiftCardView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn gift_card(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<GiftCardView>, ApiError> {
    app.blocking(move |store| {
        let card = store.gift_card_by_id(GiftCardId::new(id))?;
        Ok(Json(GiftCardView::from(&card)))
    })
    .await
}

/// A gift card's ledger, oldest first: its issue, each checkout that spent
/// some of it and each refund that gave some back, with the payment and the
/// balance after each.
#[utoipa::path(
    get,
    path = "/admin/gift-cards/{id}/ledger",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The card's id")),
    responses(
        (status = 200, description = "The card's ledger", body = GiftCardLedgerView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn gift_card_ledger(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<GiftCardLedgerView>, ApiError> {
    let card = GiftCardId::new(id);
    app.blocking(move |store| {
        let entries = store.gift_card_ledger(card)?;
        Ok(Json(GiftCardLedgerView::new(card, &entries)))
    })
    .await
}
