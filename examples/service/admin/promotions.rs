//! The back office's promotions and coupon codes: create a promotion, list them,
//! make a promotion's codes (given, or generated), and read one code back with
//! its uses.
//!
//! Each body becomes checked domain values here, before the store is called
//! ([`NewPromotion::checked`], [`NewCoupons::checked`]): a rate out of range, an
//! amount without its currency, a list of codes longer than the service takes is a
//! typed `422` without a database round trip. The service also refuses what the
//! domain lets through but the database's CHECKs would turn into a `500`: a
//! negative minimum subtotal, and counts past what its integer columns hold.
//! What needs the data (a promotion that does not exist, a code that does) the
//! store refuses, as `404` or `409`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ecom_domain::prelude::*;
use ecom_domain::promotion::{
    CouponCodes, CouponError, Discount, NewCoupons, NewPromotion, PromotionError, Target,
};
use ecom_store::StoreError;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use super::Staff;
use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::{ApiJson, ApiPath};
use crate::service::limits::{MAX_GENERATED_COUPONS, MAX_GIVEN_COUPONS};
use crate::service::openapi::{
    BadRequest, Conflict, Invalid, NotFound, TooLarge, Unauthenticated, Unavailable,
    UnsupportedMediaType,
};
use crate::service::response::{
    CouponView, CreatedCouponsView, PromotionListView, PromotionView, currency_schema,
    target_kind_schema,
};

/// `422 invalid_promotion`, for what the service refuses before the domain sees it.
fn invalid_promotion(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_promotion",
        message,
    )
}

/// `422 invalid_coupons`, likewise.
fn invalid_coupons(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_coupons", message)
}

/// `POST /admin/promotions`: a new promotion.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewPromotion)]
pub(in crate::service) struct PromotionBody {
    /// What an order's invoice shows, 1 to 100 characters.
    #[schema(example = "10 % off everything")]
    name: String,
    discount: DiscountBody,
    target: TargetBody,
    /// The currency of its amounts (a `fixed` discount, `min_subtotal`), which
    /// then must be given; it applies only to carts in it. Not given: no amounts,
    /// and carts in any currency. Unlike the price book's bodies, not EUR by
    /// default: a percentage for every market is a promotion of its own kind.
    #[schema(schema_with = currency_schema)]
    currency: Option<String>,
    /// The least a cart's subtotal (before discounts) must be, a decimal string
    /// in `currency`, not negative.
    #[schema(example = "50.00")]
    min_subtotal: Option<String>,
    /// The least number of units of the lines it targets, 1 or more.
    #[schema(minimum = 1)]
    min_quantity: Option<u32>,
    /// The customer group it is for (a slug); everyone when not given.
    #[schema(example = "b2b")]
    group: Option<String>,
    /// When it starts; always has when not given.
    starts_at: Option<DateTime<Utc>>,
    /// When it ends (exclusive), after `starts_at`; never when not given.
    ends_at: Option<DateTime<Utc>>,
    /// True: it applies only with one of its coupon codes; false: to every cart
    /// it fits, automatically.
    coupon_only: bool,
    /// True: when it comes first (by priority, then id) it applies alone; when
    /// another comes first it is skipped. False: it stacks with the other
    /// stackable ones, each taken off what the ones before left.
    exclusive: bool,
    /// Its place in the order promotions apply in, lower first.
    #[schema(example = 0)]
    priority: i32,
}

/// What a new promotion takes off; amounts and rates are decimal strings.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[schema(as = NewDiscount)]
pub(in crate::service) enum DiscountBody {
    /// A share of the lines it targets: above 0 and at most 1, at most 4
    /// decimals (`0.10` for 10 %).
    Percent {
        #[schema(example = "0.10")]
        rate: String,
    },
    /// An amount off the lines it targets together, positive, in the promotion's
    /// `currency` (which must be given).
    Fixed {
        #[schema(example = "2.00")]
        amount: String,
    },
    /// The shipping charge; its target is `order`.
    FreeShipping,
    /// Of every `buy + get` units it targets, `get` are free (the cheapest); each
    /// 1 to 1000.
    BuyXGetY { buy: u32, get: u32 },
}

/// What a new promotion's discount is taken off.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewPromotionTarget)]
pub(in crate::service) struct TargetBody {
    #[serde(rename = "type")]
    #[schema(schema_with = target_kind_schema)]
    kind: String,
    /// 1 to 1000 ids of the type's things; none for `order`. Ids are not looked
    /// up: one that names nothing matches no line.
    ids: Option<Vec<i64>>,
}

impl TargetBody {
    fn into_target(self) -> Result<Target, ApiError> {
        let kind = self.kind;
        let ids = match (kind.as_str(), self.ids) {
            ("order", None) => return Ok(Target::Order),
            ("order", Some(_)) => {
                return Err(invalid_promotion(
                    "a target of type order names no ids: it is every line",
                ));
            }
            // An empty list and none are the same refusal: a target naming nothing.
            (_, ids) => ids.unwrap_or_default(),
        };
        Ok(match kind.as_str() {
            "variants" => Target::Variants(ids.into_iter().map(VariantId::new).collect()),
            "products" => Target::Products(ids.into_iter().map(ProductId::new).collect()),
            "categories" => Target::Categories(ids.into_iter().map(CategoryId::new).collect()),
            "collections" => Target::Collections(ids.into_iter().map(CollectionId::new).collect()),
            other => {
                return Err(invalid_promotion(format!(
                    "{:?} is not a target type: order, variants, products, categories or \
                     collections",
                    other.chars().take(20).collect::<String>()
                )));
            }
        })
    }
}

/// A decimal string from a body, or `422 invalid_promotion` naming `what`.
fn decimal(what: &str, raw: &str) -> Result<Decimal, ApiError> {
    Decimal::from_str_exact(raw.trim()).map_err(|_| {
        invalid_promotion(format!(
            "{what} {:?} is not a decimal number",
            raw.chars().take(20).collect::<String>()
        ))
    })
}

impl PromotionBody {
    fn into_new_promotion(self) -> Result<NewPromotion, ApiError> {
        let currency = self
            .currency
            .as_deref()
            .map(Currency::from_code)
            .transpose()?;
        // An amount is parsed in the promotion's currency; without one it has none.
        let in_currency = |raw: &str| -> Result<Money, ApiError> {
            let currency = currency.ok_or(DomainError::Promotion(PromotionError::Currency))?;
            Ok(Money::parse(raw, currency)?)
        };
        let discount = match self.discount {
            DiscountBody::Percent { rate } => Discount::Percent {
                rate: decimal("rate", &rate)?,
            },
            DiscountBody::Fixed { amount } => Discount::Fixed {
                amount: in_currency(&amount)?,
            },
            DiscountBody::FreeShipping => Discount::FreeShipping,
            DiscountBody::BuyXGetY { buy, get } => Discount::BuyXGetY { buy, get },
        };
        let min_subtotal = self.min_subtotal.as_deref().map(in_currency).transpose()?;
        let new = NewPromotion {
            name: PromotionName::parse(&self.name)?,
            discount,
            target: self.target.into_target()?,
            currency,
            min_subtotal,
            min_quantity: self.min_quantity,
            group: self.group.as_deref().map(Slug::parse).transpose()?,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            coupon_only: self.coupon_only,
            exclusive: self.exclusive,
            priority: self.priority,
        };
        Ok(new.checked().map_err(DomainError::from)?)
    }
}

/// `POST /admin/promotions/{id}/coupons`: codes for a promotion, either given
/// (`codes`) or generated (`generate`), with the limits every one of them gets.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCoupons)]
pub(in crate::service) struct CouponsBody {
    /// The codes, 1 to 1000, each new and given once: 4 to 32 of `A-Z 0-9 -`,
    /// starting with a letter or digit, in any case (they are stored upper-case).
    #[schema(example = json!(["WELCOME-2"]))]
    codes: Option<Vec<String>>,
    /// Random codes instead of given ones.
    generate: Option<GenerateBody>,
    /// Uses of each code in all, 1 or more (1: single-use); no limit when not
    /// given.
    #[schema(minimum = 1, example = 1)]
    max_uses: Option<u32>,
    /// Uses of each code by one customer (a user, or a guest's e-mail), 1 or
    /// more; no limit when not given.
    #[schema(minimum = 1)]
    per_customer: Option<u32>,
}

/// How many random codes to make, and their shape.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CouponPattern)]
pub(in crate::service) struct GenerateBody {
    /// 1 to 100,000 codes.
    #[schema(minimum = 1, maximum = 100_000, example = 500)]
    count: u32,
    /// What every code starts with (`SUMMER-`): `A-Z 0-9 -`, starting with a
    /// letter or digit; none when not given.
    #[schema(example = "SUMMER-")]
    prefix: Option<String>,
    /// Random letters after the prefix, 8 to 24, from an alphabet without the
    /// look-alikes 0/O and 1/I/L; prefix and letters are 32 at most.
    #[schema(minimum = 8, maximum = 24, example = 10)]
    length: u8,
}

impl CouponsBody {
    fn into_new_coupons(self, promotion: PromotionId) -> Result<NewCoupons, ApiError> {
        let codes = match (self.codes, self.generate) {
            (Some(codes), None) => CouponCodes::Given(given_codes(codes)?),
            (None, Some(g)) => {
                // Bounded before the store draws any.
                if g.count > MAX_GENERATED_COUPONS {
                    return Err(ApiError::too_many(
                        "too_many_coupons",
                        "codes to generate",
                        g.count as usize,
                        MAX_GENERATED_COUPONS as usize,
                    ));
                }
                CouponCodes::Generated {
                    count: g.count,
                    prefix: g.prefix.unwrap_or_default(),
                    length: g.length,
                }
            }
            _ => {
                return Err(invalid_coupons(
                    "give either `codes` or `generate`, and not both",
                ));
            }
        };
        let new = NewCoupons {
            promotion,
            codes,
            max_uses: self.max_uses,
            per_customer: self.per_customer,
        };
        Ok(new.checked().map_err(DomainError::from)?)
    }
}

/// Given codes, counted before any is parsed.
fn given_codes(raw: Vec<String>) -> Result<Vec<CouponCode>, ApiError> {
    if raw.len() > MAX_GIVEN_COUPONS {
        return Err(ApiError::too_many(
            "too_many_coupons",
            "codes",
            raw.len(),
            MAX_GIVEN_COUPONS,
        ));
    }
    Ok(raw
        .iter()
        .map(|c| CouponCode::parse(c))
        .collect::<Result<Vec<_>, _>>()?)
}

/// Creates a promotion.
///
/// A rate outside (0, 1] or with more than 4 decimals, an amount not positive or
/// without the promotion's `currency`, buy/get outside 1 to 1000, free shipping
/// off anything but the order, a target naming no ids or more than 1000, a
/// minimum quantity of 0 or a window that ends before it starts is
/// `422 invalid_promotion`. It applies to checkouts (and quotes) from the moment
/// it is created.
#[utoipa::path(
    post,
    path = "/admin/promotions",
    tag = "admin",
    security(("admin" = [])),
    request_body = PromotionBody,
    responses(
        (status = 201, description = "The promotion created", body = PromotionView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn create_promotion(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<PromotionBody>,
) -> Result<(StatusCode, Json<PromotionView>), ApiError> {
    let new = body.into_new_promotion()?;
    app.blocking(move |store| {
        let promotion = store.create_promotion(new)?;
        Ok((StatusCode::CREATED, Json(PromotionView::from(&promotion))))
    })
    .await
}

/// Every promotion, by id, active or not.
#[utoipa::path(
    get,
    path = "/admin/promotions",
    tag = "admin",
    security(("admin" = [])),
    responses(
        (status = 200, description = "The promotions", body = PromotionListView),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn promotions(
    _: Staff,
    State(app): State<App>,
) -> Result<Json<PromotionListView>, ApiError> {
    app.blocking(move |store| {
        let promotions = store.promotions()?;
        Ok(Json(PromotionListView::new(&promotions)))
    })
    .await
}

/// Creates coupon codes for a promotion: the ones given, or random ones.
///
/// Either `codes` (1 to 1000, `422 too_many_coupons` past that, each once) or
/// `generate` (1 to 100,000, `422 too_many_coupons` past that; 8 to 24 random
/// letters after the prefix), not both (`422 invalid_coupons`, as for a limit of
/// 0 or a count of 0). A promotion that does not exist is `404 not_found`; a code
/// that exists already, of any promotion, is `409 coupon_taken`, and then none is
/// made. The answer is the only place generated codes are shown.
#[utoipa::path(
    post,
    path = "/admin/promotions/{id}/coupons",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The promotion's id")),
    request_body = CouponsBody,
    responses(
        (status = 201, description = "The codes created", body = CreatedCouponsView),
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
pub(in crate::service) async fn create_coupons(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CouponsBody>,
) -> Result<(StatusCode, Json<CreatedCouponsView>), ApiError> {
    let promotion = PromotionId::new(id);
    let new = body.into_new_coupons(promotion)?;
    let (max_uses, per_customer) = (new.max_uses, new.per_customer);
    app.blocking(move |store| {
        let codes = store.create_coupons(new)?;
        Ok((
            StatusCode::CREATED,
            Json(CreatedCouponsView::new(
                promotion,
                max_uses,
                per_customer,
                codes,
            )),
        ))
    })
    .await
}

/// One coupon code, in any case: its promotion, its limits and its uses.
///
/// A code that does not exist (or could not be one) is `404 not_found`.
#[utoipa::path(
    get,
    path = "/admin/coupons/{code}",
    tag = "admin",
    security(("admin" = [])),
    params(("code" = String, Path, description = "The code, in any case", example = "WELCOME-2")),
    responses(
        (status = 200, description = "The code", body = CouponView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn coupon(
    _: Staff,
    State(app): State<App>,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<CouponView>, ApiError> {
    let Ok(code) = CouponCode::parse(&raw) else {
        return Err(DomainError::not_found("coupon code", raw).into());
    };
    app.blocking(move |store| {
        // Unknown here is a path that names nothing, as for any other resource.
        let coupon = store.coupon(&code).map_err(|err| match err {
            StoreError::Domain(DomainError::Coupon(CouponError::Unknown(code))) => {
                DomainError::not_found("coupon code", code).into()
            }
            other => ApiError::from(other),
        })?;
        // The store reads one promotion only among all of them; a shop has few.
        let promotions = store.promotions()?;
        let promotion = promotions
            .iter()
            .find(|p| p.id == coupon.promotion)
            .ok_or_else(|| DomainError::not_found("promotion", coupon.promotion))?;
        Ok(Json(CouponView::new(&coupon, promotion)))
    })
    .await
}
