//! Listings with facets, full-text search, attributes, images and collections on
//! PostgreSQL: the same answers as the reference store's brute force, on random
//! catalogs, and the database's own rules behind them.

use std::collections::BTreeMap;

use ecom_domain::catalog::facet_keys;
use ecom_domain::memory::MemoryStore;
use ecom_domain::prelude::*;
use ecom_store::testing::TestDb;
use ecom_store::{PgStore, StoreError};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::util::{pg_store, rules, scalar, setup};

const COLOURS: [&str; 3] = ["Red", "Blue", "Green"];
const SIZES: [&str; 2] = ["S", "M"];
const NAMES: [&str; 5] = ["Tee", "Polo", "apron", "Henley", "Tee"];

/// One random product: its category (0 root, 1 and 2 its children), name, status,
/// colours and sizes (bit sets; none: a product of one default variant), a price
/// and stock per variant, a Material, and whether its first variant is waterproof.
#[derive(Debug, Clone)]
struct Spec {
    category: usize,
    name: usize,
    active: bool,
    colours: u8,
    sizes: u8,
    prices: Vec<i64>,
    stocks: Vec<u32>,
    material: Option<usize>,
    waterproof: Option<bool>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0usize..3,
        0..NAMES.len(),
        prop::bool::weighted(0.85),
        0u8..8,
        0u8..4,
        prop::collection::vec(100i64..5000, 6),
        prop::collection::vec(0u32..3, 6),
        prop::option::of(0usize..2),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(category, name, active, colours, sizes, prices, stocks, material, waterproof)| Spec {
                category,
                name,
                active,
                colours,
                sizes,
                prices,
                stocks,
                material,
                waterproof,
            },
        )
}

fn picked<'a>(all: &[&'a str], bits: u8) -> Vec<&'a str> {
    all.iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, v)| *v)
        .collect()
}

fn text(value: &str) -> AttributeText {
    AttributeText::parse(value).unwrap()
}

/// The catalog of `specs` in `store`: the category ids (root, two children) and the
/// product ids, in order.
fn build<S: CatalogRepository>(store: &S, specs: &[Spec]) -> (Vec<CategoryId>, Vec<ProductId>)
where
    S::Error: std::fmt::Debug,
{
    let category = |slug: &str, parent| {
        store
            .create_category(NewCategory {
                parent_id: parent,
                slug: Slug::parse(slug).unwrap(),
                name: CategoryName::parse(slug).unwrap(),
            })
            .unwrap()
            .id
    };
    let root = category("all", None);
    let categories = vec![
        root,
        category("tops", Some(root)),
        category("aprons", Some(root)),
    ];
    for (name, kind) in [
        (
            "Material",
            AttributeKind::OneOf {
                choices: AttributeChoices::new(vec![text("Cotton"), text("Linen")]).unwrap(),
            },
        ),
        ("Waterproof", AttributeKind::Boolean),
    ] {
        store
            .define_attribute(AttributeDefinition {
                name: AttributeName::parse(name).unwrap(),
                kind,
            })
            .unwrap();
    }
    let products = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let (colours, sizes) = (picked(&COLOURS, spec.colours), picked(&SIZES, spec.sizes));
            let mut options = Vec::new();
            for (name, values) in [("Colour", &colours), ("Size", &sizes)] {
                if !values.is_empty() {
                    options.push(
                        OptionType::new(
                            OptionName::parse(name).unwrap(),
                            values
                                .iter()
                                .map(|v| OptionValue::parse(v).unwrap())
                                .collect(),
                        )
                        .unwrap(),
                    );
                }
            }
            let options = ProductOptions::new(options).unwrap();
            let variants = options
                .combinations()
                .unwrap()
                .into_iter()
                .take(6)
                .enumerate()
                .map(|(v, selection)| NewVariant {
                    selection,
                    ..NewVariant::default_of(
                        Sku::parse(&format!("P{i}-{v}")).unwrap(),
                        Money::from_minor(spec.prices[v], Currency::EUR),
                        spec.stocks[v],
                    )
                })
                .collect();
            let product = store
                .create_product(NewProduct {
                    slug: Slug::parse(&format!("p-{i}")).unwrap(),
                    name: ProductName::parse(NAMES[spec.name]).unwrap(),
                    description: Description::parse("Soft and warm").unwrap(),
                    category_id: categories[spec.category],
                    status: if spec.active {
                        ProductStatus::Active
                    } else {
                        ProductStatus::Draft
                    },
                    options,
                    variants,
                })
                .unwrap();
            if let Some(m) = spec.material {
                let value = AttributeValue::Choice(text(["cotton", "LINEN"][m]));
                store
                    .set_product_attributes(
                        product.id,
                        vec![Attribute {
                            name: AttributeName::parse("material").unwrap(),
                            value,
                        }],
                    )
                    .unwrap();
            }
            if let Some(waterproof) = spec.waterproof {
                store
                    .set_variant_attributes(
                        product.variants[0].id,
                        vec![Attribute {
                            name: AttributeName::parse("Waterproof").unwrap(),
                            value: AttributeValue::Boolean(waterproof),
                        }],
                    )
                    .unwrap();
            }
            product.id
        })
        .collect();
    (categories, products)
}

/// A random listing request, its category and filters drawn from what `build` makes.
#[derive(Debug, Clone)]
struct Ask {
    category: usize,
    colours: u8,
    sizes: u8,
    material: Option<usize>,
    waterproof: Option<bool>,
    min: Option<i64>,
    max: Option<i64>,
    in_stock: bool,
    sort: BrowseSort,
    limit: u32,
}

fn ask() -> impl Strategy<Value = Ask> {
    (
        (
            0usize..3,
            0u8..8,
            0u8..4,
            prop::option::of(0usize..2),
            prop::option::of(any::<bool>()),
        ),
        (
            prop::option::of(100i64..3000),
            prop::option::of(1000i64..5000),
            any::<bool>(),
            prop::sample::select(BrowseSort::ALL.to_vec()),
            1u32..6,
        ),
    )
        .prop_map(
            |(
                (category, colours, sizes, material, waterproof),
                (min, max, in_stock, sort, limit),
            )| {
                Ask {
                    category,
                    colours,
                    sizes,
                    material,
                    waterproof,
                    min,
                    max,
                    in_stock,
                    sort,
                    limit,
                }
            },
        )
}

fn request(ask: &Ask, categories: &[CategoryId]) -> Result<BrowseRequest, DomainError> {
    let mut facets = Vec::new();
    // Spelled as a shopper might: case does not matter.
    let colours: Vec<String> = picked(&COLOURS, ask.colours)
        .iter()
        .map(|c| c.to_uppercase())
        .collect();
    if !colours.is_empty() {
        facets.push(FacetFilter::new("colour", &colours)?);
    }
    let sizes = picked(&SIZES, ask.sizes);
    if !sizes.is_empty() {
        facets.push(FacetFilter::new("SIZE", &sizes)?);
    }
    if let Some(m) = ask.material {
        facets.push(FacetFilter::new("Material", &[["Cotton", "linen"][m]])?);
    }
    if let Some(w) = ask.waterproof {
        facets.push(FacetFilter::new("waterproof", &[w.to_string()])?);
    }
    let eur = |m: i64| Money::from_minor(m, Currency::EUR);
    Ok(BrowseRequest {
        category: categories[ask.category],
        filter: BrowseFilter {
            facets,
            price: PriceRange::new(ask.min.map(eur), ask.max.map(eur))?,
            in_stock: ask.in_stock,
        },
        sort: ask.sort,
        page: PageRequest::first(ask.limit),
    })
}

/// Every page of a listing: the products (by index) page by page, the total and
/// the facet counts of the first page (every page must repeat them).
type Walk = (Vec<Vec<usize>>, u64, Counts);

/// Facet counts as (name, value, products).
type Counts = Vec<(String, String, u64)>;

fn walk<S: CatalogReader>(
    store: &S,
    mut request: BrowseRequest,
    products: &[ProductId],
) -> Result<(Walk, Vec<Product>), DomainError>
where
    S::Error: RepoError,
{
    let mut pages = Vec::new();
    let mut listed = Vec::new();
    let mut first: Option<(u64, Counts)> = None;
    for _ in 0..=products.len() {
        let browse = store
            .browse(request.clone())
            .map_err(|e| e.domain().cloned().unwrap_or_else(|| panic!("{e}")))?;
        let counts: Vec<_> = browse
            .facets
            .iter()
            .map(|c| (c.key.name.clone(), c.key.value.clone(), c.products))
            .collect();
        match &first {
            None => first = Some((browse.total, counts)),
            Some(seen) => assert_eq!(
                seen,
                &(browse.total, counts),
                "every page has the same counts"
            ),
        }
        pages.push(
            browse
                .page
                .items
                .iter()
                .map(|p| products.iter().position(|id| *id == p.id).unwrap())
                .collect(),
        );
        listed.extend(browse.page.items);
        match browse.page.next {
            Some(next) => request.page.after = Some(next),
            None => break,
        }
    }
    let (total, counts) = first.unwrap();
    Ok(((pages, total, counts), listed))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, max_shrink_iters: 100, ..ProptestConfig::default() })]

    /// On random catalogs and filters, PostgreSQL lists, pages and counts exactly as
    /// the reference store's brute force; and its counts are a brute-force count
    /// over the products it listed.
    #[test]
    fn listings_and_facet_counts_equal_a_brute_force_count(
        specs in prop::collection::vec(spec(), 0..14),
        asks in prop::collection::vec(ask(), 1..6),
    ) {
        let db = TestDb::new();
        let pg = PgStore::with_rules(db.pool().clone(), rules());
        let memory = MemoryStore::with_rules(rules());
        let (pg_categories, pg_products) = build(&pg, &specs);
        let (memory_categories, memory_products) = build(&memory, &specs);
        for ask in &asks {
            let expected = request(ask, &memory_categories)
                .and_then(|r| walk(&memory, r, &memory_products));
            let actual = request(ask, &pg_categories).and_then(|r| walk(&pg, r, &pg_products));
            match (actual, expected) {
                (Ok((actual, listed)), Ok((expected, _))) => {
                    prop_assert_eq!(&actual, &expected, "{:?}", ask);
                    let mut brute: BTreeMap<(String, String), u64> = BTreeMap::new();
                    for product in &listed {
                        for key in facet_keys(product) {
                            *brute.entry((key.name, key.value)).or_default() += 1;
                        }
                    }
                    let counted: BTreeMap<(String, String), u64> =
                        actual.2.iter().map(|(n, v, c)| ((n.clone(), v.clone()), *c)).collect();
                    prop_assert_eq!(counted, brute);
                    prop_assert_eq!(actual.1, listed.len() as u64);
                }
                (Err(actual), Err(expected)) => prop_assert_eq!(actual, expected),
                (actual, expected) => prop_assert!(false, "{:?} vs {:?}", actual.map(|a| a.0), expected.map(|e| e.0)),
            }
        }
    }
}

/// A store with a root category, Material defined, and products named and
/// described as given (one variant each, in stock).
fn shop(db: &TestDb, products: &[(&str, &str)]) -> (PgStore, CategoryId, Vec<Product>) {
    let store = pg_store(db);
    let root = crate::util::category(&store, "shop").id;
    store
        .define_attribute(AttributeDefinition {
            name: AttributeName::parse("Material").unwrap(),
            kind: AttributeKind::OneOf {
                choices: AttributeChoices::new(vec![text("Cotton"), text("Linen")]).unwrap(),
            },
        })
        .unwrap();
    let made = products
        .iter()
        .enumerate()
        .map(|(i, (name, description))| {
            store
                .create_product(NewProduct {
                    description: Description::parse(description).unwrap(),
                    ..NewProduct::single(
                        Slug::parse(&format!("p-{i}")).unwrap(),
                        ProductName::parse(name).unwrap(),
                        root,
                        Sku::parse(&format!("P-{i}")).unwrap(),
                        Money::from_minor(1000 + i as i64, Currency::EUR),
                        5,
                    )
                })
                .unwrap()
        })
        .collect();
    (store, root, made)
}

fn search(store: &PgStore, query: &str) -> Vec<(String, i64)> {
    store
        .search(SearchRequest {
            query: SearchQuery::parse(query).unwrap(),
            page: PageRequest::first(20),
        })
        .unwrap()
        .items
        .into_iter()
        .map(|h| (h.product.name.as_str().to_owned(), h.score))
        .collect()
}

fn names(hits: &[(String, i64)]) -> Vec<&str> {
    hits.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn search_stems_matches_prefixes_ranks_names_first_and_falls_back_to_trigrams() {
    let db = TestDb::new();
    let (store, _, made) = shop(
        &db,
        &[
            ("Linen shirt", "A light summer shirt"),
            ("Summer dress", "Made of linen, with pockets"),
            ("Running shoes", "Light and fast"),
        ],
    );
    store
        .set_product_attributes(
            made[2].id,
            vec![Attribute {
                name: AttributeName::parse("Material").unwrap(),
                value: AttributeValue::Choice(text("Linen")),
            }],
        )
        .unwrap();
    // English stemming: "shirts" finds "shirt"; a name match outranks a description
    // match outranks an attribute value.
    assert_eq!(names(&search(&store, "shirts")), ["Linen shirt"]);
    let linen = search(&store, "linen");
    assert_eq!(
        names(&linen),
        ["Linen shirt", "Summer dress", "Running shoes"]
    );
    assert!(
        linen[0].1 > linen[1].1 && linen[1].1 > linen[2].1,
        "{linen:?}"
    );
    // The last word is a prefix, as the user types.
    assert_eq!(names(&search(&store, "summer dre")), ["Summer dress"]);
    assert_eq!(names(&search(&store, "ru")), ["Running shoes"]);
    // Nothing matches the words: names that look alike do.
    assert_eq!(names(&search(&store, "summr dres")), ["Summer dress"]);
    // Only stop words, or nothing alike: no hits, no error.
    assert!(search(&store, "the and of").is_empty());
    assert!(search(&store, "zzzzqqq").is_empty());
    // Drafts are not found.
    store
        .set_product_status(made[0].id, ProductStatus::Draft)
        .unwrap();
    assert_eq!(
        names(&search(&store, "linen")),
        ["Summer dress", "Running shoes"]
    );

    // Pages follow the ranking without repeats.
    let first = store
        .search(SearchRequest {
            query: SearchQuery::parse("linen").unwrap(),
            page: PageRequest::first(1),
        })
        .unwrap();
    let second = store
        .search(SearchRequest {
            query: SearchQuery::parse("linen").unwrap(),
            page: PageRequest {
                after: first.next,
                limit: 1,
            },
        })
        .unwrap();
    assert_eq!(first.items[0].product.name.as_str(), "Summer dress");
    assert_eq!(second.items[0].product.name.as_str(), "Running shoes");
    assert_eq!(second.next, None);
}

#[test]
fn the_search_language_is_the_shop_s_and_an_unknown_one_is_not_found() {
    let db = TestDb::new();
    let (store, _, _) = shop(&db, &[("Laufschuhe", "Leichte Schuhe zum Laufen")]);
    // In English, "zum" is a word like any other.
    assert_eq!(names(&search(&store, "zum")), ["Laufschuhe"]);
    store
        .set_search_language(SearchLanguage::parse("german").unwrap())
        .unwrap();
    // Every document is derived again in German: "zum" is a stop word now, and
    // the stems are German ones.
    assert!(search(&store, "zum").is_empty());
    assert_eq!(names(&search(&store, "schuh leicht")), ["Laufschuhe"]);
    match store.set_search_language(SearchLanguage::parse("klingon").unwrap()) {
        Err(StoreError::Domain(DomainError::NotFound { entity, .. })) => {
            assert_eq!(entity, "search language")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        search(&store, "zum").is_empty(),
        "a refused change changes nothing"
    );
}

#[test]
fn attribute_values_are_checked_against_their_definitions_in_rust_and_in_sql() {
    let db = TestDb::new();
    let (store, _, made) = shop(&db, &[("Tee", "")]);
    let id = made[0].id;
    let set = |name: &str, value| {
        store.set_product_attributes(
            id,
            vec![Attribute {
                name: AttributeName::parse(name).unwrap(),
                value,
            }],
        )
    };
    let refused = |result: Result<Product, StoreError>| match result {
        Err(StoreError::Domain(DomainError::Attribute(err))) => err,
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        refused(set("Fabric", AttributeValue::Choice(text("Cotton")))),
        AttributeError::UnknownAttribute { .. }
    ));
    assert!(matches!(
        refused(set("material", AttributeValue::Choice(text("Wool")))),
        AttributeError::NotAChoice { .. }
    ));
    assert!(matches!(
        refused(set("Material", AttributeValue::Boolean(true))),
        AttributeError::WrongKind { .. }
    ));
    let stored = set("MATERIAL", AttributeValue::Choice(text("cotton"))).unwrap();
    assert_eq!(
        stored.attributes,
        [Attribute {
            name: AttributeName::parse("Material").unwrap(),
            value: AttributeValue::Choice(text("Cotton")),
        }],
        "named and spelled as defined"
    );
    assert_eq!(store.product(id).unwrap(), stored, "reads back as written");
    match store.define_attribute(AttributeDefinition {
        name: AttributeName::parse("material").unwrap(),
        kind: AttributeKind::Boolean,
    }) {
        Err(StoreError::Domain(DomainError::AlreadyTaken { what, .. })) => {
            assert_eq!(what, Taken::Attribute)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.attributes().unwrap().len(), 1);

    // Written around the store, malformed shapes are refused by the schema.
    let mut conn = db.connect();
    for bad in [
        "INSERT INTO attribute_definitions (name, kind) VALUES ('Size', '{\"type\": \"colour\"}')",
        "INSERT INTO attribute_definitions (name, kind) VALUES ('Size', '{\"type\": \"one_of\"}')",
        "INSERT INTO attribute_definitions (name, kind) VALUES (' Size', '{\"type\": \"text\"}')",
        "UPDATE products SET attributes = '{}'",
        "UPDATE products SET images = '\"x\"'",
    ] {
        assert!(
            matches!(
                crate::util::exec(&mut conn, bad),
                Err(StoreError::Invalid { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn facets_follow_every_change_of_options_and_attributes_even_around_the_store() {
    let db = TestDb::new();
    let (store, root, made) = shop(&db, &[("Tee", "")]);
    let facets = |store: &PgStore| -> Vec<String> {
        store
            .browse(BrowseRequest {
                category: root,
                filter: BrowseFilter::default(),
                sort: BrowseSort::Newest,
                page: PageRequest::first(10),
            })
            .unwrap()
            .facets
            .iter()
            .map(|c| format!("{}={}:{}", c.key.name, c.key.value, c.products))
            .collect()
    };
    assert!(facets(&store).is_empty());
    store
        .set_product_attributes(
            made[0].id,
            vec![Attribute {
                name: AttributeName::parse("Material").unwrap(),
                value: AttributeValue::Choice(text("Linen")),
            }],
        )
        .unwrap();
    assert_eq!(facets(&store), ["material=linen:1"]);
    let mut conn = db.connect();
    setup(
        &mut conn,
        "UPDATE product_variants SET attributes = \
         '[{\"name\": \"Waterproof\", \"value\": {\"type\": \"boolean\", \"value\": true}}]'",
    );
    assert_eq!(facets(&store), ["material=linen:1", "waterproof=true:1"]);
    let before = scalar(
        &mut conn,
        "count(*) FROM products WHERE facets @> ARRAY[catalog_facet_key('Waterproof', 'true')]",
    );
    // A sale (a stock change) does not touch them.
    setup(
        &mut conn,
        "UPDATE product_variants SET stock_on_hand = stock_on_hand - 1",
    );
    assert_eq!(before, 1);
    assert_eq!(facets(&store), ["material=linen:1", "waterproof=true:1"]);
}

#[test]
fn images_and_collections_keep_their_order_and_their_rules() {
    let db = TestDb::new();
    let (store, _, made) = shop(&db, &[("Tee", ""), ("Polo", ""), ("Cap", "")]);
    let image = |n: u32, option: Option<OptionChoice>| ProductImage {
        url: MediaUrl::parse(&format!("https://cdn.example.com/tee/{n}.jpg")).unwrap(),
        alt: AltText::parse("The tee").unwrap(),
        option,
    };
    let images = vec![image(2, None), image(1, None)];
    let tee = store.set_images(made[0].id, images.clone()).unwrap();
    assert_eq!(tee.images, images, "in the order given");
    let red = OptionChoice {
        option: OptionName::parse("Colour").unwrap(),
        value: OptionValue::parse("Red").unwrap(),
    };
    assert!(
        matches!(
            store.set_images(made[0].id, vec![image(3, Some(red))]),
            Err(StoreError::Domain(DomainError::Media(_)))
        ),
        "the tee has no colours"
    );
    assert_eq!(
        store.product(made[0].id).unwrap().images,
        images,
        "a refused change changes nothing"
    );

    let summer = store
        .create_collection(NewCollection {
            slug: Slug::parse("summer").unwrap(),
            name: CollectionName::parse("Summer").unwrap(),
        })
        .unwrap();
    match store.create_collection(NewCollection {
        slug: Slug::parse("summer").unwrap(),
        name: CollectionName::parse("Summer again").unwrap(),
    }) {
        Err(StoreError::Domain(DomainError::AlreadyTaken {
            what: Taken::Slug, ..
        })) => {}
        other => panic!("{other:?}"),
    }
    let order = CollectionProducts::new(vec![made[2].id, made[0].id, made[1].id]).unwrap();
    let filled = store
        .set_collection_products(summer.id, order.clone())
        .unwrap();
    assert_eq!(filled.products, order);
    assert_eq!(store.collection(&summer.slug).unwrap().products, order);
    store
        .set_product_status(made[0].id, ProductStatus::Archived)
        .unwrap();
    let first = store
        .collection_products(summer.id, PageRequest::first(1))
        .unwrap();
    let rest = store
        .collection_products(
            summer.id,
            PageRequest {
                after: first.next,
                limit: 5,
            },
        )
        .unwrap();
    let listed: Vec<ProductId> = first
        .items
        .iter()
        .chain(&rest.items)
        .map(|p| p.id)
        .collect();
    assert_eq!(
        listed,
        [made[2].id, made[1].id],
        "in order, without the archived one"
    );
    let past = store
        .collection_products(
            summer.id,
            PageRequest {
                after: Some(u32::MAX),
                limit: 5,
            },
        )
        .unwrap();
    assert!(
        past.items.is_empty(),
        "after the last position there is nothing"
    );

    let missing = CollectionProducts::new(vec![made[1].id, ProductId::new(999_999)]).unwrap();
    assert!(matches!(
        store.set_collection_products(summer.id, missing),
        Err(StoreError::Domain(DomainError::NotFound {
            entity: "product",
            ..
        }))
    ));
    assert_eq!(
        store.collection(&summer.slug).unwrap().products,
        order,
        "unchanged"
    );
    assert!(matches!(
        store.collection_products(CollectionId::new(999_999), PageRequest::first(5)),
        Err(StoreError::Domain(DomainError::NotFound {
            entity: "collection",
            ..
        }))
    ));
}

#[test]
fn listings_refuse_bad_requests_with_typed_errors() {
    let db = TestDb::new();
    let (store, root, _) = shop(&db, &[("Tee", "")]);
    let base = BrowseRequest {
        category: root,
        filter: BrowseFilter::default(),
        sort: BrowseSort::Name,
        page: PageRequest::first(10),
    };
    let wrong_cursor = BrowseRequest {
        page: PageRequest {
            after: Some(BrowseCursor::Price {
                amount: Decimal::ONE,
                id: ProductId::new(1),
            }),
            limit: 10,
        },
        ..base.clone()
    };
    assert!(matches!(
        store.browse(wrong_cursor),
        Err(StoreError::Domain(DomainError::Browse(
            BrowseError::CursorSort
        )))
    ));
    assert!(matches!(
        store.browse(BrowseRequest {
            category: CategoryId::new(999_999),
            ..base
        }),
        Err(StoreError::Domain(DomainError::NotFound {
            entity: "category",
            ..
        }))
    ));
}
