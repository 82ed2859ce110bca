//! `CatalogRepository` on PostgreSQL behaves like the reference `MemoryStore`: the
//! category tree, products, keyset pages, trigram search and every error mapping.
//! Also home of the scenario run on both stores
//! (`same_scenario_same_results_on_memory_and_postgres`).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Barrier};
use std::thread;

use ecom_domain::memory::MemoryStore;
use ecom_domain::prelude::*;
use ecom_store::StoreError;
use ecom_store::testing::TestDb;

use crate::util::{domain, exec, pg_store, rules, setup};

fn eur(amount: &str) -> Money {
    Money::parse(amount, Currency::EUR).unwrap()
}

fn new_category(parent: Option<CategoryId>, slug: &str, name: &str) -> NewCategory {
    NewCategory {
        parent_id: parent,
        slug: Slug::parse(slug).unwrap(),
        name: CategoryName::parse(name).unwrap(),
    }
}

/// A product without options, its slug its SKU in lower case, 10 units of its one
/// variant in stock.
fn new_product(category: CategoryId, sku: &str, name: &str, price: &str) -> NewProduct {
    let sku = Sku::parse(sku).unwrap();
    NewProduct::single(
        Slug::parse(&sku.as_str().to_lowercase()).unwrap(),
        ProductName::parse(name).unwrap(),
        category,
        sku,
        eur(price),
        10,
    )
}

/// `new` with `stock` units of its one variant.
fn with_stock(mut new: NewProduct, stock: u32) -> NewProduct {
    new.variants[0].stock_on_hand = stock;
    new
}

/// The one variant of a product without options.
fn only(product: &Product) -> &Variant {
    assert_eq!(product.variants.len(), 1, "{product:?}");
    &product.variants[0]
}

fn category<S: CatalogRepository>(store: &S, parent: Option<CategoryId>, slug: &str) -> Category {
    let name = slug.replace('-', " ");
    store
        .create_category(new_category(parent, slug, &name))
        .unwrap_or_else(|err| panic!("create category {slug}: {err}"))
}

fn product<S: CatalogRepository>(
    store: &S,
    category: CategoryId,
    sku: &str,
    name: &str,
) -> Product {
    store
        .create_product(new_product(category, sku, name, "9.99"))
        .unwrap_or_else(|err| panic!("create product {sku}: {err}"))
}

fn not_found(entity: &'static str, id: impl ToString) -> DomainError {
    DomainError::not_found(entity, id)
}

#[test]
fn categories_form_a_tree_listed_by_name_then_id_with_root_first_paths() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let tea = category(&store, None, "tea");
    let coffee = category(&store, None, "coffee");
    let green = category(&store, Some(tea.id), "green");
    let sencha = category(&store, Some(green.id), "sencha");
    // Equal names tie-break by id; upper case sorts before lower case (byte order,
    // as Rust compares strings).
    let b1 = store
        .create_category(new_category(Some(tea.id), "black-1", "black"))
        .unwrap();
    let b2 = store
        .create_category(new_category(Some(tea.id), "black-2", "black"))
        .unwrap();
    let upper = store
        .create_category(new_category(Some(tea.id), "zed", "Zed"))
        .unwrap();

    assert_eq!(store.category(sencha.id).unwrap(), sencha);
    assert_eq!(sencha.parent_id, Some(green.id));
    assert_eq!(
        store.category_children(None).unwrap(),
        vec![coffee.clone(), tea.clone()]
    );
    assert_eq!(
        store.category_children(Some(tea.id)).unwrap(),
        vec![upper, b1, b2, green.clone()]
    );
    assert_eq!(store.category_children(Some(sencha.id)).unwrap(), vec![]);
    assert_eq!(
        store.category_path(sencha.id).unwrap(),
        vec![tea.clone(), green, sencha]
    );
    assert_eq!(store.category_path(tea.id).unwrap(), vec![tea]);

    let missing = CategoryId::new(987_654);
    assert_eq!(
        domain(store.category(missing).unwrap_err()),
        not_found("category", missing)
    );
    assert_eq!(
        domain(store.category_children(Some(missing)).unwrap_err()),
        not_found("category", missing)
    );
    assert_eq!(
        domain(store.category_path(missing).unwrap_err()),
        not_found("category", missing)
    );
}

#[test]
fn taken_slug_and_missing_parent_are_typed_errors() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let tea = category(&store, None, "tea");
    assert_eq!(
        domain(
            store
                .create_category(new_category(Some(tea.id), "tea", "Again"))
                .unwrap_err()
        ),
        DomainError::AlreadyTaken {
            what: Taken::Slug,
            value: "tea".into()
        }
    );
    let missing = CategoryId::new(987_654);
    assert_eq!(
        domain(
            store
                .create_category(new_category(Some(missing), "new", "New"))
                .unwrap_err()
        ),
        not_found("category", missing)
    );
    // Both wrong at once: the missing parent is reported, as by the reference store.
    assert_eq!(
        domain(
            store
                .create_category(new_category(Some(missing), "tea", "T"))
                .unwrap_err()
        ),
        not_found("category", missing)
    );
    assert_eq!(store.category_children(None).unwrap(), vec![tea]);
}

#[test]
fn moves_refuse_cycles_and_carry_the_subtree() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let a = category(&store, None, "a");
    let b = category(&store, Some(a.id), "b");
    let c = category(&store, Some(b.id), "c");
    let other = category(&store, None, "other");

    for (moved, parent) in [(a.id, a.id), (a.id, b.id), (a.id, c.id), (b.id, c.id)] {
        assert_eq!(
            domain(store.move_category(moved, Some(parent)).unwrap_err()),
            DomainError::CategoryCycle {
                category: moved,
                new_parent: parent
            }
        );
    }
    let missing = CategoryId::new(987_654);
    assert_eq!(
        domain(store.move_category(missing, None).unwrap_err()),
        not_found("category", missing)
    );
    assert_eq!(
        domain(store.move_category(b.id, Some(missing)).unwrap_err()),
        not_found("category", missing)
    );
    assert_eq!(
        store.category_path(c.id).unwrap(),
        vec![a.clone(), b.clone(), c.clone()]
    );

    let moved = store.move_category(b.id, Some(other.id)).unwrap();
    assert_eq!(moved.parent_id, Some(other.id));
    assert_eq!(
        store.category_path(c.id).unwrap(),
        vec![other.clone(), moved.clone(), c.clone()]
    );
    // Now `a` may go under `c`, which is no longer below it.
    store.move_category(a.id, Some(c.id)).unwrap();
    let root = store.move_category(b.id, None).unwrap();
    assert_eq!(root.parent_id, None);
    assert_eq!(store.category_children(None).unwrap(), vec![root, other]);
}

#[test]
fn concurrent_opposite_moves_never_make_a_cycle() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let a = category(&store, None, "a");
    let b = category(&store, None, "b");
    for round in 0..8 {
        store.move_category(a.id, None).unwrap();
        store.move_category(b.id, None).unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let results: Vec<_> = [(a.id, b.id), (b.id, a.id)]
            .into_iter()
            .map(|(moved, parent)| {
                let (store, barrier) = (store.clone(), Arc::clone(&barrier));
                thread::spawn(move || {
                    barrier.wait();
                    store.move_category(moved, Some(parent))
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: exactly one move wins: {results:?}");
        for result in results {
            if let Err(err) = result {
                assert!(
                    matches!(domain(err), DomainError::CategoryCycle { .. }),
                    "round {round}"
                );
            }
        }
        let roots = store.category_children(None).unwrap();
        assert_eq!(roots.len(), 1, "round {round}: one of them is still a root");
        assert_eq!(
            store.category_path(a.id).unwrap().len() + store.category_path(b.id).unwrap().len(),
            3
        );
    }
}

#[test]
fn products_are_created_read_changed_and_restocked() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let tea = category(&store, None, "tea");
    let herbal = category(&store, Some(tea.id), "herbal");
    let created = store
        .create_product(NewProduct {
            description: Description::parse("Steamed, from Shizuoka.\nSecond line.").unwrap(),
            ..with_stock(new_product(tea.id, " sen-1 ", "Sencha", "12.50"), 3)
        })
        .unwrap();
    let variant = only(&created).clone();
    assert_eq!(variant.sku.as_str(), "SEN-1");
    assert_eq!(created.slug.as_str(), "sen-1");
    assert!(created.options.is_empty() && variant.selection.is_empty());
    assert_eq!(created.name.as_str(), "Sencha");
    assert_eq!(
        created.description.as_str(),
        "Steamed, from Shizuoka.\nSecond line."
    );
    assert_eq!(created.category_id, tea.id);
    assert_eq!(variant.price, eur("12.50"));
    assert_eq!(created.status, ProductStatus::Active);
    assert_eq!(variant.stock_on_hand, 3);
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(store.product(created.id).unwrap(), created);
    assert_eq!(store.product_by_slug(&created.slug).unwrap(), created);
    assert_eq!(
        store.variant_by_sku(&variant.sku).unwrap(),
        Sellable::of(&created, variant.clone())
    );
    let v = variant.id;

    let renamed = store
        .update_product(
            created.id,
            ProductUpdate {
                name: Some(ProductName::parse("Sencha Superior").unwrap()),
                ..ProductUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(renamed.name.as_str(), "Sencha Superior");
    assert_eq!(
        renamed.description, created.description,
        "untouched fields stay"
    );
    assert!(renamed.updated_at > created.updated_at);
    let moved = store
        .update_product(
            created.id,
            ProductUpdate {
                description: Some(Description::parse("").unwrap()),
                category_id: Some(herbal.id),
                ..ProductUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(
        (moved.name.as_str(), moved.description.as_str()),
        ("Sencha Superior", "")
    );
    assert_eq!(moved.category_id, herbal.id);
    let touched = store
        .update_product(created.id, ProductUpdate::default())
        .unwrap();
    assert!(
        touched.updated_at > moved.updated_at,
        "an empty update still touches"
    );

    let repriced = store.set_price(v, eur("0")).unwrap();
    assert_eq!(repriced.price, eur("0.00"));
    let repriced = store.set_price(v, eur("14.95")).unwrap();
    assert_eq!(repriced.price, eur("14.95"));
    assert_eq!(
        domain(store.set_price(v, eur("-0.01")).unwrap_err()),
        DomainError::NegativePrice(eur("-0.01"))
    );
    assert_eq!(
        domain(
            store
                .set_price(v, Money::parse("14.95", Currency::USD).unwrap())
                .unwrap_err()
        ),
        DomainError::Money(MoneyError::CurrencyMismatch {
            left: Currency::EUR,
            right: Currency::USD
        })
    );
    let archived = store
        .set_product_status(created.id, ProductStatus::Archived)
        .unwrap();
    assert_eq!(archived.status, ProductStatus::Archived);
    assert!(!archived.is_buyable());
    let active = store
        .set_product_status(created.id, ProductStatus::Active)
        .unwrap();
    assert_eq!(active.status, ProductStatus::Active);
    let draft = store
        .set_product_status(created.id, ProductStatus::Draft)
        .unwrap();
    assert_eq!(draft.status, ProductStatus::Draft);
    assert!(!draft.is_buyable());

    let restocked = store.restock(v, 7).unwrap();
    assert_eq!(restocked.stock_on_hand, 10);
    assert_eq!(restocked.price, eur("14.95"), "earlier changes are kept");
    let full = store.restock(v, i32::MAX as u32 - 10).unwrap();
    assert_eq!(full.stock_on_hand, i32::MAX as u32);
    assert_eq!(
        domain(store.restock(v, 1).unwrap_err()),
        DomainError::StockOutOfRange(i32::MAX as u32 + 1),
        "past the integer column"
    );
    assert_eq!(
        domain(store.restock(v, u32::MAX).unwrap_err()),
        DomainError::StockOutOfRange(u32::MAX),
        "past u32"
    );
    assert_eq!(
        only(&store.product(created.id).unwrap()).stock_on_hand,
        i32::MAX as u32
    );
    assert_eq!(
        domain(
            store
                .create_product(with_stock(new_product(tea.id, "BIG", "Big", "1"), u32::MAX))
                .unwrap_err()
        ),
        DomainError::StockOutOfRange(u32::MAX)
    );
}

#[test]
fn missing_products_are_not_found_by_every_operation() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let id = ProductId::new(987_654);
    let nf = || not_found("product", id);
    assert_eq!(domain(store.product(id).unwrap_err()), nf());
    assert_eq!(
        domain(
            store
                .update_product(id, ProductUpdate::default())
                .unwrap_err()
        ),
        nf()
    );
    assert_eq!(
        domain(
            store
                .set_product_status(id, ProductStatus::Archived)
                .unwrap_err()
        ),
        nf()
    );
    let new = NewVariant::default_of(Sku::parse("NOPE-2").unwrap(), eur("1"), 1);
    assert_eq!(domain(store.add_variant(id, new).unwrap_err()), nf());
    let variant = VariantId::new(987_654);
    let missing = || not_found("variant", variant);
    assert_eq!(domain(store.variant(variant).unwrap_err()), missing());
    assert_eq!(
        domain(store.set_price(variant, eur("1")).unwrap_err()),
        missing()
    );
    assert_eq!(domain(store.restock(variant, 1).unwrap_err()), missing());
    let sku = Sku::parse("NOPE-1").unwrap();
    assert_eq!(
        domain(store.variant_by_sku(&sku).unwrap_err()),
        not_found("variant", "NOPE-1")
    );
    let slug = Slug::parse("nope").unwrap();
    assert_eq!(
        domain(store.product_by_slug(&slug).unwrap_err()),
        not_found("product", "nope")
    );
}

#[test]
fn taken_sku_and_missing_category_are_typed_errors() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let tea = category(&store, None, "tea");
    let first = product(&store, tea.id, "TEA-1", "Green tea");
    assert_eq!(
        domain(
            store
                .create_product(new_product(tea.id, "tea-1", "Other", "1"))
                .unwrap_err()
        ),
        DomainError::AlreadyTaken {
            what: Taken::Sku,
            value: "TEA-1".into()
        },
        "SKUs are upper-cased before they are compared"
    );
    let missing = CategoryId::new(987_654);
    assert_eq!(
        domain(
            store
                .create_product(new_product(missing, "TEA-2", "Lost", "1"))
                .unwrap_err()
        ),
        not_found("category", missing)
    );
    assert_eq!(
        domain(
            store
                .create_product(new_product(missing, "TEA-1", "Lost", "1"))
                .unwrap_err()
        ),
        not_found("category", missing),
        "the missing category is reported first, as by the reference store"
    );
    assert_eq!(
        domain(
            store
                .update_product(
                    first.id,
                    ProductUpdate {
                        category_id: Some(missing),
                        ..ProductUpdate::default()
                    }
                )
                .unwrap_err()
        ),
        not_found("category", missing)
    );
    assert_eq!(
        domain(
            store
                .create_product(new_product(tea.id, "NEG", "Negative", "-1"))
                .unwrap_err()
        ),
        DomainError::NegativePrice(eur("-1"))
    );
    assert_eq!(store.product(first.id).unwrap(), first, "nothing changed");
}

#[test]
fn constraint_violations_from_sql_map_to_typed_store_errors() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let tea = category(&store, None, "tea");
    let mut conn = db.connect();

    let err = exec(
        &mut conn,
        &format!(
            "WITH p AS (INSERT INTO products (slug, name, category_id) \
                        VALUES ('neg-1', 'Negative', {}) RETURNING id) \
             INSERT INTO product_variants (product_id, sku, price, currency) \
             SELECT id, 'NEG-1', -1, 'EUR' FROM p",
            tea.id
        ),
    )
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { constraint: Some(c), .. } if c == "product_variants_price_non_negative"),
        "{err:?}"
    );
    let err = exec(
        &mut conn,
        "INSERT INTO products (slug, name, category_id) VALUES ('lost-1', 'Lost', 987654)",
    )
    .unwrap_err();
    assert!(
        matches!(&err, StoreError::NotFound { constraint: Some(c), .. } if c == "products_category_id_fkey"),
        "{err:?}"
    );

    // A price beyond numeric(19,4) is refused by the domain before it reaches the
    // database: no Money that large exists.
    assert_eq!(
        Money::parse("1000000000000000", Currency::EUR),
        Err(MoneyError::Overflow)
    );
    let max = Money::parse("999999999999999.99", Currency::EUR).unwrap();
    let mut new = new_product(tea.id, "MAX", "Max", "1");
    new.variants[0].price = max;
    let fits = store.create_product(new).unwrap();
    assert_eq!(only(&store.product(fits.id).unwrap()).price, max);

    // A row written around the store that breaks a domain rule reads back as
    // Invalid, not as a half-valid product.
    setup(
        &mut conn,
        &format!(
            "INSERT INTO products (id, slug, name, category_id) \
             VALUES (5000, 'bad-1', E'two\\nlines', {})",
            tea.id
        ),
    );
    let err = store.product(ProductId::new(5000)).unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
}

#[test]
fn a_loop_written_around_the_store_is_reported_not_followed_forever() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let a = category(&store, None, "a");
    let b = category(&store, Some(a.id), "b");
    product(&store, b.id, "IN-LOOP", "In the loop");
    let mut conn = db.connect();
    setup(
        &mut conn,
        &format!(
            "UPDATE categories SET parent_id = {} WHERE id = {}",
            b.id, a.id
        ),
    );
    let err = store.category_path(b.id).unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    let page = store.list_products(a.id, PageRequest::first(10)).unwrap();
    assert_eq!(
        page.items.len(),
        1,
        "the subtree walk stops at rows it has seen"
    );
    assert_eq!(
        domain(store.move_category(a.id, Some(b.id)).unwrap_err()),
        DomainError::CategoryCycle {
            category: a.id,
            new_parent: b.id
        }
    );
}

#[test]
fn keyset_pages_walk_every_active_product_of_the_subtree_once() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let tea = category(&store, None, "tea");
    let green = category(&store, Some(tea.id), "green");
    let sencha = category(&store, Some(green.id), "sencha");
    let coffee = category(&store, None, "coffee");
    let mut expected = Vec::new();
    for i in 0..30 {
        let home = [tea.id, green.id, sencha.id, coffee.id][i % 4];
        let p = product(&store, home, &format!("P-{i}"), &format!("Product {i}"));
        if i % 7 == 3 {
            store
                .set_product_status(p.id, ProductStatus::Archived)
                .unwrap();
        } else if home != coffee.id {
            expected.push(p.id);
        }
    }

    let mut seen = Vec::new();
    let mut page = PageRequest::first(4);
    let mut pages = 0;
    loop {
        let got = store.list_products(tea.id, page).unwrap();
        assert!(got.items.len() <= 4);
        assert!(got.items.iter().all(|p| p.is_buyable()));
        seen.extend(got.items.iter().map(|p| p.id));
        pages += 1;
        if pages == 2 {
            // Added while paging, with an id past the cursor: it shows up once, on
            // a later page, and nothing before it shifts.
            product(&store, sencha.id, "LATE-1", "Late");
        }
        match got.next {
            Some(next) => {
                assert_eq!(
                    Some(&next),
                    seen.last(),
                    "the cursor is the last id of the page"
                );
                page = PageRequest {
                    after: Some(next),
                    limit: 4,
                };
            }
            None => break,
        }
    }
    let late = store
        .product_by_slug(&Slug::parse("late-1").unwrap())
        .unwrap();
    expected.push(late.id);
    assert_eq!(seen, expected, "complete, in id order, no duplicates");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), seen.len());

    let subtree = store
        .list_products(green.id, PageRequest::first(500))
        .unwrap();
    assert!(subtree.next.is_none());
    assert!(
        subtree
            .items
            .iter()
            .all(|p| p.category_id == green.id || p.category_id == sencha.id)
    );
    assert_eq!(
        store
            .list_products(tea.id, PageRequest::first(0))
            .unwrap()
            .items
            .len(),
        1,
        "clamped to 1"
    );
    let all = store
        .list_products(tea.id, PageRequest::first(u32::MAX))
        .unwrap();
    assert_eq!(
        all.items.len(),
        expected.len(),
        "clamped to 500, which is more than enough"
    );
    assert_eq!(all.next, None);
    let exact = store
        .list_products(tea.id, PageRequest::first(expected.len() as u32))
        .unwrap();
    assert_eq!(
        exact.next, None,
        "a page that ends exactly at the end has no next"
    );
    let empty = store
        .list_products(
            tea.id,
            PageRequest {
                after: Some(late.id),
                limit: 10,
            },
        )
        .unwrap();
    assert_eq!((empty.items.len(), empty.next), (0, None));
    let missing = CategoryId::new(987_654);
    assert_eq!(
        domain(
            store
                .list_products(missing, PageRequest::first(10))
                .unwrap_err()
        ),
        not_found("category", missing)
    );
}

/// Creates the same catalog in a store, returning the product SKUs in creation order.
fn search_catalog<S: CatalogRepository>(store: &S) -> Vec<Product> {
    let tea = category(store, None, "tea");
    let names = [
        "Green tea",
        "Green tea bags",
        "Black tea",
        "Greenish teapot",
        "Coffee beans",
        "Tea green",
        "Gunpowder green tea",
        "Earl Grey",
        "Greater tea",
    ];
    let products: Vec<Product> = names
        .iter()
        .enumerate()
        .map(|(i, name)| product(store, tea.id, &format!("S-{i}"), name))
        .collect();
    store
        .set_product_status(products[1].id, ProductStatus::Archived)
        .unwrap();
    products
}

#[test]
fn search_ranks_like_the_reference_store_and_skips_archived_products() {
    let db = TestDb::new();
    let pg = pg_store(&db);
    let memory = MemoryStore::with_rules(rules());
    let pg_products = search_catalog(&pg);
    let memory_products = search_catalog(&memory);
    let sku_of = |products: &[Product]| -> Vec<String> {
        products
            .iter()
            .map(|p| only(p).sku.as_str().to_owned())
            .collect()
    };
    for (query, limit) in [
        ("green tea", 10),
        ("Green Tea", 10),
        ("  green  ", 10),
        ("tea", 3),
        ("ea g", 10),
        ("grey", 10),
        ("coffe", 10),
        ("zzz", 10),
        ("", 10),
        ("green", 0),
    ] {
        let from_pg = sku_of(&pg.search_products(query, limit).unwrap());
        let from_memory = sku_of(&memory.search_products(query, limit).unwrap());
        assert_eq!(from_pg, from_memory, "query {query:?} limit {limit}");
    }
    let hits = pg.search_products("green tea", 10).unwrap();
    assert_eq!(
        hits[0].name.as_str(),
        "Green tea",
        "the exact name ranks first"
    );
    assert!(
        hits.iter().all(|p| p.slug != pg_products[1].slug),
        "archived products are not found"
    );
    assert!(
        hits.iter().any(|p| p.name.as_str() == "Tea green"),
        "word order does not matter much"
    );
    assert!(
        sku_of(&pg.search_products("ea g", 10).unwrap()).contains(&"S-5".to_owned()),
        "a substring across words matches"
    );
    assert_eq!(pg.search_products("tea", 3).unwrap().len(), 3);
    assert!(pg.search_products("", 10).unwrap().is_empty());
    assert_eq!(
        pg.search_products("green", 0).unwrap().len(),
        1,
        "limit clamped to 1"
    );
    assert_eq!(memory_products.len(), pg_products.len());
}

#[test]
fn hostile_unicode_and_long_text_is_stored_verbatim() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let hostile = "'; DROP TABLE users; --";
    let tea = store
        .create_category(new_category(None, "tea", hostile))
        .unwrap();
    assert_eq!(store.category(tea.id).unwrap().name.as_str(), hostile);
    let unicode = "Grüner Tee 🍵 — 緑茶 \"quoted\" \\ % _ $1";
    let long_name: String = "長".repeat(ProductName::MAX_LEN);
    let long_description: String = "Ünïcödé\t'\"\\;\n".repeat(Description::MAX_LEN / 14);
    let a = store
        .create_product(NewProduct {
            description: Description::parse(&long_description).unwrap(),
            ..new_product(tea.id, "U-1", unicode, "1")
        })
        .unwrap();
    let b = store
        .create_product(new_product(tea.id, "U-2", &long_name, "1"))
        .unwrap();
    let read = store.product(a.id).unwrap();
    assert_eq!(read.name.as_str(), unicode);
    assert_eq!(read.description.as_str(), long_description.trim());
    assert_eq!(store.product(b.id).unwrap().name.as_str(), long_name);

    // Metacharacters in a search are text, not SQL or LIKE patterns.
    let huge = "x".repeat(100_000);
    for query in [
        hostile,
        "%",
        "_",
        "\\",
        "$1",
        "' OR '1'='1",
        "\0",
        "a\0b",
        "緑茶",
        huge.as_str(),
    ] {
        let hits = store.search_products(query, 10).unwrap();
        assert!(hits.iter().all(|p| p.is_buyable()), "{query:?}");
    }
    assert_eq!(
        store.search_products("%", 10).unwrap(),
        vec![a.clone()],
        "literal %"
    );
    assert_eq!(store.search_products("$1", 10).unwrap(), vec![a.clone()]);
    assert!(store.search_products("\0", 10).unwrap().is_empty());
    let renamed = store
        .update_product(
            a.id,
            ProductUpdate {
                name: Some(ProductName::parse(hostile).unwrap()),
                ..ProductUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(renamed.name.as_str(), hostile);
    let mut conn = db.connect();
    setup(&mut conn, "SELECT count(*) FROM users");
}

// ---------------------------------------------------------------------------
// One scenario, two stores.
// ---------------------------------------------------------------------------

/// Gives every id a store allocated a stable name ("category#2"), in the order the
/// scenario first meets it, so that two stores' transcripts compare equal.
#[derive(Default)]
struct Names(HashMap<(&'static str, i64), String>);

impl Names {
    fn name(&mut self, kind: &'static str, raw: i64) -> String {
        let next = self.0.keys().filter(|(k, _)| *k == kind).count() + 1;
        self.0
            .entry((kind, raw))
            .or_insert_with(|| format!("{kind}#{next}"))
            .clone()
    }

    fn category(&mut self, c: &Category) -> String {
        let parent = c.parent_id.map(|p| self.name("category", p.get()));
        format!(
            "{} parent={parent:?} slug={} name={}",
            self.name("category", c.id.get()),
            c.slug,
            c.name
        )
    }

    fn product(&mut self, p: &Product) -> String {
        let variants: Vec<String> = p.variants.iter().map(|v| self.variant(v)).collect();
        format!(
            "{} slug={} name={} desc={:?} in={} status={} options={:?} variants=[{}]",
            self.name("product", p.id.get()),
            p.slug,
            p.name,
            p.description.as_str(),
            self.name("category", p.category_id.get()),
            p.status,
            p.options,
            variants.join("; ")
        )
    }

    fn variant(&mut self, v: &Variant) -> String {
        format!(
            "{} of {} sku={} options={} price={} stock={} weight={:?} gtin={:?}",
            self.name("variant", v.id.get()),
            self.name("product", v.product_id.get()),
            v.sku,
            v.selection,
            v.price,
            v.stock_on_hand,
            v.weight_grams,
            v.gtin
        )
    }

    fn sellable(&mut self, s: &Sellable) -> String {
        format!(
            "{} name={} status={}",
            self.variant(&s.variant),
            s.product_name,
            s.product_status
        )
    }

    fn user(&mut self, u: &User) -> String {
        format!(
            "{} email={} name={}",
            self.name("user", u.id.get()),
            u.email,
            u.name
        )
    }

    fn address(&mut self, a: &Address) -> String {
        format!(
            "{} of={} {} default={} {:?}",
            self.name("address", a.id.get()),
            self.name("user", a.user_id.get()),
            a.kind,
            a.is_default,
            a.postal.to_raw()
        )
    }

    /// An error as the domain outcome, ids renamed; store failures fail the test.
    fn error<E: RepoError>(&mut self, err: &E) -> String {
        match err.domain() {
            Some(DomainError::NotFound { entity, id }) => {
                let id = match id.parse::<i64>() {
                    Ok(raw) if self.0.contains_key(&(entity, raw)) => self.name(entity, raw),
                    _ => id.clone(),
                };
                format!("NotFound({entity} {id})")
            }
            Some(DomainError::CategoryCycle {
                category,
                new_parent,
            }) => format!(
                "CategoryCycle({} under {})",
                self.name("category", category.get()),
                self.name("category", new_parent.get())
            ),
            Some(other) => format!("{other:?}"),
            None => panic!("a store failure, not a domain outcome: {err}"),
        }
    }
}

/// What a scenario saw, step by step, with ids renamed.
#[derive(Default)]
struct Transcript {
    names: Names,
    lines: Vec<String>,
}

impl Transcript {
    fn record<T, E: RepoError>(
        &mut self,
        step: &str,
        result: Result<T, E>,
        show: impl FnOnce(&mut Names, &T) -> String,
    ) -> Option<T> {
        let line = match &result {
            Ok(value) => show(&mut self.names, value),
            Err(err) => format!("error {}", self.names.error(err)),
        };
        self.lines.push(format!("{step}: {line}"));
        result.ok()
    }
}

fn postal(recipient: &str, line1: &str) -> PostalAddress {
    PostalAddress::parse(&RawAddress {
        recipient: recipient.into(),
        line1: line1.into(),
        city: "Zürich".into(),
        postal_code: "8001".into(),
        country: "ch".into(),
        ..RawAddress::default()
    })
    .unwrap()
}

/// The scripted scenario: catalog, pages, search, accounts and address books,
/// with the error cases in between.
fn scenario<S: CatalogRepository + AccountRepository>(store: &S) -> Vec<String> {
    let mut t = Transcript::default();
    let list = |names: &mut Names, items: &Vec<Category>| {
        items
            .iter()
            .map(|c| names.category(c))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let products = |names: &mut Names, items: &Vec<Product>| {
        items
            .iter()
            .map(|p| names.product(p))
            .collect::<Vec<_>>()
            .join(" | ")
    };

    let root = t
        .record(
            "root",
            store.create_category(new_category(None, "drinks", "Drinks")),
            Names::category,
        )
        .unwrap();
    let tea = t
        .record(
            "tea",
            store.create_category(new_category(Some(root.id), "tea", "Tea")),
            Names::category,
        )
        .unwrap();
    let green = t
        .record(
            "green",
            store.create_category(new_category(Some(tea.id), "green", "Green")),
            Names::category,
        )
        .unwrap();
    let coffee = t
        .record(
            "coffee",
            store.create_category(new_category(None, "coffee", "Coffee")),
            Names::category,
        )
        .unwrap();
    t.record(
        "slug taken",
        store.create_category(new_category(None, "tea", "T")),
        Names::category,
    );
    t.record(
        "cycle",
        store.move_category(root.id, Some(green.id)),
        Names::category,
    );
    t.record(
        "move tea",
        store.move_category(tea.id, Some(coffee.id)),
        Names::category,
    );
    t.record("path", store.category_path(green.id), list);
    t.record("roots", store.category_children(None), list);
    t.record("children", store.category_children(Some(coffee.id)), list);
    t.record(
        "move back",
        store.move_category(tea.id, Some(root.id)),
        Names::category,
    );

    let mut made = Vec::new();
    for (i, name) in [
        "Sencha",
        "Matcha",
        "Gyokuro",
        "Green tea",
        "Bancha",
        "Espresso",
    ]
    .iter()
    .enumerate()
    {
        let home = if i == 5 {
            coffee.id
        } else if i % 2 == 0 {
            green.id
        } else {
            tea.id
        };
        if let Some(p) = t.record(
            &format!("product {name}"),
            store.create_product(new_product(
                home,
                &format!("SKU-{i}"),
                name,
                &format!("{}.50", i + 3),
            )),
            Names::product,
        ) {
            made.push(p);
        }
    }
    t.record(
        "sku taken",
        store.create_product(new_product(tea.id, "sku-0", "Dup", "1")),
        Names::product,
    );
    t.record(
        "missing category",
        store.create_product(new_product(CategoryId::new(999_999), "SKU-X", "Lost", "1")),
        Names::product,
    );
    t.record(
        "archive",
        store.set_product_status(made[1].id, ProductStatus::Archived),
        Names::product,
    );
    t.record(
        "price",
        store.set_price(only(&made[0]).id, eur("4.20")),
        Names::variant,
    );
    t.record(
        "price in USD",
        store.set_price(
            only(&made[0]).id,
            Money::parse("4.20", Currency::USD).unwrap(),
        ),
        Names::variant,
    );
    t.record(
        "negative",
        store.set_price(only(&made[0]).id, eur("-4.20")),
        Names::variant,
    );
    t.record(
        "restock",
        store.restock(only(&made[2]).id, 5),
        Names::variant,
    );
    t.record(
        "overflow",
        store.restock(only(&made[2]).id, u32::MAX),
        Names::variant,
    );
    t.record(
        "rename",
        store.update_product(
            made[3].id,
            ProductUpdate {
                name: Some(ProductName::parse("Green tea bags").unwrap()),
                description: Some(Description::parse("In bags.").unwrap()),
                category_id: Some(root.id),
            },
        ),
        Names::product,
    );
    t.record(
        "by sku",
        store.variant_by_sku(&Sku::parse("SKU-4").unwrap()),
        Names::sellable,
    );
    t.record(
        "by slug",
        store.product_by_slug(&Slug::parse("sku-4").unwrap()),
        Names::product,
    );
    let mut page = PageRequest::first(2);
    for n in 1..=4 {
        let Some(got) = t.record(
            &format!("page {n}"),
            store.list_products(root.id, page),
            |names, p| products(names, &p.items),
        ) else {
            break;
        };
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    t.record("search green", store.search_products("green", 10), products);
    t.record("search cha", store.search_products("cha", 2), products);

    let email = Email::parse("Ada@Example.com").unwrap();
    let password = Password::new("correct horse battery").unwrap();
    let ada = t
        .record(
            "register",
            store.register(NewUser {
                email: email.clone(),
                name: PersonName::parse("Ada").unwrap(),
                password: password.clone(),
            }),
            Names::user,
        )
        .unwrap();
    t.record(
        "email taken",
        store.register(NewUser {
            email: Email::parse("ada@example.COM").unwrap(),
            name: PersonName::parse("Other").unwrap(),
            password: password.clone(),
        }),
        Names::user,
    );
    let wrong = Password::new("wrong horse battery").unwrap();
    t.record(
        "login",
        store.authenticate(&Email::parse("ADA@example.com").unwrap(), &password),
        Names::user,
    );
    t.record(
        "wrong password",
        store.authenticate(&email, &wrong),
        Names::user,
    );
    t.record(
        "unknown email",
        store.authenticate(&Email::parse("bob@example.com").unwrap(), &password),
        Names::user,
    );
    t.record(
        "change password",
        store.change_password(ada.id, &password, &wrong),
        |_, ()| "ok".into(),
    );
    t.record(
        "old password",
        store.authenticate(&email, &password),
        Names::user,
    );
    t.record(
        "new password",
        store.authenticate(&email, &wrong),
        Names::user,
    );
    t.record(
        "profile",
        store.update_profile(
            ada.id,
            ProfileUpdate {
                name: Some(PersonName::parse("Ada Lovelace").unwrap()),
                ..ProfileUpdate::default()
            },
        ),
        Names::user,
    );

    let addresses = |names: &mut Names, items: &Vec<Address>| {
        items
            .iter()
            .map(|a| names.address(a))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let add = |kind, line1: &str, make_default| NewAddress {
        kind,
        postal: postal("Ada Lovelace", line1),
        make_default,
    };
    let home = t
        .record(
            "home",
            store.add_address(ada.id, add(AddressKind::Shipping, "1 Home St", false)),
            Names::address,
        )
        .unwrap();
    let work = t
        .record(
            "work",
            store.add_address(ada.id, add(AddressKind::Shipping, "2 Work St", false)),
            Names::address,
        )
        .unwrap();
    t.record(
        "billing",
        store.add_address(ada.id, add(AddressKind::Billing, "3 Bill St", false)),
        Names::address,
    );
    let office = t
        .record(
            "office",
            store.add_address(ada.id, add(AddressKind::Shipping, "4 Office St", true)),
            Names::address,
        )
        .unwrap();
    t.record(
        "set default",
        store.set_default_address(ada.id, work.id),
        Names::address,
    );
    t.record(
        "update",
        store.update_address(ada.id, home.id, postal("Ada L.", "1b Home St")),
        Names::address,
    );
    t.record(
        "remove default",
        store.remove_address(ada.id, work.id),
        |_, ()| "ok".into(),
    );
    t.record("book", store.addresses(ada.id), addresses);
    t.record(
        "remove other",
        store.remove_address(ada.id, home.id),
        |_, ()| "ok".into(),
    );
    t.record("book again", store.addresses(ada.id), addresses);
    let bob = t
        .record(
            "bob",
            store.register(NewUser {
                email: Email::parse("bob@example.com").unwrap(),
                name: PersonName::parse("Bob").unwrap(),
                password,
            }),
            Names::user,
        )
        .unwrap();
    t.record(
        "not bob's",
        store.set_default_address(bob.id, office.id),
        Names::address,
    );
    t.record("bob's book", store.addresses(bob.id), addresses);
    t.lines
}

#[test]
fn same_scenario_same_results_on_memory_and_postgres() {
    let db = TestDb::new();
    let on_postgres = scenario(&pg_store(&db));
    let on_memory = scenario(&MemoryStore::with_rules(rules()));
    for (step, (memory, postgres)) in on_memory.iter().zip(&on_postgres).enumerate() {
        assert_eq!(memory, postgres, "step {step} differs");
    }
    assert_eq!(on_memory.len(), on_postgres.len());
    // The scenario did reach its end and saw the outcomes it was written for.
    let transcript = on_memory.join("\n");
    for expected in [
        "slug taken: error AlreadyTaken",
        "cycle: error CategoryCycle(category#1 under category#3)",
        "missing category: error NotFound(category 999999)",
        "price in USD: error Money(CurrencyMismatch",
        "wrong password: error InvalidCredentials",
        "unknown email: error InvalidCredentials",
        "not bob's: error NotFound(address address#4)",
    ] {
        assert!(
            transcript.contains(expected),
            "{expected:?} missing from\n{transcript}"
        );
    }
}

/// The tests above again, with the store behind pgbouncer in transaction mode
/// (`ECOM_TRANSACTION_POOLING=1`); `pgbouncer::every_checkout_and_catalog_test_also_runs_through_pgbouncer`
/// keeps this list complete.
pub(crate) mod through_pgbouncer {
    crate::util::through_pgbouncer![
        categories_form_a_tree_listed_by_name_then_id_with_root_first_paths,
        taken_slug_and_missing_parent_are_typed_errors,
        moves_refuse_cycles_and_carry_the_subtree,
        concurrent_opposite_moves_never_make_a_cycle,
        products_are_created_read_changed_and_restocked,
        missing_products_are_not_found_by_every_operation,
        taken_sku_and_missing_category_are_typed_errors,
        constraint_violations_from_sql_map_to_typed_store_errors,
        a_loop_written_around_the_store_is_reported_not_followed_forever,
        keyset_pages_walk_every_active_product_of_the_subtree_once,
        search_ranks_like_the_reference_store_and_skips_archived_products,
        hostile_unicode_and_long_text_is_stored_verbatim,
        same_scenario_same_results_on_memory_and_postgres,
    ];
}
