//! Postal addresses and country codes from arbitrary text, read as lines: recipient,
//! line 1, line 2, city, region, postal code, country (the seeds show the shape).
//! Never a panic; a parsed address gives back raw fields that parse to itself, and
//! a country code prints back to itself.
#![no_main]

use ecom_domain::prelude::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    |fields: (String, String, String, String, String, String, String)| {
        let (recipient, line1, line2, city, region, postal_code, country) = fields;
        if let Ok(code) = CountryCode::parse(&country) {
            assert_eq!(code.as_str().len(), 2);
            assert!(code.as_str().chars().all(|c| c.is_ascii_uppercase()));
            assert_eq!(CountryCode::parse(&code.to_string()).ok(), Some(code));
            assert!(CountryCode::all().any(|known| known == code));
        }
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
            let again =
                PostalAddress::parse(&address.to_raw()).expect("a parsed address parses again");
            assert_eq!(again, address);
            assert_eq!(again.to_raw(), address.to_raw());
        }
    }
);
