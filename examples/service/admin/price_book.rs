//! The back office's price book: markets (whether a currency's prices include
//! tax), price lists and their prices, customer groups, tax classes and rates,
//! shipping zones and methods, and the whole book to read back.
//!
//! Each body becomes checked domain values here, before the store is called: a
//! rate out of range, an empty zone, weight bands out of order or a list longer
//! than the service takes is a typed `422` without a database round trip. What
//! needs the data (a variant or zone that does not exist, a rate overlapping
//! another) the store refuses, as `404` or `409`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ecom_domain::prelude::*;
use ecom_domain::pricing::{
    Area, ListPrice, NewPriceList, NewShippingMethod, NewShippingZone, WeightBand,
};
use ecom_domain::repo::PriceBookRepository;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder};

use super::{Staff, by_name};
use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::{ApiJson, ApiPath};
use crate::service::limits::{MAX_GROUP_NAMES, MAX_LIST_PRICES, MAX_WEIGHT_BANDS, MAX_ZONE_AREAS};
use crate::service::openapi::{
    BadRequest, Conflict, Invalid, NotFound, TooLarge, Unauthenticated, Unavailable,
    UnsupportedMediaType,
};
use crate::service::response::{
    CustomerGroupsView, ListPricesView, MarketView, PriceBookView, PriceListView,
    ShippingMethodView, ShippingZoneView, TaxRateView, currency_schema, tax_class_schema,
};

/// A currency from a body, EUR when none is given: as every admin body takes it.
fn currency_or_eur(raw: Option<&str>) -> Result<Currency, ApiError> {
    Ok(Currency::from_code(raw.unwrap_or("EUR"))?)
}

/// `PUT /admin/markets/{currency}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MarketSetting)]
pub(in crate::service) struct MarketBody {
    /// True: the currency's prices include tax (gross, as EU consumers see them);
    /// false: tax is added on top (net, as in the US).
    prices_include_tax: bool,
}

/// `POST /admin/price-lists`: a new, empty price list.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewPriceList)]
pub(in crate::service) struct PriceListBody {
    /// 1 to 100 characters.
    #[schema(example = "Spring sale")]
    name: String,
    /// The currency of every price in it; EUR when not given.
    #[schema(schema_with = currency_schema)]
    currency: Option<String>,
    /// The customer group it is for (a slug: `b2b`, `staff`); everyone when not
    /// given.
    #[schema(example = "b2b")]
    group: Option<String>,
    /// When it starts to apply; always when not given.
    starts_at: Option<DateTime<Utc>>,
    /// When it stops (exclusive), after `starts_at`; never when not given.
    ends_at: Option<DateTime<Utc>>,
}

impl PriceListBody {
    fn into_new_list(self) -> Result<NewPriceList, ApiError> {
        let new = NewPriceList {
            name: PriceListName::parse(&self.name)?,
            currency: currency_or_eur(self.currency.as_deref())?,
            group: self.group.as_deref().map(Slug::parse).transpose()?,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
        };
        Ok(new.checked().map_err(DomainError::from)?)
    }
}

/// `PUT /admin/price-lists/{id}/prices`: every price of the list, replacing the
/// ones before.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewListPrices)]
pub(in crate::service) struct ListPricesBody {
    /// The currency of the prices, which must be the list's; EUR when not given.
    #[schema(schema_with = currency_schema)]
    currency: Option<String>,
    /// At most 1000, each variant and tier once; empty to remove them all.
    prices: Vec<ListPriceBody>,
}

/// One price of a list.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewListPrice)]
pub(in crate::service) struct ListPriceBody {
    /// A variant of the catalog.
    variant_id: i64,
    /// The tier: the price applies from this many units in a line, 1 or more; 1
    /// when not given.
    #[schema(minimum = 1)]
    min_quantity: Option<u32>,
    /// A decimal string, not negative.
    #[schema(example = "11.90")]
    price: String,
}

impl ListPricesBody {
    fn into_prices(self) -> Result<Vec<ListPrice>, ApiError> {
        // Bounded before each is parsed; the store checks them against the list.
        if self.prices.len() > MAX_LIST_PRICES {
            return Err(ApiError::too_many(
                "too_many_prices",
                "prices",
                self.prices.len(),
                MAX_LIST_PRICES,
            ));
        }
        let currency = currency_or_eur(self.currency.as_deref())?;
        self.prices
            .into_iter()
            .map(|p| {
                Ok(ListPrice {
                    variant: VariantId::new(p.variant_id),
                    min_quantity: p.min_quantity.unwrap_or(1),
                    price: Money::parse(&p.price, currency)?,
                })
            })
            .collect()
    }
}

/// `PUT /admin/products/{id}/tax-class`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TaxClassSetting)]
pub(in crate::service) struct TaxClassBody {
    #[schema(schema_with = tax_class_schema)]
    class: String,
}

/// `POST /admin/tax-rates`: a rate for one country (or one region of it) and
/// class, from a moment on.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewTaxRate)]
pub(in crate::service) struct TaxRateBody {
    /// What invoices print, 1 to 100 characters.
    #[schema(example = "DE standard")]
    name: String,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "DE")]
    country: String,
    /// The region's ISO 3166-2 code after the country's (`NY`); the whole country
    /// when not given. A region's own rate comes before its country's.
    #[schema(example = "NY")]
    region: Option<String>,
    /// `standard`, `reduced` or `zero`: the exempt class has no rate.
    #[schema(schema_with = tax_class_schema)]
    class: String,
    /// A decimal string from 0 to 1 with at most 5 decimals: `0.19` for 19 %.
    #[schema(example = "0.19")]
    rate: String,
    valid_from: DateTime<Utc>,
    /// When it stops (exclusive), after `valid_from`; until replaced when not
    /// given.
    valid_until: Option<DateTime<Utc>>,
}

impl TaxRateBody {
    fn into_rate(self) -> Result<TaxRate, ApiError> {
        let rate = Decimal::from_str_exact(self.rate.trim()).map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_tax_rate",
                format!(
                    "tax rate {:?} is not a decimal number",
                    self.rate.chars().take(20).collect::<String>()
                ),
            )
        })?;
        let rate = TaxRate {
            name: TaxRateName::parse(&self.name)?,
            country: CountryCode::parse(&self.country)?,
            region: self.region.as_deref().map(RegionCode::parse).transpose()?,
            class: by_name(&self.class)?,
            rate,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
        };
        Ok(rate.checked().map_err(DomainError::from)?)
    }
}

/// `POST /admin/shipping-zones`: where a set of shipping methods delivers.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewShippingZone)]
pub(in crate::service) struct ZoneBody {
    /// 1 to 100 characters.
    #[schema(example = "Germany")]
    name: String,
    /// 1 to 300 areas, each once.
    areas: Vec<AreaBody>,
}

/// A country, or one region of it, that a zone covers.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewArea)]
pub(in crate::service) struct AreaBody {
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "US")]
    country: String,
    /// One region of it (its ISO 3166-2 code after the country's); all of it when
    /// not given.
    #[schema(example = "NY")]
    region: Option<String>,
}

impl ZoneBody {
    fn into_new_zone(self) -> Result<NewShippingZone, ApiError> {
        if self.areas.len() > MAX_ZONE_AREAS {
            return Err(ApiError::too_many(
                "too_many_areas",
                "areas",
                self.areas.len(),
                MAX_ZONE_AREAS,
            ));
        }
        let areas = self
            .areas
            .into_iter()
            .map(|a| {
                Ok(Area {
                    country: CountryCode::parse(&a.country)?,
                    region: a.region.as_deref().map(RegionCode::parse).transpose()?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let new = NewShippingZone {
            name: ShippingZoneName::parse(&self.name)?,
            areas,
        };
        Ok(new.checked().map_err(DomainError::from)?)
    }
}

/// `POST /admin/shipping-methods`: a way to ship to a zone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewShippingMethod)]
pub(in crate::service) struct MethodBody {
    /// The zone it delivers to.
    zone_id: i64,
    /// What checkout names it by (`shipping_method`): a slug, unique within the
    /// zone.
    #[schema(example = "standard")]
    code: String,
    /// What the customer sees, 1 to 100 characters.
    #[schema(example = "Standard (2-4 days)")]
    name: String,
    /// The currency of its prices; only carts in it can go by it. EUR when not
    /// given.
    #[schema(schema_with = currency_schema)]
    currency: Option<String>,
    rate: RateBody,
    /// Carts worth at least this (a decimal string, as priced: gross where prices
    /// include tax) ship free by it; never when not given.
    #[schema(example = "100.00")]
    free_from: Option<String>,
    /// The tax class of its charge; `standard` when not given.
    #[schema(schema_with = method_tax_class_schema)]
    tax_class: Option<String>,
}

fn method_tax_class_schema() -> Object {
    ObjectBuilder::from(tax_class_schema())
        .description(Some(
            "the tax class of the shipping charge; `standard` when not given",
        ))
        .build()
}

/// How a new method's price is set; prices are decimal strings in its currency.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[schema(as = NewShippingRate)]
pub(in crate::service) enum RateBody {
    /// One price whatever the cart.
    Flat {
        #[schema(example = "4.90")]
        price: String,
    },
    /// By the cart's weight: the first band it fits. 1 to 50 bands, lightest
    /// first, each heavier than the last; a heavier cart cannot go by the method.
    ByWeight { bands: Vec<BandBody> },
}

/// Up to a weight (inclusive), this price.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewWeightBand)]
pub(in crate::service) struct BandBody {
    #[schema(example = 1000)]
    up_to_grams: u64,
    #[schema(example = "6.90")]
    price: String,
}

impl RateBody {
    fn into_rate(self, currency: Currency) -> Result<ShippingRate, ApiError> {
        Ok(match self {
            RateBody::Flat { price } => ShippingRate::Flat {
                price: Money::parse(&price, currency)?,
            },
            RateBody::ByWeight { bands } => {
                if bands.len() > MAX_WEIGHT_BANDS {
                    return Err(ApiError::too_many(
                        "too_many_bands",
                        "weight bands",
                        bands.len(),
                        MAX_WEIGHT_BANDS,
                    ));
                }
                ShippingRate::ByWeight {
                    bands: bands
                        .into_iter()
                        .map(|b| {
                            Ok(WeightBand {
                                up_to_grams: b.up_to_grams,
                                price: Money::parse(&b.price, currency)?,
                            })
                        })
                        .collect::<Result<_, ApiError>>()?,
                }
            }
        })
    }
}

impl MethodBody {
    fn into_new_method(self) -> Result<NewShippingMethod, ApiError> {
        let currency = currency_or_eur(self.currency.as_deref())?;
        let new = NewShippingMethod {
            zone: ShippingZoneId::new(self.zone_id),
            code: Slug::parse(&self.code)?,
            name: ShippingMethodName::parse(&self.name)?,
            currency,
            rate: self.rate.into_rate(currency)?,
            free_from: self
                .free_from
                .as_deref()
                .map(|raw| Money::parse(raw, currency))
                .transpose()?,
            tax_class: match self.tax_class.as_deref() {
                None => TaxClass::Standard,
                Some(raw) => by_name(raw)?,
            },
        };
        Ok(new.checked().map_err(DomainError::from)?)
    }
}

/// `PUT /admin/users/{id}/groups`: every customer group of a user, replacing the
/// ones before.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CustomerGroupSetting)]
pub(in crate::service) struct GroupsBody {
    /// Slugs (`b2b`, `staff`), at most 20 distinct (repeats are dropped); empty to
    /// remove them all.
    #[schema(example = json!(["b2b"]))]
    groups: Vec<String>,
}

impl GroupsBody {
    fn into_groups(self) -> Result<Vec<Slug>, ApiError> {
        if self.groups.len() > MAX_GROUP_NAMES {
            return Err(ApiError::too_many(
                "too_many_groups",
                "group names",
                self.groups.len(),
                MAX_GROUP_NAMES,
            ));
        }
        Ok(self
            .groups
            .iter()
            .map(|g| Slug::parse(g))
            .collect::<Result<_, _>>()?)
    }
}

/// Sets whether a currency's prices include tax.
///
/// A currency never set has net prices. Carts quoted and checked out from then on
/// read it; orders placed before keep theirs.
#[utoipa::path(
    put,
    path = "/admin/markets/{currency}",
    tag = "admin",
    security(("admin" = [])),
    params(("currency" = String, Path, description = "ISO 4217 currency code", example = "EUR")),
    request_body = MarketBody,
    responses(
        (status = 200, description = "The market as set", body = MarketView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn set_market(
    _: Staff,
    State(app): State<App>,
    ApiPath(currency): ApiPath<String>,
    ApiJson(body): ApiJson<MarketBody>,
) -> Result<Json<MarketView>, ApiError> {
    let market = Market {
        currency: Currency::from_code(&currency)?,
        prices_include_tax: body.prices_include_tax,
    };
    app.blocking(move |store| {
        let market = store.set_market(market)?;
        Ok(Json(MarketView::from(&market)))
    })
    .await
}

/// Creates an empty price list; `PUT /admin/price-lists/{id}/prices` fills it.
///
/// A window that ends before it starts is `422 invalid_price_list`.
#[utoipa::path(
    post,
    path = "/admin/price-lists",
    tag = "admin",
    security(("admin" = [])),
    request_body = PriceListBody,
    responses(
        (status = 201, description = "The price list created", body = PriceListView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn create_price_list(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<PriceListBody>,
) -> Result<(StatusCode, Json<PriceListView>), ApiError> {
    let new = body.into_new_list()?;
    app.blocking(move |store| {
        let list = store.create_price_list(new)?;
        Ok((StatusCode::CREATED, Json(PriceListView::from(&list))))
    })
    .await
}

/// Replaces a price list's prices.
///
/// At most 1000 (`422 too_many_prices`), each in the list's currency and not
/// negative, a tier of 1 or more, each variant and tier once
/// (`422 invalid_price_list`), for variants that exist (`404 not_found`).
#[utoipa::path(
    put,
    path = "/admin/price-lists/{id}/prices",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The price list's id")),
    request_body = ListPricesBody,
    responses(
        (status = 200, description = "The list's prices, by variant and tier", body = ListPricesView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn set_list_prices(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ListPricesBody>,
) -> Result<Json<ListPricesView>, ApiError> {
    let prices = body.into_prices()?;
    app.blocking(move |store| {
        let entries = store.set_list_prices(PriceListId::new(id), prices)?;
        Ok(Json(ListPricesView::new(&entries)))
    })
    .await
}

/// Sets a product's tax class, which picks its rate at each destination.
///
/// A product never set is `standard`.
#[utoipa::path(
    put,
    path = "/admin/products/{id}/tax-class",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The product's id")),
    request_body = TaxClassBody,
    responses(
        (status = 204, description = "Quotes and checkouts tax the product in the class from now on"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn set_tax_class(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<TaxClassBody>,
) -> Result<StatusCode, ApiError> {
    let class: TaxClass = by_name(&body.class)?;
    app.blocking(move |store| {
        store.set_tax_class(ProductId::new(id), class)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// Adds a tax rate.
///
/// A rate outside 0 to 1 or with more than 5 decimals, one for the exempt class,
/// or a window that ends before it starts is `422 invalid_tax_rate`; one valid
/// at the same time as another rate of its country, region and class is
/// `409 tax_rate_overlap`. Rates are added, never edited (orders keep the rate
/// they were placed with), and no route ends one: give a rate its `valid_until`
/// when its successor is known.
#[utoipa::path(
    post,
    path = "/admin/tax-rates",
    tag = "admin",
    security(("admin" = [])),
    request_body = TaxRateBody,
    responses(
        (status = 201, description = "The rate added", body = TaxRateView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn add_tax_rate(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<TaxRateBody>,
) -> Result<(StatusCode, Json<TaxRateView>), ApiError> {
    let rate = body.into_rate()?;
    app.blocking(move |store| {
        let rate = store.add_tax_rate(rate)?;
        Ok((StatusCode::CREATED, Json(TaxRateView::from(&rate))))
    })
    .await
}

/// Creates a shipping zone; `POST /admin/shipping-methods` adds its methods.
///
/// A zone covers 1 to 300 areas (`422 invalid_shipping` for none or one given
/// twice, `422 too_many_areas` past 300).
#[utoipa::path(
    post,
    path = "/admin/shipping-zones",
    tag = "admin",
    security(("admin" = [])),
    request_body = ZoneBody,
    responses(
        (status = 201, description = "The zone created", body = ShippingZoneView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn create_shipping_zone(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<ZoneBody>,
) -> Result<(StatusCode, Json<ShippingZoneView>), ApiError> {
    let new = body.into_new_zone()?;
    app.blocking(move |store| {
        let zone = store.create_shipping_zone(new)?;
        Ok((StatusCode::CREATED, Json(ShippingZoneView::from(&zone))))
    })
    .await
}

/// Creates a shipping method in a zone.
///
/// Its prices (and `free_from`) are in its currency and not negative, its weight
/// bands lightest first (`422 invalid_shipping`); the zone exists
/// (`404 not_found`); its code is unique within the zone (`409 already_taken`).
#[utoipa::path(
    post,
    path = "/admin/shipping-methods",
    tag = "admin",
    security(("admin" = [])),
    request_body = MethodBody,
    responses(
        (status = 201, description = "The method created", body = ShippingMethodView),
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
pub(in crate::service) async fn create_shipping_method(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<MethodBody>,
) -> Result<(StatusCode, Json<ShippingMethodView>), ApiError> {
    let new = body.into_new_method()?;
    app.blocking(move |store| {
        let method = store.create_shipping_method(new)?;
        Ok((StatusCode::CREATED, Json(ShippingMethodView::from(&method))))
    })
    .await
}

/// Replaces a user's customer groups, which open the price lists for them.
///
/// At most 20 distinct groups (`422 too_many_groups`); a user that does not
/// exist is `404 not_found`.
#[utoipa::path(
    put,
    path = "/admin/users/{id}/groups",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The user's id")),
    request_body = GroupsBody,
    responses(
        (status = 200, description = "The user's groups", body = CustomerGroupsView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn set_customer_groups(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<GroupsBody>,
) -> Result<Json<CustomerGroupsView>, ApiError> {
    let groups = body.into_groups()?;
    let user = UserId::new(id);
    app.blocking(move |store| {
        let groups = store.set_customer_groups(user, groups)?;
        Ok(Json(CustomerGroupsView::new(user, &groups)))
    })
    .await
}

/// Everything the price book holds: markets, price lists and their prices, tax
/// rates, shipping zones and methods, each in id order.
#[utoipa::path(
    get,
    path = "/admin/price-book",
    tag = "admin",
    security(("admin" = [])),
    responses(
        (status = 200, description = "The price book", body = PriceBookView),
        (status = 401, response = Unauthenticated),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn price_book(
    _: Staff,
    State(app): State<App>,
) -> Result<Json<PriceBookView>, ApiError> {
    app.blocking(move |store| {
        let book = store.price_book()?;
        Ok(Json(PriceBookView::from(&book)))
    })
    .await
}
