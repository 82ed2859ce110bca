//! Promotions and coupon codes: written by the back office; read, counted and
//! released by checkouts and by the orders they made.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Bpchar, Integer, Jsonb, Nullable, Numeric, Text, Timestamptz,
};
use ecom_domain::prelude::*;
use ecom_domain::pricing::LinePlace;
use ecom_domain::promotion::{
    AppliedPromotion, Coupon, CouponError, Discount, NewPromotion, Offer, Promotion, Target,
    distinct_codes,
};
use rust_decimal::Decimal;
use serde_json::json;

use crate::StoreError;
use crate::rows::{IdRow, corrupt, from_json, money};
use crate::sql::{Bind, CachedSql, keyed};

keyed! {
    CREATE_PROMOTION = "\
INSERT INTO promotions (name, discount, target, currency, min_subtotal, min_quantity,
                        customer_group, starts_at, ends_at, coupon_only, exclusive, priority)
VALUES ($1, $2::jsonb, $3::jsonb, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING id";
}

/// Inserts a checked promotion; its id.
pub(crate) fn create_promotion(
    conn: &mut PgConnection,
    new: &NewPromotion,
) -> Result<PromotionId, StoreError> {
    let json = |v: serde_json::Value| v.to_string();
    let binds = vec![
        Bind::Text(new.name.as_str().to_owned()),
        Bind::Text(json(json!(new.discount))),
        Bind::Text(json(json!(new.target))),
        Bind::NullableText(new.currency.map(|c| c.code().to_owned())),
        Bind::NullableNumeric(new.min_subtotal.map(|m| m.amount())),
        Bind::NullableBigInt(new.min_quantity.map(i64::from)),
        Bind::NullableText(new.group.as_ref().map(|g| g.as_str().to_owned())),
        Bind::NullableTimestamptz(new.starts_at),
        Bind::NullableTimestamptz(new.ends_at),
        Bind::Bool(new.coupon_only),
        Bind::Bool(new.exclusive),
        Bind::BigInt(i64::from(new.priority)),
    ];
    let rows: Vec<IdRow> = CachedSql::keyed::<CREATE_PROMOTION>(binds).load(conn)?;
    rows.first()
        .map(|r| PromotionId::new(r.id))
        .ok_or_else(|| corrupt("promotion", "INSERT returned no row"))
}

#[derive(QueryableByName)]
struct PromotionRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Jsonb)]
    discount: serde_json::Value,
    #[diesel(sql_type = Jsonb)]
    target: serde_json::Value,
    #[diesel(sql_type = Nullable<Bpchar>)]
    currency: Option<String>,
    #[diesel(sql_type = Nullable<Numeric>)]
    min_subtotal: Option<Decimal>,
    #[diesel(sql_type = Nullable<Integer>)]
    min_quantity: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    customer_group: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    starts_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    ends_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Bool)]
    coupon_only: bool,
    #[diesel(sql_type = Bool)]
    exclusive: bool,
    #[diesel(sql_type = Integer)]
    priority: i32,
}

impl TryFrom<PromotionRow> for Promotion {
    type Error = StoreError;
    fn try_from(row: PromotionRow) -> Result<Self, StoreError> {
        let currency = row
            .currency
            .as_deref()
            .map(Currency::from_code)
            .transpose()
            .map_err(|e| corrupt("promotion currency", e))?;
        let min_subtotal = match (row.min_subtotal, &row.currency) {
            (Some(m), Some(c)) => Some(money(m, c)?),
            (Some(_), None) => return Err(corrupt("promotion", "a minimum without a currency")),
            (None, _) => None,
        };
        Ok(Promotion {
            id: PromotionId::new(row.id),
            name: PromotionName::try_from(row.name).map_err(|e| corrupt("promotion name", e))?,
            discount: from_json::<Discount>("promotion discount", row.discount)?,
            target: from_json::<Target>("promotion target", row.target)?,
            currency,
            min_subtotal,
            min_quantity: row
                .min_quantity
                .map(u32::try_from)
                .transpose()
                .map_err(|e| corrupt("promotion minimum quantity", e))?,
            group: row
                .customer_group
                .map(Slug::try_from)
                .transpose()
                .map_err(|e| corrupt("customer group", e))?,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            coupon_only: row.coupon_only,
            exclusive: row.exclusive,
            priority: row.priority,
        })
    }
}

macro_rules! promotions {
    ($tail:literal) => {
        concat!(
            "SELECT p.id, p.name, p.discount, p.target, p.currency, p.min_subtotal, \
             p.min_quantity, p.customer_group, p.starts_at, p.ends_at, p.coupon_only, \
             p.exclusive, p.priority",
            $tail
        )
    };
}

keyed! {
    PROMOTIONS = promotions!(" FROM promotions p ORDER BY p.id");
}

/// Every promotion, by id.
pub(crate) fn promotions(conn: &mut PgConnection) -> Result<Vec<Promotion>, StoreError> {
    CachedSql::keyed::<PROMOTIONS>(vec![])
        .load::<PromotionRow>(conn)?
        .into_iter()
        .map(Promotion::try_from)
        .collect()
}

keyed! {
    /// What one checkout is offered: the automatic promotions active now for its
    /// currency (or any), and the promotions of the codes it gives, with the code.
    pub(crate) CHECKOUT_PROMOTIONS = promotions!(
    ", c.code
FROM promotions p
LEFT JOIN coupon_codes c ON c.promotion_id = p.id AND c.code = ANY($1::text[])
WHERE c.code IS NOT NULL
   OR (NOT p.coupon_only
       AND (p.starts_at IS NULL OR p.starts_at <= $2) AND (p.ends_at IS NULL OR $2 < p.ends_at)
       AND (p.currency IS NULL OR p.currency = $3))
ORDER BY p.priority, p.id"
);
}

#[derive(QueryableByName)]
struct OfferRow {
    #[diesel(embed)]
    promotion: PromotionRow,
    #[diesel(sql_type = Nullable<Text>)]
    code: Option<String>,
}

/// The automatic promotions and the promotion of each code, from
/// [`CHECKOUT_PROMOTIONS`]; a code that does not exist is
/// [`CouponError::Unknown`].
pub(crate) struct Offered {
    pub automatic: Vec<Promotion>,
    pub coded: Vec<(Promotion, CouponCode)>,
}

impl Offered {
    /// The offers to a quote: the automatic promotions, then each code's.
    pub fn offers(&self) -> Vec<Offer<'_>> {
        self.automatic
            .iter()
            .map(|promotion| Offer {
                promotion,
                code: None,
            })
            .chain(self.coded.iter().map(|(promotion, code)| Offer {
                promotion,
                code: Some(code),
            }))
            .collect()
    }
}

/// [`CHECKOUT_PROMOTIONS`] for `codes` in `currency` at `at`.
pub(crate) fn offered(
    conn: &mut PgConnection,
    codes: &[CouponCode],
    currency: Currency,
    at: DateTime<Utc>,
) -> Result<Offered, StoreError> {
    distinct_codes(codes).map_err(DomainError::from)?;
    let binds = vec![
        Bind::TextArray(codes.iter().map(|c| c.as_str().to_owned()).collect()),
        Bind::NullableTimestamptz(Some(at)),
        Bind::Text(currency.code().to_owned()),
    ];
    let mut offered = Offered {
        automatic: Vec::new(),
        coded: Vec::new(),
    };
    for row in CachedSql::keyed::<CHECKOUT_PROMOTIONS>(binds).load::<OfferRow>(conn)? {
        let promotion = Promotion::try_from(row.promotion)?;
        match row.code {
            Some(code) => {
                let code = CouponCode::try_from(code).map_err(|e| corrupt("coupon code", e))?;
                offered.coded.push((promotion, code));
            }
            None => offered.automatic.push(promotion),
        }
    }
    if let Some(unknown) = codes
        .iter()
        .find(|c| !offered.coded.iter().any(|(_, code)| code == *c))
    {
        return Err(DomainError::from(CouponError::Unknown(unknown.clone())).into());
    }
    // In the order the codes were given.
    offered
        .coded
        .sort_by_key(|(_, code)| codes.iter().position(|c| c == code));
    Ok(offered)
}

keyed! {
    CART_PLACES = "\
SELECT v.id, p.category_id,
       ARRAY(SELECT cp.collection_id FROM collection_products cp
             WHERE cp.product_id = p.id ORDER BY cp.collection_id) AS collections
FROM cart_lines c
JOIN product_variants v ON v.id = c.variant_id
JOIN products p ON p.id = v.product_id
WHERE c.cart_id = $1
ORDER BY v.id";
}

#[derive(QueryableByName)]
struct PlaceRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    category_id: i64,
    #[diesel(sql_type = Array<BigInt>)]
    collections: Vec<i64>,
}

/// Where each variant of the cart sits in the catalog, for promotions that target
/// categories or collections.
pub(crate) fn cart_places(
    conn: &mut PgConnection,
    cart: CartId,
) -> Result<Vec<LinePlace>, StoreError> {
    Ok(
        CachedSql::keyed::<CART_PLACES>(vec![Bind::BigInt(cart.get())])
            .load::<PlaceRow>(conn)?
            .into_iter()
            .map(|r| LinePlace {
                variant: VariantId::new(r.id),
                category: CategoryId::new(r.category_id),
                collections: r.collections.into_iter().map(CollectionId::new).collect(),
            })
            .collect(),
    )
}

keyed! {
    INSERT_COUPONS = "\
INSERT INTO coupon_codes (code, promotion_id, max_uses, per_customer)
SELECT c, $2, $3, $4 FROM unnest($1::text[]) AS c
ON CONFLICT DO NOTHING";
}

// The codes of a batch this transaction inserted: `created_at` is the
// transaction's start, which no earlier code has.
keyed! {
    INSERTED_COUPONS = "SELECT code FROM coupon_codes WHERE code = ANY($1::text[]) AND promotion_id = $2 AND created_at = now()";
}

#[derive(QueryableByName)]
struct CodeRow {
    #[diesel(sql_type = Text)]
    code: String,
}

/// Inserts `codes` of `promotion`; the ones inserted (a code that exists already
/// is left out). Only a batch with such a code is read back.
pub(crate) fn insert_coupons(
    conn: &mut PgConnection,
    promotion: PromotionId,
    codes: &[CouponCode],
    max_uses: Option<u32>,
    per_customer: Option<u32>,
) -> Result<Vec<String>, StoreError> {
    let texts: Vec<String> = codes.iter().map(|c| c.as_str().to_owned()).collect();
    let binds = vec![
        Bind::TextArray(texts.clone()),
        Bind::BigInt(promotion.get()),
        Bind::NullableBigInt(max_uses.map(i64::from)),
        Bind::NullableBigInt(per_customer.map(i64::from)),
    ];
    let inserted = CachedSql::keyed::<INSERT_COUPONS>(binds).execute(conn)?;
    if inserted == texts.len() {
        return Ok(texts);
    }
    let binds = vec![Bind::TextArray(texts), Bind::BigInt(promotion.get())];
    Ok(CachedSql::keyed::<INSERTED_COUPONS>(binds)
        .load::<CodeRow>(conn)?
        .into_iter()
        .map(|r| r.code)
        .collect())
}

keyed! {
    PROMOTION_EXISTS = "SELECT EXISTS (SELECT FROM promotions WHERE id = $1) AS found";
}

/// Refuses a promotion that does not exist.
pub(crate) fn require_promotion(
    conn: &mut PgConnection,
    id: PromotionId,
) -> Result<(), StoreError> {
    let found: crate::rows::Found =
        CachedSql::keyed::<PROMOTION_EXISTS>(vec![Bind::BigInt(id.get())]).get_result(conn)?;
    if !found.found {
        return Err(DomainError::not_found("promotion", id).into());
    }
    Ok(())
}

keyed! {
    COUPON = "SELECT code, promotion_id, max_uses, per_customer, uses FROM coupon_codes WHERE code = $1";
}

#[derive(QueryableByName)]
struct CouponRow {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = BigInt)]
    promotion_id: i64,
    #[diesel(sql_type = Nullable<Integer>)]
    max_uses: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    per_customer: Option<i32>,
    #[diesel(sql_type = Integer)]
    uses: i32,
}

/// One code, with its uses.
pub(crate) fn coupon(conn: &mut PgConnection, code: &CouponCode) -> Result<Coupon, StoreError> {
    let row = CachedSql::keyed::<COUPON>(vec![Bind::Text(code.as_str().to_owned())])
        .load::<CouponRow>(conn)?
        .into_iter()
        .next()
        .ok_or_else(|| DomainError::from(CouponError::Unknown(code.clone())))?;
    let count = |what, n: i32| u32::try_from(n).map_err(|e| corrupt(what, e));
    Ok(Coupon {
        code: CouponCode::try_from(row.code).map_err(|e| corrupt("coupon code", e))?,
        promotion: PromotionId::new(row.promotion_id),
        max_uses: row.max_uses.map(|n| count("max uses", n)).transpose()?,
        per_customer: row
            .per_customer
            .map(|n| count("per customer", n))
            .transpose()?,
        uses: count("uses", row.uses)?,
    })
}

// Taking a use: the row's lock queues checkouts of one code, as a variant's row
// queues checkouts of its last units; the one that finds it used up is refused.
keyed! {
    TAKE_USE = "\
UPDATE coupon_codes SET uses = uses + 1
WHERE code = $1 AND (max_uses IS NULL OR uses < max_uses)
RETURNING per_customer";
}
keyed! {
    USES_BY_CUSTOMER = "SELECT count(*) AS n FROM coupon_redemptions WHERE code = $1 AND customer = $2 AND released_at IS NULL";
}
keyed! {
    RECORD_USE = "INSERT INTO coupon_redemptions (order_id, code, customer) VALUES ($1, $2, $3)";
}

#[derive(QueryableByName)]
struct PerCustomer {
    #[diesel(sql_type = Nullable<Integer>)]
    per_customer: Option<i32>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Takes one use of each code `applied` came with, for `order` by `customer`:
/// refused ([`CouponError::Exhausted`], [`CouponError::CustomerLimit`]) when a
/// code is used up, for all or for this customer. Each code's row stays locked to
/// the commit.
pub(crate) fn redeem(
    conn: &mut PgConnection,
    order: i64,
    customer: &Customer,
    applied: &[AppliedPromotion],
) -> Result<(), StoreError> {
    let key = customer.key();
    for code in applied.iter().filter_map(|a| a.code.as_ref()) {
        let text = || Bind::Text(code.as_str().to_owned());
        let taken = CachedSql::keyed::<TAKE_USE>(vec![text()])
            .load::<PerCustomer>(conn)?
            .into_iter()
            .next()
            .ok_or_else(|| DomainError::from(CouponError::Exhausted(code.clone())))?;
        if let Some(limit) = taken.per_customer {
            // Under the code's lock: another checkout of this customer's commits
            // before this count, or waits behind it.
            let used: Count =
                CachedSql::keyed::<USES_BY_CUSTOMER>(vec![text(), Bind::Text(key.clone())])
                    .get_result(conn)?;
            if used.n >= i64::from(limit) {
                return Err(DomainError::from(CouponError::CustomerLimit(code.clone())).into());
            }
        }
        CachedSql::keyed::<RECORD_USE>(vec![Bind::BigInt(order), text(), Bind::Text(key.clone())])
            .execute(conn)?;
    }
    Ok(())
}

keyed! {
    INSERT_ORDER_PROMOTIONS = "\
INSERT INTO order_promotions (order_id, promotion_no, promotion_id, name, code, discount, lines,
                              amount, shipping_amount)
SELECT $1, n, nullif(p, 0), name, nullif(code, ''), d::jsonb, l::jsonb, a, s
FROM unnest($2::smallint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::numeric[], $9::numeric[]) AS t (n, p, name, code, d, l, a, s)";
}

/// Writes the promotions an order applied, numbered from 1 in the order they
/// applied.
pub(crate) fn insert_order_promotions(
    conn: &mut PgConnection,
    order: i64,
    applied: &[AppliedPromotion],
) -> Result<(), StoreError> {
    if applied.is_empty() {
        return Ok(());
    }
    let text = |f: &dyn Fn(&AppliedPromotion) -> String| applied.iter().map(f).collect();
    let binds = vec![
        Bind::BigInt(order),
        Bind::SmallIntArray((1..=applied.len()).map(|n| n as i16).collect()),
        Bind::BigIntArray(
            applied
                .iter()
                .map(|a| a.promotion.map_or(0, PromotionId::get))
                .collect(),
        ),
        Bind::TextArray(text(&|a| a.name.as_str().to_owned())),
        Bind::TextArray(text(&|a| {
            a.code
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default()
        })),
        Bind::TextArray(text(&|a| json!(a.discount).to_string())),
        Bind::TextArray(text(&|a| {
            json!(
                a.lines
                    .iter()
                    .map(|(v, m)| json!({"variant_id": v.get(), "amount": m.amount().to_string()}))
                    .collect::<Vec<_>>()
            )
            .to_string()
        })),
        Bind::NumericArray(applied.iter().map(|a| a.amount.amount()).collect()),
        Bind::NumericArray(applied.iter().map(|a| a.shipping.amount()).collect()),
    ];
    CachedSql::keyed::<INSERT_ORDER_PROMOTIONS>(binds).execute(conn)?;
    Ok(())
}
