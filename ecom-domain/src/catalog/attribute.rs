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
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn name(text: &str) -> AttributeName {
        AttributeName::parse(text).unwrap()
    }

    fn text(text: &str) -> AttributeText {
        AttributeText::parse(text).unwrap()
    }

    fn material() -> AttributeDefinition {
        AttributeDefinition {
            name: name("Material"),
            kind: AttributeKind::OneOf {
                choices: AttributeChoices::new(vec![text("cotton"), text("Linen"), text("wool")])
                    .unwrap(),
            },
        }
    }

    fn weight() -> AttributeDefinition {
        AttributeDefinition {
            name: name("Weight"),
            kind: AttributeKind::Number {
                unit: Some(AttributeUnit::parse("g").unwrap()),
            },
        }
    }

    fn waterproof() -> AttributeDefinition {
        AttributeDefinition {
            name: name("Waterproof"),
            kind: AttributeKind::Boolean,
        }
    }

    fn care() -> AttributeDefinition {
        AttributeDefinition {
            name: name("Care"),
            kind: AttributeKind::Text,
        }
    }

    #[test]
    fn each_kind_takes_its_own_values_in_stored_form() {
        assert_eq!(
            material().parse_value(" LINEN "),
            Ok(AttributeValue::Choice(text("Linen")))
        );
        assert_eq!(
            material().check(AttributeValue::Choice(text("Wool"))),
            Ok(AttributeValue::Choice(text("wool")))
        );
        assert_eq!(
            weight().parse_value("180.50"),
            Ok(AttributeValue::Number(dec!(180.5)))
        );
        assert_eq!(
            weight().check(AttributeValue::Number(dec!(-0.000))),
            Ok(AttributeValue::Number(dec!(0)))
        );
        assert_eq!(
            waterproof().parse_value("TRUE"),
            Ok(AttributeValue::Boolean(true))
        );
        assert_eq!(
            waterproof().parse_value("false"),
            Ok(AttributeValue::Boolean(false))
        );
        assert_eq!(
            care().parse_value(" machine wash at 30 °C "),
            Ok(AttributeValue::Text(text("machine wash at 30 °C")))
        );
    }

    #[test]
    fn values_that_do_not_fit_are_refused_by_name() {
        assert_eq!(
            material().parse_value("silk"),
            Err(AttributeError::NotAChoice {
                attribute: name("Material"),
                value: "silk".into()
            })
        );
        assert_eq!(
            weight().check(AttributeValue::Text(text("180"))),
            Err(AttributeError::WrongKind {
                attribute: name("Weight"),
                expected: "number",
                found: "text"
            })
        );
        assert_eq!(
            care().check(AttributeValue::Choice(text("cotton"))),
            Err(AttributeError::WrongKind {
                attribute: name("Care"),
                expected: "text",
                found: "one_of"
            })
        );
        for raw in ["180 g", "1e3", "", "NaN", "inf", "0x10", "1,5"] {
            assert!(
                matches!(
                    weight().parse_value(raw),
                    Err(AttributeError::NotANumber { .. })
                ),
                "{raw}"
            );
        }
        for n in [dec!(1000000000000), dec!(-1000000000000), dec!(0.0000001)] {
            assert_eq!(
                weight().check(AttributeValue::Number(n)),
                Err(AttributeError::NumberOutOfRange {
                    attribute: name("Weight"),
                    value: n
                })
            );
        }
        assert!(
            weight()
                .check(AttributeValue::Number(dec!(999999999999.999999)))
                .is_ok()
        );
        assert!(matches!(
            waterproof().parse_value("yes"),
            Err(AttributeError::NotABoolean { .. })
        ));
        assert!(matches!(
            care().parse_value("two\nlines"),
            Err(AttributeError::InvalidText {
                source: ValidationError::ControlCharacter { .. },
                ..
            })
        ));
    }

    #[test]
    fn choices_are_listed_once_ignoring_case() {
        assert_eq!(
            AttributeChoices::new(vec![]),
            Err(AttributeError::NoChoices)
        );
        assert_eq!(
            AttributeChoices::new(vec![text("cotton"), text("COTTON")]),
            Err(AttributeError::DuplicateChoice {
                choice: text("COTTON")
            })
        );
        let many = (0..=AttributeChoices::MAX)
            .map(|i| text(&i.to_string()))
            .collect();
        assert_eq!(
            AttributeChoices::new(many),
            Err(AttributeError::TooManyChoices {
                count: 101,
                max: 100
            })
        );
    }

    #[test]
    fn a_product_s_attributes_are_defined_given_once_and_valid() {
        let defs = [material(), weight(), waterproof(), care()];
        let given = vec![
            Attribute {
                name: name("material"),
                value: AttributeValue::Choice(text("COTTON")),
            },
            Attribute {
                name: name("Weight"),
                value: AttributeValue::Number(dec!(180.0)),
            },
        ];
        assert_eq!(
            check_attributes(&defs, given.clone()),
            Ok(vec![
                Attribute {
                    name: name("Material"),
                    value: AttributeValue::Choice(text("cotton")),
                },
                Attribute {
                    name: name("Weight"),
                    value: AttributeValue::Number(dec!(180)),
                },
            ])
        );
        let mut twice = given.clone();
        twice.push(Attribute {
            name: name("MATERIAL"),
            value: AttributeValue::Choice(text("wool")),
        });
        assert_eq!(
            check_attributes(&defs, twice),
            Err(AttributeError::DuplicateAttribute {
                attribute: name("MATERIAL")
            })
        );
        let unknown = vec![Attribute {
            name: name("Colour"),
            value: AttributeValue::Text(text("red")),
        }];
        assert_eq!(
            check_attributes(&defs, unknown),
            Err(AttributeError::UnknownAttribute {
                attribute: name("Colour")
            })
        );
        let too_many = vec![given[0].clone(); MAX_ATTRIBUTES + 1];
        assert_eq!(
            check_attributes(&defs, too_many),
            Err(AttributeError::TooManyAttributes {
                count: 101,
                max: 100
            })
        );
        assert_eq!(check_attributes(&defs, vec![]), Ok(vec![]));
    }

    #[test]
    fn definitions_and_values_round_trip_through_serde() {
        for def in [material(), weight(), waterproof(), care()] {
            let json = serde_json::to_string(&def).unwrap();
            assert_eq!(
                serde_json::from_str::<AttributeDefinition>(&json).unwrap(),
                def
            );
        }
        assert_eq!(
            serde_json::to_string(&weight().kind).unwrap(),
            r#"{"type":"number","unit":"g"}"#
        );
        let bad = r#"{"name":"Material","kind":{"type":"one_of","choices":["a","A"]}}"#;
        assert!(serde_json::from_str::<AttributeDefinition>(bad).is_err());
        // Numbers travel as text, so no float ever holds them.
        let value = AttributeValue::Number(dec!(180.5));
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(json, r#"{"type":"number","value":"180.5"}"#);
        assert_eq!(
            serde_json::from_str::<AttributeValue>(&json).unwrap(),
            value
        );
    }

    fn any_definition() -> impl Strategy<Value = AttributeDefinition> {
        let kind = prop_oneof![
            Just(AttributeKind::Text),
            Just(AttributeKind::Boolean),
            Just(AttributeKind::Number { unit: None }),
            proptest::collection::vec("[a-cA-C]{1,2}", 1..6).prop_filter_map(
                "distinct choices",
                |raw| {
                    let choices = raw.iter().map(|c| text(c)).collect();
                    AttributeChoices::new(choices)
                        .ok()
                        .map(|choices| AttributeKind::OneOf { choices })
                }
            ),
        ];
        kind.prop_map(|kind| AttributeDefinition {
            name: name("Attr"),
            kind,
        })
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "\\PC*",
            "[+-]?[0-9_]{0,20}(\\.[0-9]{0,10})?",
            "(?i)(true|false|yes)",
            "[a-cA-C]{1,2}",
        ]
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics_and_yields_a_checked_value(
            def in any_definition(),
            raw in any_text(),
        ) {
            if let Ok(value) = def.parse_value(&raw) {
                prop_assert_eq!(value.kind_name(), def.kind.name());
                // Stored form is a fixed point of the check.
                prop_assert_eq!(def.check(value.clone())?, value.clone());
                // And its text reads back as the same value.
                prop_assert_eq!(def.parse_value(&value.to_string())?, value.clone());
                let json = serde_json::to_string(&value).unwrap();
                prop_assert_eq!(serde_json::from_str::<AttributeValue>(&json).unwrap(), value.clone());
                if let AttributeValue::Number(n) = value {
                    prop_assert!(n.scale() <= AttributeValue::MAX_SCALE);
                }
            }
        }

        #[test]
        fn any_decimal_is_checked_without_panicking(
            mantissa in any::<i64>(),
            scale in 0u32..=28,
        ) {
            let n = Decimal::new(mantissa, scale);
            match weight().check(AttributeValue::Number(n)) {
                Ok(AttributeValue::Number(stored)) => {
                    prop_assert_eq!(stored, n);
                    prop_assert!(stored.scale() <= AttributeValue::MAX_SCALE);
                }
                Ok(other) => prop_assert!(false, "{:?}", other),
                Err(err) => {
                    let out_of_range = matches!(err, AttributeError::NumberOutOfRange { .. });
                    prop_assert!(out_of_range);
                }
            }
        }
    }
}
