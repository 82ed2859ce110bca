//! Validated value types: raw text becomes one of these once, at the edge, and is
//! trusted from then on ("parse, don't validate"). Each parse failure is a
//! [`ValidationError`] that names the field, the rule and the offending value.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

/// Why a raw value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// The value is empty (after trimming).
    #[error("{field} must not be empty")]
    Empty {
        /// The field that was empty.
        field: &'static str,
    },
    /// The value is longer than allowed.
    #[error("{field} is {len} characters long, at most {max} are allowed")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The value is shorter than allowed.
    #[error("{field} is {len} characters long, at least {min} are required")]
    TooShort {
        /// The field.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// The value contains a control character (a newline in a name, a NUL...).
    #[error("{field} contains a control character: {value:?}")]
    ControlCharacter {
        /// The field.
        field: &'static str,
        /// The value as given.
        value: String,
    },
    /// The value does not have the required shape.
    #[error("{field} {value:?} is malformed: {rule}")]
    Malformed {
        /// The field.
        field: &'static str,
        /// The value as given.
        value: String,
        /// The rule it breaks, in words.
        rule: &'static str,
    },
    /// Not an ISO 3166-1 alpha-2 country code.
    #[error("{0:?} is not an ISO 3166-1 alpha-2 country code")]
    UnknownCountry(String),
    /// A quantity outside `1..=Quantity::MAX`.
    #[error("quantity {value} is out of range 1..={max}")]
    QuantityOutOfRange {
        /// The quantity as given.
        value: i64,
        /// The largest quantity allowed.
        max: u32,
    },
}

/// Checks text shared by all single-line fields (trimmed, bounded, printable) and
/// returns it trimmed.
fn single_line<'a>(
    field: &'static str,
    raw: &'a str,
    min: usize,
    max: usize,
) -> Result<&'a str, ValidationError> {
    let value = raw.trim();
    if has_control(value, &[]) {
        return Err(ValidationError::ControlCharacter {
            field,
            value: raw.to_owned(),
        });
    }
    bounded(field, value, min, max)?;
    Ok(value)
}

/// Whether `value` holds a control character other than those in `allowed`. Rows
/// read back from the database pass through here, so ASCII text (most of it) is
/// checked byte by byte.
fn has_control(value: &str, allowed: &[char]) -> bool {
    if value.is_ascii() {
        value
            .bytes()
            .any(|b| b.is_ascii_control() && !allowed.contains(&char::from(b)))
    } else {
        value
            .chars()
            .any(|c| c.is_control() && !allowed.contains(&c))
    }
}

fn bounded(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), ValidationError> {
    let len = if value.is_ascii() {
        value.len()
    } else {
        value.chars().count()
    };
    if len == 0 && min > 0 {
        return Err(ValidationError::Empty { field });
    }
    if len < min {
        return Err(ValidationError::TooShort { field, len, min });
    }
    if len > max {
        return Err(ValidationError::TooLong { field, len, max });
    }
    Ok(())
}

/// `raw` without its surrounding whitespace, in the same allocation: values read
/// back from the database are already trimmed and are kept as they are.
fn into_trimmed(mut raw: String) -> String {
    let end = raw.trim_end().len();
    raw.truncate(end);
    let start = end - raw.trim_start().len();
    if start > 0 {
        raw.drain(..start);
    }
    raw
}

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

/// An e-mail address: trimmed, at most 254 characters, one `@` between a local part
/// of at most 64 characters and a domain of dot-separated labels.
///
/// Two addresses that differ only in letter case are equal (and hash alike), which
/// matches how the database keeps them unique; the text keeps the case it was given.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// The longest address accepted (RFC 5321's path limit less the brackets).
    pub const MAX_LEN: usize = 254;

    /// Trims and validates an address.
    ///
    /// ```
    /// use ecom_domain::values::Email;
    /// let a = Email::parse("  Ada@Example.com ")?;
    /// assert_eq!(a.as_str(), "Ada@Example.com");
    /// assert_eq!(a, Email::parse("ada@example.COM")?);
    /// assert!(Email::parse("ada@").is_err());
    /// # Ok::<(), ecom_domain::values::ValidationError>(())
    /// ```
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let value = single_line("email", raw, 3, Self::MAX_LEN)?;
        let malformed = |rule| ValidationError::Malformed {
            field: "email",
            value: raw.to_owned(),
            rule,
        };
        let (local, domain) = value
            .split_once('@')
            .ok_or_else(|| malformed("it needs an @"))?;
        if local.is_empty() || local.chars().count() > 64 {
            return Err(malformed("the part before @ must have 1 to 64 characters"));
        }
        if local
            .chars()
            .any(|c| c.is_whitespace() || "@<>()[]\\,;:\"".contains(c))
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
        {
            return Err(malformed(
                "the part before @ has a character or dot out of place",
            ));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |label: &&str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(malformed(
                "the domain must be dot-separated labels like example.com",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The address as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address with ASCII letters in lower case: the form it is compared and kept
    /// unique by. Only ASCII case is folded, exactly as PostgreSQL's `lower()` does in
    /// the C locale the store's unique index uses, so both agree on every address.
    pub fn normalized(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.normalized() == other.normalized()
    }
}

impl Hash for Email {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.normalized().hash(state);
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> String {
        value.0
    }
}

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

/// Every ISO 3166-1 alpha-2 code (249 countries and territories).
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG \
BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX \
CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN \
GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI \
KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ \
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR \
PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC \
TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT \
ZA ZM ZW";

/// An ISO 3166-1 alpha-2 country code such as `DE` or `US`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a code; surrounding spaces and lower case are accepted.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let code = raw.trim().to_ascii_uppercase();
        let known = code.len() == 2 && ISO_3166_ALPHA2.split(' ').any(|c| c == code);
        if !known {
            return Err(ValidationError::UnknownCountry(raw.to_owned()));
        }
        let bytes = code.as_bytes();
        Ok(Self([bytes[0], bytes[1]]))
    }

    /// The two-letter code.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters from the table above are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// Every code this type accepts.
    pub fn all() -> impl Iterator<Item = CountryCode> {
        ISO_3166_ALPHA2.split(' ').map(|c| {
            let b = c.as_bytes();
            CountryCode([b[0], b[1]])
        })
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl TryFrom<String> for CountryCode {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<CountryCode> for String {
    fn from(value: CountryCode) -> String {
        value.as_str().to_owned()
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

string_conversions!(Sku, Slug);

/// How many units of a product: at least 1, at most [`Quantity::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    /// The largest quantity of one product in one cart or order line.
    pub const MAX: u32 = 999;

    /// Validates a raw quantity.
    pub fn new(value: i64) -> Result<Self, ValidationError> {
        match u32::try_from(value) {
            Ok(q) if (1..=Self::MAX).contains(&q) => Ok(Self(q)),
            _ => Err(ValidationError::QuantityOutOfRange {
                value,
                max: Self::MAX,
            }),
        }
    }

    /// The number of units.
    pub fn get(self) -> u32 {
        self.0
    }

    /// `self + other`, still within range.
    pub fn checked_add(self, other: Quantity) -> Result<Self, ValidationError> {
        Self::new(i64::from(self.0) + i64::from(other.0))
    }
}

impl TryFrom<i64> for Quantity {
    type Error = ValidationError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An address as a user typed it, before validation. Missing fields deserialize as
/// empty text (and then fail validation if they are required).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RawAddress {
    /// Who receives mail there.
    pub recipient: String,
    /// Street and number.
    pub line1: String,
    /// Flat, floor, c/o (optional: empty means none).
    pub line2: String,
    /// City or town.
    pub city: String,
    /// State, province or county (optional: empty means none).
    pub region: String,
    /// Postal or ZIP code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

/// A validated postal address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PostalAddress {
    recipient: PersonName,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postal_code: String,
    country: CountryCode,
}

impl PostalAddress {
    /// Validates every field: lines up to 200 characters, city and region up to 100,
    /// postal code 1 to 16 of letters, digits, spaces and hyphens, a known country.
    pub fn parse(raw: &RawAddress) -> Result<Self, ValidationError> {
        let optional = |field, value: &str, max| -> Result<Option<String>, ValidationError> {
            let value = single_line(field, value, 0, max)?;
            Ok((!value.is_empty()).then(|| value.to_owned()))
        };
        let postal_code = single_line("postal code", &raw.postal_code, 1, 16)?.to_uppercase();
        if !postal_code
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || c == '-')
        {
            return Err(ValidationError::Malformed {
                field: "postal code",
                value: raw.postal_code.clone(),
                rule: "only letters, digits, spaces and hyphens",
            });
        }
        Ok(Self {
            recipient: PersonName::parse(&raw.recipient)?,
            line1: single_line("address line 1", &raw.line1, 1, 200)?.to_owned(),
            line2: optional("address line 2", &raw.line2, 200)?,
            city: single_line("city", &raw.city, 1, 100)?.to_owned(),
            region: optional("region", &raw.region, 100)?,
            postal_code,
            country: CountryCode::parse(&raw.country)?,
        })
    }

    /// The recipient.
    pub fn recipient(&self) -> &PersonName {
        &self.recipient
    }
    /// Street and number.
    pub fn line1(&self) -> &str {
        &self.line1
    }
    /// Second address line, if any.
    pub fn line2(&self) -> Option<&str> {
        self.line2.as_deref()
    }
    /// City or town.
    pub fn city(&self) -> &str {
        &self.city
    }
    /// Region, if any.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// Postal code, upper-cased.
    pub fn postal_code(&self) -> &str {
        &self.postal_code
    }
    /// Country.
    pub fn country(&self) -> CountryCode {
        self.country
    }

    /// The address back as raw text fields (e.g. to store or edit it).
    pub fn to_raw(&self) -> RawAddress {
        RawAddress {
            recipient: self.recipient.as_str().to_owned(),
            line1: self.line1.clone(),
            line2: self.line2.clone().unwrap_or_default(),
            city: self.city.clone(),
            region: self.region.clone().unwrap_or_default(),
            postal_code: self.postal_code.clone(),
            country: self.country.as_str().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(
            PersonName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert_eq!(
            PersonName::parse("   "),
            Err(ValidationError::Empty {
                field: "person name"
            })
        );
        assert_eq!(
            PersonName::parse(&"x".repeat(101)),
            Err(ValidationError::TooLong {
                field: "person name",
                len: 101,
                max: 100
            })
        );
        assert!(matches!(
            ProductName::parse("bad\nname"),
            Err(ValidationError::ControlCharacter {
                field: "product name",
                ..
            })
        ));
        assert!(matches!(
            CategoryName::parse("nul\0"),
            Err(ValidationError::ControlCharacter { .. })
        ));
        // Unicode and SQL metacharacters are just text.
        assert_eq!(
            ProductName::parse("Café '; DROP TABLE--").unwrap().as_str(),
            "Café '; DROP TABLE--"
        );
        assert!(ProviderName::parse("").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_err());
    }

    #[test]
    fn reasons_are_printable_and_may_be_empty() {
        assert_eq!(
            Reason::parse(" card declined ").unwrap().as_str(),
            "card declined"
        );
        assert_eq!(Reason::parse("").unwrap().as_str(), "");
        // PostgreSQL text cannot hold a NUL: the example service answered such a
        // refund reason with a 500 until it went through this type.
        assert!(matches!(
            Reason::parse("declined\0"),
            Err(ValidationError::ControlCharacter {
                field: "reason",
                ..
            })
        ));
        assert!(matches!(
            Reason::parse(&"r".repeat(501)),
            Err(ValidationError::TooLong { max: 500, .. })
        ));
    }

    #[test]
    fn descriptions_allow_line_breaks_only() {
        assert!(Description::parse("line one\nline two\ttabbed").is_ok());
        assert!(Description::parse("").is_ok());
        assert!(matches!(
            Description::parse("bell\u{7}"),
            Err(ValidationError::ControlCharacter {
                field: "description",
                ..
            })
        ));
        assert!(matches!(
            Description::parse(&"d".repeat(5001)),
            Err(ValidationError::TooLong { max: 5000, .. })
        ));
    }

    #[test]
    fn emails_are_checked_and_compared_case_insensitively() {
        let e = Email::parse(" Ada.Lovelace+shop@Example.co.uk ").unwrap();
        assert_eq!(e.as_str(), "Ada.Lovelace+shop@Example.co.uk");
        assert_eq!(e.normalized(), "ada.lovelace+shop@example.co.uk");
        assert_eq!(e, Email::parse("ADA.LOVELACE+SHOP@EXAMPLE.CO.UK").unwrap());
        for bad in [
            "plain",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "a b@example.com",
            ".ada@example.com",
            "ada..x@example.com",
            "ada@-example.com",
            "ada@example..com",
        ] {
            assert!(
                matches!(
                    Email::parse(bad),
                    Err(ValidationError::Malformed { field: "email", .. })
                ),
                "{bad} should be malformed"
            );
        }
        assert!(matches!(
            Email::parse("a@"),
            Err(ValidationError::TooShort { .. })
        ));
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(matches!(
            Email::parse(&long),
            Err(ValidationError::Malformed { .. })
        ));
        let too_long = format!("{}@{}.com", "a".repeat(60), "b".repeat(200));
        assert!(matches!(
            Email::parse(&too_long),
            Err(ValidationError::TooLong { max: 254, .. })
        ));
        assert!(matches!(
            Email::parse("ada\u{0}@example.com"),
            Err(ValidationError::ControlCharacter { .. })
        ));
    }

    #[test]
    fn skus_are_upper_cased_and_restricted() {
        assert_eq!(Sku::parse(" ab-12 ").unwrap().as_str(), "AB-12");
        assert!(matches!(
            Sku::parse("-AB"),
            Err(ValidationError::Malformed { field: "sku", .. })
        ));
        assert!(matches!(
            Sku::parse("A B"),
            Err(ValidationError::Malformed { .. })
        ));
        assert!(matches!(
            Sku::parse("ÄB"),
            Err(ValidationError::Malformed { .. })
        ));
        assert!(matches!(
            Sku::parse(&"A".repeat(33)),
            Err(ValidationError::TooLong { .. })
        ));
        assert!(matches!(Sku::parse(""), Err(ValidationError::Empty { .. })));
    }

    #[test]
    fn slugs_are_lower_case_words() {
        assert_eq!(
            Slug::parse("home-garden-2").unwrap().as_str(),
            "home-garden-2"
        );
        for bad in [
            "Home",
            "home--garden",
            "-home",
            "home-",
            "home garden",
            "héme",
        ] {
            assert!(
                matches!(
                    Slug::parse(bad),
                    Err(ValidationError::Malformed { field: "slug", .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn country_codes_are_iso_3166() {
        assert_eq!(CountryCode::all().count(), 249);
        assert_eq!(CountryCode::parse(" de ").unwrap().as_str(), "DE");
        assert_eq!(
            CountryCode::parse("XX"),
            Err(ValidationError::UnknownCountry("XX".into()))
        );
        assert_eq!(
            CountryCode::parse("DEU"),
            Err(ValidationError::UnknownCountry("DEU".into()))
        );
        assert!(CountryCode::parse("").is_err());
    }

    #[test]
    fn quantities_are_positive_and_bounded() {
        assert_eq!(Quantity::new(1).unwrap().get(), 1);
        assert_eq!(Quantity::new(999).unwrap().get(), 999);
        for bad in [0, -1, 1000, i64::MAX, i64::MIN] {
            assert_eq!(
                Quantity::new(bad),
                Err(ValidationError::QuantityOutOfRange {
                    value: bad,
                    max: 999
                })
            );
        }
        let q = Quantity::new(600).unwrap();
        assert!(q.checked_add(q).is_err());
    }

    fn raw() -> RawAddress {
        RawAddress {
            recipient: "Ada Lovelace".into(),
            line1: "12 St James's Square".into(),
            line2: "".into(),
            city: "London".into(),
            region: "".into(),
            postal_code: "sw1y 4jh".into(),
            country: "gb".into(),
        }
    }

    #[test]
    fn addresses_validate_every_field() {
        let a = PostalAddress::parse(&raw()).unwrap();
        assert_eq!(a.postal_code(), "SW1Y 4JH");
        assert_eq!(a.country().as_str(), "GB");
        assert_eq!(a.line2(), None);
        assert_eq!(PostalAddress::parse(&a.to_raw()).unwrap(), a);
        let bad = RawAddress {
            postal_code: "12#4".into(),
            ..raw()
        };
        assert!(matches!(
            PostalAddress::parse(&bad),
            Err(ValidationError::Malformed {
                field: "postal code",
                ..
            })
        ));
        let bad = RawAddress {
            city: " ".into(),
            ..raw()
        };
        assert_eq!(
            PostalAddress::parse(&bad),
            Err(ValidationError::Empty { field: "city" })
        );
        let bad = RawAddress {
            country: "UK".into(),
            ..raw()
        };
        assert_eq!(
            PostalAddress::parse(&bad),
            Err(ValidationError::UnknownCountry("UK".into()))
        );
        let bad = RawAddress {
            recipient: "".into(),
            ..raw()
        };
        assert!(PostalAddress::parse(&bad).is_err());
    }

    /// Any Unicode text, control characters included, or printable text (which
    /// reaches further into the parsers).
    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "\\PC*"]
    }

    proptest! {
        #[test]
        fn parsers_never_panic_and_accepted_values_reparse(s in any_text()) {
            if let Ok(e) = Email::parse(&s) {
                // Email's == ignores case: the text itself must survive too.
                let again = Email::parse(&format!("{e}"))?;
                prop_assert_eq!(again.as_str(), e.as_str());
                let lower = Email::parse(&e.normalized())?;
                prop_assert_eq!(&lower, &e);
                prop_assert_eq!(lower.normalized(), e.normalized());
            }
            if let Ok(v) = Sku::parse(&s) { prop_assert_eq!(String::from(Sku::parse(&format!("{v}"))?), v.as_str()); }
            if let Ok(v) = Slug::parse(&s) { prop_assert_eq!(Slug::parse(&format!("{v}"))?, v); }
            if let Ok(v) = PersonName::parse(&s) {
                prop_assert!(!v.as_str().chars().any(char::is_control));
                prop_assert!(v.as_str().chars().count() <= PersonName::MAX_LEN);
                prop_assert_eq!(PersonName::parse(&format!("{v}"))?, v);
            }
            if let Ok(v) = CountryCode::parse(&s) { prop_assert_eq!(CountryCode::parse(v.as_str())?, v); }
            if let Ok(v) = Description::parse(&s) { prop_assert_eq!(Description::parse(v.as_str())?, v); }
            if let Ok(v) = ProductName::parse(&s) { prop_assert_eq!(ProductName::parse(v.as_str())?, v); }
            if let Ok(v) = CategoryName::parse(&s) { prop_assert_eq!(CategoryName::parse(v.as_str())?, v); }
            if let Ok(v) = IdempotencyKey::parse(&s) { prop_assert_eq!(IdempotencyKey::parse(v.as_str())?, v); }
            if let Ok(v) = ProviderName::parse(&s) { prop_assert_eq!(ProviderName::parse(v.as_str())?, v); }
            if let Ok(v) = ProviderRef::parse(&s) { prop_assert_eq!(ProviderRef::parse(v.as_str())?, v); }
            if let Ok(v) = Reason::parse(&s) { prop_assert_eq!(Reason::parse(v.as_str())?, v); }
            if let Ok(v) = crate::cart::GuestToken::parse(&s) {
                prop_assert_eq!(crate::cart::GuestToken::parse(v.as_str())?, v);
            }
            for currency in [crate::money::Currency::EUR, crate::money::Currency::JPY, crate::money::Currency::KWD] {
                if let Ok(m) = crate::money::Money::parse(&s, currency) {
                    prop_assert!(m.amount().scale() <= currency.minor_units());
                    prop_assert_eq!(crate::money::Money::parse(&m.amount().to_string(), currency)?, m);
                }
            }
            if let Ok(c) = s.parse::<crate::money::Currency>() {
                prop_assert_eq!(c.code().parse::<crate::money::Currency>()?, c);
            }
            if let Ok(p) = crate::password::Password::new(s.clone()) {
                prop_assert_eq!(p.expose(), s.as_str());
            }
            if let Ok(h) = crate::password::PasswordHash::parse(&s) {
                prop_assert_eq!(h.as_str(), s.as_str());
                let _ = h.needs_rehash(crate::password::HashCost::OWASP);
            }
        }

        /// Parsing an owned string (what the store does with every row it reads)
        /// accepts, rejects and normalizes exactly as parsing a borrowed one.
        #[test]
        fn owned_strings_parse_as_borrowed_ones(s in prop_oneof![any_text(), " *[a-zA-Z0-9-]{1,40} *"]) {
            prop_assert_eq!(Sku::try_from(s.clone()), Sku::parse(&s));
            prop_assert_eq!(Slug::try_from(s.clone()), Slug::parse(&s));
            prop_assert_eq!(ProductName::try_from(s.clone()), ProductName::parse(&s));
            prop_assert_eq!(PersonName::try_from(s.clone()), PersonName::parse(&s));
            prop_assert_eq!(Reason::try_from(s.clone()), Reason::parse(&s));
            prop_assert_eq!(Description::try_from(s.clone()), Description::parse(&s));
        }

        #[test]
        fn quantities_and_addresses_from_anything(
            n in any::<i64>(),
            fields in proptest::collection::vec(any_text(), 7),
        ) {
            if let Ok(q) = Quantity::new(n) { prop_assert_eq!(i64::from(q.get()), n); }
            let raw = RawAddress {
                recipient: fields[0].clone(),
                line1: fields[1].clone(),
                line2: fields[2].clone(),
                city: fields[3].clone(),
                region: fields[4].clone(),
                postal_code: fields[5].clone(),
                country: fields[6].clone(),
            };
            if let Ok(a) = PostalAddress::parse(&raw) {
                let again = PostalAddress::parse(&RawAddress {
                    recipient: a.recipient().as_str().to_owned(),
                    line1: a.line1().to_owned(),
                    line2: a.line2().unwrap_or_default().to_owned(),
                    city: a.city().to_owned(),
                    region: a.region().unwrap_or_default().to_owned(),
                    postal_code: a.postal_code().to_owned(),
                    country: a.country().as_str().to_owned(),
                })?;
                prop_assert_eq!(a, again);
            }
        }

        #[test]
        fn email_equality_ignores_case(local in "[a-zA-Z0-9]{1,20}", domain in "[a-zA-Z]{1,20}") {
            let a = Email::parse(&format!("{local}@{domain}.com"))?;
            let b = Email::parse(&format!("{}@{}.COM", local.to_uppercase(), domain.to_lowercase()))?;
            prop_assert_eq!(a, b);
        }
    }
}
