//! [`CatalogRepository`] on PostgreSQL: the category tree, the products in it and
//! their variants.
//!
//! Tree moves serialise on one transaction-level advisory lock
//! ([`TREE_LOCK_KEY`]) rather than on row locks. A cycle needs two moves that each
//! look fine on their own snapshot (A under B while B goes under A); row locks would
//! have to cover both ancestor paths, and those paths change while a move waits for
//! its locks, so the check would have to be redone after locking. One lock for all
//! moves is simple and obviously right, and moves are rare back-office writes.
//! Creating a category cannot make a cycle (a new row has no children), so only
//! `move_category` takes the lock; any future code that changes `parent_id` must
//! take it too.

use std::collections::HashMap;

use diesel::dsl::{now, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use rust_decimal::Decimal;

use ecom_domain::catalog::{check_attributes, check_images, check_price};
use ecom_domain::prelude::*;

use crate::error::{missing, taken};
use crate::ops::page::{category_page, search_page};
use crate::ops::product::{
    ensure_unique, insert_variants, load_product, load_sellable, with_variants,
};
use crate::ops::{browse, merchandise};
use crate::rows::{
    CategoryRow, Found, IdRow, NewCategoryRow, NewProductRow, ProductChangeset, ProductRow,
    SellableRow, VariantRow, corrupt, from_json, money, sellable, sellable_columns, stock_column,
};
use crate::schema::{categories, product_variants, products};
use crate::{PgReader, PgStore, StoreError};

/// The advisory lock every category move holds until it commits ("ecom-cat").
const TREE_LOCK_KEY: i64 = 0x6563_6f6d_2d63_6174;

/// A bound on walks up the tree, so that a cycle written around the store (raw
/// SQL) makes a long answer instead of a query that never ends.
const MAX_DEPTH: i64 = 10_000;

fn not_found(entity: &'static str, id: impl ToString) -> StoreError {
    DomainError::not_found(entity, id).into()
}

fn category_row(conn: &mut PgConnection, id: CategoryId) -> Result<CategoryRow, StoreError> {
    categories::table
        .find(id.get())
        .select(CategoryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("category", id))
}

/// Checks that a category exists and keeps it from being deleted until commit, the
/// lock a foreign key to it would take anyway.
fn hold_category(conn: &mut PgConnection, id: CategoryId) -> Result<(), StoreError> {
    categories::table
        .find(id.get())
        .select(categories::id)
        .for_key_share()
        .first::<i64>(conn)
        .optional()?
        .map(drop)
        .ok_or_else(|| not_found("category", id))
}

/// The product an UPDATE returned, with its variants, or "not found" when it
/// matched no row.
fn updated(
    conn: &mut PgConnection,
    row: Option<ProductRow>,
    id: ProductId,
) -> Result<Product, StoreError> {
    let row = row.ok_or_else(|| not_found("product", id))?;
    with_variants(conn, vec![row])?
        .pop()
        .ok_or_else(|| not_found("product", id))
}

/// The variant an UPDATE returned, or "not found" when it matched no row.
fn updated_variant(row: Option<VariantRow>, id: VariantId) -> Result<Variant, StoreError> {
    row.ok_or_else(|| not_found("variant", id))
        .and_then(Variant::try_from)
}

impl CatalogReader for PgReader {
    type Error = StoreError;

    fn category(&self, id: CategoryId) -> Result<Category, StoreError> {
        self.run(|conn| category_row(conn, id).and_then(Category::try_from))
    }

    fn category_children(&self, parent: Option<CategoryId>) -> Result<Vec<Category>, StoreError> {
        self.run(|conn| {
            let mut query = categories::table
                .select(CategoryRow::as_select())
                .into_boxed();
            query = match parent {
                Some(parent) => {
                    category_row(conn, parent)?;
                    query.filter(categories::parent_id.eq(parent.get()))
                }
                None => query.filter(categories::parent_id.is_null()),
            };
            // "C" compares bytes, as Rust's `str` ordering does, whatever the
            // database's default collation.
            query
                .order_by(sql::<Text>(r#"categories.name COLLATE "C""#))
                .then_order_by(categories::id)
                .load(conn)?
                .into_iter()
                .map(Category::try_from)
                .collect()
        })
    }

    fn category_path(&self, id: CategoryId) -> Result<Vec<Category>, StoreError> {
        self.run(|conn| {
            let leaf = category_row(conn, id)?;
            let ids: Vec<i64> = diesel::sql_query(
                "WITH RECURSIVE up (id, parent_id, depth) AS ( \
                     SELECT id, parent_id, 0 FROM categories WHERE id = $1 \
                     UNION ALL \
                     SELECT c.id, c.parent_id, up.depth + 1 \
                     FROM categories c JOIN up ON c.id = up.parent_id \
                     WHERE up.depth < $2 \
                 ) \
                 SELECT id FROM up ORDER BY depth DESC",
            )
            .bind::<BigInt, _>(leaf.id)
            .bind::<BigInt, _>(MAX_DEPTH)
            .load::<IdRow>(conn)?
            .into_iter()
            .map(|row| row.id)
            .collect();
            if ids.len() > MAX_DEPTH as usize {
                return Err(corrupt(
                    "category tree",
                    format!("the path up from category {id} loops"),
                ));
            }
            let mut rows: HashMap<i64, CategoryRow> = categories::table
                .filter(categories::id.eq_any(&ids))
                .select(CategoryRow::as_select())
                .load(conn)?
                .into_iter()
                .map(|row| (row.id, row))
                .collect();
            // The same snapshot as the walk: every id is there.
            ids.iter()
                .map(|id| {
                    rows.remove(id)
                        .ok_or_else(|| not_found("category", id))
                        .and_then(Category::try_from)
                })
                .collect()
        })
    }

    fn product(&self, id: ProductId) -> Result<Product, StoreError> {
        self.run(|conn| load_product(conn, id))
    }

    fn product_by_slug(&self, slug: &Slug) -> Result<Product, StoreError> {
        self.run(|conn| {
            let row = products::table
                .filter(products::slug.eq(slug.as_str()))
                .select(ProductRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("product", slug.as_str()))?;
            with_variants(conn, vec![row])?
                .pop()
                .ok_or_else(|| not_found("product", slug.as_str()))
        })
    }

    fn variant(&self, id: VariantId) -> Result<Sellable, StoreError> {
        self.run(|conn| load_sellable(conn, id))
    }

    fn variant_by_sku(&self, sku: &Sku) -> Result<Sellable, StoreError> {
        self.run(|conn| {
            product_variants::table
                .inner_join(products::table)
                .filter(product_variants::sku.eq(sku.as_str()))
                .select(sellable_columns())
                .first::<SellableRow>(conn)
                .optional()?
                .ok_or_else(|| not_found("variant", sku.as_str()))
                .and_then(sellable)
        })
    }

    fn list_products(
        &self,
        category: CategoryId,
        page: PageRequest<ProductId>,
    ) -> Result<Page<Product, ProductId>, StoreError> {
        let limit = page.clamped_limit() as usize;
        self.run(|conn| {
            category_row(conn, category)?;
            // Keyset pagination: `id > after`, never OFFSET, so a page costs the
            // same wherever it is and rows added meanwhile neither repeat nor vanish.
            //
            // The first page has a statement of its own, and the LIMIT is written
            // into the text (rounded up to one of a few sizes) instead of bound: the
            // generic plan of a prepared statement cannot know `id > $2` is every
            // row, nor how small `LIMIT $3` is, and with those guesses PostgreSQL
            // chose plans a fifth slower than for the literal values.
            let items = category_page(conn, category, page.after, limit + 1)?;
            Ok(Page::from_overfetch(items, limit, |p| p.id))
        })
    }

    fn search_products(&self, query: &str, limit: u32) -> Result<Vec<Product>, StoreError> {
        let needle = query.trim();
        // PostgreSQL text cannot hold NUL. For trigrams it is a word separator like
        // any other punctuation, so a space stands in for it; no name contains it,
        // so a needle with one matches nothing as a substring.
        let trigram_text = needle.replace('\0', " ");
        let substring = (!needle.is_empty() && !needle.contains('\0')).then_some(needle);
        self.run(|conn| {
            search_page(
                conn,
                &trigram_text,
                substring,
                i64::from(limit.clamp(1, 500)),
            )
        })
    }

    fn browse(&self, request: BrowseRequest) -> Result<Browse, StoreError> {
        let request = request.checked().map_err(DomainError::from)?;
        self.run(|conn| browse::browse(conn, &request))
    }

    fn search(&self, request: SearchRequest) -> Result<Page<Hit, SearchCursor>, StoreError> {
        self.run(|conn| browse::search(conn, &request))
    }

    fn attributes(&self) -> Result<Vec<AttributeDefinition>, StoreError> {
        self.run(merchandise::definitions)
    }

    fn collection(&self, slug: &Slug) -> Result<Collection, StoreError> {
        self.run(|conn| merchandise::collection_by_slug(conn, slug))
    }

    fn collection_products(
        &self,
        id: CollectionId,
        page: PageRequest<u32>,
    ) -> Result<Page<Product, u32>, StoreError> {
        self.run(|conn| browse::collection_products(conn, id, page))
    }
}

/// The same reads on the writer, for callers that must see the latest data.
impl CatalogReader for PgStore {
    type Error = StoreError;

    fn category(&self, id: CategoryId) -> Result<Category, StoreError> {
        self.writer_reader().category(id)
    }

    fn category_children(&self, parent: Option<CategoryId>) -> Result<Vec<Category>, StoreError> {
        self.writer_reader().category_children(parent)
    }

    fn category_path(&self, id: CategoryId) -> Result<Vec<Category>, StoreError> {
        self.writer_reader().category_path(id)
    }

    fn product(&self, id: ProductId) -> Result<Product, StoreError> {
        self.writer_reader().product(id)
    }

    fn product_by_slug(&self, slug: &Slug) -> Result<Product, StoreError> {
        self.writer_reader().product_by_slug(slug)
    }

    fn variant(&self, id: VariantId) -> Result<Sellable, StoreError> {
        self.writer_reader().variant(id)
    }

    fn variant_by_sku(&self, sku: &Sku) -> Result<Sellable, StoreError> {
        self.writer_reader().variant_by_sku(sku)
    }

    fn list_products(
        &self,
        category: CategoryId,
        page: PageRequest<ProductId>,
    ) -> Result<Page<Product, ProductId>, StoreError> {
        self.writer_reader().list_products(category, page)
    }

    fn search_products(&self, query: &str, limit: u32) -> Result<Vec<Product>, StoreError> {
        self.writer_reader().search_products(query, limit)
    }

    fn browse(&self, request: BrowseRequest) -> Result<Browse, StoreError> {
        self.writer_reader().browse(request)
    }

    fn search(&self, request: SearchRequest) -> Result<Page<Hit, SearchCursor>, StoreError> {
        self.writer_reader().search(request)
    }

    fn attributes(&self) -> Result<Vec<AttributeDefinition>, StoreError> {
        self.writer_reader().attributes()
    }

    fn collection(&self, slug: &Slug) -> Result<Collection, StoreError> {
        self.writer_reader().collection(slug)
    }

    fn collection_products(
        &self,
        id: CollectionId,
        page: PageRequest<u32>,
    ) -> Result<Page<Product, u32>, StoreError> {
        self.writer_reader().collection_products(id, page)
    }
}

impl CatalogRepository for PgStore {
    fn create_category(&self, new: NewCategory) -> Result<Category, StoreError> {
        self.write(|conn| {
            // Checked first, as the reference store does, so that a missing parent is
            // reported even when the slug is taken too.
            if let Some(parent) = new.parent_id {
                hold_category(conn, parent)?;
            }
            let row = diesel::insert_into(categories::table)
                .values(NewCategoryRow::from(&new))
                .returning(CategoryRow::as_returning())
                .get_result(conn)
                .map_err(|err| {
                    let err = taken(
                        err.into(),
                        "categories_slug_key",
                        Taken::Slug,
                        new.slug.as_str(),
                    );
                    match new.parent_id {
                        Some(parent) => missing(err, "category", parent),
                        None => err,
                    }
                })?;
            Category::try_from(row)
        })
    }

    fn move_category(
        &self,
        id: CategoryId,
        new_parent: Option<CategoryId>,
    ) -> Result<Category, StoreError> {
        self.write(|conn| {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<BigInt, _>(TREE_LOCK_KEY)
                .execute(conn)?;
            // Under READ COMMITTED every statement from here on sees all moves that
            // committed before the lock was granted.
            category_row(conn, id)?;
            if let Some(parent) = new_parent {
                category_row(conn, parent)?;
                // `parent` is in the subtree of `id` exactly when `id` is among the
                // ancestors of `parent` (or is `parent`): walking up is as deep as the
                // tree, walking down as big as the subtree.
                let cycle = diesel::sql_query(
                    "WITH RECURSIVE up (id, parent_id, depth) AS ( \
                         SELECT id, parent_id, 0 FROM categories WHERE id = $1 \
                         UNION ALL \
                         SELECT c.id, c.parent_id, up.depth + 1 \
                         FROM categories c JOIN up ON c.id = up.parent_id \
                         WHERE up.depth < $3 \
                     ) \
                     SELECT EXISTS (SELECT 1 FROM up WHERE id = $2) AS found",
                )
                .bind::<BigInt, _>(parent.get())
                .bind::<BigInt, _>(id.get())
                .bind::<BigInt, _>(MAX_DEPTH)
                .get_result::<Found>(conn)?;
                if cycle.found {
                    return Err(DomainError::CategoryCycle {
                        category: id,
                        new_parent: parent,
                    }
                    .into());
                }
            }
            let row = diesel::update(categories::table.find(id.get()))
                .set(categories::parent_id.eq(new_parent.map(CategoryId::get)))
                .returning(CategoryRow::as_returning())
                .get_result(conn)?;
            Category::try_from(row)
        })
    }

    fn create_product(&self, new: NewProduct) -> Result<Product, StoreError> {
        let new = new.checked()?;
        let product = NewProductRow::new(&new);
        self.write(|conn| {
            // Checked first, as the reference store does (see create_category).
            hold_category(conn, new.category_id)?;
            ensure_unique(conn, &new.variants)?;
            let row = diesel::insert_into(products::table)
                .values(&product)
                .returning(ProductRow::as_returning())
                .get_result(conn)
                .map_err(|err| {
                    let err = taken(
                        err.into(),
                        "products_slug_key",
                        Taken::Slug,
                        new.slug.as_str(),
                    );
                    missing(err, "category", new.category_id)
                })?;
            let id = ProductId::new(row.id);
            let variants = insert_variants(conn, id, &new.variants)?;
            row.into_product(variants)
        })
    }

    fn update_product(&self, id: ProductId, update: ProductUpdate) -> Result<Product, StoreError> {
        let changes = ProductChangeset::from(&update);
        self.write(|conn| {
            if let Some(category) = update.category_id {
                hold_category(conn, category)?;
            }
            let row = diesel::update(products::table.find(id.get()))
                .set((&changes, products::updated_at.eq(now)))
                .returning(ProductRow::as_returning())
                .get_result(conn)
                .optional()
                .map_err(|err| match update.category_id {
                    Some(category) => missing(err.into(), "category", category),
                    None => err.into(),
                })?;
            updated(conn, row, id)
        })
    }

    fn set_product_status(
        &self,
        id: ProductId,
        status: ProductStatus,
    ) -> Result<Product, StoreError> {
        self.write(|conn| {
            let row = diesel::update(products::table.find(id.get()))
                .set((
                    products::status.eq(status.as_str()),
                    products::updated_at.eq(now),
                ))
                .returning(ProductRow::as_returning())
                .get_result(conn)
                .optional()?;
            updated(conn, row, id)
        })
    }

    fn add_variant(&self, product: ProductId, new: NewVariant) -> Result<Variant, StoreError> {
        self.write(|conn| {
            // The product's row, locked: variants of one product are added one at a
            // time, each checked against its siblings.
            let options: serde_json::Value = products::table
                .find(product.get())
                .select(products::options)
                .for_no_key_update()
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("product", product))?;
            let options: ProductOptions = from_json("product options", options)?;
            let siblings: Vec<Variant> = product_variants::table
                .filter(product_variants::product_id.eq(product.get()))
                .order(product_variants::id)
                .select(VariantRow::as_select())
                .load(conn)?
                .into_iter()
                .map(Variant::try_from)
                .collect::<Result<_, _>>()?;
            let new = new
                .clone()
                .checked_beside(&options, &siblings)
                .map_err(DomainError::from)?;
            ensure_unique(conn, std::slice::from_ref(&new))?;
            insert_variants(conn, product, std::slice::from_ref(&new))?
                .pop()
                .ok_or_else(|| not_found("variant", "new"))
        })
    }

    fn set_price(&self, id: VariantId, price: Money) -> Result<Variant, StoreError> {
        check_price(price)?;
        self.write(|conn| {
            let (amount, currency) = product_variants::table
                .find(id.get())
                .select((product_variants::price, product_variants::currency))
                .for_no_key_update()
                .first::<(Decimal, String)>(conn)
                .optional()?
                .ok_or_else(|| not_found("variant", id))?;
            // Same currency or a typed mismatch, exactly as the reference store.
            money(amount, &currency)?
                .try_cmp(&price)
                .map_err(DomainError::from)?;
            let row = diesel::update(product_variants::table.find(id.get()))
                .set((
                    product_variants::price.eq(price.amount()),
                    product_variants::updated_at.eq(now),
                ))
                .returning(VariantRow::as_returning())
                .get_result(conn)
                .optional()?;
            updated_variant(row, id)
        })
    }

    fn restock(&self, id: VariantId, units: u32) -> Result<Variant, StoreError> {
        self.write(|conn| {
            let stock = product_variants::table
                .find(id.get())
                .select(product_variants::stock_on_hand)
                .for_no_key_update()
                .first::<i32>(conn)
                .optional()?
                .ok_or_else(|| not_found("variant", id))?;
            let stock = u32::try_from(stock).map_err(|e| corrupt("stock", e))?;
            // The sum is computed here, where it cannot overflow unnoticed, with the
            // reference store's errors: past u32, then past the column.
            let stock = stock
                .checked_add(units)
                .ok_or(DomainError::StockOutOfRange(u32::MAX))?;
            let row = diesel::update(product_variants::table.find(id.get()))
                .set((
                    product_variants::stock_on_hand.eq(stock_column(stock)?),
                    product_variants::updated_at.eq(now),
                ))
                .returning(VariantRow::as_returning())
                .get_result(conn)
                .optional()?;
            updated_variant(row, id)
        })
    }

    fn define_attribute(
        &self,
        definition: AttributeDefinition,
    ) -> Result<AttributeDefinition, StoreError> {
        self.write(|conn| merchandise::define(conn, &definition))?;
        Ok(definition)
    }

    fn set_product_attributes(
        &self,
        id: ProductId,
        attributes: Vec<Attribute>,
    ) -> Result<Product, StoreError> {
        self.write(|conn| {
            let checked = check_attributes(&merchandise::definitions(conn)?, attributes.clone())
                .map_err(DomainError::from)?;
            merchandise::set_product_attributes(conn, id, &checked)?;
            load_product(conn, id)
        })
    }

    fn set_variant_attributes(
        &self,
        id: VariantId,
        attributes: Vec<Attribute>,
    ) -> Result<Variant, StoreError> {
        self.write(|conn| {
            let checked = check_attributes(&merchandise::definitions(conn)?, attributes.clone())
                .map_err(DomainError::from)?;
            merchandise::set_variant_attributes(conn, id, &checked)?;
            load_sellable(conn, id).map(|s| s.variant)
        })
    }

    fn set_images(&self, id: ProductId, images: Vec<ProductImage>) -> Result<Product, StoreError> {
        self.write(|conn| {
            // The product's options, locked: its images are checked against them.
            let options: serde_json::Value = products::table
                .find(id.get())
                .select(products::options)
                .for_no_key_update()
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("product", id))?;
            let options: ProductOptions = from_json("product options", options)?;
            let checked = check_images(&options, images.clone()).map_err(DomainError::from)?;
            merchandise::set_images(conn, id, &checked)?;
            load_product(conn, id)
        })
    }

    fn create_collection(&self, new: NewCollection) -> Result<Collection, StoreError> {
        self.write(|conn| {
            let id = merchandise::create_collection(conn, &new)?;
            merchandise::collection(conn, id)
        })
    }

    fn set_collection_products(
        &self,
        id: CollectionId,
        products: CollectionProducts,
    ) -> Result<Collection, StoreError> {
        self.write(|conn| {
            merchandise::set_collection_products(conn, id, &products)?;
            merchandise::collection(conn, id)
        })
    }

    fn set_search_language(&self, language: SearchLanguage) -> Result<(), StoreError> {
        self.write(|conn| merchandise::set_search_language(conn, &language))
    }
}
