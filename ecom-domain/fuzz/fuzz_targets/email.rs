//! E-mail addresses from arbitrary text: never a panic; what parses prints back to
//! exactly itself, and its normalized (lower-case) form is an equal address whose
//! normalized form is itself.
#![no_main]

use ecom_domain::values::Email;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(email) = Email::parse(text) else {
        return;
    };
    let again = Email::parse(&email.to_string()).expect("a parsed address parses again");
    // Email's == ignores case, so compare the text too.
    assert_eq!(again.as_str(), email.as_str());
    let normalized = Email::parse(&email.normalized()).expect("the normalized form parses");
    assert_eq!(normalized, email);
    assert_eq!(normalized.as_str(), email.normalized());
    assert_eq!(normalized.normalized(), email.normalized());
});
