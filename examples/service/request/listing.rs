//! What a listing, a search and a collection page ask for in their query strings,
//! and its one conversion into the store's requests. Every part is bounded here or
//! by the domain's checks ([`FacetFilter::new`], [`BrowseFilter::checked`],
//! [`PriceRange::new`], [`SearchQuery::parse`]) before the store sees it.

use axum::http::StatusCode;
use ecom_domain::catalog::{
    BrowseError, BrowseFilter, BrowseRequest, BrowseSort, CollectionProducts, FacetFilter,
    PageRequest, PriceRange, SearchQuery, SearchRequest,
};
use ecom_domain::ids::CategoryId;
use ecom_domain::money::{Currency, Money};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::service::cursor;
use crate::service::error::ApiError;
use crate::service::limits::{DEFAULT_PAGE_LIMIT, DEFAULT_SEARCH_LIMIT};
use crate::service::response::{browse_sort_schema, currency_schema};

/// `GET /categories/{id}/browse`: filters, a sort and a page. Read from the query
/// string's pairs ([`BrowseQuery::from_pairs`]): `facet` repeats, which a struct
/// decoder does not take.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(in crate::service) struct BrowseQuery {
    /// `name:value,value...`: products with one of the values for the option type or
    /// attribute `name` (ignoring case). Repeat for more facets, at most 10, each
    /// facet once; a product must match every one. 1 to 20 values, names and
    /// values 1 to 200 characters; a value holds no comma.
    #[param(required = false, example = "colour:red,blue")]
    facet: Vec<String>,
    /// The lowest "from" price (a product's cheapest variant), a decimal string.
    #[param(example = "10.00")]
    min_price: Option<String>,
    /// The highest "from" price, a decimal string.
    #[param(example = "50.00")]
    max_price: Option<String>,
    /// The currency of `min_price` and `max_price` (EUR when not given); with a
    /// price filter, products priced in another currency are left out.
    #[param(schema_with = currency_schema)]
    currency: Option<String>,
    /// `true`: only products with a variant in stock.
    in_stock: Option<bool>,
    /// `newest` when not given.
    #[param(schema_with = browse_sort_schema)]
    sort: Option<String>,
    /// Products on the page (50 when not given; the store caps it).
    limit: Option<u32>,
    /// The `next` of the previous page, with the same filters and sort; none for
    /// the first page.
    after: Option<String>,
}

impl BrowseQuery {
    /// The query from the query string's `(key, value)` pairs: `facet` may repeat,
    /// nothing else may; unknown keys are ignored, as on every route.
    pub(in crate::service) fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        fn once<T>(
            slot: &mut Option<T>,
            key: &str,
            value: Result<T, String>,
        ) -> Result<(), ApiError> {
            if slot.is_some() {
                return Err(bad_query(format!("`{key}` is given twice")));
            }
            *slot = Some(value.map_err(bad_query)?);
            Ok(())
        }
        let mut q = BrowseQuery::default();
        for (key, value) in pairs {
            match key.as_str() {
                "facet" => q.facet.push(value),
                "min_price" => once(&mut q.min_price, &key, Ok(value))?,
                "max_price" => once(&mut q.max_price, &key, Ok(value))?,
                "currency" => once(&mut q.currency, &key, Ok(value))?,
                "sort" => once(&mut q.sort, &key, Ok(value))?,
                "after" => once(&mut q.after, &key, Ok(value))?,
                "in_stock" => {
                    let parsed = value
                        .parse()
                        .map_err(|_| "`in_stock` is true or false".to_owned());
                    once(&mut q.in_stock, &key, parsed)?;
                }
                "limit" => {
                    let parsed = value
                        .parse()
                        .map_err(|_| "`limit` is a whole number from 0".to_owned());
                    once(&mut q.limit, &key, parsed)?;
                }
                _ => {}
            }
        }
        Ok(q)
    }

    /// The listing it asks for, of `category`.
    pub(in crate::service) fn into_request(
        self,
        category: CategoryId,
    ) -> Result<BrowseRequest, ApiError> {
        // Counted before any is parsed.
        if self.facet.len() > BrowseFilter::MAX_FACETS {
            return Err(BrowseError::TooManyFacets {
                count: self.facet.len(),
                max: BrowseFilter::MAX_FACETS,
            }
            .into());
        }
        let facets = self
            .facet
            .iter()
            .map(|raw| facet_filter(raw))
            .collect::<Result<Vec<_>, _>>()?;
        let currency = Currency::from_code(self.currency.as_deref().unwrap_or("EUR"))?;
        let price = |raw: Option<&str>| raw.map(|r| Money::parse(r, currency)).transpose();
        let price = PriceRange::new(
            price(self.min_price.as_deref())?,
            price(self.max_price.as_deref())?,
        )?;
        let sort = match self.sort.as_deref() {
            None => BrowseSort::default(),
            Some(raw) => raw.parse().map_err(|e: ecom_domain::UnknownVariant| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_filter",
                    e.to_string(),
                )
            })?,
        };
        let after = self
            .after
            .as_deref()
            .map(cursor::browse_cursor)
            .transpose()?;
        let request = BrowseRequest {
            category,
            filter: BrowseFilter {
                facets,
                price,
                in_stock: self.in_stock.unwrap_or(false),
            },
            sort,
            page: PageRequest {
                after,
                limit: self.limit.unwrap_or(DEFAULT_PAGE_LIMIT),
            },
        };
        request.checked().map_err(|err| match err {
            // A cursor of another sort is one this route did not make for this
            // order: the client starts again, as for any bad cursor.
            BrowseError::CursorSort => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_cursor",
                err.to_string(),
            ),
            other => other.into(),
        })
    }
}

/// One `facet` parameter, `name:value,value...`.
fn facet_filter(raw: &str) -> Result<FacetFilter, ApiError> {
    let (name, values) = raw.split_once(':').ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_filter",
            format!(
                "facet {:?} is not name:value,value...",
                raw.chars().take(50).collect::<String>()
            ),
        )
    })?;
    // Counted before any is kept: FacetFilter::new bounds the number.
    if values.split(',').nth(FacetFilter::MAX_VALUES).is_some() {
        return Err(BrowseError::FacetValues {
            facet: name.chars().take(50).collect(),
            count: values.split(',').count(),
            max: FacetFilter::MAX_VALUES,
        }
        .into());
    }
    let values: Vec<&str> = values.split(',').collect();
    Ok(FacetFilter::new(name, &values)?)
}

fn bad_query(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message)
}

/// `GET /search`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(in crate::service) struct CatalogSearchQuery {
    /// 1 to 8 words of letters and digits (anything else separates words), at most
    /// 200 characters; the last word matches as a prefix.
    #[param(max_length = 200, example = "linen sh")]
    q: String,
    /// Hits on the page (20 when not given; the store caps it).
    limit: Option<u32>,
    /// The `next` of the previous page, with the same `q`; none for the first page.
    after: Option<String>,
}

impl CatalogSearchQuery {
    /// The search it asks for.
    pub(in crate::service) fn into_request(self) -> Result<SearchRequest, ApiError> {
        Ok(SearchRequest {
            query: SearchQuery::parse(&self.q)?,
            page: PageRequest {
                after: self
                    .after
                    .as_deref()
                    .map(cursor::search_cursor)
                    .transpose()?,
                limit: self.limit.unwrap_or(DEFAULT_SEARCH_LIMIT),
            },
        })
    }
}

/// `GET /collections/{slug}/products`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(in crate::service) struct CollectionPageQuery {
    /// The `next` of the previous page; none for the first page.
    after: Option<u32>,
    /// Products on the page (50 when not given; the store caps it).
    limit: Option<u32>,
}

impl CollectionPageQuery {
    /// The page it asks for. Positions in a collection are below
    /// [`CollectionProducts::MAX`], so any `after` from there on is past the end:
    /// it is passed on as that bound, which the store's position type holds.
    pub(in crate::service) fn page(&self) -> PageRequest<u32> {
        let past_the_end = CollectionProducts::MAX as u32;
        PageRequest {
            after: self.after.map(|a| a.min(past_the_end)),
            limit: self.limit.unwrap_or(DEFAULT_PAGE_LIMIT),
        }
    }
}
