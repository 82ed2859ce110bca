//! The back office, under `/admin`, behind a credential of its own (`ADMIN_TOKEN`):
//! the store's privileged, id-based API, which no customer session reaches.
//!
//! | method and path | what it does |
//! |---|---|
//! | `POST /admin/categories` | create `{slug, name, parent_id?}` |
//! | `POST /admin/products` | create `{slug, name, description?, category_id, status?, options?, variants}`, each variant `{sku, options?, price, currency?, stock, weight_grams?, gtin?}`; a product without options has exactly one variant |
//! | `PUT /admin/products/{id}/status` | `{status: draft / active / archived}`: only an active product's variants are listed and sold |
//! | `POST /admin/products/{id}/variants` | add a variant `{sku, options, price, currency?, stock, weight_grams?, gtin?}`: a combination of the product's option values it does not sell yet |
//! | `PUT /admin/variants/{id}/price` | `{price, currency?}`: in the variant's currency; the next checkout charges it, orders placed before keep theirs |
//! | `POST /admin/variants/{id}/restock` | add `{units}` to a variant's stock |
//! | `GET /admin/orders?status=&limit=` | orders in a status, oldest first |
//! | `POST /admin/orders/{id}/events` | `{event: ship / deliver / cancel, note?}`; an order with shipments ships and is delivered through them (`409 shipment_conflict`) |
//! | `POST /admin/stock-locations` | add a warehouse or shop `{name, country, priority?}`; lower priority is drawn from first |
//! | `GET /admin/stock-locations` | every location, by priority |
//! | `POST /admin/stock-locations/{id}/stock` | `{variant_id, kind: receipt / adjustment, quantity, reason?}`: a row of the inventory ledger; the level after it. A variant with stock at a location is reserved there at checkout |
//! | `POST /admin/orders/{id}/shipments` | ship part of a paid order `{location_id, lines: [{line_no, quantity}], carrier?, tracking_number?, tracking_url?}` from one stock location, with an `Idempotency-Key`: a pending shipment; a retry answers `200` with the same shipment |
//! | `GET /admin/orders/{id}/shipments` | an order's shipments, oldest first |
//! | `POST /admin/orders/{id}/cancellations` | cancel units of an order before they ship `{lines: [{line_no, quantity}], reason?}` with an `Idempotency-Key`: their stock released, their share refunded once paid (or, before, taken off what the payment is due, its authorization lowered), once; the order follows its shipments |
//! | `GET /admin/orders/{id}/cancellations` | an order's cancellations, oldest first |
//! | `POST /admin/shipments/{id}/events` | `{event: pack / ship / deliver / return_to_sender / cancel}`: shipping takes its reserved units off their level; the order follows (partially shipped, shipped, partially delivered, delivered) |
//! | `PUT /admin/shipments/{id}/tracking` | `{carrier?, tracking_number?, tracking_url?}`, until it is delivered |
//! | `POST /admin/orders/{id}/returns` | ask, on the customer's behalf, for units that left to come back `{lines: [{line_no, quantity}], reason, note?}`: a requested return |
//! | `GET /admin/orders/{id}/returns` | an order's returns, oldest first |
//! | `POST /admin/returns/{id}/decision` | `{decision: approve / reject}` a requested return |
//! | `POST /admin/returns/{id}/receipt` | `{location_id, condition: sellable / damaged, refund_shipping?}`: sellable units back on the shelf through the ledger, their share of what was paid refunded through the payments; the same receipt again changes nothing |
//! | `POST /admin/orders/{id}/refunds` | refund an order `{amount}` (in its currency) or `{line_no}` (what was paid for the line, once; orders priced from the price book), `reason?`: spread over its payments, gift cards first; needs `Idempotency-Key` |
//! | `POST /admin/payments/{id}/refunds` | refund one of the provider's payments `{amount, currency?, reason?}`; needs `Idempotency-Key`; a gift card's is `409 gift_card_payment` (refund the order) |
//! | `POST /admin/attributes` | define `{type: text / number / boolean / one_of, name, unit?, choices?}`; names unique ignoring case |
//! | `PUT /admin/products/{id}/attributes` | replace a product's `{attributes: [{type, name, value}]}`, each a defined attribute once |
//! | `PUT /admin/variants/{id}/attributes` | replace a variant's own attribute values, the same way |
//! | `PUT /admin/products/{id}/images` | replace a product's `{images: [{url, alt?, option?}]}`, in display order |
//! | `POST /admin/collections` | create an empty collection `{slug, name}` |
//! | `PUT /admin/collections/{id}/products` | replace a collection's `{product_ids}`, in order |
//! | `PUT /admin/search-language` | `{language}`: the text search configuration search applies; the catalog is re-indexed |
//! | `PUT /admin/markets/{currency}` | `{prices_include_tax}`: whether the currency's prices are gross or net (net when never set) |
//! | `POST /admin/price-lists` | create an empty list `{name, currency?, group?, starts_at?, ends_at?}` |
//! | `PUT /admin/price-lists/{id}/prices` | replace a list's `{currency?, prices: [{variant_id, min_quantity?, price}]}`, at most 1000 |
//! | `PUT /admin/products/{id}/tax-class` | `{class: standard / reduced / zero / exempt}` |
//! | `POST /admin/tax-rates` | add `{name, country, region?, class, rate, valid_from, valid_until?}`; one overlapping another of its country, region and class is `409 tax_rate_overlap` |
//! | `POST /admin/shipping-zones` | create `{name, areas: [{country, region?}]}`, 1 to 300 areas |
//! | `POST /admin/shipping-methods` | create `{zone_id, code, name, currency?, rate: {type: flat, price} / {type: by_weight, bands: [{up_to_grams, price}]}, free_from?, tax_class?}` |
//! | `PUT /admin/users/{id}/groups` | replace a user's customer `{groups}`, at most 20 |
//! | `GET /admin/price-book` | markets, price lists and their prices, tax rates, shipping zones and methods |
//! | `POST /admin/promotions` | create `{name, discount: {type: percent, rate} / {type: fixed, amount} / {type: free_shipping} / {type: buy_x_get_y, buy, get}, target: {type: order / variants / products / categories / collections, ids?}, currency?, min_subtotal?, min_quantity?, group?, starts_at?, ends_at?, coupon_only, exclusive, priority}` |
//! | `GET /admin/promotions` | every promotion, by id |
//! | `POST /admin/promotions/{id}/coupons` | make a promotion's codes: `{codes: [...], max_uses?, per_customer?}` (at most 1000) or `{generate: {count, prefix?, length}, max_uses?, per_customer?}` (at most 100,000); the answer is the only place generated codes are shown |
//! | `GET /admin/coupons/{code}` | one code, its promotion, its limits and its uses |
//! | `POST /admin/gift-cards` | issue `{value, currency?, expires_at?}` with a new random code; the answer is the only place the code is ever shown |
//! | `GET /admin/gift-cards/{id}` | one card: its value, balance, dates and last four letters |
//! | `GET /admin/gift-cards/{id}/ledger` | its issue, redemptions and refunds, oldest first |
//!
//! This module holds the credential and the extractor every route takes;
//! `catalog` has the routes that change the catalog, `merchandise` those that
//! describe and group its products, `orders` those that act on orders and payments, `inventory` those that
//! keep stock at locations, `shipments` those that ship orders from them, `returns`
//! those that take units back,
//! `price_book` those that set prices, tax and shipping as data, `promotions`
//! those that set discounts and their coupon codes, `gift_cards` those that
//! issue gift cards and read them.

mod cancellations;
mod catalog;
mod gift_cards;
mod inventory;
mod merchandise;
mod orders;
mod price_book;
mod promotions;
mod returns;
mod shipments;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::app::App;
use super::error::ApiError;
use super::request::by_name;

// Globs, not lists: each handler's `#[utoipa::path]` makes a `__path_<handler>`
// type that the OpenAPI document names next to the handler.
pub(super) use cancellations::*;
pub(super) use catalog::*;
pub(super) use gift_cards::*;
pub(super) use inventory::*;
pub(super) use merchandise::*;
pub(super) use orders::*;
pub(super) use price_book::*;
pub(super) use promotions::*;
pub(super) use returns::*;
pub(super) use shipments::*;

/// The shortest admin token accepted: 32 characters.
pub const MIN_ADMIN_TOKEN_LEN: usize = 32;

/// The back office's credential, kept as its digest.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken([u8; 32]);

impl AdminToken {
    /// A token of at least [`MIN_ADMIN_TOKEN_LEN`] characters, or `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() >= MIN_ADMIN_TOKEN_LEN).then(|| Self(Sha256::digest(raw.as_bytes()).into()))
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

/// A request that carries the admin token as `Authorization: Bearer <token>`.
/// Digests are compared, so the time taken says nothing about the token.
pub struct Staff;

impl FromRequestParts<App> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let Some(expected) = &app.config.admin_token else {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "admin_not_configured",
                "the back office has no token configured",
            ));
        };
        let given = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        if digest == expected.0 {
            Ok(Staff)
        } else {
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the back office needs its token",
            ))
        }
    }
}
