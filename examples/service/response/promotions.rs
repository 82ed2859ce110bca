//! Promotions and coupon codes as the back office sees them: a promotion as set,
//! the codes just made (the one time generated codes are shown), and one code
//! with its limits and uses. What an order applied is in its invoice
//! (`price_book`).

use chrono::{DateTime, Utc};
use ecom_domain::prelude::*;
use ecom_domain::promotion::{Coupon, Promotion, Target};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

use super::{DiscountView, MoneyView, one_of};

/// What a promotion's target names, by the name requests and answers use.
pub(in crate::service) const TARGET_KINDS: [&str; 5] =
    ["order", "variants", "products", "categories", "collections"];

pub(in crate::service) fn target_kind_schema() -> Object {
    one_of(
        TARGET_KINDS,
        "what the discount is taken off: `order` (every line; the only target of \
         free shipping), or the lines of the `variants`, `products`, `categories` \
         (not their subcategories) or `collections` named by `ids`",
    )
}

/// What a promotion's discount is taken off.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PromotionTarget)]
pub(in crate::service) struct TargetView {
    #[serde(rename = "type")]
    #[schema(schema_with = target_kind_schema)]
    kind: &'static str,
    /// The variants, products, categories or collections; empty for `order`.
    ids: Vec<i64>,
}

impl From<&Target> for TargetView {
    fn from(t: &Target) -> Self {
        let (kind, ids) = match t {
            Target::Order => (TARGET_KINDS[0], Vec::new()),
            Target::Variants(ids) => (TARGET_KINDS[1], ids.iter().map(|i| i.get()).collect()),
            Target::Products(ids) => (TARGET_KINDS[2], ids.iter().map(|i| i.get()).collect()),
            Target::Categories(ids) => (TARGET_KINDS[3], ids.iter().map(|i| i.get()).collect()),
            Target::Collections(ids) => (TARGET_KINDS[4], ids.iter().map(|i| i.get()).collect()),
        };
        Self { kind, ids }
    }
}

/// A promotion: a discount, what it is taken off, and when it applies.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Promotion)]
pub(in crate::service) struct PromotionView {
    /// The id its coupon codes are made under.
    id: i64,
    /// What an order's invoice shows.
    #[schema(example = "10 % off everything")]
    name: String,
    discount: DiscountView,
    target: TargetView,
    /// The currency of its amounts, and of the carts it applies to; null: any.
    #[schema(required = true, schema_with = currency_or_any_schema)]
    currency: Option<&'static str>,
    /// The least a cart's subtotal (before discounts) must be; null: none.
    #[schema(required = true)]
    min_subtotal: Option<MoneyView>,
    /// The least number of units of the lines it targets; null: one.
    #[schema(required = true)]
    min_quantity: Option<u32>,
    /// The customer group it is for; null: everyone.
    #[schema(required = true, example = "b2b")]
    group: Option<String>,
    /// When it starts; null: always has.
    #[schema(required = true)]
    starts_at: Option<DateTime<Utc>>,
    /// When it ends (exclusive); null: never.
    #[schema(required = true)]
    ends_at: Option<DateTime<Utc>>,
    /// True: it applies only with one of its coupon codes.
    coupon_only: bool,
    /// True: when it comes first it applies alone; otherwise it is skipped.
    exclusive: bool,
    /// Its place in the order promotions apply in, lower first (then by id).
    priority: i32,
}

fn currency_or_any_schema() -> Object {
    // Null among the values too: an `enum` without it would refuse the null the
    // type allows.
    let codes = Currency::ALL
        .iter()
        .map(|c| serde_json::Value::from(c.code()));
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(codes.chain([serde_json::Value::Null])))
        .description(Some(
            "ISO 4217 currency code of its amounts and the carts it applies to; null: any",
        ))
        .build()
}

impl From<&Promotion> for PromotionView {
    fn from(p: &Promotion) -> Self {
        Self {
            id: p.id.get(),
            name: p.name.as_str().to_owned(),
            discount: (&p.discount).into(),
            target: (&p.target).into(),
            currency: p.currency.map(|c| c.code()),
            min_subtotal: p.min_subtotal.map(MoneyView::from),
            min_quantity: p.min_quantity,
            group: p.group.as_ref().map(|g| g.as_str().to_owned()),
            starts_at: p.starts_at,
            ends_at: p.ends_at,
            coupon_only: p.coupon_only,
            exclusive: p.exclusive,
            priority: p.priority,
        }
    }
}

/// Every promotion, by id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PromotionList)]
pub(in crate::service) struct PromotionListView {
    items: Vec<PromotionView>,
}

impl PromotionListView {
    pub(in crate::service) fn new(promotions: &[Promotion]) -> Self {
        Self {
            items: promotions.iter().map(PromotionView::from).collect(),
        }
    }
}

/// Coupon codes just made for a promotion.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreatedCoupons)]
pub(in crate::service) struct CreatedCouponsView {
    promotion_id: i64,
    /// Uses of each code in all; null: no limit.
    #[schema(required = true)]
    max_uses: Option<u32>,
    /// Uses of each code by one customer; null: no limit.
    #[schema(required = true)]
    per_customer: Option<u32>,
    /// The codes, upper-case: the ones given, in their order, or the generated
    /// ones, sorted. Generated codes are shown here only; keep them.
    #[schema(example = json!(["WELCOME-2"]))]
    codes: Vec<String>,
}

impl CreatedCouponsView {
    pub(in crate::service) fn new(
        promotion: PromotionId,
        max_uses: Option<u32>,
        per_customer: Option<u32>,
        codes: Vec<CouponCode>,
    ) -> Self {
        Self {
            promotion_id: promotion.get(),
            max_uses,
            per_customer,
            codes: codes.into_iter().map(String::from).collect(),
        }
    }
}

/// One coupon code: its promotion, its limits and how often it is used.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Coupon)]
pub(in crate::service) struct CouponView {
    /// Upper-case; a customer may type it in any case.
    #[schema(example = "WELCOME-2")]
    code: String,
    promotion: PromotionView,
    /// Uses in all; null: no limit.
    #[schema(required = true)]
    max_uses: Option<u32>,
    /// Uses by one customer; null: no limit.
    #[schema(required = true)]
    per_customer: Option<u32>,
    /// Orders that used it and were not cancelled or expired (a cancelled or
    /// expired order gives its use back).
    uses: u32,
}

impl CouponView {
    pub(in crate::service) fn new(coupon: &Coupon, promotion: &Promotion) -> Self {
        Self {
            code: coupon.code.as_str().to_owned(),
            promotion: promotion.into(),
            max_uses: coupon.max_uses,
            per_customer: coupon.per_customer,
            uses: coupon.uses,
        }
    }
}
