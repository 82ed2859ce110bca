//! Why a raw value is refused, and the checks every text value shares.

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
    /// Not a GTIN barcode.
    #[error(transparent)]
    Gtin(#[from] super::gtin::GtinError),
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
pub(super) fn single_line<'a>(
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
pub(super) fn has_control(value: &str, allowed: &[char]) -> bool {
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

pub(super) fn bounded(
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
pub(super) fn into_trimmed(mut raw: String) -> String {
    let end = raw.trim_end().len();
    raw.truncate(end);
    let start = end - raw.trim_start().len();
    if start > 0 {
        raw.drain(..start);
    }
    raw
}
