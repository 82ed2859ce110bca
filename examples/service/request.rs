//! What clients send, and its one conversion into domain types at the edge: the
//! handlers and [`decode_body`] (the fuzz target's entry) share these types, so the
//! fuzzer exercises exactly what a request goes through.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use ecom_domain::prelude::*;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

mod listing;
mod returns;

pub(super) use listing::{BrowseQuery, CatalogSearchQuery, CollectionPageQuery};
pub(super) use returns::ReturnBody;

use super::error::ApiError;
use super::response::currency_schema;

/// The JSON request bodies of the service, for [`decode_body`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `POST /users`.
    Register,
    /// `POST /carts`.
    OpenCart,
    /// `POST /carts/{id}/items`.
    AddItem,
    /// `PUT /carts/{id}/items/{variant_id}`.
    SetQuantity,
    /// `POST /sessions`.
    Login,
    /// `POST /checkout`.
    Checkout,
    /// `POST /webhooks/payments`: a provider's report.
    PaymentEvent,
    /// `POST /gift-cards/balance`.
    GiftCardBalance,
}

impl BodyKind {
    /// Every body.
    pub const ALL: [BodyKind; 8] = [
        BodyKind::Register,
        BodyKind::OpenCart,
        BodyKind::AddItem,
        BodyKind::SetQuantity,
        BodyKind::Login,
        BodyKind::Checkout,
        BodyKind::PaymentEvent,
        BodyKind::GiftCardBalance,
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
        BodyKind::OpenCart => decode::<OpenCartBody>(body)?.currency().map(drop),
        BodyKind::AddItem => {
            let body = decode::<AddItemBody>(body)?;
            let _ = VariantId::new(body.variant_id);
            Quantity::new(body.quantity)
                .map(drop)
                .map_err(ApiError::from)
        }
        BodyKind::SetQuantity => Quantity::new(decode::<QuantityBody>(body)?.quantity)
            .map(drop)
            .map_err(ApiError::from),
        BodyKind::Login => decode::<LoginBody>(body)?.credentials().map(drop),
        BodyKind::Checkout => {
            let key = IdempotencyKey::parse("fuzz").map_err(ApiError::from)?;
            decode::<CheckoutBody>(body)?.into_order(key).map(drop)
        }
        BodyKind::PaymentEvent => decode::<ProviderReport>(body)?.event().map(drop),
        BodyKind::GiftCardBalance => decode::<GiftCardBalanceBody>(body)?.code().map(drop),
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

/// `GET /categories/{id}/products`: a page of a category.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PageQuery {
    /// The `next` of the previous page; none for the first page.
    pub(super) after: Option<i64>,
    /// Products on the page (50 when not given; the store caps it).
    pub(super) limit: Option<u32>,
}

/// `GET /products/search`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SearchQuery {
    /// Words of the product's name, at most 200 characters.
    #[param(max_length = 200)]
    pub(super) q: String,
    /// Hits to return (20 when not given; the store caps it).
    pub(super) limit: Option<u32>,
}

/// `POST /users`: a new account.
#[derive(Deserialize, ToSchema)]
#[schema(as = Registration)]
pub(super) struct RegisterBody {
    #[schema(format = "email")]
    email: String,
    name: String,
    #[schema(format = Password)]
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

/// `POST /sessions`: sign-in credentials.
#[derive(Deserialize, ToSchema)]
#[schema(as = Credentials)]
pub(super) struct LoginBody {
    #[schema(format = "email")]
    email: String,
    #[schema(format = Password)]
    password: String,
}

impl LoginBody {
    pub(super) fn credentials(self) -> Result<(Email, Password), ApiError> {
        Ok((Email::parse(&self.email)?, Password::new(self.password)?))
    }
}

/// `POST /carts`: the currency of a new cart (EUR when none is given).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OpenCart)]
pub(super) struct OpenCartBody {
    /// The currency of a new cart; EUR when not given.
    #[schema(schema_with = currency_schema)]
    currency: Option<String>,
}

impl OpenCartBody {
    pub(super) fn currency(&self) -> Result<Currency, ApiError> {
        Ok(Currency::from_code(
            self.currency.as_deref().unwrap_or("EUR"),
        )?)
    }
}

/// A cart in a path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct CartPath {
    /// The cart's public reference.
    #[param(format = "uuid")]
    pub(super) id: String,
}

/// A line of a cart in a path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct CartLinePath {
    /// The cart's public reference.
    #[param(format = "uuid")]
    pub(super) id: String,
    /// The line's variant.
    pub(super) variant_id: i64,
}

/// A cart's reference from a path: one that is not a reference names no cart.
pub(super) fn cart_ref(raw: &str) -> Result<CartRef, ApiError> {
    CartRef::parse(raw).map_err(|_| DomainError::not_found("cart", raw).into())
}

/// An order's reference from a path.
pub(super) fn order_ref(raw: &str) -> Result<OrderRef, ApiError> {
    OrderRef::parse(raw).map_err(|_| DomainError::not_found("order", raw).into())
}

/// `GET /carts/{id}/shipping-options`: where the cart would go.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DestinationQuery {
    /// ISO 3166-1 alpha-2 country code.
    #[param(example = "DE")]
    country: String,
    /// The region's ISO 3166-2 code after the country's (`NY` for US-NY), when
    /// its own rates or shipping zones matter.
    #[param(example = "NY")]
    region: Option<String>,
}

impl DestinationQuery {
    pub(super) fn destination(&self) -> Result<Destination, ApiError> {
        destination(&self.country, self.region.as_deref())
    }
}

/// A destination from a query's country and region codes.
fn destination(country: &str, region: Option<&str>) -> Result<Destination, ApiError> {
    Ok(Destination {
        country: CountryCode::parse(country)?,
        region: region.map(RegionCode::parse).transpose()?,
    })
}

/// `GET /carts/{id}/quote`: where the cart would go, and by which method.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct QuoteQuery {
    /// ISO 3166-1 alpha-2 country code.
    #[param(example = "DE")]
    country: String,
    /// The region's ISO 3166-2 code after the country's (`NY` for US-NY).
    #[param(example = "NY")]
    region: Option<String>,
    /// The code of one of the cart's shipping options.
    #[param(example = "standard")]
    method: String,
    /// Coupon codes to try, separated by commas (up to 5): the quote applies them
    /// as a checkout would, or refuses an unknown, expired or inapplicable one
    /// (whether a code is used up is known at checkout); no use is taken.
    #[param(example = "SUMMER-10")]
    coupons: Option<String>,
}

impl QuoteQuery {
    pub(super) fn destination_and_method(&self) -> Result<(Destination, Slug), ApiError> {
        let to = destination(&self.country, self.region.as_deref())?;
        Ok((to, Slug::parse(&self.method)?))
    }

    /// The codes of `coupons`.
    pub(super) fn coupons(&self) -> Result<Vec<CouponCode>, ApiError> {
        let raw: Vec<String> = match &self.coupons {
            Some(list) => list.split(',').map(str::to_owned).collect(),
            None => Vec::new(),
        };
        coupon_codes(raw)
    }
}

/// `POST /carts/{id}/items`: a variant to add.
#[derive(Deserialize, ToSchema)]
#[schema(as = AddItem)]
pub(super) struct AddItemBody {
    /// A variant of an active product (see a product's `variants`).
    pub(super) variant_id: i64,
    /// Units to add, 1 or more.
    #[schema(minimum = 1)]
    pub(super) quantity: i64,
}

/// `PUT /carts/{id}/items/{variant_id}`: a line's new quantity.
#[derive(Deserialize, ToSchema)]
#[schema(as = SetQuantity)]
pub(super) struct QuantityBody {
    #[schema(minimum = 1)]
    pub(super) quantity: i64,
}

/// A postal address as the customer typed it; the service validates it. Missing
/// fields are empty (and refused when required).
#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
#[schema(as = Address)]
pub(super) struct AddressFields {
    /// Who receives mail there.
    #[schema(example = "Ada Lovelace")]
    recipient: String,
    /// Street and number.
    line1: String,
    /// Flat, floor, c/o; empty for none.
    line2: String,
    city: String,
    /// State, province or county; empty for none.
    region: String,
    postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "GB")]
    country: String,
}

impl From<AddressFields> for RawAddress {
    fn from(a: AddressFields) -> Self {
        RawAddress {
            recipient: a.recipient,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

/// An address in a request: a saved one by id, or given in full.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = AddressChoice)]
enum AddressBody {
    /// One of the signed-in user's saved addresses.
    Saved {
        address_id: i64,
    },
    Given(AddressFields),
}

impl AddressBody {
    fn parse(self) -> Result<AddressChoice, ApiError> {
        Ok(match self {
            AddressBody::Saved { address_id } => AddressChoice::Saved(AddressId::new(address_id)),
            AddressBody::Given(raw) => AddressChoice::Given(PostalAddress::parse(&raw.into())?),
        })
    }
}

/// `POST /checkout`: an order from one of the caller's carts.
#[derive(Deserialize, ToSchema)]
#[schema(as = Checkout)]
pub(super) struct CheckoutBody {
    /// The cart's public reference.
    #[schema(format = "uuid")]
    cart: String,
    shipping: AddressBody,
    /// The shipping address when not given.
    billing: Option<AddressBody>,
    /// Required for a guest: where the order's mails go.
    #[schema(format = "email")]
    email: Option<String>,
    /// The payment provider; `test` when not given.
    provider: Option<String>,
    /// The code of the shipping method chosen (one of the cart's shipping
    /// options): the order is priced from the price book, with per-line tax and
    /// an invoice. Without one, the shop's flat rules price it.
    shipping_method: Option<String>,
    /// Coupon codes, case-insensitive, up to 5: each must apply (with a shipping
    /// method), or the checkout is refused with the reason.
    coupon_codes: Option<Vec<String>>,
    /// Gift card codes to pay with, in this order (up to 5, each once; case,
    /// spaces and dashes ignored): each pays, at once, what its balance covers
    /// of what is still due, as a payment of its own; the provider's payment is
    /// the rest. When the cards pay it all there is no provider's payment and
    /// the order is `paid` at once.
    #[schema(example = json!(["7KQ2-M9XD-4HTB-P3WZ"]))]
    gift_cards: Option<Vec<String>>,
}

impl CheckoutBody {
    pub(super) fn into_order(
        self,
        idempotency_key: IdempotencyKey,
    ) -> Result<PlaceOrder, ApiError> {
        let cart = cart_ref(&self.cart)?;
        let shipping = self.shipping.parse()?;
        let billing = match self.billing {
            Some(b) => b.parse()?,
            None => shipping.clone(),
        };
        Ok(PlaceOrder {
            cart,
            shipping,
            billing,
            guest_email: self.email.as_deref().map(Email::parse).transpose()?,
            provider: ProviderName::parse(self.provider.as_deref().unwrap_or("test"))?,
            shipping_method: self
                .shipping_method
                .as_deref()
                .map(Slug::parse)
                .transpose()?,
            coupon_codes: coupon_codes(self.coupon_codes.unwrap_or_default())?,
            gift_cards: gift_cards(self.gift_cards.unwrap_or_default())?,
            idempotency_key,
        })
    }
}

/// The codes of a checkout body: at most
/// [`MAX_CODES_PER_CHECKOUT`](ecom_domain::promotion::MAX_CODES_PER_CHECKOUT),
/// counted before any is parsed.
fn coupon_codes(raw: Vec<String>) -> Result<Vec<CouponCode>, ApiError> {
    let max = ecom_domain::promotion::MAX_CODES_PER_CHECKOUT;
    if raw.len() > max {
        return Err(DomainError::from(ecom_domain::promotion::CouponError::TooMany { max }).into());
    }
    Ok(raw
        .iter()
        .map(|c| CouponCode::parse(c))
        .collect::<Result<_, _>>()?)
}

/// The gift card codes of a checkout body: at most
/// [`MAX_CARDS_PER_CHECKOUT`](ecom_domain::gift_card::MAX_CARDS_PER_CHECKOUT),
/// counted before any is parsed.
fn gift_cards(raw: Vec<String>) -> Result<Vec<GiftCardCode>, ApiError> {
    if raw.len() > ecom_domain::gift_card::MAX_CARDS_PER_CHECKOUT {
        return Err(DomainError::from(GiftCardError::TooMany(raw.len())).into());
    }
    raw.iter()
        .map(|c| GiftCardCode::parse(c).map_err(|e| DomainError::from(e).into()))
        .collect()
}

/// `POST /gift-cards/balance`: a card's code, in the body so that no URL (and
/// no log of one) carries it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = GiftCardLookup)]
pub(super) struct GiftCardBalanceBody {
    /// The card's code: 16 letters and digits, case, spaces and dashes ignored.
    #[schema(example = "7KQ2-M9XD-4HTB-P3WZ")]
    code: String,
}

impl GiftCardBalanceBody {
    pub(super) fn code(&self) -> Result<GiftCardCode, ApiError> {
        GiftCardCode::parse(&self.code).map_err(|e| DomainError::from(e).into())
    }
}

/// What the provider reports.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PaymentEventType)]
enum EventType {
    Authorize,
    Capture,
    Void,
    Refund,
    Fail,
}

/// A provider's report, as its signed webhook carries it.
#[derive(Deserialize, ToSchema)]
#[schema(as = PaymentReport)]
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

/// What happened to the payment.
#[derive(Deserialize, ToSchema)]
#[schema(as = PaymentEventBody)]
struct PaymentEventBody {
    #[serde(rename = "type")]
    kind: EventType,
    /// A decimal string; required by authorize, capture and refund.
    #[schema(example = "24.00")]
    amount: Option<String>,
    /// EUR when not given.
    #[schema(schema_with = currency_schema)]
    currency: Option<String>,
    /// The provider's own id for the payment (authorize).
    provider_ref: Option<String>,
    /// Why (refund, fail).
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

/// A domain enum by its name (`"archived"`, `"ship"`), or `422 invalid` saying which
/// name was not one.
pub(super) fn by_name<T>(raw: &str) -> Result<T, ApiError>
where
    T: std::str::FromStr<Err = ecom_domain::UnknownVariant>,
{
    raw.parse().map_err(|e: ecom_domain::UnknownVariant| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
    })
}
