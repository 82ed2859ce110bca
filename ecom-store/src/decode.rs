//! `numeric` and `timestamptz` columns decoded straight from PostgreSQL's binary
//! format, for the row structs (`#[diesel(deserialize_as = ...)]`).
//!
//! Every row the store reads is decoded and then validated into domain types, so the
//! decoding is much of the client's work for a page of products. rust_decimal's
//! diesel decoding goes through diesel's `PgNumeric` (a `Vec` of digit groups) and a
//! general conversion: about 2,000 instructions per value, a seventh of the client's
//! instructions for a page. Prices and amounts are short (a few digit groups, two or
//! three decimals), and for them [`decode_numeric`] builds the `Decimal` from one
//! integer in a tenth of that. Timestamps are a count of microseconds. Whatever the
//! fast paths do not cover (NaN, infinities, values beyond 96 bits or 28 decimals)
//! takes the general path, which returns the same value or the same error.

use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::{Jsonb, Numeric, Timestamptz};
use rust_decimal::Decimal;

/// A `numeric` read as a [`Decimal`]; in row structs, a field
/// `#[diesel(deserialize_as = PgDecimal)] price: Decimal`.
#[derive(Debug, Clone, Copy, PartialEq, FromSqlRow)]
pub(crate) struct PgDecimal(Decimal);

impl From<PgDecimal> for Decimal {
    fn from(value: PgDecimal) -> Self {
        value.0
    }
}

impl FromSql<Numeric, Pg> for PgDecimal {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        match decode_numeric(value.as_bytes()) {
            Some(decimal) => Ok(PgDecimal(decimal)),
            None => <Decimal as FromSql<Numeric, Pg>>::from_sql(value).map(PgDecimal),
        }
    }
}

/// The binary `numeric` (`ndigits`, `weight`, `sign`, `dscale`, then `ndigits`
/// base-10000 digit groups, all big-endian 16-bit) as a `Decimal` of scale `dscale`,
/// or `None` when it is not a plain finite value that fits.
fn decode_numeric(bytes: &[u8]) -> Option<Decimal> {
    let word = |i: usize| {
        let pair = bytes.get(2 * i..2 * i + 2)?;
        Some(i16::from_be_bytes([pair[0], pair[1]]))
    };
    let ndigits = usize::try_from(word(0)?).ok()?;
    let weight = i32::from(word(1)?);
    let negative = match word(2)? as u16 {
        0x0000 => false,
        0x4000 => true,
        _ => return None,
    };
    let scale = u32::try_from(word(3)?).ok().filter(|&s| s <= 28)?;
    if bytes.len() != 8 + 2 * ndigits {
        return None;
    }
    let mut groups: i128 = 0;
    for i in 0..ndigits {
        let group = word(4 + i)?;
        if !(0..10_000).contains(&group) {
            return None;
        }
        groups = groups.checked_mul(10_000)?.checked_add(i128::from(group))?;
    }
    // value = groups × 10000^(weight + 1 − ndigits); as a mantissa at `scale`:
    // groups × 10^(4 × (weight + 1 − ndigits) + scale).
    let shift = 4 * (weight + 1 - i32::try_from(ndigits).ok()?) + i32::try_from(scale).ok()?;
    let mantissa = if shift >= 0 {
        groups.checked_mul(10i128.checked_pow(shift.unsigned_abs())?)?
    } else {
        // The groups past `scale` are zeros (PostgreSQL rounds to dscale); if not,
        // the general path decides.
        let divisor = 10i128.checked_pow(shift.unsigned_abs())?;
        (groups % divisor == 0).then_some(groups / divisor)?
    };
    let mantissa = if negative { -mantissa } else { mantissa };
    Decimal::try_from_i128_with_scale(mantissa, scale).ok()
}

/// A `timestamptz` read as a `DateTime<Utc>`.
#[derive(Debug, Clone, Copy, PartialEq, FromSqlRow)]
pub(crate) struct PgTimestamp(DateTime<Utc>);

impl From<PgTimestamp> for DateTime<Utc> {
    fn from(value: PgTimestamp) -> Self {
        value.0
    }
}

/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01 00:00:00 UTC.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl FromSql<Timestamptz, Pg> for PgTimestamp {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let fast = <[u8; 8]>::try_from(value.as_bytes())
            .ok()
            .and_then(|bytes| i64::from_be_bytes(bytes).checked_add(PG_EPOCH_MICROS))
            .and_then(DateTime::from_timestamp_micros);
        match fast {
            Some(at) => Ok(PgTimestamp(at)),
            // Out of chrono's range (e.g. 'infinity'): diesel's error.
            None => <DateTime<Utc> as FromSql<Timestamptz, Pg>>::from_sql(value).map(PgTimestamp),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use diesel::pg::data_types::PgNumeric;
    use proptest::prelude::*;

    use super::*;

    /// PostgreSQL's binary form of `numeric`, as diesel sends it.
    fn encode(numeric: &PgNumeric) -> Vec<u8> {
        let (sign, weight, scale, digits): (u16, i16, u16, &[i16]) = match numeric {
            PgNumeric::Positive {
                weight,
                scale,
                digits,
            } => (0, *weight, *scale, digits),
            PgNumeric::Negative {
                weight,
                scale,
                digits,
            } => (0x4000, *weight, *scale, digits),
            PgNumeric::NaN => (0xC000, 0, 0, &[]),
        };
        let mut out = Vec::new();
        let ndigits = i16::try_from(digits.len()).expect("few digit groups");
        out.extend(ndigits.to_be_bytes());
        out.extend(weight.to_be_bytes());
        out.extend(sign.to_be_bytes());
        out.extend(scale.to_be_bytes());
        for digit in digits {
            out.extend(digit.to_be_bytes());
        }
        out
    }

    /// The decimal text of `groups` (base 10000, the first of weight `weight`).
    fn spelled(negative: bool, weight: i16, groups: &[i16]) -> String {
        let (weight, len) = (i32::from(weight), groups.len() as i32);
        let (low, high) = ((weight - len + 1).min(0), weight.max(0));
        let mut text = String::from(if negative { "-" } else { "" });
        for power in (low..=high).rev() {
            let group = usize::try_from(weight - power)
                .ok()
                .and_then(|i| groups.get(i))
                .copied()
                .unwrap_or(0);
            text.push_str(&format!("{group:04}"));
            if power == 0 && low < 0 {
                text.push('.');
            }
        }
        text
    }

    /// rust_decimal's reading; `None` for its errors and for the inputs on which it
    /// panics (digit groups PostgreSQL never sends, e.g. a zero with a weight).
    fn reference(bytes: &[u8]) -> Option<Decimal> {
        let numeric = decode_reference(bytes)?;
        std::panic::catch_unwind(|| Decimal::try_from(&numeric).ok())
            .ok()
            .flatten()
    }

    /// Parses the binary form back into diesel's `PgNumeric`, as diesel does.
    fn decode_reference(bytes: &[u8]) -> Option<PgNumeric> {
        let word = |i: usize| {
            Some(i16::from_be_bytes([
                *bytes.get(2 * i)?,
                *bytes.get(2 * i + 1)?,
            ]))
        };
        let ndigits = usize::try_from(word(0)?).ok()?;
        let (weight, sign, scale) = (word(1)?, word(2)? as u16, word(3)? as u16);
        let digits = (0..ndigits)
            .map(|i| word(4 + i))
            .collect::<Option<Vec<_>>>()?;
        match sign {
            0 => Some(PgNumeric::Positive {
                weight,
                scale,
                digits,
            }),
            0x4000 => Some(PgNumeric::Negative {
                weight,
                scale,
                digits,
            }),
            _ => Some(PgNumeric::NaN),
        }
    }

    #[test]
    fn prices_decode_exactly_with_their_scale() {
        for text in [
            "0",
            "42.99",
            "-42.99",
            "5.99",
            "100000000",
            "0.001",
            "1234.5678",
            "10000",
            "999999999999999.999",
            "-0.01",
        ] {
            let value = Decimal::from_str(text).expect("a decimal");
            let decoded = decode_numeric(&encode(&PgNumeric::from(value))).expect("fast path");
            assert_eq!(decoded, value, "{text}");
            assert_eq!(decoded.scale(), value.scale(), "{text}");
        }
    }

    #[test]
    fn zero_keeps_its_scale() {
        // What PostgreSQL sends for 0.00: no digit groups, dscale 2.
        let zero = decode_numeric(&[0, 0, 0, 0, 0, 0, 0, 2]).expect("fast path");
        assert_eq!(zero, Decimal::ZERO);
        assert_eq!(zero.scale(), 2);
    }

    #[test]
    fn what_the_fast_path_declines_goes_the_general_way() {
        assert_eq!(decode_numeric(&encode(&PgNumeric::NaN)), None);
        // Truncated input.
        assert_eq!(decode_numeric(&[0, 1, 0, 0, 0, 0, 0, 2]), None);
        // A digit group out of range.
        assert_eq!(
            decode_numeric(&encode(&PgNumeric::Positive {
                weight: 0,
                scale: 0,
                digits: vec![10_000],
            })),
            None
        );
        // 10^40: beyond 96 bits.
        let huge = PgNumeric::Positive {
            weight: 10,
            scale: 0,
            digits: vec![1],
        };
        assert_eq!(decode_numeric(&encode(&huge)), None);
        assert!(reference(&encode(&huge)).is_none());
    }

    /// What the server itself sends, for values of every shape a column may hold:
    /// both decoders read the same.
    #[test]
    fn reads_what_postgresql_sends_like_rust_decimal() {
        use diesel::prelude::*;
        use diesel::sql_types::Numeric;

        let db = crate::testing::TestDb::new();
        let mut conn = db.connect();
        let values: Vec<(Decimal, PgDecimal)> = diesel::dsl::sql::<(Numeric, Numeric)>(
            "SELECT v, v FROM (SELECT round(((g * 7919) % 100003 - 50000)::numeric \
             * 10::numeric ^ (g % 30 - 10), g % 7) AS v \
             FROM generate_series(0, 2000) g \
             UNION ALL VALUES (0.00), (-0.001), (100000000), (999999999999999.999), \
             (0.0000000000000000000000000001), (79228162514264337593543950335)) t",
        )
        .load(&mut conn)
        .expect("numerics");
        assert_eq!(values.len(), 2007);
        for (general, fast) in values {
            assert_eq!(fast.0, general);
            assert_eq!(fast.0.scale(), general.scale(), "{general}");
        }
    }

    /// Timestamps across chrono's range, as the server sends them.
    #[test]
    fn reads_timestamps_like_diesel() {
        use diesel::prelude::*;
        use diesel::sql_types::Timestamptz;

        let db = crate::testing::TestDb::new();
        let mut conn = db.connect();
        let values: Vec<(DateTime<Utc>, PgTimestamp)> =
            diesel::dsl::sql::<(Timestamptz, Timestamptz)>(
                "SELECT t, t FROM (SELECT timestamptz '2000-01-01 00:00:00+00' \
                 + ((g * 7919) % 100003 - 50000) * interval '1 day 1 second 1 microsecond' AS t \
                 FROM generate_series(0, 2000) g \
                 UNION ALL VALUES (now()), (timestamptz '1970-01-01 00:00:00+00'), \
                 (timestamptz '4713-11-24 00:00:00+00 BC'), (timestamptz '262000-12-31 23:59:59.999999+00')) v",
            )
            .load(&mut conn)
            .expect("timestamps");
        assert_eq!(values.len(), 2005);
        for (general, fast) in values {
            assert_eq!(fast.0, general);
        }
        // Beyond chrono's years: the same error as diesel's.
        for beyond in ["infinity", "-infinity", "294276-12-31 23:59:59+00"] {
            let query = format!("SELECT timestamptz '{beyond}'");
            let fast = diesel::dsl::sql::<Timestamptz>(&query).get_result::<PgTimestamp>(&mut conn);
            let general =
                diesel::dsl::sql::<Timestamptz>(&query).get_result::<DateTime<Utc>>(&mut conn);
            assert_eq!(
                fast.map_err(|e| e.to_string()),
                general.map(PgTimestamp).map_err(|e| e.to_string())
            );
        }
    }

    proptest! {
        /// Whatever rust_decimal's path reads, the fast path reads the same value at
        /// the same scale, or leaves it to that path.
        #[test]
        fn agrees_with_rust_decimal(mantissa in any::<i64>(), scale in 0u32..=12) {
            let value = Decimal::new(mantissa, scale);
            let bytes = encode(&PgNumeric::from(value));
            let fast = decode_numeric(&bytes);
            prop_assert_eq!(fast, Some(value));
            if mantissa != 0 {
                // (rust_decimal encodes every zero at scale 0.)
                prop_assert_eq!(fast.map(|d| d.scale()), Some(scale));
            }
            prop_assert_eq!(reference(&bytes), Some(value));
        }

        /// Arbitrary digit groups: never a panic, and never a different answer.
        #[test]
        fn never_disagrees_on_arbitrary_groups(
            weight in -8i16..8,
            scale in 0u16..40,
            negative: bool,
            digits in proptest::collection::vec(0i16..10_000, 0..8),
        ) {
            let groups = digits.clone();
            let numeric = if negative {
                PgNumeric::Negative { weight, scale, digits }
            } else {
                PgNumeric::Positive { weight, scale, digits }
            };
            let bytes = encode(&numeric);
            let fast = decode_numeric(&bytes);
            if let (Some(fast), Some(general)) = (fast, reference(&bytes)) {
                prop_assert_eq!(fast, general);
            }
            // And what it reads is the value the groups spell.
            if let Some(fast) = fast {
                let exact = Decimal::from_str(&spelled(negative, weight, &groups));
                prop_assert_eq!(Ok(fast), exact);
            }
        }
    }
}

/// A `jsonb` value as its JSON text: the binary format is a version byte (1) and the
/// text, which is kept as it is and parsed once, straight into its domain type
/// ([`JsonText::parse`]). Diesel's own decoding builds a `serde_json::Value` first,
/// for every row, which a page of products repeated hundreds of times.
#[derive(Debug, Clone, PartialEq, Eq, FromSqlRow)]
pub(crate) struct JsonText(String);

impl JsonText {
    /// The value parsed into `T`; `what` names it when it does not parse.
    pub(crate) fn parse<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
    ) -> Result<T, crate::StoreError> {
        serde_json::from_str(&self.0).map_err(|e| crate::rows::corrupt(what, e))
    }
}

impl FromSql<Jsonb, Pg> for JsonText {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        match value.as_bytes().split_first() {
            Some((1, text)) => Ok(JsonText(String::from_utf8(text.to_vec())?)),
            _ => Err("unsupported jsonb encoding version".into()),
        }
    }
}
