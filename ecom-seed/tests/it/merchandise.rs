//! Attributes, images and collections as loaded: read back through the store, they
//! pass the domain's checks against the definitions the database holds, and the
//! database's triggers derived facets and search documents from them.

use std::collections::{BTreeSet, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use ecom_domain::catalog::{check_attributes, check_images, facet_keys};
use ecom_domain::ids::ProductId;
use ecom_domain::repo::CatalogReader;
use ecom_domain::values::Slug;
use ecom_seed::{LoadOptions, Report, Scale, Table, load};
use ecom_store::PgStore;
use ecom_store::testing::TestDb;

use crate::plan;

/// A fresh database holding the small preset under seed 7, with a store on it.
fn loaded() -> (TestDb, PgStore, Report) {
    let db = TestDb::new();
    let mut conn = db.connect();
    let report = load(
        &mut conn,
        &plan(Scale::Small, 7),
        &LoadOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let store = PgStore::new(db.pool().clone());
    (db, store, report)
}

#[test]
fn every_attribute_value_and_image_passes_the_domain_s_checks_against_the_loaded_definitions() {
    let (_db, store, report) = loaded();
    let definitions = store.attributes().unwrap();
    assert_eq!(
        definitions.len() as u64,
        report.rows(Table::AttributeDefinitions)
    );
    assert!(definitions.len() >= 20, "{}", definitions.len());
    let (mut variants_with_values, mut tied_images) = (0, 0);
    for id in 1..=report.rows(Table::Products) as i64 {
        let product = store.product(ProductId::new(id)).unwrap();
        assert!(!product.attributes.is_empty(), "{} has none", product.name);
        // Already in stored form: the check changes nothing.
        assert_eq!(
            check_attributes(&definitions, product.attributes.clone()),
            Ok(product.attributes.clone()),
            "{}",
            product.name
        );
        for variant in &product.variants {
            assert_eq!(
                check_attributes(&definitions, variant.attributes.clone()),
                Ok(variant.attributes.clone()),
                "{}",
                variant.sku
            );
            if !variant.attributes.is_empty() {
                variants_with_values += 1;
                assert!(!variant.selection.is_empty(), "{}", variant.sku);
            }
        }
        assert!(
            (1..=5).contains(&product.images.len()),
            "{}: {} images",
            product.name,
            product.images.len()
        );
        assert_eq!(
            check_images(&product.options, product.images.clone()),
            Ok(product.images.clone()),
            "{}",
            product.name
        );
        for (n, image) in product.images.iter().enumerate() {
            assert_eq!(
                image.url.as_str(),
                format!(
                    "https://cdn.example.com/p/{}/{}.jpg",
                    product.slug.as_str(),
                    n + 1
                )
            );
            assert!(!image.alt.as_str().is_empty());
        }
        // Clothes show their colours: a photo per colour, up to four.
        if product.options.get("Colour").is_some() {
            let colours: Vec<&str> = product
                .images
                .iter()
                .filter_map(|i| i.option.as_ref())
                .map(|choice| {
                    assert_eq!(choice.option.as_str(), "Colour");
                    choice.value.as_str()
                })
                .collect();
            assert!(!colours.is_empty(), "{} shows no colour", product.name);
            tied_images += colours.len();
        }
    }
    assert!(variants_with_values > 100, "{variants_with_values}");
    assert!(tied_images > 100, "{tied_images}");
}

#[derive(QueryableByName)]
struct CollectionRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    slug: String,
}

#[test]
fn every_collection_lists_existing_products_once_each_in_its_order() {
    let (db, store, report) = loaded();
    let mut conn = db.connect();
    let rows: Vec<CollectionRow> =
        diesel::sql_query("SELECT id, slug FROM collections ORDER BY id")
            .load(&mut conn)
            .unwrap();
    assert_eq!(rows.len() as u64, plan(Scale::Small, 7).sizes.collections);
    let mut listed = 0;
    let mut lists = HashSet::new();
    for row in rows {
        let collection = store.collection(&Slug::parse(&row.slug).unwrap()).unwrap();
        assert_eq!(collection.id.get(), row.id);
        let products = collection.products.as_slice();
        assert!(!products.is_empty(), "{} is empty", collection.name);
        let mut created = Vec::new();
        for id in products {
            // Each exists and is on sale.
            let product = store.product(*id).unwrap();
            assert!(
                product.is_buyable(),
                "{}: {}",
                collection.name,
                product.name
            );
            created.push(product.created_at);
        }
        if collection.name.as_str() == "New arrivals" {
            assert!(created.windows(2).all(|w| w[0] >= w[1]), "not newest first");
        }
        listed += products.len() as u64;
        lists.insert(products.to_vec());
    }
    assert_eq!(listed, report.rows(Table::CollectionProducts));
    assert_eq!(
        lists.len() as u64,
        report.rows(Table::Collections),
        "two collections list the same products"
    );
}

#[derive(QueryableByName)]
struct Derived {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Array<Text>)]
    facets: Vec<String>,
}

#[test]
fn the_triggers_derive_facets_and_search_from_the_loaded_attributes_and_options() {
    let (db, store, report) = loaded();
    let mut conn = db.connect();
    let rows: Vec<Derived> = diesel::sql_query("SELECT id, facets FROM products ORDER BY id")
        .load(&mut conn)
        .unwrap();
    assert_eq!(rows.len() as u64, report.rows(Table::Products));
    let mut attribute_facets = 0;
    for row in rows {
        let product = store.product(ProductId::new(row.id)).unwrap();
        // The database's facets are the domain's facet keys: the products' own
        // attribute values, their variants' option and attribute values.
        let expected: BTreeSet<String> = facet_keys(&product)
            .into_iter()
            .map(|k| format!("{}\u{1f}{}", k.name, k.value))
            .collect();
        let stored: BTreeSet<String> = row.facets.into_iter().collect();
        assert_eq!(stored, expected, "{}", product.name);
        attribute_facets += product.attributes.len();
    }
    assert!(attribute_facets > 0);

    // A word only attribute values hold ("tumble", from care texts) finds exactly the
    // products whose care text says it.
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let ids = |sql: &str| -> Vec<i64> {
        diesel::sql_query(sql)
            .load::<Id>(&mut db.connect())
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    let found =
        ids("SELECT id FROM products WHERE search @@ to_tsquery('english', 'tumble') ORDER BY id");
    let cared = ids("SELECT id FROM products p WHERE EXISTS (\
             SELECT 1 FROM jsonb_array_elements(p.attributes) a \
             WHERE a ->> 'name' = 'Care' AND a -> 'value' ->> 'value' LIKE '%tumble%') \
         ORDER BY id");
    assert!(!cared.is_empty());
    assert_eq!(found, cared);
}
