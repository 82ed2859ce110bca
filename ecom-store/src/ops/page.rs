//! Pages of products with their variants: a category page and a name search, each
//! one statement that picks the page's products in a CTE and joins them to their
//! variants, so that a page and everything on it is one round trip.

use diesel::prelude::*;
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::rows::{
    PageProductRow, PageRowColumns, VariantRow, group_by_product, page_product_columns,
    page_product_window, page_variant_columns,
};
use crate::sql::{Bind, CachedSql, Statement, keyed};

/// A category page: the active products of the category and its subtree, a page of
/// them in id order, joined to their variants (one row per variant, ordered by
/// product then variant): one round trip for the page and everything on it. A
/// macro, so that each page size and the next page's condition are this text and a
/// little more (`concat!`).
macro_rules! category_page {
    ($after:literal, $limit:literal) => {
        concat!(
            "\
WITH RECURSIVE tree (id) AS (
    SELECT id FROM categories WHERE id = $1
    UNION
    SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id
), page AS (
    SELECT p.id, p.slug, p.name, p.description, p.category_id, p.status, p.options,
           p.attributes, p.images, p.created_at, p.updated_at
    FROM products p
    WHERE p.category_id IN (SELECT id FROM tree) AND p.status = 'active'",
            $after,
            "
    ORDER BY p.id LIMIT ",
            $limit,
            " + 1
)
",
            page_with_variants!()
        )
    };
}

/// The end of a statement whose CTE `page` holds products: each with its variants.
macro_rules! page_with_variants {
    () => {
        concat!(
            "SELECT ",
            page_product_columns!("page"),
            ", ",
            page_variant_columns!(),
            "
FROM page JOIN product_variants v ON v.product_id = page.id",
            page_product_window!("page")
        )
    };
}

/// The statements of a category page, one per page size a caller may ask for (plus
/// the one row that says whether there is a next page), first pages and next pages.
/// The LIMIT is written into the text instead of bound: the generic plan of a
/// prepared statement cannot know how small `LIMIT $3` is, nor that `id > $2` is
/// every row of a first page, and with those guesses PostgreSQL chose plans a fifth
/// slower than for the literal values.
macro_rules! category_pages {
    ($after:literal; $($n:literal),*) => {
        [$(($n + 1, Statement::new(concat!(
            category_page!($after, $n),
            " ORDER BY page.id, v.id"
        )))),*]
    };
}
static CATEGORY_PAGES: [(usize, Statement); 7] = category_pages!(""; 10, 20, 25, 50, 100, 200, 500);
static CATEGORY_PAGES_AFTER: [(usize, Statement); 7] =
    category_pages!(" AND p.id > $2"; 10, 20, 25, 50, 100, 200, 500);

// `%` (similarity at least pg_trgm.similarity_threshold, 0.3 by default) is served by
// products_name_trgm_idx; a NULL substring ($2) disables the `strpos` arm.
keyed! {
    SEARCH = concat!(
    "\
WITH page AS (
    SELECT p.id, p.slug, p.name, p.description, p.category_id, p.status, p.options,
           p.attributes, p.images, p.created_at, p.updated_at, similarity(p.name, $1) AS rank
    FROM products p
    WHERE p.status = 'active' AND (p.name % $1 OR strpos(lower(p.name), lower($2)) > 0)
    ORDER BY rank DESC, p.id
    LIMIT $3
)
",
    page_with_variants!(),
    " ORDER BY page.rank DESC, page.id, v.id"
);
}

/// Up to `wanted` active products of `category` and its subtree with ids after
/// `after`, in id order, each with its variants.
pub(crate) fn category_page(
    conn: &mut PgConnection,
    category: CategoryId,
    after: Option<ProductId>,
    wanted: usize,
) -> Result<Vec<Product>, StoreError> {
    let pages = match after {
        None => &CATEGORY_PAGES,
        Some(_) => &CATEGORY_PAGES_AFTER,
    };
    let (fetch, statement) = pages
        .iter()
        .find(|(n, _)| *n >= wanted)
        .unwrap_or(&pages[pages.len() - 1]);
    debug_assert!(*fetch >= wanted);
    let mut binds = vec![Bind::BigInt(category.get())];
    if let Some(after) = after {
        binds.push(Bind::BigInt(after.get()));
    }
    let rows: Vec<(PageProductRow, VariantRow)> = CachedSql::new(statement, binds)
        .typed::<PageRowColumns>()
        .load(conn)?;
    let mut items = group_by_product(rows)?;
    items.truncate(wanted);
    Ok(items)
}

/// Up to `limit` active products whose names resemble `trigram_text` or contain
/// `substring` (none: no substring arm), best match first, each with its variants.
pub(crate) fn search_page(
    conn: &mut PgConnection,
    trigram_text: &str,
    substring: Option<&str>,
    limit: i64,
) -> Result<Vec<Product>, StoreError> {
    let rows: Vec<(PageProductRow, VariantRow)> = CachedSql::keyed::<SEARCH>(vec![
        Bind::Text(trigram_text.to_owned()),
        Bind::NullableText(substring.map(str::to_owned)),
        Bind::BigInt(limit),
    ])
    .typed::<PageRowColumns>()
    .load(conn)?;
    group_by_product(rows)
}
