//! The back office's merchandising routes: attribute definitions and values,
//! images, collections, and the language search applies.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use ecom_domain::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::Staff;
use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::{ApiJson, ApiPath};
use crate::service::openapi::{
    BadRequest, Conflict, Invalid, NotFound, TooLarge, Unauthenticated, Unavailable,
    UnsupportedMediaType,
};
use crate::service::response::{
    AttributeDefinitionJson, AttributeJson, CollectionDetailView, OptionValueJson, ProductView,
    VariantView,
};

/// `PUT /admin/products/{id}/attributes` and `PUT /admin/variants/{id}/attributes`:
/// every attribute value, replacing the ones before.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AttributeValues)]
pub(in crate::service) struct AttributesBody {
    /// At most 100, each attribute once; empty to remove them all.
    attributes: Vec<AttributeJson>,
}

impl AttributesBody {
    fn into_attributes(self) -> Result<Vec<Attribute>, ApiError> {
        // Bounded before each is parsed; the store checks them against the definitions.
        if self.attributes.len() > ecom_domain::catalog::MAX_ATTRIBUTES {
            return Err(AttributeError::TooManyAttributes {
                count: self.attributes.len(),
                max: ecom_domain::catalog::MAX_ATTRIBUTES,
            }
            .into());
        }
        self.attributes
            .into_iter()
            .map(AttributeJson::into_attribute)
            .collect()
    }
}

/// `PUT /admin/products/{id}/images`: every image, in display order, replacing the
/// ones before.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Images)]
pub(in crate::service) struct ImagesBody {
    /// At most 50, no URL twice; empty to remove them all.
    images: Vec<ImageBody>,
}

/// One image to show.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewImage)]
pub(in crate::service) struct ImageBody {
    /// An `https` URL without spaces.
    #[schema(example = "https://cdn.example.com/tee/red.jpg")]
    url: String,
    /// What it shows, in words, at most 250 characters; empty when not given.
    alt: Option<String>,
    /// One of the product's option values, matched ignoring case, when the image
    /// shows it; none for the product as a whole.
    option: Option<OptionValueJson>,
}

impl ImagesBody {
    fn into_images(self) -> Result<Vec<ProductImage>, ApiError> {
        if self.images.len() > ecom_domain::catalog::MAX_IMAGES {
            return Err(MediaError::TooManyImages {
                count: self.images.len(),
                max: ecom_domain::catalog::MAX_IMAGES,
            }
            .into());
        }
        self.images
            .into_iter()
            .map(|image| {
                Ok(ProductImage {
                    url: MediaUrl::parse(&image.url)?,
                    alt: AltText::parse(image.alt.as_deref().unwrap_or_default())?,
                    option: image
                        .option
                        .map(|c| {
                            Ok::<_, ApiError>(OptionChoice {
                                option: OptionName::parse(&c.option)?,
                                value: OptionValue::parse(&c.value)?,
                            })
                        })
                        .transpose()?,
                })
            })
            .collect()
    }
}

/// `POST /admin/collections`: a new, empty collection.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCollection)]
pub(in crate::service) struct CollectionBody {
    /// Lower-case words joined by `-`, unique among collections.
    #[schema(example = "summer-sale")]
    slug: String,
    #[schema(example = "Summer sale")]
    name: String,
}

/// `PUT /admin/collections/{id}/products`: the collection's products, in order,
/// replacing the ones before.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CollectionProducts)]
pub(in crate::service) struct CollectionProductsBody {
    /// Existing products, each once; drafts may be among them (the shop front lists
    /// only the active ones).
    product_ids: Vec<i64>,
}

/// `PUT /admin/search-language`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SearchLanguage)]
pub(in crate::service) struct SearchLanguageBody {
    /// A PostgreSQL text search configuration: `english`, `german`, `simple`...
    #[schema(example = "english")]
    language: String,
}

/// Defines an attribute.
///
/// Its name is unique ignoring case (`409 already_taken`); a malformed definition
/// (no choices, a choice twice) is `422 invalid_attributes`.
#[utoipa::path(
    post,
    path = "/admin/attributes",
    tag = "admin",
    security(("admin" = [])),
    request_body = AttributeDefinitionJson,
    responses(
        (status = 201, description = "The attribute defined", body = AttributeDefinitionJson),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn define_attribute(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<AttributeDefinitionJson>,
) -> Result<(StatusCode, Json<AttributeDefinitionJson>), ApiError> {
    let definition = body.into_definition()?;
    app.blocking(move |store| {
        let defined = store.define_attribute(definition)?;
        Ok((
            StatusCode::CREATED,
            Json(AttributeDefinitionJson::from(&defined)),
        ))
    })
    .await
}

/// Replaces a product's attribute values.
///
/// Each names a defined attribute (ignoring case) once, with a value of its type
/// (`422 invalid_attributes` otherwise); they are stored under the definition's
/// spelling, numbers without trailing zeros.
#[utoipa::path(
    put,
    path = "/admin/products/{id}/attributes",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The product's id")),
    request_body = AttributesBody,
    responses(
        (status = 200, description = "The product after the change", body = ProductView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn set_product_attributes(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AttributesBody>,
) -> Result<Json<ProductView>, ApiError> {
    let attributes = body.into_attributes()?;
    app.blocking(move |store| {
        let product = store.set_product_attributes(ProductId::new(id), attributes)?;
        Ok(Json(ProductView::from(&product)))
    })
    .await
}

/// Replaces a variant's own attribute values, beside its product's.
///
/// The same rules as a product's.
#[utoipa::path(
    put,
    path = "/admin/variants/{id}/attributes",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The variant's id")),
    request_body = AttributesBody,
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
pub(in crate::service) async fn set_variant_attributes(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AttributesBody>,
) -> Result<Json<VariantView>, ApiError> {
    let attributes = body.into_attributes()?;
    app.blocking(move |store| {
        let variant = store.set_variant_attributes(VariantId::new(id), attributes)?;
        Ok(Json(VariantView::from(&variant)))
    })
    .await
}

/// Replaces a product's images.
///
/// At most 50, no URL twice, each tied to none or one of the product's option
/// values (`422 invalid_images` otherwise).
#[utoipa::path(
    put,
    path = "/admin/products/{id}/images",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The product's id")),
    request_body = ImagesBody,
    responses(
        (status = 200, description = "The product after the change", body = ProductView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn set_images(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ImagesBody>,
) -> Result<Json<ProductView>, ApiError> {
    let images = body.into_images()?;
    app.blocking(move |store| {
        let product = store.set_images(ProductId::new(id), images)?;
        Ok(Json(ProductView::from(&product)))
    })
    .await
}

/// Creates an empty collection; `PUT /admin/collections/{id}/products` fills it.
///
/// Its slug is unique among collections (`409 already_taken`).
#[utoipa::path(
    post,
    path = "/admin/collections",
    tag = "admin",
    security(("admin" = [])),
    request_body = CollectionBody,
    responses(
        (status = 201, description = "The collection created", body = CollectionDetailView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn create_collection(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<CollectionBody>,
) -> Result<(StatusCode, Json<CollectionDetailView>), ApiError> {
    let new = NewCollection {
        slug: Slug::parse(&body.slug)?,
        name: CollectionName::parse(&body.name)?,
    };
    app.blocking(move |store| {
        let collection = store.create_collection(new)?;
        Ok((
            StatusCode::CREATED,
            Json(CollectionDetailView::from(&collection)),
        ))
    })
    .await
}

/// Replaces a collection's products, in the order given.
///
/// Each product exists (`404 not_found` otherwise) and comes once
/// (`422 invalid_collection` otherwise).
#[utoipa::path(
    put,
    path = "/admin/collections/{id}/products",
    tag = "admin",
    security(("admin" = [])),
    params(("id" = i64, Path, description = "The collection's id")),
    request_body = CollectionProductsBody,
    responses(
        (status = 200, description = "The collection after the change", body = CollectionDetailView),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn set_collection_products(
    _: Staff,
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CollectionProductsBody>,
) -> Result<Json<CollectionDetailView>, ApiError> {
    let products =
        CollectionProducts::new(body.product_ids.into_iter().map(ProductId::new).collect())?;
    app.blocking(move |store| {
        let collection = store.set_collection_products(CollectionId::new(id), products)?;
        Ok(Json(CollectionDetailView::from(&collection)))
    })
    .await
}

/// Sets the language whose rules (stemming, stop words) search applies, and
/// re-indexes the catalog in it.
///
/// A configuration the database does not have is `404 not_found`.
#[utoipa::path(
    put,
    path = "/admin/search-language",
    tag = "admin",
    security(("admin" = [])),
    request_body = SearchLanguageBody,
    responses(
        (status = 204, description = "Search applies the language from now on"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn set_search_language(
    _: Staff,
    State(app): State<App>,
    ApiJson(body): ApiJson<SearchLanguageBody>,
) -> Result<StatusCode, ApiError> {
    let language = SearchLanguage::parse(&body.language)?;
    app.blocking(move |store| {
        store.set_search_language(language)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
