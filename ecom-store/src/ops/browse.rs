//! Category listings with facet filters and counts, full-text search, and the pages
//! of a collection: each a statement or two that the database answers from its
//! indexes (the category tree and `products_category_id_id_idx`, the GIN indexes
//! on `products.facets` and `products.search`, the trigram index on names), each
//! page joined to its variants in the same statement.
//!
//! A listing is two statements in one repeatable-read transaction: the facet counts
//! and the total over every matching product, and the page. Both start from the
//! same `matching` text, so they agree.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::rows::{
    Found, PageProductRow, ProductColumns, VariantColumns, VariantRow, group_by_product,
    page_product_columns, page_product_window, page_variant_columns,
};
use crate::sql::{Bind, CachedSql, Statement, keyed};

/// The products a listing's filter keeps, with the keys its sorts need. Binds:
/// $1 category; $2, $3, $4 facet names, values and filter numbers (parallel
/// arrays); $5 how many facet filters; $6 currency, $7 lowest and $8 highest price
/// (NULL: no price filter, or an open end); $9 in stock only.
///
/// A product passes the facet filters when its facets hold a value of each filter
/// (`count(DISTINCT grp)` of the wanted keys it holds equals the number of
/// filters); `&&` first lets the GIN index on `products.facets` narrow the rows.
///
/// The category's tree is an array (`= ANY (ARRAY(..))`), not a semi-join
/// (`IN (SELECT ..)`): the planner then reads the products of the tree from
/// `products_category_id_id_idx` (and ANDs that bitmap with the facets index), where
/// the semi-join, guessing the tree held most categories, read every product with
/// a wanted facet and summed its variants before looking at its category, and a
/// generic plan read the whole table.
macro_rules! matching {
    () => {
        "\
WITH RECURSIVE tree (id) AS (
    SELECT id FROM categories WHERE id = $1
    UNION
    SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id
), wanted (key, grp) AS MATERIALIZED (
    SELECT catalog_facet_key(f.name, f.value), f.grp
    FROM unnest($2::text[], $3::text[], $4::int[]) f (name, value, grp)
), matching AS MATERIALIZED (
    SELECT p.id, p.created_at, p.name, p.facets, m.price_from
    FROM products p
    CROSS JOIN LATERAL (
        SELECT min(v.price) AS price_from, min(v.currency) AS currency,
               bool_or(v.stock_on_hand > 0) AS in_stock
        FROM product_variants v WHERE v.product_id = p.id
    ) m
    WHERE p.category_id = ANY (ARRAY(SELECT id FROM tree)) AND p.status = 'active'
      AND ($5::int = 0
           OR (p.facets && ARRAY(SELECT key FROM wanted)
               AND (SELECT count(DISTINCT grp) FROM wanted WHERE key = ANY (p.facets)) = $5))
      AND ($6::text IS NULL
           OR (m.currency = $6::text
               AND m.price_from >= coalesce($7::numeric, m.price_from)
               AND m.price_from <= coalesce($8::numeric, m.price_from)))
      AND (NOT $9::bool OR m.in_stock)
)
"
    };
}

keyed! {
    /// The total (the row whose key is NULL) and how many matching products hold each
    /// facet value.
    FACET_COUNTS = concat!(
    matching!(),
    "\
SELECT NULL::text AS key, count(*) AS products FROM matching
UNION ALL
SELECT f.key, count(*) FROM matching, unnest(matching.facets) f (key) GROUP BY f.key"
);
}

/// A page of a listing in one sort order: `$10` and `$11` are the cursor's sort key
/// and id (`$11` NULL on a first page), `$12` the number of rows to fetch.
macro_rules! listing_page {
    ($after:literal, $order:literal) => {
        Statement::new(concat!(
            matching!(),
            ", page AS (
    SELECT m.id, row_number() OVER (ORDER BY ",
            $order,
            ") AS ord
    FROM matching m
    WHERE $11::bigint IS NULL OR ",
            $after,
            "
    ORDER BY ",
            $order,
            "
    LIMIT $12
)
SELECT ",
            page_product_columns!("p"),
            ", ",
            page_variant_columns!(),
            "
FROM page
JOIN products p ON p.id = page.id
JOIN product_variants v ON v.product_id = p.id",
            page_product_window!("p"),
            "
ORDER BY page.ord, v.id"
        ))
    };
}

static NEWEST: Statement = listing_page!(
    "(m.created_at, m.id) < ($10::timestamptz, $11::bigint)",
    "m.created_at DESC, m.id DESC"
);
static PRICE_ASC: Statement = listing_page!(
    "(m.price_from, m.id) > ($10::numeric, $11::bigint)",
    "m.price_from, m.id"
);
static PRICE_DESC: Statement = listing_page!(
    "(m.price_from, m.id) < ($10::numeric, $11::bigint)",
    "m.price_from DESC, m.id DESC"
);
// "C" compares bytes, as Rust's `str` ordering does, whatever the database's
// default collation.
static BY_NAME: Statement = listing_page!(
    "(m.name COLLATE \"C\", m.id) > ($10::text COLLATE \"C\", $11::bigint)",
    "m.name COLLATE \"C\", m.id"
);

/// The binds `matching!` takes, in order.
fn filter_binds(request: &BrowseRequest) -> Vec<Bind> {
    let filter = &request.filter;
    let (mut names, mut values, mut groups) = (Vec::new(), Vec::new(), Vec::new());
    for (group, facet) in (0i32..).zip(&filter.facets) {
        for value in &facet.values {
            names.push(facet.name.clone());
            values.push(value.clone());
            groups.push(group);
        }
    }
    let price = filter.price.as_ref();
    vec![
        Bind::BigInt(request.category.get()),
        Bind::TextArray(names),
        Bind::TextArray(values),
        Bind::IntArray(groups),
        Bind::Int(filter.facets.len() as i32),
        Bind::NullableText(price.map(|p| p.currency.code().to_owned())),
        Bind::NullableNumeric(price.and_then(|p| p.min)),
        Bind::NullableNumeric(price.and_then(|p| p.max)),
        Bind::Bool(filter.in_stock),
    ]
}

#[derive(QueryableByName)]
struct FacetRow {
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = BigInt)]
    products: i64,
}

/// The number of matching products and the facet counts of a checked request.
pub(crate) fn facet_counts(
    conn: &mut PgConnection,
    request: &BrowseRequest,
) -> Result<(u64, Vec<FacetCount>), StoreError> {
    let rows: Vec<FacetRow> = CachedSql::keyed::<FACET_COUNTS>(filter_binds(request)).load(conn)?;
    let mut total = 0;
    let mut facets = Vec::with_capacity(rows.len());
    for row in rows {
        let products = u64::try_from(row.products).unwrap_or(0);
        match row.key {
            None => total = products,
            Some(key) => {
                let (name, value) = key.split_once('\u{1f}').ok_or_else(|| {
                    crate::rows::corrupt("facet key", format!("{key:?} has no separator"))
                })?;
                facets.push(FacetCount {
                    key: FacetKey {
                        name: name.to_owned(),
                        value: value.to_owned(),
                    },
                    products,
                });
            }
        }
    }
    facets.sort_by(|a, b| a.key.cmp(&b.key));
    Ok((total, facets))
}

/// Up to `fetch` matching products of a checked request from its cursor on, in its
/// order, each with its variants.
pub(crate) fn listing_page(
    conn: &mut PgConnection,
    request: &BrowseRequest,
    fetch: usize,
) -> Result<Vec<Product>, StoreError> {
    let statement = match request.sort {
        BrowseSort::Newest => &NEWEST,
        BrowseSort::PriceAsc => &PRICE_ASC,
        BrowseSort::PriceDesc => &PRICE_DESC,
        BrowseSort::Name => &BY_NAME,
    };
    let mut binds = filter_binds(request);
    // The cursor's key, or a NULL of the type the statement casts it to.
    let key = match (&request.page.after, request.sort) {
        (Some(BrowseCursor::Newest { created_at, .. }), _) => {
            Bind::NullableTimestamptz(Some(*created_at))
        }
        (Some(BrowseCursor::Price { amount, .. }), _) => Bind::NullableNumeric(Some(*amount)),
        (Some(BrowseCursor::Name { name, .. }), _) => Bind::NullableText(Some(name.clone())),
        (None, BrowseSort::Newest) => Bind::NullableTimestamptz(None),
        (None, BrowseSort::PriceAsc | BrowseSort::PriceDesc) => Bind::NullableNumeric(None),
        (None, BrowseSort::Name) => Bind::NullableText(None),
    };
    let id = request.page.after.as_ref().map(BrowseCursor::id);
    binds.push(key);
    binds.push(Bind::NullableBigInt(id.map(ProductId::get)));
    binds.push(Bind::BigInt(fetch as i64));
    let rows: Vec<(PageProductRow, VariantRow)> = CachedSql::new(statement, binds)
        .typed::<(ProductColumns, VariantColumns)>()
        .load(conn)?;
    group_by_product(rows)
}

keyed! {
    /// Search hits, best first: full-text matches (`$1`, a `to_tsquery` text built from
    /// letters and digits only), or, when the catalog has none, names similar to `$2`.
    /// `$3`, `$4`: the cursor's score and id (`$4` NULL on a first page); `$5`: the rows
    /// to fetch.
    SEARCH = concat!(
    "\
WITH q AS MATERIALIZED (
    SELECT to_tsquery(s.search_language, $1) AS query FROM catalog_settings s
), fts AS MATERIALIZED (
    SELECT p.id, round(ts_rank(p.search, q.query) * 1000000)::bigint AS score
    FROM products p, q
    WHERE p.search @@ q.query AND p.status = 'active'
), fuzzy AS (
    SELECT p.id, round(similarity(p.name, $2) * 1000000)::bigint AS score
    FROM products p
    WHERE NOT EXISTS (SELECT 1 FROM fts) AND p.name % $2 AND p.status = 'active'
), hits AS (
    SELECT id, score FROM fts
    UNION ALL
    SELECT id, score FROM fuzzy
), page AS (
    SELECT id, score, row_number() OVER (ORDER BY score DESC, id) AS ord
    FROM hits
    WHERE $4::bigint IS NULL OR score < $3::bigint OR (score = $3::bigint AND id > $4::bigint)
    ORDER BY score DESC, id
    LIMIT $5
)
SELECT page.score, ",
    page_product_columns!("p"),
    ", ",
    page_variant_columns!(),
    "
FROM page
JOIN products p ON p.id = page.id
JOIN product_variants v ON v.product_id = p.id",
    page_product_window!("p"),
    "
ORDER BY page.ord, v.id"
);
}

/// The `to_tsquery` text of a query: its words joined by `&`, the last a prefix.
/// The words hold only letters and digits, so nothing in them is tsquery syntax.
pub(crate) fn tsquery_text(query: &SearchQuery) -> String {
    let mut text = query.words().join(" & ");
    text.push_str(":*");
    text
}

/// Up to `fetch` hits from `after` on, best first.
pub(crate) fn search_page(
    conn: &mut PgConnection,
    query: &SearchQuery,
    after: Option<SearchCursor>,
    fetch: usize,
) -> Result<Vec<Hit>, StoreError> {
    let rows: Vec<(i64, PageProductRow, VariantRow)> = CachedSql::keyed::<SEARCH>(vec![
        Bind::Text(tsquery_text(query)),
        Bind::Text(query.text()),
        Bind::NullableBigInt(after.map(|c| c.score)),
        Bind::NullableBigInt(after.map(|c| c.id.get())),
        Bind::BigInt(fetch as i64),
    ])
    .typed::<(BigInt, ProductColumns, VariantColumns)>()
    .load(conn)?;
    keyed_products(rows).map(|list| {
        list.into_iter()
            .map(|(score, product)| Hit { product, score })
            .collect()
    })
}

keyed! {
    /// The active products of collection `$1` after position `$2`, `$3` of them, in
    /// the collection's order.
    COLLECTION_PAGE = concat!(
    "\
WITH page AS (
    SELECT cp.position, cp.product_id
    FROM collection_products cp
    JOIN products p ON p.id = cp.product_id
    WHERE cp.collection_id = $1 AND cp.position > $2::bigint AND p.status = 'active'
    ORDER BY cp.position
    LIMIT $3
)
SELECT page.position::bigint, ",
    page_product_columns!("p"),
    ", ",
    page_variant_columns!(),
    "
FROM page
JOIN products p ON p.id = page.product_id
JOIN product_variants v ON v.product_id = p.id",
    page_product_window!("p"),
    "
ORDER BY page.position, v.id"
);
}

/// Up to `fetch` active products of a collection after position `after`, with
/// their positions.
pub(crate) fn collection_page(
    conn: &mut PgConnection,
    id: CollectionId,
    after: Option<u32>,
    fetch: usize,
) -> Result<Vec<(u32, Product)>, StoreError> {
    let rows: Vec<(i64, PageProductRow, VariantRow)> = CachedSql::keyed::<COLLECTION_PAGE>(vec![
        Bind::BigInt(id.get()),
        // Positions are u32: as bigint, every one of them stays above -1.
        Bind::BigInt(after.map_or(-1, i64::from)),
        Bind::BigInt(fetch as i64),
    ])
    .typed::<(BigInt, ProductColumns, VariantColumns)>()
    .load(conn)?;
    Ok(keyed_products(rows)?
        .into_iter()
        .map(|(position, product)| (position as u32, product))
        .collect())
}

/// The products of rows of a key, a product and one of its variants, in the rows'
/// order (every row of one product next to each other), each with its key.
fn keyed_products(
    rows: Vec<(i64, PageProductRow, VariantRow)>,
) -> Result<Vec<(i64, Product)>, StoreError> {
    let mut keys: Vec<i64> = Vec::new();
    let mut pairs = Vec::with_capacity(rows.len());
    let mut last = None;
    for (key, product, variant) in rows {
        if last != Some(product.id) {
            keys.push(key);
            last = Some(product.id);
        }
        pairs.push((product, variant));
    }
    let products = group_by_product(pairs)?;
    Ok(keys.into_iter().zip(products).collect())
}

static CATEGORY_EXISTS: Statement =
    Statement::new("SELECT EXISTS (SELECT 1 FROM categories WHERE id = $1) AS found");
static COLLECTION_EXISTS: Statement =
    Statement::new("SELECT EXISTS (SELECT 1 FROM collections WHERE id = $1) AS found");

/// Whether the row the statement looks for by id is there.
fn exists(
    conn: &mut PgConnection,
    statement: &'static Statement,
    id: i64,
) -> Result<bool, StoreError> {
    Ok(CachedSql::new(statement, vec![Bind::BigInt(id)])
        .load::<Found>(conn)?
        .pop()
        .is_some_and(|row| row.found))
}

/// A listing: the counts over every matching product, then the page.
pub(crate) fn browse(
    conn: &mut PgConnection,
    request: &BrowseRequest,
) -> Result<Browse, StoreError> {
    if !exists(conn, &CATEGORY_EXISTS, request.category.get())? {
        return Err(DomainError::not_found("category", request.category).into());
    }
    let (total, facets) = facet_counts(conn, request)?;
    let limit = request.page.clamped_limit() as usize;
    let items = if total == 0 {
        Vec::new()
    } else {
        listing_page(conn, request, limit + 1)?
    };
    let sort = request.sort;
    Ok(Browse {
        page: Page::from_overfetch(items, limit, |p| BrowseCursor::after(p, sort)),
        total,
        facets,
    })
}

/// A page of search hits.
pub(crate) fn search(
    conn: &mut PgConnection,
    request: &SearchRequest,
) -> Result<Page<Hit, SearchCursor>, StoreError> {
    let limit = request.page.clamped_limit() as usize;
    let hits = search_page(conn, &request.query, request.page.after, limit + 1)?;
    Ok(Page::from_overfetch(hits, limit, |h| SearchCursor {
        score: h.score,
        id: h.product.id,
    }))
}

/// A page of a collection's active products.
pub(crate) fn collection_products(
    conn: &mut PgConnection,
    id: CollectionId,
    page: PageRequest<u32>,
) -> Result<Page<Product, u32>, StoreError> {
    let limit = page.clamped_limit() as usize;
    let rows = collection_page(conn, id, page.after, limit + 1)?;
    // An empty page, or no such collection: say which.
    if rows.is_empty() && !exists(conn, &COLLECTION_EXISTS, id.get())? {
        return Err(DomainError::not_found("collection", id).into());
    }
    let page = Page::from_overfetch(rows, limit, |(position, _)| *position);
    Ok(Page {
        items: page.items.into_iter().map(|(_, p)| p).collect(),
        next: page.next,
    })
}
