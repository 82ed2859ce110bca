//! The shop front's listings: a category with filters and facet counts, full-text
//! search, collections and the attribute definitions. Public reads, served by the
//! store's read handle ([`ecom_store::PgStore::reader`]), which a read replica may
//! answer.

use axum::Json;
use axum::extract::State;
use ecom_domain::prelude::*;

use crate::service::app::App;
use crate::service::error::ApiError;
use crate::service::extract::{ApiPath, ApiQuery};
use crate::service::openapi::{BadRequest, Invalid, NotFound, Unavailable};
use crate::service::request::{BrowseQuery, CatalogSearchQuery, CollectionPageQuery};
use crate::service::response::{
    AttributeListView, BrowseView, CollectionPageView, CollectionView, SearchPageView,
};

/// A category's active products (with its subcategories'), filtered by facets,
/// price and stock, in one of four orders, a page at a time, with the number of
/// matching products and the facet counts a shop shows beside its filters.
///
/// Facets are the products' option values and attribute values, named and
/// compared in lower case. Filters on two facets both apply (AND); the values of
/// one facet are alternatives (OR). Pass the page's `next` as `after`, with the same
/// filters and sort, for the following page: a product added or changed between two
/// pages neither repeats nor hides another. A bad filter is `422 invalid_filter`; a
/// cursor that is not one this route made for the sort is `422 invalid_cursor`.
#[utoipa::path(
    get,
    path = "/categories/{id}/browse",
    tag = "catalog",
    params(("id" = i64, Path, description = "The category's id"), BrowseQuery),
    responses(
        (status = 200, description = "A page of the listing, its total and facet counts", body = BrowseView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn browse(
    State(app): State<App>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
) -> Result<Json<BrowseView>, ApiError> {
    let request = BrowseQuery::from_pairs(pairs)?.into_request(CategoryId::new(id))?;
    app.blocking(move |store| {
        let listing = store.reader().browse(request)?;
        Ok(Json(BrowseView::from(&listing)))
    })
    .await
}

/// Active products matching the words of a query, most relevant first, a page at
/// a time.
///
/// Products whose name, description, attribute or option values hold every word
/// (the last as a prefix, each as the shop's search language stems it) are the
/// hits, names ranked above descriptions; when none does, products whose names
/// resemble the query are (a typo). A bad query is `422 invalid_filter`.
#[utoipa::path(
    get,
    path = "/search",
    tag = "catalog",
    params(CatalogSearchQuery),
    responses(
        (status = 200, description = "A page of hits", body = SearchPageView),
        (status = 400, response = BadRequest),
        (status = 422, response = Invalid),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn catalog_search(
    State(app): State<App>,
    ApiQuery(q): ApiQuery<CatalogSearchQuery>,
) -> Result<Json<SearchPageView>, ApiError> {
    let request = q.into_request()?;
    app.blocking(move |store| {
        let hits = store.reader().search(request)?;
        Ok(Json(SearchPageView::from(&hits)))
    })
    .await
}

/// The catalog's attribute definitions, by name: what a product's and a variant's
/// `attributes` may hold.
#[utoipa::path(
    get,
    path = "/attributes",
    tag = "catalog",
    responses(
        (status = 200, description = "Every attribute definition", body = AttributeListView),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn attributes(
    State(app): State<App>,
) -> Result<Json<AttributeListView>, ApiError> {
    app.blocking(|store| {
        let definitions = store.reader().attributes()?;
        Ok(Json(AttributeListView::new(&definitions)))
    })
    .await
}

/// One collection by its URL key.
#[utoipa::path(
    get,
    path = "/collections/{slug}",
    tag = "catalog",
    params(("slug" = String, Path, description = "The collection's URL key")),
    responses(
        (status = 200, description = "The collection", body = CollectionView),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn collection(
    State(app): State<App>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<CollectionView>, ApiError> {
    let slug = collection_slug(&slug)?;
    app.blocking(move |store| {
        let collection = store.reader().collection(&slug)?;
        Ok(Json(CollectionView::from(&collection)))
    })
    .await
}

/// A collection's active products, in the collection's order, a page at a time;
/// drafts and archived products are left out.
#[utoipa::path(
    get,
    path = "/collections/{slug}/products",
    tag = "catalog",
    params(("slug" = String, Path, description = "The collection's URL key"), CollectionPageQuery),
    responses(
        (status = 200, description = "A page of the collection's products", body = CollectionPageView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
pub(in crate::service) async fn collection_products(
    State(app): State<App>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(q): ApiQuery<CollectionPageQuery>,
) -> Result<Json<CollectionPageView>, ApiError> {
    let slug = collection_slug(&slug)?;
    let page = q.page();
    app.blocking(move |store| {
        let reader = store.reader();
        let collection = reader.collection(&slug)?;
        let products = reader.collection_products(collection.id, page)?;
        Ok(Json(CollectionPageView::from(&products)))
    })
    .await
}

/// A collection's slug from a path: one that is not a slug names no collection.
fn collection_slug(raw: &str) -> Result<Slug, ApiError> {
    Slug::parse(raw).map_err(|_| DomainError::not_found("collection", raw).into())
}
