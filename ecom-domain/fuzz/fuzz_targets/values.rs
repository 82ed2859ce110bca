//! Every single-value parser of ecom-domain on arbitrary text: never a panic, and
//! what parses is normalized: parsing its own text again gives the same value.
#![no_main]

use ecom_domain::prelude::*;
use libfuzzer_sys::fuzz_target;

macro_rules! round_trip {
    ($ty:ty, $text:expr) => {
        if let Ok(value) = <$ty>::parse($text) {
            let again = <$ty>::parse(value.as_str())
                .unwrap_or_else(|e| panic!("{} re-parse failed: {e}", stringify!($ty)));
            assert_eq!(value, again, "{} is not normalized", stringify!($ty));
        }
    };
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    round_trip!(Email, text);
    round_trip!(Sku, text);
    round_trip!(Slug, text);
    round_trip!(CountryCode, text);
    round_trip!(PersonName, text);
    round_trip!(ProductName, text);
    round_trip!(CategoryName, text);
    round_trip!(Description, text);
    round_trip!(IdempotencyKey, text);
    round_trip!(ProviderName, text);
    round_trip!(ProviderRef, text);
    round_trip!(GuestToken, text);
    if let Ok(n) = text.trim().parse::<i64>()
        && let Ok(q) = Quantity::new(n)
    {
        assert_eq!(i64::from(q.get()), n);
    }
    let _ = Password::new(text);
});
