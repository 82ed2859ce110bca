//! Names, descriptions, reasons and tokens: text checked once and trusted after.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::check::{ValidationError, bounded, has_control, into_trimmed, single_line};

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $field:literal, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The longest value accepted, in characters.
            pub const MAX_LEN: usize = $max;

            /// Trims and validates; see the type's documentation for the rules.
            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                single_line($field, raw, $min, $max).map(|v| Self(v.to_owned()))
            }

            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }

        /// Validates like `parse`, keeping the string's allocation.
        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                single_line($field, &raw, $min, $max)?;
                Ok(Self(into_trimmed(raw)))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

text_value!(
    /// A person's name: trimmed, 1 to 100 characters, no control characters.
    PersonName, "person name", 1, 100
);
text_value!(
    /// A product's name: trimmed, 1 to 200 characters, no control characters.
    ProductName, "product name", 1, 200
);
text_value!(
    /// A category's display name: trimmed, 1 to 100 characters, no control characters.
    CategoryName, "category name", 1, 100
);
text_value!(
    /// A name for a payment provider ("stripe", "test"): 1 to 50 characters.
    ProviderName, "payment provider", 1, 50
);
text_value!(
    /// A payment provider's id for a payment: 1 to 200 characters.
    ProviderRef, "provider reference", 1, 200
);
text_value!(
    /// A client-chosen key that makes a retried request safe: 1 to 128 characters.
    IdempotencyKey, "idempotency key", 1, 128
);
text_value!(
    /// Why a payment failed or was refunded, as the provider or the shop put it:
    /// trimmed, up to 500 characters (none is fine), no control characters.
    Reason, "reason", 0, 500
);

impl Reason {
    /// A reason written into the code, known to be valid (a test parses each).
    pub(crate) fn fixed(text: &'static str) -> Self {
        debug_assert_eq!(Self::parse(text).map(|r| r.0), Ok(text.to_owned()));
        Self(text.to_owned())
    }
}

/// No reason given: the empty text.
impl Default for Reason {
    fn default() -> Self {
        Self(String::new())
    }
}

/// A product description: up to 5000 characters; line breaks and tabs are allowed,
/// other control characters are not.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

impl Description {
    /// The longest description accepted, in characters.
    pub const MAX_LEN: usize = 5000;

    /// Trims and validates.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::checked(raw).map(|value| Self(value.to_owned()))
    }

    /// `raw` trimmed, if it is a valid description.
    fn checked(raw: &str) -> Result<&str, ValidationError> {
        let value = raw.trim();
        if has_control(value, &['\n', '\t', '\r']) {
            return Err(ValidationError::ControlCharacter {
                field: "description",
                value: raw.to_owned(),
            });
        }
        bounded("description", value, 0, Self::MAX_LEN)?;
        Ok(value)
    }

    /// The validated text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Validates like [`Description::parse`], keeping the string's allocation.
impl TryFrom<String> for Description {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::checked(&raw)?;
        Ok(Self(into_trimmed(raw)))
    }
}

impl From<Description> for String {
    fn from(value: Description) -> String {
        value.0
    }
}

/// An opaque token that identifies a guest's cart (e.g. kept in a cookie):
/// 16 to 64 characters of `A-Z a-z 0-9 - _`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GuestToken(String);

impl GuestToken {
    /// Validates a token.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let len = raw.chars().count();
        if len < 16 {
            return Err(ValidationError::TooShort {
                field: "guest token",
                len,
                min: 16,
            });
        }
        if len > 64 {
            return Err(ValidationError::TooLong {
                field: "guest token",
                len,
                max: 64,
            });
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ValidationError::Malformed {
                field: "guest token",
                value: raw.to_owned(),
                rule: "only A-Z, a-z, 0-9, '-' and '_'",
            });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for GuestToken {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<GuestToken> for String {
    fn from(token: GuestToken) -> String {
        token.0
    }
}
