//! Money and currencies on arbitrary input: parsing never panics, what parses keeps
//! its currency's minor unit and prints back to itself, and arithmetic and
//! allocation either succeed exactly or return a typed error.
#![no_main]

use ecom_domain::prelude::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str, u32, Vec<u64>)| {
    let (code, a, b, quantity, weights) = input;
    let _ = code.parse::<Currency>();
    for currency in [Currency::EUR, Currency::JPY, Currency::KWD] {
        let Ok(x) = Money::parse(a, currency) else {
            continue;
        };
        assert_eq!(x.currency(), currency);
        assert!(x.amount().scale() <= currency.minor_units());
        let printed = x.amount().to_string();
        assert_eq!(Money::parse(&printed, currency).ok(), Some(x));
        let _ = x.times(quantity);
        if let Ok(y) = Money::parse(b, currency) {
            if let Ok(sum) = x.checked_add(y) {
                assert_eq!(sum.checked_sub(y).ok(), Some(x));
            }
        }
        if let Ok(parts) = x.allocate(&weights) {
            assert_eq!(parts.len(), weights.len());
            let total = parts
                .iter()
                .try_fold(Money::zero(currency), |acc, p| acc.checked_add(*p));
            assert_eq!(total.ok(), Some(x), "allocation must not lose a minor unit");
        }
    }
});
