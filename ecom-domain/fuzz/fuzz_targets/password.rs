//! Passwords and stored password hashes from arbitrary text: never a panic. A
//! password keeps its text exactly within 8 to 256 characters; a stored hash is
//! accepted only as an argon2id PHC string, kept as given. Nothing is hashed or
//! verified here: a PHC string names its own cost, and the store's own hashes are
//! trusted input.
#![no_main]

use ecom_domain::password::{HashCost, Password, PasswordHash};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(password) = Password::new(text) {
        assert_eq!(password.expose(), text);
        assert!((Password::MIN_LEN..=Password::MAX_LEN).contains(&text.chars().count()));
    }
    if let Ok(hash) = PasswordHash::parse(text) {
        assert_eq!(hash.as_str(), text);
        assert!(text.starts_with("$argon2id"), "{text:?}");
        assert!(PasswordHash::parse(hash.as_str()).is_ok());
        let _ = hash.needs_rehash(HashCost::OWASP);
    }
});
