//! Postal addresses from arbitrary fields: never a panic, and a parsed address
//! parses again from its own fields to itself.
#![no_main]

use ecom_domain::prelude::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|fields: (String, String, String, String, String, String, String)| {
    let (recipient, line1, line2, city, region, postal_code, country) = fields;
    let raw = RawAddress {
        recipient,
        line1,
        line2,
        city,
        region,
        postal_code,
        country,
    };
    if let Ok(address) = PostalAddress::parse(&raw) {
        let again = PostalAddress::parse(&RawAddress {
            recipient: address.recipient().as_str().to_owned(),
            line1: address.line1().to_owned(),
            line2: address.line2().unwrap_or_default().to_owned(),
            city: address.city().to_owned(),
            region: address.region().unwrap_or_default().to_owned(),
            postal_code: address.postal_code().to_owned(),
            country: address.country().as_str().to_owned(),
        })
        .expect("a parsed address parses again");
        assert_eq!(address, again);
    }
});
