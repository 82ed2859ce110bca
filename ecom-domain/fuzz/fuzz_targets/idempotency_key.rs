//! Idempotency keys from arbitrary text: never a panic; what parses is 1 to 128
//! printable characters and prints back to itself.
#![no_main]

use ecom_domain::values::IdempotencyKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(key) = IdempotencyKey::parse(text) else {
        return;
    };
    let s = key.as_str();
    assert!((1..=IdempotencyKey::MAX_LEN).contains(&s.chars().count()));
    assert!(!s.chars().any(char::is_control));
    assert_eq!(IdempotencyKey::parse(&key.to_string()).ok(), Some(key));
});
