//! The back office's catalog routes: categories, products and their variants.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ecom_domain::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder};

use super::{Staff, by_name};
use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::{ApiJson, ApiPath};
use crate::service::openapi::{
    BadRequest, Conflict, Invalid, NotFound, TooLarge, Unauthenticated, Unavailable,
    UnsupportedMediaType,
};
use crate::service::response::{
    CategoryView, OptionTypeJson, OptionValueJson, ProductView, VariantView, currency_schema,
    product_status_schema,
};

/// `POST /admin/categories`: a new category.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCategory)]
pub(in crate::service) struct CategoryBody {
    /// Lower-case words joined by `-`, unique.
    #[schema(example = "green-tea")]
    slug: String,
    name: String,
    /// The parent category; none for a top-level one.
    parent_id: Option<i64>,
}

/// `POST /admin/products`: a new product with its variants.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewProduct)]
pub(in crate::service) struct ProductBody {
    /// Lower-case words joined by `-`, unique: the product's URL key.
    #[schema(example = "sencha")]
    slug: String,
    name: String,
    description: Option<String>,
    category_id: i64,
    #[schema(schema_with = new_product_status_schema)]
    status: Option<String>,
    /// Its option types (Colour, Size...), at most five; none for a product of one
    /// variant.
    options: Option<Vec<OptionTypeJson>>,
    /// What it sells: one variant per combination of option values offered, each
    /// naming one value of every option type; exactly one, without options, for a
    /// product without option types. All in one currency.
    variants: Vec<VariantBody>,
}

impl ProductBody {
    /// The product it asks for; the store checks the variants against the options.
    fn into_new_product(self) -> Result<NewProduct, ApiError> {
        let status = match self.status.as_deref() {
            None => ProductStatus::Active,
            Some(raw) => by_name(raw)?,
        };
        let types = self
            .options
            .unwrap_or_default()
            .iter()
            .map(option_type)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NewProduct {
            slug: Slug::parse(&self.slug)?,
            name: ProductName::parse(&self.name)?,
            description: Description::parse(self.description.as_deref().unwrap_or_default())?,
            category_id: CategoryId::new(self.category_id),
            status,
            options: ProductOptions::new(types)?,
            variants: self
                .variants
                .into_iter()
                .map(VariantBody::into_new_variant)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A variant to create, with a new product or on its own.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewVariant)]
pub(in crate::service) struct VariantBody {
    /// Unique stock-keeping unit.
    #[schema(example = "SENCHA-100")]
    sku: String,
    /// One value of each of the product's option types, matched ignoring case; none
    /// for a product without options.
    options: Option<Vec<OptionValueJson>>,
    /// A decimal string.
    #[schema(example = "8.50")]
    price: String,
    /// EUR when not given; every variant of a product is priced in one currency.
    #[schema(schema_with = currency_schema)]
    currency: Option<String>,
    /// Units on hand.
    stock: u32,
    /// Shipping weight in grams.
    weight_grams: Option<u32>,
    /// A GTIN-8, -12 (UPC-A), -13 (EAN-13) or -14 barcode, its check digit
    /// verified; unique across the catalog.
    #[schema(example = "4006381333931")]
    gtin: Option<String>,
}

impl VariantBody {
    /// The variant it asks for; the store checks its options against the product's.
    fn into_new_variant(self) -> Result<NewVariant, ApiError> {
        let currency = Currency::from_code(self.currency.as_deref().unwrap_or("EUR"))?;
        let choices = self
            .options
            .unwrap_or_default()
            .iter()
            .map(|c| {
                Ok(OptionChoice {
                    option: OptionName::parse(&c.option)?,
                    value: OptionValue::parse(&c.value)?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(NewVariant {
            sku: Sku::parse(&self.sku)?,
            selection: OptionSelection::new(choices)?,
            price: Money::parse(&self.price, currency)?,
            stock_on_hand: self.stock,
            weight_grams: self.weight_grams,
            gtin: self
                .gtin
                .as_deref()
                .map(Gtin::parse)
                .transpose()
                .map_err(ValidationError::from)?,
        })
    }
}

/// A new product's status: the catalog's list, and what happens when none is given.
fn new_product_status_schema() -> Object {
    ObjectBuilder::from(product_status_schema())
        .description(Some(
            "`active` (listed and sold) when not given; `draft` and `archived` \
             products are neither listed nor sold",
        ))
        .build()
}

/// An option type as a request names it.
fn option_type(raw: &OptionTypeJson) -> Result<OptionType, ApiError> {
    let values = raw
        .values
        .iter()
        .map(|v| OptionValue::parse(v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(OptionType::new(OptionName::parse(&raw.name)?, values)?)
}

/// `POST /admin/variants/{id}/restock`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Restock)]
pub(in crate::service) struct RestockBody {
    /// Units to add to the variant's stock.
    units: u32,
}

/// `PUT /admin/products/{id}/status`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewProductStatus)]
pub(in crate::service) struct StatusBody {
    #[schema(schema_with = product_status_schema)]
    status: String,
}

/// `PUT /admin/variants/{id}/price`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewPrice)]
pub(in crate::service) struct PriceBody {
    /// A decimal string, not negative.
    #[schema(example = "12.34")]
    price: String,
    /// EUR when not given; it must be the variant's currency, which a price change
    /// keeps.
    #[schema(schema_with = currency_schema)]
    currency: Option<String>,
}

/// Creates a category.
#[utoipa::path(
    post,
    path = "/admin/categories",
    tag = "admin",
    security(("admin" = [])),
    request_body = CategoryBody,
    responses(
        (status = 201, description = "The category created", body = CategoryView),
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
pub(in crate::service) async fn create_category(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<CategoryBody>,
) -> Result<(StatusCode, Json<CategoryView>), ApiError> {
    let new = NewCategory {
        parent_id: body.parent_id.map(CategoryId::new),
        slug: Slug::parse(&body.slug)?,
        name: CategoryName::parse(&body.name)?,
    };
    app.blocking(move |store| {
        let category = store.create_category(new)?;
        Ok((StatusCode::CREATED, Json(CategoryView::from(&category))))
    })
    .await
}

/// Creates a product with its variants.
///
/// A product without options has exactly one variant; a product with options has
/// one per combination of values it sells, each combination once (`invalid_options`
/// otherwise). SKUs, barcodes and the slug are unique (`already_taken`).
#[utoipa::path(
    post,
    path = "/admin/products",
    tag = "admin",
    security(("admin" = [])),
    request_body = ProductBody,
    responses(
        (status = 201, description = "The product created, with its variants", body = ProductView),
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
pub(in crate::service) async fn create_product(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<ProductBody>,
) -> Result<(StatusCode, Json<ProductView>), ApiError> {
    let new = body.into_new_product()?;
    app.blocking(move |store| {
        Ok((
            StatusCode::CREATED,
            Json(ProductView::from(&store.create_product(new)?)),
        ))
    })
    .await
}

/// Puts a product on sale (`active`) or takes it off (`draft`, `archived`).
///
/// Only an active product's variants are listed and sold: off sale, a cart refuses
/// them (`not_on_sale`), and so does the checkout of a cart that already holds one.
/// Orders placed before keep their lines.
#[utoipa::path(
    put,
    path = "/admin/products/{id}/status",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The product's id")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The product after the change, with its variants", body = ProductView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn set_product_status(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<ProductView>, ApiError> {
    let status: ProductStatus = by_name(&body.status)?;
    app.blocking(move |store| {
        let product = store.set_product_status(ProductId::new(id), status)?;
        Ok(Json(ProductView::from(&product)))
    })
    .await
}

/// Adds a variant to a product.
///
/// Its options name one value of each of the product's option types, a combination
/// the product does not sell yet (`invalid_options` otherwise); its price is in the
/// currency of its siblings.
#[utoipa::path(
    post,
    path = "/admin/products/{id}/variants",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The product's id")),
    request_body = VariantBody,
    responses(
        (status = 201, description = "The variant created", body = VariantView),
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
pub(in crate::service) async fn add_variant(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<VariantBody>,
) -> Result<(StatusCode, Json<VariantView>), ApiError> {
    let new = body.into_new_variant()?;
    app.blocking(move |store| {
        let variant = store.add_variant(ProductId::new(id), new)?;
        Ok((StatusCode::CREATED, Json(VariantView::from(&variant))))
    })
    .await
}

/// Changes a variant's price.
///
/// A cart is priced when it is checked out, so the next checkout charges the new
/// price; orders placed before keep theirs. The price stays in the variant's
/// currency and is never negative (`invalid` otherwise).
#[utoipa::path(
    put,
    path = "/admin/variants/{id}/price",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The variant's id")),
    request_body = PriceBody,
    responses(
        (status = 200, description = "The variant after the change", body = VariantView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn set_price(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PriceBody>,
) -> Result<Json<VariantView>, ApiError> {
    let currency = Currency::from_code(body.currency.as_deref().unwrap_or("EUR"))?;
    let price = Money::parse(&body.price, currency)?;
    app.blocking(move |store| {
        let variant = store.set_price(VariantId::new(id), price)?;
        Ok(Json(VariantView::from(&variant)))
    })
    .await
}

/// Adds units to a variant's stock.
#[utoipa::path(
    post,
    path = "/admin/variants/{id}/restock",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The variant's id")),
    request_body = RestockBody,
    responses(
        (status = 200, description = "The variant after the change", body = VariantView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn restock(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RestockBody>,
) -> Result<Json<VariantView>, ApiError> {
    app.blocking(move |store| {
        Ok(Json(VariantView::from(
            &store.restock(VariantId::new(id), body.units)?,
        )))
    })
    .await
}
