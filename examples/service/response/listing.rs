//! Pages of the shop front: a filtered listing with its facet counts, search hits,
//! a collection's products.

use ecom_domain::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::ProductView;
use crate::service::cursor;

/// How many of a listing's matching products have one facet value: the number a
/// shop shows beside its filter.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FacetCount)]
pub(in crate::service) struct FacetCountView {
    /// The option type or attribute, in lower case.
    #[schema(example = "colour")]
    name: String,
    /// The value, in lower case: what a `facet` filter names.
    #[schema(example = "red")]
    value: String,
    /// Matching products that have it, over the whole listing, not only the page.
    products: u64,
}

/// A page of a category listing, with what the whole listing holds.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BrowsePage)]
pub(in crate::service) struct BrowseView {
    items: Vec<ProductView>,
    /// Pass as `after`, with the same filters and sort, for the next page; null on
    /// the last page. Opaque.
    #[schema(required = true)]
    next: Option<String>,
    /// How many products match the filters.
    total: u64,
    /// For each facet value of the matching products, how many have it; by name,
    /// then value.
    facets: Vec<FacetCountView>,
}

impl From<&Browse> for BrowseView {
    fn from(b: &Browse) -> Self {
        Self {
            items: b.page.items.iter().map(ProductView::from).collect(),
            next: b.page.next.as_ref().map(cursor::encode),
            total: b.total,
            facets: b
                .facets
                .iter()
                .map(|f| FacetCountView {
                    name: f.key.name.clone(),
                    value: f.key.value.clone(),
                    products: f.products,
                })
                .collect(),
        }
    }
}

/// One search result.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SearchHit)]
pub(in crate::service) struct HitView {
    /// Relevance in millionths: hits come highest first.
    score: i64,
    product: ProductView,
}

/// A page of search results.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SearchPage)]
pub(in crate::service) struct SearchPageView {
    items: Vec<HitView>,
    /// Pass as `after`, with the same `q`, for the next page; null on the last
    /// page. Opaque.
    #[schema(required = true)]
    next: Option<String>,
}

impl From<&Page<Hit, SearchCursor>> for SearchPageView {
    fn from(page: &Page<Hit, SearchCursor>) -> Self {
        Self {
            items: page
                .items
                .iter()
                .map(|h| HitView {
                    score: h.score,
                    product: ProductView::from(&h.product),
                })
                .collect(),
            next: page.next.as_ref().map(cursor::encode),
        }
    }
}

/// A page of a collection's active products, in the collection's order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CollectionPage)]
pub(in crate::service) struct CollectionPageView {
    items: Vec<ProductView>,
    /// Pass as `after` for the next page; null on the last page.
    #[schema(required = true)]
    next: Option<u32>,
}

impl From<&Page<Product, u32>> for CollectionPageView {
    fn from(page: &Page<Product, u32>) -> Self {
        Self {
            items: page.items.iter().map(ProductView::from).collect(),
            next: page.next,
        }
    }
}
