use super::*;
use crate::catalog::tests::sellable;
use crate::catalog::{
    Attribute, AttributeValue, OptionChoice, OptionSelection, ProductOptions, ProductStatus,
};
use crate::ids::VariantId;
use crate::values::{AttributeName, AttributeText, Description, OptionName, OptionValue, Slug};
use proptest::prelude::*;

/// Product `id` in category 1 with one variant per `(colour, price, stock)`, and a
/// Material attribute when given.
fn product(id: i64, name: &str, variants: &[(&str, &str, u32)], material: Option<&str>) -> Product {
    let created = chrono::DateTime::from_timestamp(1_700_000_000 + id * 60, 0).unwrap();
    let variants = variants
        .iter()
        .enumerate()
        .map(|(i, (colour, price, stock))| {
            let mut v = sellable(id * 100 + i as i64, &format!("P{id}-{i}"), *stock).variant;
            v.product_id = ProductId::new(id);
            v.id = VariantId::new(id * 100 + i as i64);
            v.price = Money::parse(price, Currency::EUR).unwrap();
            v.selection = OptionSelection::new(vec![OptionChoice {
                option: OptionName::parse("Colour").unwrap(),
                value: OptionValue::parse(colour).unwrap(),
            }])
            .unwrap();
            v
        })
        .collect();
    Product {
        id: ProductId::new(id),
        slug: Slug::parse(&format!("p-{id}")).unwrap(),
        name: crate::values::ProductName::parse(name).unwrap(),
        description: Description::parse("A soft cotton shirt").unwrap(),
        category_id: CategoryId::new(1),
        status: ProductStatus::Active,
        options: ProductOptions::none(),
        attributes: material
            .map(|m| Attribute {
                name: AttributeName::parse("Material").unwrap(),
                value: AttributeValue::Choice(AttributeText::parse(m).unwrap()),
            })
            .into_iter()
            .collect(),
        images: Vec::new(),
        variants,
        created_at: created,
        updated_at: created,
    }
}

fn catalog() -> Vec<Product> {
    vec![
        product(
            1,
            "Tee",
            &[("Red", "10.00", 0), ("Blue", "12.00", 3)],
            Some("Cotton"),
        ),
        product(2, "Polo", &[("red", "25.00", 1)], Some("Linen")),
        product(3, "Henley", &[("Green", "18.00", 0)], Some("Cotton")),
        product(4, "apron", &[("Blue", "8.00", 2)], None),
    ]
}

fn request(filter: BrowseFilter, sort: BrowseSort, limit: u32) -> BrowseRequest {
    BrowseRequest {
        category: CategoryId::new(1),
        filter,
        sort,
        page: PageRequest::first(limit),
    }
}

fn ids(products: &[Product]) -> Vec<i64> {
    products.iter().map(|p| p.id.get()).collect()
}

#[test]
fn a_product_offers_its_variants_option_values_and_all_attribute_values() {
    let keys: Vec<(String, String)> = facet_keys(&catalog()[0])
        .into_iter()
        .map(|k| (k.name, k.value))
        .collect();
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        keys,
        [
            pair("colour", "blue"),
            pair("colour", "red"),
            pair("material", "cotton")
        ]
    );
}

#[test]
fn facets_and_across_or_within_and_counts_cover_every_match() {
    let filter = BrowseFilter {
        facets: vec![
            FacetFilter::new("COLOUR", &["Red", "green"]).unwrap(),
            FacetFilter::new("material", &["cotton"]).unwrap(),
        ],
        ..BrowseFilter::default()
    };
    let matching: Vec<Product> = catalog()
        .into_iter()
        .filter(|p| filter.accepts(p))
        .collect();
    assert_eq!(ids(&matching), [1, 3], "red or green, and cotton");
    let browse = Browse::of(matching, &request(filter, BrowseSort::Newest, 1));
    assert_eq!(browse.total, 2);
    assert_eq!(ids(&browse.page.items), [3], "newest first, one per page");
    let counts: Vec<(&str, &str, u64)> = browse
        .facets
        .iter()
        .map(|c| (c.key.name.as_str(), c.key.value.as_str(), c.products))
        .collect();
    assert_eq!(
        counts,
        [
            ("colour", "blue", 1),
            ("colour", "green", 1),
            ("colour", "red", 1),
            ("material", "cotton", 2)
        ],
        "counted over every matching product, not the page"
    );
}

#[test]
fn price_and_stock_filters_use_the_lowest_price_and_any_variant() {
    let eur = |s| Money::parse(s, Currency::EUR).unwrap();
    let filter = BrowseFilter {
        price: PriceRange::new(Some(eur("9.00")), Some(eur("20.00"))).unwrap(),
        in_stock: true,
        ..BrowseFilter::default()
    };
    let matching: Vec<i64> = catalog()
        .iter()
        .filter(|p| filter.accepts(p))
        .map(|p| p.id.get())
        .collect();
    assert_eq!(
        matching,
        [1],
        "from 10.00 with blue in stock; 3 has no stock"
    );
    let usd = PriceRange::new(None, Some(Money::parse("100", Currency::USD).unwrap()))
        .unwrap()
        .unwrap();
    assert!(
        !usd.contains(eur("1.00")),
        "another currency is out of range"
    );
    assert!(matches!(
        PriceRange::new(Some(eur("5.00")), Some(eur("4.00"))),
        Err(BrowseError::PriceRange { .. })
    ));
    assert_eq!(PriceRange::new(None, None), Ok(None));
}

#[test]
fn every_sort_pages_through_every_product_once() {
    for (sort, expected) in [
        (BrowseSort::Newest, [4, 3, 2, 1]),
        (BrowseSort::PriceAsc, [4, 1, 3, 2]),
        (BrowseSort::PriceDesc, [2, 3, 1, 4]),
        (BrowseSort::Name, [3, 2, 1, 4]),
    ] {
        let mut seen = Vec::new();
        let mut req = request(BrowseFilter::default(), sort, 3);
        loop {
            let browse = Browse::of(catalog(), &req);
            seen.extend(ids(&browse.page.items));
            match browse.page.next {
                Some(next) => req.page.after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{sort:?}");
    }
}

#[test]
fn bad_filters_and_queries_are_refused_with_what_is_wrong() {
    assert!(matches!(
        FacetFilter::new("colour", &[] as &[&str]),
        Err(BrowseError::FacetValues { count: 0, .. })
    ));
    assert!(matches!(
        FacetFilter::new("colour", &vec!["x"; 21]),
        Err(BrowseError::FacetValues { count: 21, .. })
    ));
    assert!(matches!(
        FacetFilter::new("col\u{0}our", &["red"]),
        Err(BrowseError::InvalidFacet(_))
    ));
    assert!(matches!(
        FacetFilter::new("colour", &["r".repeat(201)]),
        Err(BrowseError::InvalidFacet(_))
    ));
    let twice = BrowseFilter {
        facets: vec![
            FacetFilter::new("Colour", &["red"]).unwrap(),
            FacetFilter::new("colour", &["blue"]).unwrap(),
        ],
        ..BrowseFilter::default()
    };
    assert_eq!(
        twice.checked(),
        Err(BrowseError::DuplicateFacet("colour".into()))
    );
    let many = BrowseFilter {
        facets: (0..11)
            .map(|i| FacetFilter::new(&format!("f{i}"), &["v"]).unwrap())
            .collect(),
        ..BrowseFilter::default()
    };
    assert!(matches!(
        many.checked(),
        Err(BrowseError::TooManyFacets { count: 11, .. })
    ));
    let mut req = request(BrowseFilter::default(), BrowseSort::Name, 10);
    req.page.after = Some(BrowseCursor::after(&catalog()[0], BrowseSort::Newest));
    assert_eq!(req.clone().checked(), Err(BrowseError::CursorSort));
    for bad in [
        BrowseCursor::Name {
            name: "Tee\u{0}".into(),
            id: ProductId::new(1),
        },
        BrowseCursor::Name {
            name: " Tee".into(),
            id: ProductId::new(1),
        },
        BrowseCursor::Newest {
            created_at: DateTime::<Utc>::MAX_UTC,
            id: ProductId::new(1),
        },
    ] {
        let sort = if matches!(bad, BrowseCursor::Name { .. }) {
            BrowseSort::Name
        } else {
            BrowseSort::Newest
        };
        req.sort = sort;
        req.page.after = Some(bad);
        assert_eq!(req.clone().checked(), Err(BrowseError::MalformedCursor));
    }

    assert_eq!(SearchQuery::parse(" -- ,, "), Err(BrowseError::EmptyQuery));
    assert!(matches!(
        SearchQuery::parse(&"a ".repeat(9)),
        Err(BrowseError::QueryTooLong { .. })
    ));
    assert!(matches!(
        SearchQuery::parse(&"a".repeat(201)),
        Err(BrowseError::QueryTooLong { .. })
    ));
    let q = SearchQuery::parse("Soft  COTTON'; DROP TABLE products; --").unwrap();
    assert_eq!(q.words(), ["soft", "cotton", "drop", "table", "products"]);
}

#[test]
fn a_search_holds_every_word_and_the_last_as_a_prefix() {
    let q = SearchQuery::parse("cotton shi").unwrap();
    let text = words("A soft cotton shirt");
    assert!(q.matches_words(&text));
    assert!(
        !SearchQuery::parse("shi cotton")
            .unwrap()
            .matches_words(&text)
    );
    assert!(!SearchQuery::parse("linen").unwrap().matches_words(&text));
}

#[test]
fn search_languages_are_configuration_names() {
    assert_eq!(
        SearchLanguage::parse(" german ").unwrap().as_str(),
        "german"
    );
    assert_eq!(SearchLanguage::default().as_str(), "english");
    for bad in ["", "English", "pg_catalog.english", "a;b", &"x".repeat(64)] {
        assert!(SearchLanguage::parse(bad).is_err(), "{bad:?}");
    }
}

/// Random products in category 1: name, lowest price and stock, colours.
fn random_catalog() -> impl Strategy<Value = Vec<Product>> {
    let colours = prop::sample::subsequence(vec!["Red", "Blue", "Green"], 1..=3);
    prop::collection::vec(
        (
            prop::sample::select(vec!["Tee", "Polo", "apron", "Henley", "Tee"]),
            colours,
            1u32..30,
            0u32..2,
            prop::option::of(prop::sample::select(vec!["Cotton", "Linen"])),
        ),
        0..25,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (name, colours, price, stock, material))| {
                let price = format!("{price}.00");
                let variants: Vec<(&str, &str, u32)> = colours
                    .iter()
                    .map(|c| (*c, price.as_str(), stock))
                    .collect();
                product(i as i64 + 1, name, &variants, material)
            })
            .collect()
    })
}

proptest! {
    /// Whatever the sort and page size, following the cursors lists every matching
    /// product exactly once, in the sort's order.
    #[test]
    fn keyset_pages_list_each_product_once_in_order(
        products in random_catalog(),
        sort in prop::sample::select(BrowseSort::ALL.to_vec()),
        limit in 1u32..6,
    ) {
        let mut expected = products.clone();
        expected.sort_by(|a, b| BrowseCursor::order(sort, a, b));
        let mut req = request(BrowseFilter::default(), sort, limit);
        let mut seen = Vec::new();
        for _ in 0..=products.len() {
            let browse = Browse::of(products.clone(), &req);
            prop_assert!(browse.page.items.len() <= limit as usize);
            seen.extend(ids(&browse.page.items));
            match browse.page.next {
                Some(next) => req.page.after = Some(next),
                None => break,
            }
        }
        prop_assert_eq!(seen, ids(&expected));
    }
}
