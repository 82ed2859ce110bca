//! Attribute definitions and values, images, collections and the search language:
//! what a back office writes about products beside their variants.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Text, Timestamptz};
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::error::{missing, taken};
use crate::rows::{Found, IdRow, MaybeIdRow, corrupt, from_json};
use crate::sql::{Bind, CachedSql, Statement, keyed};

fn json(
    what: &'static str,
    value: &impl serde::Serialize,
) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value).map_err(|e| corrupt(what, e))
}

#[derive(QueryableByName)]
struct DefinitionRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Jsonb)]
    kind: serde_json::Value,
}

impl TryFrom<DefinitionRow> for AttributeDefinition {
    type Error = StoreError;
    fn try_from(row: DefinitionRow) -> Result<Self, StoreError> {
        Ok(AttributeDefinition {
            name: AttributeName::try_from(row.name).map_err(|e| corrupt("attribute name", e))?,
            kind: from_json("attribute kind", row.kind)?,
        })
    }
}

keyed! {
    DEFINITIONS = "SELECT name, kind FROM attribute_definitions ORDER BY name COLLATE \"C\", id";
}

/// Every attribute definition, by name (byte order, as the reference store).
pub(crate) fn definitions(conn: &mut PgConnection) -> Result<Vec<AttributeDefinition>, StoreError> {
    let rows: Vec<DefinitionRow> = CachedSql::keyed::<DEFINITIONS>(vec![]).load(conn)?;
    rows.into_iter()
        .map(AttributeDefinition::try_from)
        .collect()
}

static DEFINE: Statement =
    Statement::new("INSERT INTO attribute_definitions (name, kind) VALUES ($1, $2::text::jsonb)");

/// Stores a definition; "already taken" when one has its name, ignoring case.
pub(crate) fn define(
    conn: &mut PgConnection,
    definition: &AttributeDefinition,
) -> Result<(), StoreError> {
    let kind = json("attribute kind", &definition.kind)?.to_string();
    CachedSql::new(
        &DEFINE,
        vec![
            Bind::Text(definition.name.as_str().to_owned()),
            Bind::Text(kind),
        ],
    )
    .execute(conn)
    .map_err(|err| {
        taken(
            err.into(),
            "attribute_definitions_name_key",
            Taken::Attribute,
            definition.name.as_str(),
        )
    })?;
    Ok(())
}

static SET_PRODUCT_ATTRIBUTES: Statement = Statement::new(
    "UPDATE products SET attributes = $2::text::jsonb, updated_at = now() WHERE id = $1 RETURNING id",
);
static SET_VARIANT_ATTRIBUTES: Statement = Statement::new(
    "UPDATE product_variants SET attributes = $2::text::jsonb, updated_at = now() WHERE id = $1 RETURNING id",
);
static SET_IMAGES: Statement = Statement::new(
    "UPDATE products SET images = $2::text::jsonb, updated_at = now() WHERE id = $1 RETURNING id",
);

/// Runs one of the `SET_*` updates above; false when it matched no row.
fn set_json(
    conn: &mut PgConnection,
    statement: &'static Statement,
    id: i64,
    value: serde_json::Value,
) -> Result<bool, StoreError> {
    let rows: Vec<IdRow> = CachedSql::new(
        statement,
        vec![Bind::BigInt(id), Bind::Text(value.to_string())],
    )
    .load(conn)?;
    Ok(!rows.is_empty())
}

/// Replaces a product's attribute values (already checked); "product not found"
/// when there is none.
pub(crate) fn set_product_attributes(
    conn: &mut PgConnection,
    id: ProductId,
    attributes: &[Attribute],
) -> Result<(), StoreError> {
    let value = json("product attributes", &attributes)?;
    if !set_json(conn, &SET_PRODUCT_ATTRIBUTES, id.get(), value)? {
        return Err(DomainError::not_found("product", id).into());
    }
    Ok(())
}

/// Replaces a variant's attribute values (already checked); "variant not found"
/// when there is none.
pub(crate) fn set_variant_attributes(
    conn: &mut PgConnection,
    id: VariantId,
    attributes: &[Attribute],
) -> Result<(), StoreError> {
    let value = json("variant attributes", &attributes)?;
    if !set_json(conn, &SET_VARIANT_ATTRIBUTES, id.get(), value)? {
        return Err(DomainError::not_found("variant", id).into());
    }
    Ok(())
}

/// Replaces a product's images (already checked against its options).
pub(crate) fn set_images(
    conn: &mut PgConnection,
    id: ProductId,
    images: &[ProductImage],
) -> Result<(), StoreError> {
    let value = json("product images", &images)?;
    if !set_json(conn, &SET_IMAGES, id.get(), value)? {
        return Err(DomainError::not_found("product", id).into());
    }
    Ok(())
}

#[derive(QueryableByName)]
struct CollectionRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    slug: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Array<BigInt>)]
    products: Vec<i64>,
    #[diesel(sql_type = Timestamptz)]
    created_at: chrono::DateTime<chrono::Utc>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<CollectionRow> for Collection {
    type Error = StoreError;
    fn try_from(row: CollectionRow) -> Result<Self, StoreError> {
        Ok(Collection {
            id: CollectionId::new(row.id),
            slug: Slug::try_from(row.slug).map_err(|e| corrupt("collection slug", e))?,
            name: CollectionName::try_from(row.name).map_err(|e| corrupt("collection name", e))?,
            products: CollectionProducts::new(
                row.products.into_iter().map(ProductId::new).collect(),
            )
            .map_err(|e| corrupt("collection products", e))?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A collection's columns and its products' ids in order; `$1` picks it.
macro_rules! collection_where {
    ($condition:literal) => {
        concat!(
            "SELECT c.id, c.slug, c.name, c.created_at, c.updated_at,
       ARRAY(SELECT cp.product_id FROM collection_products cp
             WHERE cp.collection_id = c.id ORDER BY cp.position) AS products
FROM collections c WHERE ",
            $condition
        )
    };
}
keyed! {
    COLLECTION_BY_ID = collection_where!("c.id = $1");
}
keyed! {
    COLLECTION_BY_SLUG = collection_where!("c.slug = $1");
}

/// Collection `id`; "collection not found" when there is none.
pub(crate) fn collection(
    conn: &mut PgConnection,
    id: CollectionId,
) -> Result<Collection, StoreError> {
    CachedSql::keyed::<COLLECTION_BY_ID>(vec![Bind::BigInt(id.get())])
        .load::<CollectionRow>(conn)?
        .pop()
        .ok_or_else(|| DomainError::not_found("collection", id).into())
        .and_then(Collection::try_from)
}

/// The collection with this slug; "collection not found" when there is none.
pub(crate) fn collection_by_slug(
    conn: &mut PgConnection,
    slug: &Slug,
) -> Result<Collection, StoreError> {
    CachedSql::keyed::<COLLECTION_BY_SLUG>(vec![Bind::Text(slug.as_str().to_owned())])
        .load::<CollectionRow>(conn)?
        .pop()
        .ok_or_else(|| DomainError::not_found("collection", slug.as_str()).into())
        .and_then(Collection::try_from)
}

static CREATE_COLLECTION: Statement =
    Statement::new("INSERT INTO collections (slug, name) VALUES ($1, $2) RETURNING id");

/// Creates an empty collection; "already taken" when a collection has its slug.
pub(crate) fn create_collection(
    conn: &mut PgConnection,
    new: &NewCollection,
) -> Result<CollectionId, StoreError> {
    let rows: Vec<IdRow> = CachedSql::new(
        &CREATE_COLLECTION,
        vec![
            Bind::Text(new.slug.as_str().to_owned()),
            Bind::Text(new.name.as_str().to_owned()),
        ],
    )
    .load(conn)
    .map_err(|err| {
        taken(
            err.into(),
            "collections_slug_key",
            Taken::Slug,
            new.slug.as_str(),
        )
    })?;
    rows.first()
        .map(|row| CollectionId::new(row.id))
        .ok_or_else(|| corrupt("collection", "INSERT returned no row"))
}

/// Locks the collection's row so that two replacements of its list run one after
/// the other; "collection not found" when there is none.
static LOCK_COLLECTION: Statement =
    Statement::new("UPDATE collections SET updated_at = now() WHERE id = $1 RETURNING id");
static CLEAR_COLLECTION: Statement =
    Statement::new("DELETE FROM collection_products WHERE collection_id = $1");
keyed! {
    FILL_COLLECTION = "INSERT INTO collection_products (collection_id, position, product_id)
SELECT $1, p.ord - 1, p.id FROM unnest($2::bigint[]) WITH ORDINALITY p (id, ord)";
}

/// Replaces a collection's products; "product not found" names the first missing
/// one.
pub(crate) fn set_collection_products(
    conn: &mut PgConnection,
    id: CollectionId,
    products: &CollectionProducts,
) -> Result<(), StoreError> {
    let locked: Vec<IdRow> =
        CachedSql::new(&LOCK_COLLECTION, vec![Bind::BigInt(id.get())]).load(conn)?;
    if locked.is_empty() {
        return Err(DomainError::not_found("collection", id).into());
    }
    let ids: Vec<i64> = products.as_slice().iter().map(|p| p.get()).collect();
    if let Some(absent) = first_absent_product(conn, &ids)? {
        return Err(DomainError::not_found("product", absent).into());
    }
    CachedSql::new(&CLEAR_COLLECTION, vec![Bind::BigInt(id.get())]).execute(conn)?;
    CachedSql::keyed::<FILL_COLLECTION>(vec![Bind::BigInt(id.get()), Bind::BigIntArray(ids)])
        .execute(conn)
        // A product deleted meanwhile (the store never deletes one).
        .map_err(|err| missing(err.into(), "product", "of the collection"))?;
    Ok(())
}

keyed! {
    FIRST_ABSENT = "SELECT (SELECT w.id FROM unnest($1::bigint[]) WITH ORDINALITY w (id, ord)
        WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.id = w.id)
        ORDER BY w.ord LIMIT 1) AS id";
}

/// The first of `ids` that names no product, in their order.
fn first_absent_product(conn: &mut PgConnection, ids: &[i64]) -> Result<Option<i64>, StoreError> {
    Ok(
        CachedSql::keyed::<FIRST_ABSENT>(vec![Bind::BigIntArray(ids.to_vec())])
            .load::<MaybeIdRow>(conn)?
            .pop()
            .and_then(|row| row.id),
    )
}

static LANGUAGE_KNOWN: Statement =
    Statement::new("SELECT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = $1) AS found");
static SET_LANGUAGE: Statement =
    Statement::new("UPDATE catalog_settings SET search_language = $1::text::regconfig");
keyed! {
    REINDEX_ALL = "UPDATE products p
SET search = catalog_search_document(p.id, p.name, p.description, p.attributes)";
}

/// Sets the search language and derives every product's search document in it;
/// "search language not found" when the database has no such configuration.
pub(crate) fn set_search_language(
    conn: &mut PgConnection,
    language: &SearchLanguage,
) -> Result<(), StoreError> {
    let name = Bind::Text(language.as_str().to_owned());
    let known = CachedSql::new(&LANGUAGE_KNOWN, vec![name.clone()])
        .load::<Found>(conn)?
        .pop()
        .is_some_and(|row| row.found);
    if !known {
        return Err(DomainError::not_found("search language", language.as_str()).into());
    }
    CachedSql::new(&SET_LANGUAGE, vec![name]).execute(conn)?;
    CachedSql::keyed::<REINDEX_ALL>(vec![]).execute(conn)?;
    Ok(())
}
