//! Every free-text value (person, product and category names, descriptions,
//! provider names and references, payment reasons) from arbitrary text: never a
//! panic; what parses is trimmed, within its length, free of the control characters
//! it refuses (PostgreSQL text cannot hold a NUL), and prints back to itself.
#![no_main]

use ecom_domain::values::{
    CategoryName, Description, PersonName, ProductName, ProviderName, ProviderRef, Reason,
};
use libfuzzer_sys::fuzz_target;

macro_rules! single_line {
    ($ty:ty, $text:expr) => {
        if let Ok(value) = <$ty>::parse($text) {
            let s = value.as_str();
            assert_eq!(s, s.trim(), "{} is not trimmed", stringify!($ty));
            assert!(s.chars().count() <= <$ty>::MAX_LEN);
            assert!(
                !s.chars().any(char::is_control),
                "{}: {s:?}",
                stringify!($ty)
            );
            let again = <$ty>::parse(&value.to_string())
                .unwrap_or_else(|e| panic!("{} re-parse failed: {e}", stringify!($ty)));
            assert_eq!(again, value);
        }
    };
}

fuzz_target!(|text: &str| {
    single_line!(PersonName, text);
    single_line!(ProductName, text);
    single_line!(CategoryName, text);
    single_line!(ProviderName, text);
    single_line!(ProviderRef, text);
    single_line!(Reason, text);
    if let Ok(description) = Description::parse(text) {
        let s = description.as_str();
        assert_eq!(s, s.trim());
        assert!(s.chars().count() <= Description::MAX_LEN);
        assert!(
            !s.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        );
        assert_eq!(Description::parse(s).ok(), Some(description.clone()));
    }
});
