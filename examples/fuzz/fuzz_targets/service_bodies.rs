//! The example service's JSON request bodies on arbitrary bytes, decoded and turned
//! into domain values exactly as the handlers do: never a panic, and every refusal
//! is a 4xx with a code.
#![no_main]

use ecom_examples::{BodyKind, decode_body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let kind = BodyKind::ALL[usize::from(selector) % BodyKind::ALL.len()];
    if let Err(err) = decode_body(kind, body) {
        assert!(err.status().is_client_error(), "{kind:?}: {}", err.status());
        assert!(!err.code().is_empty());
    }
});
