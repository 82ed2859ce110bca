//! Barcodes: GS1 Global Trade Item Numbers, check digit verified.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a barcode is not a GTIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtinError {
    /// Not 8, 12, 13 or 14 digits long.
    #[error("a GTIN has 8, 12, 13 or 14 digits, not {len}")]
    Length {
        /// The number of characters given (after trimming).
        len: usize,
    },
    /// Something other than a digit `0-9`, spaces and hyphens included.
    #[error("a GTIN is digits only: {found:?} at position {position}")]
    NonDigit {
        /// Its position, counted in characters from 0 (after trimming).
        position: usize,
        /// The character.
        found: char,
    },
    /// The last digit is not the GS1 check digit of the others: a mistyped or
    /// misread number.
    #[error("the GTIN's check digit is {found}, the other digits make it {expected}")]
    CheckDigit {
        /// The check digit the other digits give.
        expected: u8,
        /// The last digit given.
        found: u8,
    },
}

/// A product barcode: a GS1 GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN-13) or GTIN-14,
/// its check digit verified.
///
/// Every GTIN is kept in its **14-digit form**, zero-padded on the left
/// (`4006381333931` becomes `04006381333931`): GS1 defines a GTIN's identity in that
/// form, so the same item entered as EAN-13 or as GTIN-14 is one value, and a unique
/// index over the stored text catches it.
///
/// ```
/// use ecom_domain::values::{Gtin, GtinError};
///
/// let ean = Gtin::parse(" 4006381333931 ").unwrap();
/// assert_eq!(ean.as_str(), "04006381333931");
/// assert_eq!(ean, Gtin::parse("04006381333931").unwrap());
/// assert_eq!(
///     Gtin::parse("4006381333932"),
///     Err(GtinError::CheckDigit { expected: 1, found: 2 })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Gtin(String);

impl Gtin {
    /// The length of the stored form.
    pub const LEN: usize = 14;

    /// The lengths a GTIN is written in.
    pub const LENGTHS: [usize; 4] = [8, 12, 13, 14];

    /// Trims, checks the digits, their count and the check digit, and pads to 14
    /// digits. Spaces or hyphens inside the number are refused, not dropped: a
    /// scanner never produces them, so they mean the number was typed by hand.
    pub fn parse(raw: &str) -> Result<Self, GtinError> {
        let value = raw.trim();
        if let Some((position, found)) =
            value.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(GtinError::NonDigit { position, found });
        }
        // Only ASCII digits are left: bytes are characters.
        let len = value.len();
        if !Self::LENGTHS.contains(&len) {
            return Err(GtinError::Length { len });
        }
        let padded = format!("{value:0>14}");
        let digits = padded.as_bytes();
        let expected = check_digit(&digits[..Self::LEN - 1]);
        let found = digits[Self::LEN - 1] - b'0';
        if expected != found {
            return Err(GtinError::CheckDigit { expected, found });
        }
        Ok(Self(padded))
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The GS1 check digit of `digits` (ASCII `0-9`): from the right, weights 3, 1,
/// 3, 1...; the digit that brings the sum to a multiple of 10. Leading zeros add
/// nothing, so every GTIN length shares this one rule.
fn check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    // `sum % 10` is below 10, so the result fits in a u8.
    ((10 - sum % 10) % 10) as u8
}

impl AsRef<str> for Gtin {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// Validates like [`Gtin::parse`].
impl TryFrom<String> for Gtin {
    type Error = GtinError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Gtin> for String {
    fn from(value: Gtin) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_gtin_length_is_checked_and_padded_to_14() {
        // Published examples: an EAN-8, a UPC-A, an EAN-13 and a GTIN-14 case code.
        for (raw, stored) in [
            ("96385074", "00000096385074"),
            ("036000291452", "00036000291452"),
            ("4006381333931", "04006381333931"),
            ("10012345678902", "10012345678902"),
        ] {
            assert_eq!(Gtin::parse(raw).unwrap().as_str(), stored, "{raw}");
            assert_eq!(Gtin::parse(stored).unwrap().as_str(), stored, "{stored}");
        }
    }

    #[test]
    fn a_wrong_check_digit_says_which_one_was_expected() {
        assert_eq!(
            Gtin::parse("036000291453"),
            Err(GtinError::CheckDigit {
                expected: 2,
                found: 3
            })
        );
        assert_eq!(
            Gtin::parse("96385075"),
            Err(GtinError::CheckDigit {
                expected: 4,
                found: 5
            })
        );
    }

    #[test]
    fn lengths_and_characters_are_refused_by_name() {
        assert_eq!(Gtin::parse(""), Err(GtinError::Length { len: 0 }));
        assert_eq!(Gtin::parse("   "), Err(GtinError::Length { len: 0 }));
        assert_eq!(Gtin::parse("123456789"), Err(GtinError::Length { len: 9 }));
        assert_eq!(
            Gtin::parse(&"0".repeat(15)),
            Err(GtinError::Length { len: 15 })
        );
        assert_eq!(
            Gtin::parse("4006381 333931"),
            Err(GtinError::NonDigit {
                position: 7,
                found: ' '
            })
        );
        assert_eq!(
            Gtin::parse("400-6381333931"),
            Err(GtinError::NonDigit {
                position: 3,
                found: '-'
            })
        );
        // Other scripts' digits are digits to Unicode, not to a scanner.
        assert_eq!(
            Gtin::parse("٤٠٠٦٣٨١٣٣٣٩٣١"),
            Err(GtinError::NonDigit {
                position: 0,
                found: '٤'
            })
        );
    }

    #[test]
    fn serde_keeps_the_14_digit_form_and_refuses_a_bad_one() {
        let gtin = Gtin::parse("4006381333931").unwrap();
        let json = serde_json::to_string(&gtin).unwrap();
        assert_eq!(json, "\"04006381333931\"");
        assert_eq!(serde_json::from_str::<Gtin>(&json).unwrap(), gtin);
        assert!(serde_json::from_str::<Gtin>("\"4006381333932\"").is_err());
    }

    #[test]
    fn a_gtin_error_is_a_validation_error_that_says_the_same() {
        let err = GtinError::Length { len: 9 };
        let validation = super::super::ValidationError::from(err.clone());
        assert_eq!(validation, super::super::ValidationError::Gtin(err.clone()));
        assert_eq!(validation.to_string(), err.to_string());
    }

    /// Digits with their check digit appended: a valid GTIN of that length.
    fn valid(body: &str) -> String {
        let padded = format!("{body:0>13}");
        format!("{body}{}", check_digit(padded.as_bytes()))
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_14_digit_checked_values(
            s in prop_oneof![any::<String>(), "\\PC*", "[0-9]{0,16}"],
        ) {
            match Gtin::parse(&s) {
                Ok(g) => {
                    prop_assert_eq!(g.as_str().len(), Gtin::LEN);
                    prop_assert!(g.as_str().bytes().all(|b| b.is_ascii_digit()));
                    prop_assert!(g.as_str().ends_with(s.trim()));
                    prop_assert_eq!(Gtin::parse(g.as_str())?, g.clone());
                    prop_assert_eq!(Gtin::try_from(String::from(g.clone()))?, g);
                }
                Err(GtinError::Length { len }) => prop_assert!(!Gtin::LENGTHS.contains(&len)),
                Err(_) => {}
            }
        }

        #[test]
        fn every_valid_gtin_is_accepted_and_every_single_digit_error_caught(
            body in prop_oneof!["[0-9]{7}", "[0-9]{11}", "[0-9]{12}", "[0-9]{13}"],
            at in any::<prop::sample::Index>(),
            delta in 1u8..10,
        ) {
            let good = valid(&body);
            let gtin = Gtin::parse(&good)?;
            prop_assert_eq!(gtin.as_str(), format!("{good:0>14}"));
            // The mod-10 check catches every change of one digit.
            let mut bad = good.into_bytes();
            let i = at.index(bad.len());
            bad[i] = b'0' + (bad[i] - b'0' + delta) % 10;
            let bad = String::from_utf8(bad).unwrap();
            let refused = matches!(Gtin::parse(&bad), Err(GtinError::CheckDigit { .. }));
            prop_assert!(refused, "{} was accepted", bad);
        }
    }
}
