//! Quantities from arbitrary text, read as one or two lines of whole numbers (as JSON
//! bodies carry them, any i64): never a panic; what is accepted lies in 1..=999 and
//! keeps its value, and a sum is either in range or refused.
#![no_main]

use ecom_domain::values::Quantity;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let mut numbers = text.split('\n').map(|n| n.trim().parse::<i64>().ok());
    let Some(Some(a)) = numbers.next() else {
        return;
    };
    let b = numbers.next().flatten().unwrap_or(1);
    let parsed = [a, b].map(Quantity::new);
    for (raw, q) in [a, b].iter().zip(&parsed) {
        assert_eq!(q.is_ok(), (1..=i64::from(Quantity::MAX)).contains(raw));
        if let Ok(q) = q {
            assert_eq!(i64::from(q.get()), *raw);
            assert_eq!(
                Quantity::new(q.to_string().parse().expect("digits")).ok(),
                Some(*q)
            );
        }
    }
    if let [Ok(x), Ok(y)] = parsed {
        let sum = i64::from(x.get()) + i64::from(y.get());
        match x.checked_add(y) {
            Ok(total) => assert_eq!(i64::from(total.get()), sum),
            Err(_) => assert!(sum > i64::from(Quantity::MAX)),
        }
    }
});
