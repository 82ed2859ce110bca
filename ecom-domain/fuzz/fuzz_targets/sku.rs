//! SKUs from arbitrary text: never a panic; what parses is upper case within the
//! database's format and prints back to exactly itself.
#![no_main]

use ecom_domain::values::Sku;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(sku) = Sku::parse(text) else {
        return;
    };
    let s = sku.as_str();
    // products_sku_format: ^[A-Z0-9][A-Z0-9-]{0,31}$
    assert!((1..=Sku::MAX_LEN).contains(&s.len()), "{s:?}");
    assert!(s.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit()));
    assert!(
        s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
    );
    let again = Sku::parse(&sku.to_string()).expect("a parsed SKU parses again");
    assert_eq!(again.as_str(), s);
});
