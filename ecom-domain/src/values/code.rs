//! Codes a shop chooses for its things: SKUs, URL slugs and coupon codes.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::check::{ValidationError, into_trimmed, single_line};

/// A stock-keeping unit: trimmed, upper-cased, 1 to 32 of `A-Z 0-9 -`, starting with
/// a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    /// The longest SKU accepted.
    pub const MAX_LEN: usize = 32;

    /// Trims, upper-cases and validates: `" ab-12 "` becomes `AB-12`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::checked(raw).map(|value| Self(value.to_ascii_uppercase()))
    }

    /// Like [`Sku::parse`], keeping the string's allocation.
    fn parse_owned(raw: String) -> Result<Self, ValidationError> {
        Self::checked(&raw)?;
        let mut value = into_trimmed(raw);
        value.make_ascii_uppercase();
        Ok(Self(value))
    }

    /// `raw` trimmed, if it is a valid SKU in any case.
    fn checked(raw: &str) -> Result<&str, ValidationError> {
        let value = single_line("sku", raw, 1, Self::MAX_LEN)?;
        let first_ok = value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
        if !first_ok
            || !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ValidationError::Malformed {
                field: "sku",
                value: raw.to_owned(),
                rule: "only A-Z, 0-9 and '-', starting with a letter or digit",
            });
        }
        Ok(value)
    }

    /// The SKU text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A URL slug: 1 to 64 of lower-case `a-z 0-9` in words joined by single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// The longest slug accepted.
    pub const MAX_LEN: usize = 64;

    /// Trims and validates; does not change case (a slug is an exact key).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::checked(raw).map(|value| Self(value.to_owned()))
    }

    /// Like [`Slug::parse`], keeping the string's allocation.
    fn parse_owned(raw: String) -> Result<Self, ValidationError> {
        Self::checked(&raw)?;
        Ok(Self(into_trimmed(raw)))
    }

    /// `raw` trimmed, if it is a valid slug.
    fn checked(raw: &str) -> Result<&str, ValidationError> {
        let value = single_line("slug", raw, 1, Self::MAX_LEN)?;
        let word_ok = |w: &str| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        };
        if !value.split('-').all(word_ok) {
            return Err(ValidationError::Malformed {
                field: "slug",
                value: raw.to_owned(),
                rule: "lower-case words of a-z and 0-9 joined by single hyphens",
            });
        }
        Ok(value)
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_conversions {
    ($($name:ident),+) => {$(
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        /// Validates like `parse`, keeping the string's allocation.
        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse_owned(raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    )+};
}

/// A coupon code as a customer types it: trimmed, upper-cased (codes are
/// case-insensitive), 4 to 32 of `A-Z 0-9 -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CouponCode(String);

impl CouponCode {
    /// The shortest code accepted.
    pub const MIN_LEN: usize = 4;
    /// The longest code accepted.
    pub const MAX_LEN: usize = 32;
    /// The letters generated codes are made of: no `0`/`O`, `1`/`I`/`L`, which
    /// people misread.
    pub const ALPHABET: &'static [u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

    /// Trims, upper-cases and validates: `" summer-10 "` is `SUMMER-10`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::checked(raw).map(|value| Self(value.to_ascii_uppercase()))
    }

    fn parse_owned(raw: String) -> Result<Self, ValidationError> {
        Self::checked(&raw)?;
        let mut value = into_trimmed(raw);
        value.make_ascii_uppercase();
        Ok(Self(value))
    }

    fn checked(raw: &str) -> Result<&str, ValidationError> {
        let value = single_line("coupon code", raw, Self::MIN_LEN, Self::MAX_LEN)?;
        let first_ok = value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
        if !first_ok
            || !value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ValidationError::Malformed {
                field: "coupon code",
                value: raw.chars().take(40).collect(),
                rule: "only A-Z, 0-9 and '-', starting with a letter or digit",
            });
        }
        Ok(value)
    }

    /// A random code: `prefix` (already a valid start, e.g. `SUMMER-`) and
    /// `length` letters of [`CouponCode::ALPHABET`] drawn from `random` bytes (one
    /// byte per letter, rejection-sampled so that every letter is as likely).
    /// `None` when the result would be too long or `random` runs out.
    pub fn random(
        prefix: &str,
        length: usize,
        random: &mut impl Iterator<Item = u8>,
    ) -> Option<Self> {
        let mut code = prefix.to_ascii_uppercase();
        // 248 = 8 × 31: bytes from 248 on would favour the first letters.
        while code.len() < prefix.len() + length {
            let byte = random.next()?;
            if byte < 248 {
                code.push(char::from(Self::ALPHABET[usize::from(byte % 31)]));
            }
        }
        Self::parse_owned(code).ok()
    }

    /// The code text, upper-case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_conversions!(Sku, Slug, CouponCode);
