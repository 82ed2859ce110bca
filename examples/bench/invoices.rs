//! The invoices of the raw runs' carts, computed before the runs by the domain's own
//! `quote`, as the store computes them in Rust from its reads; the raw script's
//! writes take their values from them, as the store's writes take theirs from binds.

use std::collections::HashMap;
use std::error::Error;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Numeric, Text};
use ecom_domain::prelude::*;
use ecom_domain::pricing::{LinePlace, Promotions, ShippingRate};
use ecom_domain::promotion::{Offer, Promotion};
use ecom_domain::repo::PriceBookRepository;
use ecom_store::PgStore;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// The table the raw script reads an order's values from, by cart.
const CREATE: &str = "\
DROP TABLE IF EXISTS bench_invoices;
CREATE UNLOGGED TABLE bench_invoices (
    cart bigint PRIMARY KEY, subtotal numeric, discount numeric, fee numeric, tax numeric,
    grand_total numeric, shipping_net numeric, shipping_tax numeric, shipping_rate_no smallint,
    variants bigint[], skus text[], names text[], units numeric[], quantities int[],
    options text[], nets numeric[], taxes numeric[], rate_nos smallint[], discounts numeric[],
    t_nos smallint[], t_names text[], t_classes text[], t_rates numeric[], t_taxables numeric[],
    t_taxes numeric[],
    p_nos smallint[], p_ids bigint[], p_names text[], p_codes text[], p_discounts text[],
    p_lines text[], p_amounts numeric[], p_shipping numeric[]
);";

const FILL: &str = "\
INSERT INTO bench_invoices SELECT * FROM jsonb_populate_recordset(NULL::bench_invoices, $1::jsonb)";

#[derive(QueryableByName)]
struct CartLine {
    #[diesel(sql_type = BigInt)]
    cart_id: i64,
    #[diesel(sql_type = BigInt)]
    variant_id: i64,
    #[diesel(sql_type = Integer)]
    quantity: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<Numeric>)]
    list_price: Option<Decimal>,
    #[diesel(sql_type = Text)]
    tax_class: String,
    #[diesel(sql_type = BigInt)]
    category_id: i64,
}

const LINES: &str = "\
SELECT l.cart_id, l.variant_id, l.quantity, e.price AS list_price, p.tax_class, p.category_id
FROM cart_lines l
JOIN product_variants v ON v.id = l.variant_id
JOIN products p ON p.id = v.product_id
LEFT JOIN price_list_entries e ON e.variant_id = l.variant_id AND e.price_list_id = 1
WHERE l.cart_id >= $1
ORDER BY l.cart_id, l.variant_id";

/// Writes `bench_invoices` for the carts from `first_cart` on: each checked out to
/// Berlin by the fixture's `standard` method (flat 4.90, free from 50.00), with
/// the automatic promotions and `codes`.
pub(crate) fn write(
    conn: &mut PgConnection,
    store: &PgStore,
    first_cart: i64,
    codes: &[CouponCode],
) -> Result<(), Box<dyn Error>> {
    diesel::connection::SimpleConnection::batch_execute(conn, CREATE)?;
    let lines: Vec<CartLine> = diesel::sql_query(LINES)
        .bind::<BigInt, _>(first_cart)
        .load(conn)?;
    let taxes = store.price_book()?.taxes;
    let promotions = store.promotions()?;
    let coupons: Vec<(Promotion, &CouponCode)> = codes
        .iter()
        .map(|code| {
            let coupon = store.coupon(code)?;
            let promotion = promotions
                .iter()
                .find(|p| p.id == coupon.promotion)
                .cloned()
                .ok_or("a code's promotion")?;
            Ok::<_, Box<dyn Error>>((promotion, code))
        })
        .collect::<Result<_, _>>()?;
    let offers: Vec<Offer<'_>> = promotions
        .iter()
        .filter(|p| !p.coupon_only)
        .map(|promotion| Offer {
            promotion,
            code: None,
        })
        .chain(coupons.iter().map(|(promotion, code)| Offer {
            promotion,
            code: Some(code),
        }))
        .collect();
    let method = ShippingMethod {
        id: ShippingMethodId::new(1),
        zone: ShippingZoneId::new(1),
        code: Slug::parse("standard")?,
        name: ShippingMethodName::parse("Standard")?,
        currency: Currency::EUR,
        rate: ShippingRate::Flat {
            price: Money::parse("4.90", Currency::EUR)?,
        },
        free_from: Some(Money::parse("50.00", Currency::EUR)?),
        tax_class: TaxClass::Standard,
    };
    let market = Market {
        currency: Currency::EUR,
        prices_include_tax: true,
    };
    let berlin = Destination::of(&crate::fixture::address());
    let at = chrono::Utc::now();

    let mut variants: HashMap<i64, Sellable> = HashMap::new();
    let mut rows = Vec::new();
    for cart in lines.chunk_by(|a, b| a.cart_id == b.cart_id) {
        for line in cart {
            if let std::collections::hash_map::Entry::Vacant(e) = variants.entry(line.variant_id) {
                e.insert(store.variant(VariantId::new(line.variant_id))?);
            }
        }
        let quote_lines = cart
            .iter()
            .map(|l| {
                let item = &variants[&l.variant_id];
                let own = item.variant.price.amount();
                let unit = l.list_price.map_or(own, |p| p.min(own));
                Ok(QuoteLine {
                    item,
                    quantity: Quantity::new(i64::from(l.quantity))?,
                    unit_price: Money::new(unit, Currency::EUR)?,
                    tax_class: l.tax_class.parse()?,
                })
            })
            .collect::<Result<Vec<_>, Box<dyn Error>>>()?;
        let places: Vec<LinePlace> = cart
            .iter()
            .map(|l| LinePlace {
                variant: VariantId::new(l.variant_id),
                category: CategoryId::new(l.category_id),
                collections: Vec::new(),
            })
            .collect();
        let quote = ecom_domain::pricing::quote(
            QuoteRequest {
                market,
                destination: &berlin,
                shipping: &method,
                taxes: &taxes,
                at,
                promotions: Promotions {
                    offers: &offers,
                    places: &places,
                    groups: &[],
                },
            },
            &quote_lines,
        )?;
        rows.push(row(cart[0].cart_id, &quote));
    }
    for chunk in rows.chunks(500) {
        diesel::sql_query(FILL)
            .bind::<Text, _>(Value::Array(chunk.to_vec()).to_string())
            .execute(conn)?;
    }
    diesel::sql_query("ANALYZE bench_invoices").execute(conn)?;
    Ok(())
}

/// One cart's invoice as a `bench_invoices` row, numbered as the store numbers
/// tax lines (by rate, from 1) and promotions (in the order they applied).
fn row(cart: i64, q: &Quote) -> Value {
    let m = |m: Money| m.amount().to_string();
    let rate_no = |rate: &Option<AppliedRate>| {
        rate.as_ref()
            .and_then(|r| q.tax_lines.iter().position(|t| t.rate == *r))
            .map(|i| i + 1)
    };
    json!({
        "cart": cart,
        "subtotal": m(q.totals.subtotal),
        "discount": m(q.totals.discount),
        "fee": m(q.totals.shipping),
        "tax": m(q.totals.tax),
        "grand_total": m(q.totals.grand_total),
        "shipping_net": m(q.shipping.net),
        "shipping_tax": m(q.shipping.tax),
        "shipping_rate_no": rate_no(&q.shipping.rate),
        "variants": q.lines.iter().map(|l| l.variant_id.get()).collect::<Vec<_>>(),
        "skus": q.lines.iter().map(|l| l.sku.as_str()).collect::<Vec<_>>(),
        "names": q.lines.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        "units": q.lines.iter().map(|l| m(l.unit_price)).collect::<Vec<_>>(),
        "quantities": q.lines.iter().map(|l| l.quantity.get()).collect::<Vec<_>>(),
        "options": q.lines.iter().map(|_| "[]").collect::<Vec<_>>(),
        "nets": q.lines.iter().map(|l| m(l.net)).collect::<Vec<_>>(),
        "taxes": q.lines.iter().map(|l| m(l.tax)).collect::<Vec<_>>(),
        "rate_nos": q.lines.iter().map(|l| rate_no(&l.rate)).collect::<Vec<_>>(),
        "discounts": q.lines.iter().map(|l| m(l.discount)).collect::<Vec<_>>(),
        "t_nos": (1..=q.tax_lines.len()).collect::<Vec<_>>(),
        "t_names": q.tax_lines.iter().map(|t| t.rate.name.as_str()).collect::<Vec<_>>(),
        "t_classes": q.tax_lines.iter().map(|t| t.rate.class.as_str()).collect::<Vec<_>>(),
        "t_rates": q.tax_lines.iter().map(|t| t.rate.rate.to_string()).collect::<Vec<_>>(),
        "t_taxables": q.tax_lines.iter().map(|t| m(t.taxable)).collect::<Vec<_>>(),
        "t_taxes": q.tax_lines.iter().map(|t| m(t.tax)).collect::<Vec<_>>(),
        "p_nos": (1..=q.promotions.len()).collect::<Vec<_>>(),
        "p_ids": q.promotions.iter().map(|p| p.promotion.map(PromotionId::get)).collect::<Vec<_>>(),
        "p_names": q.promotions.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        "p_codes": q.promotions.iter().map(|p| p.code.as_ref().map(|c| c.as_str())).collect::<Vec<_>>(),
        "p_discounts": q.promotions.iter().map(|p| json!(p.discount).to_string()).collect::<Vec<_>>(),
        "p_lines": q.promotions.iter().map(|p| json!(p.lines.iter().map(|(v, a)| json!({"variant_id": v.get(), "amount": m(*a)})).collect::<Vec<_>>()).to_string()).collect::<Vec<_>>(),
        "p_amounts": q.promotions.iter().map(|p| m(p.amount)).collect::<Vec<_>>(),
        "p_shipping": q.promotions.iter().map(|p| m(p.shipping)).collect::<Vec<_>>(),
    })
}
