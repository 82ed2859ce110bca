//! Currencies and money from arbitrary text, read as lines: a currency code, two
//! amounts, a quantity and comma-separated allocation weights (the seeds show the
//! shape). Parsing never panics; a currency code prints back to itself; an amount
//! keeps its currency's minor unit and prints back to itself; arithmetic and
//! allocation either are exact or return a typed error, never a panic and never a
//! silently rounded amount.
#![no_main]

use ecom_domain::prelude::*;
use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;

fuzz_target!(|text: &str| {
    let mut lines = text.split('\n');
    let mut line = || lines.next().unwrap_or("");
    let (code, a, b) = (line(), line(), line());
    let quantity = line().trim().parse::<u32>().unwrap_or(1);
    let weights: Vec<u64> = line()
        .split(',')
        .filter_map(|w| w.trim().parse().ok())
        .collect();
    let parsed = code.parse::<Currency>().ok();
    if let Some(currency) = parsed {
        assert_eq!(currency.code().parse::<Currency>().ok(), Some(currency));
        assert_eq!(
            Currency::from_code(&currency.to_string()).ok(),
            Some(currency)
        );
    }
    // One currency of each minor unit (0, 2, 3), and the one parsed, if any.
    for currency in [Currency::JPY, Currency::EUR, Currency::KWD]
        .into_iter()
        .chain(parsed)
    {
        let Ok(x) = Money::parse(a, currency) else {
            continue;
        };
        assert_eq!(x.currency(), currency);
        assert_eq!(x.amount().scale(), currency.minor_units());
        assert!(x.amount().abs() < ecom_domain::money::MAX_AMOUNT);
        assert_eq!(
            Money::parse(&x.amount().to_string(), currency).ok(),
            Some(x)
        );
        assert_eq!(x.to_string(), format!("{} {}", x.amount(), currency));
        if let Ok(minor) = x.to_minor() {
            assert_eq!(Money::from_minor(minor, currency), x);
        }
        match x.times(quantity) {
            Ok(product) => assert_eq!(product.amount(), x.amount() * Decimal::from(quantity)),
            Err(err) => assert_eq!(err, MoneyError::Overflow),
        }
        if let Ok(y) = Money::parse(b, currency) {
            match x.checked_add(y) {
                Ok(sum) => {
                    assert_eq!(sum.checked_sub(y).ok(), Some(x));
                    assert_eq!(y.checked_add(x).ok(), Some(sum));
                }
                Err(err) => assert_eq!(err, MoneyError::Overflow),
            }
            let ordering = x.try_cmp(&y).expect("same currency");
            if let Ok(difference) = x.checked_sub(y) {
                assert_eq!(difference.is_negative(), ordering.is_lt());
                assert_eq!(difference.is_zero(), ordering.is_eq());
            }
        }
        if let Ok(parts) = x.allocate(&weights) {
            assert_eq!(parts.len(), weights.len());
            assert_eq!(
                Money::sum(currency, &parts).ok(),
                Some(x),
                "allocation lost a minor unit"
            );
            for (part, weight) in parts.iter().zip(&weights) {
                if *weight == 0 {
                    assert!(part.is_zero());
                }
            }
        }
    }
});
