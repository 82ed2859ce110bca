//! Typed attributes: Material = cotton, Weight = 180 g, Waterproof = true.
//!
//! An attribute is defined once (its name and kind: text, a number with an optional
//! unit, a boolean, or one of a fixed list of choices); each value given for it, on
//! a product or a variant, is checked against that definition when written. Numbers
//! are exact decimals, never floating point.

use std::collections::HashSet;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::fold;
use crate::values::{AttributeName, AttributeText, AttributeUnit, ValidationError};

/// What the attribute rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeError {
    /// A one-of attribute needs at least one choice.
    #[error("a one-of attribute needs at least one choice")]
    NoChoices,
    /// More choices than [`AttributeChoices::MAX`].
    #[error("{count} choices, at most {max} are allowed")]
    TooManyChoices {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Two choices that differ only in case, or not at all.
    #[error("the choice {choice:?} is listed twice")]
    DuplicateChoice {
        /// The second occurrence, as given.
        choice: AttributeText,
    },
    /// A value of another kind than the attribute's (a number for a text attribute).
    #[error("attribute {attribute} takes {expected} values, not {found}")]
    WrongKind {
        /// The attribute.
        attribute: AttributeName,
        /// Its kind's name.
        expected: &'static str,
        /// The given value's kind name.
        found: &'static str,
    },
    /// Text given for a number attribute that is not a decimal number.
    #[error("attribute {attribute}: {value:?} is not a decimal number")]
    NotANumber {
        /// The attribute.
        attribute: AttributeName,
        /// The text as given.
        value: String,
    },
    /// A number with more digits than [`AttributeValue::MAX_INTEGER_DIGITS`] before the
    /// point or [`AttributeValue::MAX_SCALE`] after it.
    #[error(
        "attribute {attribute}: {value} is out of range (at most 12 digits before the point and 6 after)"
    )]
    NumberOutOfRange {
        /// The attribute.
        attribute: AttributeName,
        /// The number as given.
        value: Decimal,
    },
    /// Text given for a boolean attribute other than `true` or `false`.
    #[error("attribute {attribute}: {value:?} is not true or false")]
    NotABoolean {
        /// The attribute.
        attribute: AttributeName,
        /// The text as given.
        value: String,
    },
    /// A value that is not one of a one-of attribute's choices.
    #[error("attribute {attribute} has no choice {value:?}")]
    NotAChoice {
        /// The attribute.
        attribute: AttributeName,
        /// The value as given.
        value: String,
    },
    /// Text given for a text attribute that is not valid [`AttributeText`].
    #[error("attribute {attribute}: {source}")]
    InvalidText {
        /// The attribute.
        attribute: AttributeName,
        /// Why the text was refused.
        source: ValidationError,
    },
    /// A value for an attribute that has no definition.
    #[error("no attribute {attribute} is defined")]
    UnknownAttribute {
        /// The name as given.
        attribute: AttributeName,
    },
    /// Two values for one attribute (names compared ignoring case).
    #[error("attribute {attribute} is given twice")]
    DuplicateAttribute {
        /// The second occurrence, as given.
        attribute: AttributeName,
    },
    /// More attribute values than [`MAX_ATTRIBUTES`] on one product or variant.
    #[error("{count} attributes, at most {max} are allowed")]
    TooManyAttributes {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
}

/// The allowed values of a one-of attribute, in display order: 1 to
/// [`AttributeChoices::MAX`], distinct ignoring case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<AttributeText>", into = "Vec<AttributeText>")]
pub struct AttributeChoices(Vec<AttributeText>);

impl AttributeChoices {
    /// The most choices one attribute has.
    pub const MAX: usize = 100;

    /// Checks the list; see the type's documentation.
    pub fn new(choices: Vec<AttributeText>) -> Result<Self, AttributeError> {
        if choices.is_empty() {
            return Err(AttributeError::NoChoices);
        }
        if choices.len() > Self::MAX {
            return Err(AttributeError::TooManyChoices {
                count: choices.len(),
                max: Self::MAX,
            });
        }
        let mut seen = HashSet::with_capacity(choices.len());
        if let Some(c) = choices.iter().find(|c| !seen.insert(fold(c.as_str()))) {
            return Err(AttributeError::DuplicateChoice { choice: c.clone() });
        }
        Ok(Self(choices))
    }

    /// The choices, in display order.
    pub fn as_slice(&self) -> &[AttributeText] {
        &self.0
    }

    /// The choice `text` names, ignoring case.
    pub fn find(&self, text: &str) -> Option<&AttributeText> {
        let key = fold(text);
        self.0.iter().find(|c| fold(c.as_str()) == key)
    }
}

impl TryFrom<Vec<AttributeText>> for AttributeChoices {
    type Error = AttributeError;
    fn try_from(choices: Vec<AttributeText>) -> Result<Self, Self::Error> {
        Self::new(choices)
    }
}

impl From<AttributeChoices> for Vec<AttributeText> {
    fn from(choices: AttributeChoices) -> Self {
        choices.0
    }
}

/// What values an attribute takes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AttributeKind {
    /// Free text ("Care: machine wash at 30 °C").
    Text,
    /// An exact decimal number, in `unit` when it has one ("Weight: 180 g").
    Number {
        /// What the number counts ("g", "cm"); `None` for a bare count.
        unit: Option<AttributeUnit>,
    },
    /// Yes or no ("Waterproof").
    Boolean,
    /// One of a fixed list ("Material: cotton, linen, wool").
    OneOf {
        /// The allowed values.
        choices: AttributeChoices,
    },
}

impl AttributeKind {
    /// The kind's name, as errors and serde spell it.
    pub fn name(&self) -> &'static str {
        match self {
            AttributeKind::Text => "text",
            AttributeKind::Number { .. } => "number",
            AttributeKind::Boolean => "boolean",
            AttributeKind::OneOf { .. } => "one_of",
        }
    }
}

/// One value of an attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum AttributeValue {
    /// For a text attribute.
    Text(AttributeText),
    /// For a number attribute: exact, in the definition's unit.
    Number(Decimal),
    /// For a boolean attribute.
    Boolean(bool),
    /// For a one-of attribute: one of its choices.
    Choice(AttributeText),
}

impl AttributeValue {
    /// The most digits a number has before the decimal point.
    pub const MAX_INTEGER_DIGITS: u32 = 12;

    /// The most digits a number has after the decimal point: together with
    /// [`AttributeValue::MAX_INTEGER_DIGITS`], what a `numeric(18,6)` column holds.
    pub const MAX_SCALE: u32 = 6;

    /// The name of the kind of attribute this value is for.
    pub fn kind_name(&self) -> &'static str {
        match self {
            AttributeValue::Text(_) => "text",
            AttributeValue::Number(_) => "number",
            AttributeValue::Boolean(_) => "boolean",
            AttributeValue::Choice(_) => "one_of",
        }
    }
}

/// The text, the number, `true`/`false`, or the choice.
impl fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::Text(text) | AttributeValue::Choice(text) => text.fmt(f),
            AttributeValue::Number(n) => n.fmt(f),
            AttributeValue::Boolean(b) => b.fmt(f),
        }
    }
}

/// An attribute, defined once for the catalog: its name and the values it takes.
///
/// ```
/// use ecom_domain::catalog::{AttributeDefinition, AttributeKind, AttributeValue};
/// use ecom_domain::values::{AttributeName, AttributeUnit};
/// use rust_decimal::Decimal;
///
/// let weight = AttributeDefinition {
///     name: AttributeName::parse("Weight").unwrap(),
///     kind: AttributeKind::Number { unit: Some(AttributeUnit::parse("g").unwrap()) },
/// };
/// assert_eq!(weight.parse_value(" 180.50 "), Ok(AttributeValue::Number(Decimal::new(1805, 1))));
/// assert!(weight.parse_value("heavy").is_err());
/// assert!(weight.check(AttributeValue::Boolean(true)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AttributeDefinition {
    /// Its name, unique in the catalog (ignoring case).
    pub name: AttributeName,
    /// What values it takes.
    pub kind: AttributeKind,
}

impl AttributeDefinition {
    /// Checks `value` fits this attribute and returns it in stored form: a number
    /// without trailing zeros (`180.50` is stored as `180.5`), a choice in the
    /// definition's spelling.
    pub fn check(&self, value: AttributeValue) -> Result<AttributeValue, AttributeError> {
        match (&self.kind, value) {
            (AttributeKind::Text, value @ AttributeValue::Text(_)) => Ok(value),
            (AttributeKind::Boolean, value @ AttributeValue::Boolean(_)) => Ok(value),
            (AttributeKind::Number { .. }, AttributeValue::Number(n)) => self.check_number(n),
            (AttributeKind::OneOf { choices }, AttributeValue::Choice(c)) => choices
                .find(c.as_str())
                .map(|c| AttributeValue::Choice(c.clone()))
                .ok_or_else(|| AttributeError::NotAChoice {
                    attribute: self.name.clone(),
                    value: c.into(),
                }),
            (kind, value) => Err(AttributeError::WrongKind {
                attribute: self.name.clone(),
                expected: kind.name(),
                found: value.kind_name(),
            }),
        }
    }

    /// Reads a value for this attribute from text (a form field, a CSV cell):
    /// trimmed; a decimal number such as `180.5` (no exponent, no unit); `true` or
    /// `false` in any case; a choice ignoring case. Then [`AttributeDefinition::check`].
    pub fn parse_value(&self, raw: &str) -> Result<AttributeValue, AttributeError> {
        let text = raw.trim();
        let value = match &self.kind {
            AttributeKind::Text => {
                AttributeValue::Text(AttributeText::parse(raw).map_err(|source| {
                    AttributeError::InvalidText {
                        attribute: self.name.clone(),
                        source,
                    }
                })?)
            }
            AttributeKind::Number { .. } => {
                let n = Decimal::from_str_exact(text).map_err(|_| AttributeError::NotANumber {
                    attribute: self.name.clone(),
                    value: raw.to_owned(),
                })?;
                AttributeValue::Number(n)
            }
            AttributeKind::Boolean => {
                if text.eq_ignore_ascii_case("true") {
                    AttributeValue::Boolean(true)
                } else if text.eq_ignore_ascii_case("false") {
                    AttributeValue::Boolean(false)
                } else {
                    return Err(AttributeError::NotABoolean {
                        attribute: self.name.clone(),
                        value: raw.to_owned(),
                    });
                }
            }
            AttributeKind::OneOf { choices } => match choices.find(text) {
                Some(choice) => AttributeValue::Choice(choice.clone()),
                None => {
                    return Err(AttributeError::NotAChoice {
                        attribute: self.name.clone(),
                        value: raw.to_owned(),
                    });
                }
            },
        };
        self.check(value)
    }

    fn check_number(&self, n: Decimal) -> Result<AttributeValue, AttributeError> {
        let limit = Decimal::from(10i64.pow(AttributeValue::MAX_INTEGER_DIGITS));
        let normalized = n.normalize();
        if normalized.scale() > AttributeValue::MAX_SCALE || normalized.abs() >= limit {
            return Err(AttributeError::NumberOutOfRange {
                attribute: self.name.clone(),
                value: n,
            });
        }
        Ok(AttributeValue::Number(normalized))
    }
}

/// The most attribute values on one product or one variant.
pub const MAX_ATTRIBUTES: usize = 100;

/// One attribute's value on a product or a variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attribute {
    /// The attribute's name.
    pub name: AttributeName,
    /// Its value.
    pub value: AttributeValue,
}

/// Checks the attribute values of one product or variant against the catalog's
/// definitions: at most [`MAX_ATTRIBUTES`], each defined (names compared ignoring
/// case; should two definitions share a name, the first counts: the store keeps
/// names unique), none twice, each value fitting its definition. Returns them in
/// stored form, named as defined.
pub fn check_attributes(
    definitions: &[AttributeDefinition],
    attributes: Vec<Attribute>,
) -> Result<Vec<Attribute>, AttributeError> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(AttributeError::TooManyAttributes {
            count: attributes.len(),
            max: MAX_ATTRIBUTES,
        });
    }
    let mut seen = HashSet::with_capacity(attributes.len());
    attributes
        .into_iter()
        .map(|attribute| {
            let key = fold(attribute.name.as_str());
            let definition = definitions
                .iter()
                .find(|d| fold(d.name.as_str()) == key)
                .ok_or_else(|| AttributeError::UnknownAttribute {
                    attribute: attribute.name.clone(),
                })?;
            if !seen.insert(key) {
                return Err(AttributeError::DuplicateAttribute {
                    attribute: attribute.name,
                });
            }
            Ok(Attribute {
                name: definition.name.clone(),
                value: definition.check(attribute.value)?,
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "attribute_tests.rs"]
mod tests;
