//! A gift card's balance, for whoever holds its code: no session is needed (a
//! card is often a present, checked before anyone signs in), so the code is the
//! credential. It travels in the body, never in the URL, which access logs and
//! the request's span keep; the route is rate-limited per address like checkout,
//! and a code has 80 random bits, so guessing one is hopeless.

use axum::Json;
use axum::extract::State;
use ecom_domain::prelude::*;

use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::ApiJson;
use crate::service::openapi::{
    BadRequest, Invalid, RateLimited, TooLarge, Unavailable, UnsupportedMediaType,
};
use crate::service::request::GiftCardBalanceBody;
use crate::service::response::GiftCardBalanceView;

/// The balance of the gift card whose code is given, its last four letters and
/// when it expires.
///
/// A code that is not 16 letters and digits is `422 invalid_gift_cards`; one no
/// card has is `422 gift_card_unknown`. An expired card still answers, with its
/// `expires_at`: checkout is what refuses it.
#[utoipa::path(
    post,
    path = "/gift-cards/balance",
    tag = "gift_cards",
    request_body = GiftCardBalanceBody,
    responses(
        (status = 200, description = "The card's balance", body = GiftCardBalanceView),
        (status = 400, response = BadRequest),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 429, response = RateLimited),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn gift_card_balance(
    State(app): State<App>,
    ApiJson(body): ApiJson<GiftCardBalanceBody>,
) -> Result<Json<GiftCardBalanceView>, ApiError> {
    let code = body.code()?;
    app.blocking(move |store| {
        let card = store.gift_card(&code)?;
        Ok(Json(GiftCardBalanceView::from(&card)))
    })
    .await
}
