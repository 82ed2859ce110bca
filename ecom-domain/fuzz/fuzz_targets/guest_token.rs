//! Guest tokens from arbitrary text: never a panic; what parses is 16 to 64 of
//! `A-Z a-z 0-9 - _`, unchanged, and parses again to itself.
#![no_main]

use ecom_domain::cart::GuestToken;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(token) = GuestToken::parse(text) else {
        return;
    };
    let s = token.as_str();
    assert_eq!(s, text, "a token is taken exactly as given");
    assert!((16..=64).contains(&s.len()));
    assert!(
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    assert_eq!(GuestToken::parse(s).ok(), Some(token.clone()));
    assert_eq!(String::from(token), text);
});
