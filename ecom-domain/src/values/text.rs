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
    /// The name of one of a product's option types ("Colour", "Size"): trimmed, 1 to
    /// 50 characters, no control characters.
    OptionName, "option name", 1, 50
);
text_value!(
    /// One value of an option type ("Red", "XL"): trimmed, 1 to 100 characters, no
    /// control characters.
    OptionValue, "option value", 1, 100
);
text_value!(
    /// The name of a typed attribute ("Material", "Weight"): trimmed, 1 to 100
    /// characters, no control characters.
    AttributeName, "attribute name", 1, 100
);
text_value!(
    /// The text of a text attribute, or one choice of a one-of attribute ("cotton"):
    /// trimmed, 1 to 200 characters, no control characters.
    AttributeText, "attribute text", 1, 200
);
text_value!(
    /// The unit a number attribute is measured in ("g", "cm", "mAh"): trimmed, 1 to
    /// 20 characters, no control characters.
    AttributeUnit, "attribute unit", 1, 20
);
text_value!(
    /// A collection's display name ("Summer sale"): trimmed, 1 to 100 characters, no
    /// control characters. Its URL key is a [`Slug`](super::Slug).
    CollectionName, "collection name", 1, 100
);
text_value!(
    /// What an image shows, for screen readers and when it fails to load: trimmed, up
    /// to 250 characters, no control characters. Empty marks a decorative image, as
    /// an empty HTML `alt` does.
    AltText, "alt text", 0, 250
);

/// No text: a decorative image.
impl Default for AltText {
    fn default() -> Self {
        Self(String::new())
    }
}

text_value!(
    /// A price list's name ("Summer sale", "Staff prices"): trimmed, 1 to 100
    /// characters, no control characters.
    PriceListName, "price list name", 1, 100
);
text_value!(
    /// A promotion's name as an order and an invoice show it ("Summer sale 10 %"):
    /// trimmed, 1 to 100 characters, no control characters.
    PromotionName, "promotion name", 1, 100
);
text_value!(
    /// A tax rate's name as an invoice prints it ("VAT 19 %", "NY sales tax"):
    /// trimmed, 1 to 100 characters, no control characters.
    TaxRateName, "tax rate name", 1, 100
);
text_value!(
    /// A shipping zone's name ("EU", "Contiguous US"): trimmed, 1 to 100
    /// characters, no control characters.
    ShippingZoneName, "shipping zone name", 1, 100
);
text_value!(
    /// A stock location's name ("Berlin warehouse", "Store Rue de Rivoli"): trimmed,
    /// 1 to 100 characters, no control characters.
    LocationName, "location name", 1, 100
);
text_value!(
    /// A shipping method's name as a customer sees it ("Express, next day"):
    /// trimmed, 1 to 100 characters, no control characters.
    ShippingMethodName, "shipping method name", 1, 100
);
text_value!(
    /// A carrier's name as a shipment shows it ("DHL", "La Poste"): trimmed, 1 to
    /// 100 characters, no control characters.
    CarrierName, "carrier name", 1, 100
);
text_value!(
    /// A carrier's number for a parcel: trimmed, 1 to 100 characters, no control
    /// characters.
    TrackingNumber, "tracking number", 1, 100
);
text_value!(
    /// A name for a payment provider ("stripe", "test"): 1 to 50 characters.
    ProviderName, "payment provider", 1, 50
);
text_value!(
    /// A payment provider's id for a payment: 1 to 200 characters.
    ProviderRef, "provider reference", 1, 200
);
/// A key that makes a retried request safe: 1 to 128 characters. Keys that begin
/// with [`IdempotencyKey::RESERVED_PREFIX`] are the store's own (its settlements of
/// cancelled and expired orders, see `Payment::settlement_on_cancel`):
/// [`IdempotencyKey::parse`] refuses them, so no client key can ever name, or block,
/// one of the store's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The longest key accepted, in characters.
    pub const MAX_LEN: usize = 128;

    /// The prefix of the store's own keys.
    pub const RESERVED_PREFIX: &'static str = "store:";

    /// Trims and validates a key from outside the store.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let key = Self::stored(raw)?;
        if key.is_reserved() {
            return Err(ValidationError::Malformed {
                field: "idempotency key",
                value: raw.to_owned(),
                rule: "keys beginning with \"store:\" are the store's own",
            });
        }
        Ok(key)
    }

    /// Validates a key read back from storage, where the store's own keys are found
    /// beside clients'.
    pub fn stored(raw: &str) -> Result<Self, ValidationError> {
        single_line("idempotency key", raw, 1, Self::MAX_LEN).map(|v| Self(v.to_owned()))
    }

    /// One of the store's own keys: the reserved prefix, then `rest`.
    pub(crate) fn reserved(rest: &str) -> Self {
        Self(format!("{}{rest}", Self::RESERVED_PREFIX))
    }

    /// Whether this is one of the store's own keys.
    pub fn is_reserved(&self) -> bool {
        self.0.starts_with(Self::RESERVED_PREFIX)
    }

    /// The validated text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for IdempotencyKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// Validates like `parse`: a key from outside is never one of the store's.
impl TryFrom<String> for IdempotencyKey {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<IdempotencyKey> for String {
    fn from(value: IdempotencyKey) -> String {
        value.0
    }
}
text_value!(
    /// Why a payment failed or was refunded, as the provider or the shop put it:
    /// trimmed, up to 500 characters (none is fine), no control characters.
    Reason, "reason", 0, 500
);

impl ProviderName {
    /// The provider of the payments gift cards make at checkout: the store itself.
    pub const GIFT_CARD: &'static str = "gift_card";

    /// The provider name of gift card payments.
    pub fn gift_card() -> Self {
        Self(Self::GIFT_CARD.to_owned())
    }
}

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

    /// What the store keeps of it instead of the token.
    pub fn digest(&self) -> super::TokenDigest {
        super::TokenDigest::of(&self.0)
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
