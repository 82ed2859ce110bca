//! Slugs from arbitrary text: never a panic; what parses matches the database's
//! format and prints back to exactly itself.
#![no_main]

use ecom_domain::values::Slug;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(slug) = Slug::parse(text) else {
        return;
    };
    let s = slug.as_str();
    // categories_slug_format: ^[a-z0-9]+(-[a-z0-9]+)*$
    assert!((1..=Slug::MAX_LEN).contains(&s.len()), "{s:?}");
    assert!(s.split('-').all(|w| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    }));
    let again = Slug::parse(&slug.to_string()).expect("a parsed slug parses again");
    assert_eq!(again, slug);
});
