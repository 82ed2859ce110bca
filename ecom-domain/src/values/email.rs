//! E-mail addresses.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use super::check::{ValidationError, single_line};

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
