//! What clients send, and its one conversion into domain types at the edge: the
//! handlers and [`decode_body`] (the fuzz target's entry) share these types, so the
//! fuzzer exercises exactly what a request goes through.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use ecom_domain::prelude::*;
use serde::Deserialize;

use super::error::ApiError;

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
    /// `POST /webhooks/payments`: a provider's report.
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
        BodyKind::PaymentEvent => decode::<ProviderReport>(body)?.event().map(drop),
    }
}

/// The `Idempotency-Key` header, which checkout and payment reports require.
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<IdempotencyKey, ApiError> {
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
pub(super) struct PageQuery {
    pub(super) after: Option<i64>,
    pub(super) limit: Option<u32>,
}

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    pub(super) q: String,
    pub(super) limit: Option<u32>,
}

#[derive(Deserialize)]
pub(super) struct RegisterBody {
    email: String,
    name: String,
    password: String,
}

impl RegisterBody {
    pub(super) fn into_new_user(self) -> Result<NewUser, ApiError> {
        Ok(NewUser {
            email: Email::parse(&self.email)?,
            name: PersonName::parse(&self.name)?,
            password: Password::new(self.password)?,
        })
    }
}

#[derive(Deserialize)]
pub(super) struct OpenCartBody {
    guest_token: Option<String>,
    user_id: Option<i64>,
    currency: Option<String>,
}

impl OpenCartBody {
    pub(super) fn into_owner(self) -> Result<(CartOwner, Currency), ApiError> {
        let owner = match (self.user_id, self.guest_token) {
            (Some(user), None) => CartOwner::User(UserId::new(user)),
            (None, Some(token)) => CartOwner::guest(&GuestToken::parse(&token)?),
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

#[derive(Deserialize)]
pub(super) struct AddItemBody {
    pub(super) product_id: i64,
    pub(super) quantity: i64,
}

#[derive(Deserialize)]
pub(super) struct QuantityBody {
    pub(super) quantity: i64,
}

#[derive(Deserialize)]
pub(super) struct AttachBody {
    pub(super) user_id: i64,
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
pub(super) struct CheckoutBody {
    cart_id: i64,
    shipping: AddressBody,
    billing: Option<AddressBody>,
    email: Option<String>,
    provider: Option<String>,
}

impl CheckoutBody {
    pub(super) fn into_request(
        self,
        idempotency_key: IdempotencyKey,
    ) -> Result<CheckoutRequest, ApiError> {
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

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum EventType {
    Authorize,
    Capture,
    Void,
    Refund,
    Fail,
}

/// A provider's report, as its signed webhook carries it.
#[derive(Deserialize)]
pub(super) struct ProviderReport {
    /// The provider's event id: a report delivered twice is booked once.
    id: String,
    /// The payment the shop gave the provider at checkout.
    pub(super) payment_id: i64,
    #[serde(flatten)]
    event: PaymentEventBody,
}

impl ProviderReport {
    /// The payment event it reports, keyed by the provider's event id.
    pub(super) fn event(&self) -> Result<PaymentEvent, ApiError> {
        Ok(PaymentEvent {
            key: IdempotencyKey::parse(&self.id)?,
            action: self.event.action()?,
        })
    }
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
        let reason = self.reason.as_deref().map(Reason::parse).transpose()?;
        Ok(match self.kind {
            EventType::Authorize => PaymentAction::Authorize {
                amount: self.amount()?,
                provider_ref: self
                    .provider_ref
                    .as_deref()
                    .map(ProviderRef::parse)
                    .transpose()?,
            },
            EventType::Capture => PaymentAction::Capture {
                amount: self.amount()?,
            },
            EventType::Void => PaymentAction::Void,
            EventType::Refund => PaymentAction::Refund {
                amount: self.amount()?,
                reason,
            },
            EventType::Fail => PaymentAction::Fail {
                reason: reason.unwrap_or_default(),
            },
        })
    }

    /// The amount, which authorize, capture and refund require.
    fn amount(&self) -> Result<Money, ApiError> {
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
    }
}
