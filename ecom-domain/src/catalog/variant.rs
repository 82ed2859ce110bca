//! Option types and the option values that tell a product's variants apart.
//!
//! A T-shirt has the option types Colour (Red, Green, Blue) and Size (S, M, L, XL,
//! XXL); each of its variants picks one value of each, and no two variants pick the
//! same combination. A product without option types has one variant, its default,
//! which picks nothing. Names and values are compared **case-insensitively**: `red`
//! and `Red` can't both be values of one type, and a selection written `colour=red`
//! finds the product's `Colour: Red`, in the product's spelling.

use std::collections::HashSet;
use std::collections::hash_map::{Entry, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::fold;
use crate::values::{OptionName, OptionValue};

/// The most variants one product has: what [`ProductOptions::combinations`] will
/// generate and what [`ProductOptions::check_variants`] accepts.
pub const MAX_VARIANTS: usize = 1000;

/// What the option rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// An option type needs at least one value.
    #[error("option {option} has no values")]
    NoValues {
        /// The option type.
        option: OptionName,
    },
    /// More values than [`OptionType::MAX_VALUES`].
    #[error("option {option} has {count} values, at most {max} are allowed")]
    TooManyValues {
        /// The option type.
        option: OptionName,
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Two values of one option type differ only in case, or not at all.
    #[error("option {option} has the value {value:?} twice")]
    DuplicateValue {
        /// The option type.
        option: OptionName,
        /// The second occurrence, as given.
        value: OptionValue,
    },
    /// More option types than [`ProductOptions::MAX_TYPES`].
    #[error("{count} option types, at most {max} are allowed")]
    TooManyOptions {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Two option types (or two choices of one selection) with the same name,
    /// ignoring case.
    #[error("option {option} is named twice")]
    DuplicateOption {
        /// The second occurrence, as given.
        option: OptionName,
    },
    /// A selection names an option type the product doesn't have.
    #[error("the product has no option {option}")]
    UnknownOption {
        /// The name as given.
        option: OptionName,
    },
    /// A selection picks a value its option type doesn't have.
    #[error("option {option} has no value {value:?}")]
    UnknownValue {
        /// The option type.
        option: OptionName,
        /// The value as given.
        value: OptionValue,
    },
    /// A selection picks no value for one of the product's option types.
    #[error("no value chosen for option {option}")]
    MissingOption {
        /// The option type left out.
        option: OptionName,
    },
    /// A product needs at least one variant: the thing that is sold.
    #[error("a product needs at least one variant")]
    NoVariants,
    /// More variants (or combinations) than [`MAX_VARIANTS`].
    #[error("{count} variants, at most {max} are allowed")]
    TooManyVariants {
        /// How many there are (`usize::MAX` when the count itself overflows).
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A product without option types has exactly one variant, its default.
    #[error("a product without options has exactly one (default) variant, not {count}")]
    DefaultVariantOnly {
        /// How many were given.
        count: usize,
    },
    /// Two variants of one product pick the same values.
    #[error("variants {first} and {second} both choose {selection}")]
    DuplicateVariant {
        /// The combination chosen twice, in the product's order and spelling.
        selection: OptionSelection,
        /// The position of the first, counted from 0.
        first: usize,
        /// The position of the second.
        second: usize,
    },
}

/// One option type of a product ("Size") with its values in display order (S, M, L).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawOptionType")]
pub struct OptionType {
    name: OptionName,
    values: Vec<OptionValue>,
}

/// An option type as read, before its rules are checked.
#[derive(Deserialize)]
struct RawOptionType {
    name: OptionName,
    values: Vec<OptionValue>,
}

impl TryFrom<RawOptionType> for OptionType {
    type Error = OptionError;
    fn try_from(raw: RawOptionType) -> Result<Self, Self::Error> {
        Self::new(raw.name, raw.values)
    }
}

impl OptionType {
    /// The most values one option type has.
    pub const MAX_VALUES: usize = 100;

    /// An option type with 1 to [`OptionType::MAX_VALUES`] values, distinct ignoring
    /// case, in the order given.
    pub fn new(name: OptionName, values: Vec<OptionValue>) -> Result<Self, OptionError> {
        if values.is_empty() {
            return Err(OptionError::NoValues { option: name });
        }
        if values.len() > Self::MAX_VALUES {
            return Err(OptionError::TooManyValues {
                option: name,
                count: values.len(),
                max: Self::MAX_VALUES,
            });
        }
        let mut seen = HashSet::with_capacity(values.len());
        if let Some(value) = values.iter().find(|v| !seen.insert(fold(v.as_str()))) {
            return Err(OptionError::DuplicateValue {
                option: name,
                value: value.clone(),
            });
        }
        Ok(Self { name, values })
    }

    /// Its name.
    pub fn name(&self) -> &OptionName {
        &self.name
    }

    /// Its values, in display order.
    pub fn values(&self) -> &[OptionValue] {
        &self.values
    }

    /// The value that `value` names, ignoring case.
    pub fn find(&self, value: &str) -> Option<&OptionValue> {
        let key = fold(value);
        self.values.iter().find(|v| fold(v.as_str()) == key)
    }
}

/// A product's option types, in display order; none for a product sold in one form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<OptionType>", into = "Vec<OptionType>")]
pub struct ProductOptions(Vec<OptionType>);

impl ProductOptions {
    /// The most option types one product has.
    pub const MAX_TYPES: usize = 5;

    /// Up to [`ProductOptions::MAX_TYPES`] option types with distinct names (ignoring
    /// case), in the order given.
    pub fn new(types: Vec<OptionType>) -> Result<Self, OptionError> {
        if types.len() > Self::MAX_TYPES {
            return Err(OptionError::TooManyOptions {
                count: types.len(),
                max: Self::MAX_TYPES,
            });
        }
        let mut seen = HashSet::with_capacity(types.len());
        if let Some(t) = types.iter().find(|t| !seen.insert(fold(t.name.as_str()))) {
            return Err(OptionError::DuplicateOption {
                option: t.name.clone(),
            });
        }
        Ok(Self(types))
    }

    /// No option types: the product has one, default, variant.
    pub fn none() -> Self {
        Self::default()
    }

    /// The option types, in display order.
    pub fn types(&self) -> &[OptionType] {
        &self.0
    }

    /// True for a product without option types.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The option type that `name` names, ignoring case.
    pub fn get(&self, name: &str) -> Option<&OptionType> {
        let key = fold(name);
        self.0.iter().find(|t| fold(t.name.as_str()) == key)
    }

    /// How many different selections there are: the product of the value counts (1
    /// for no options), `usize::MAX` if that overflows.
    pub fn combination_count(&self) -> usize {
        self.0
            .iter()
            .try_fold(1usize, |n, t| n.checked_mul(t.values.len()))
            .unwrap_or(usize::MAX)
    }

    /// `choice` in the product's spelling, if the product has that option and value.
    pub fn resolve_choice(&self, choice: &OptionChoice) -> Result<OptionChoice, OptionError> {
        let option =
            self.get(choice.option.as_str())
                .ok_or_else(|| OptionError::UnknownOption {
                    option: choice.option.clone(),
                })?;
        let value =
            option
                .find(choice.value.as_str())
                .ok_or_else(|| OptionError::UnknownValue {
                    option: option.name.clone(),
                    value: choice.value.clone(),
                })?;
        Ok(OptionChoice {
            option: option.name.clone(),
            value: value.clone(),
        })
    }

    /// Checks a variant's selection picks exactly one value of each option type, each
    /// one of that type's values, and returns it in the product's order and spelling:
    /// two selections of one product are the same combination exactly when the
    /// returned selections are equal.
    pub fn resolve(&self, selection: &OptionSelection) -> Result<OptionSelection, OptionError> {
        // The selection's names are distinct, so once each resolves, a name of the
        // product that none resolved to is the only way to miss one.
        let mut chosen: Vec<Option<OptionValue>> = vec![None; self.0.len()];
        for choice in &selection.0 {
            let resolved = self.resolve_choice(choice)?;
            if let Some(slot) = self
                .0
                .iter()
                .position(|t| t.name == resolved.option)
                .and_then(|at| chosen.get_mut(at))
            {
                *slot = Some(resolved.value);
            }
        }
        self.0
            .iter()
            .zip(chosen)
            .map(|(t, value)| match value {
                Some(value) => Ok(OptionChoice {
                    option: t.name.clone(),
                    value,
                }),
                None => Err(OptionError::MissingOption {
                    option: t.name.clone(),
                }),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(OptionSelection)
    }

    /// Checks the selections of all of a product's variants, in order: at least one
    /// and at most [`MAX_VARIANTS`]; each valid for these options (see
    /// [`ProductOptions::resolve`]); no combination twice. A product without options
    /// has exactly one variant, with the empty selection. Returns the selections in
    /// the product's spelling.
    ///
    /// ```
    /// use ecom_domain::catalog::{OptionError, OptionSelection, ProductOptions};
    ///
    /// let default = ProductOptions::none();
    /// assert!(default.check_variants(&[OptionSelection::none()]).is_ok());
    /// assert_eq!(
    ///     default.check_variants(&[OptionSelection::none(), OptionSelection::none()]),
    ///     Err(OptionError::DefaultVariantOnly { count: 2 })
    /// );
    /// ```
    pub fn check_variants(
        &self,
        selections: &[OptionSelection],
    ) -> Result<Vec<OptionSelection>, OptionError> {
        let count = selections.len();
        if count == 0 {
            return Err(OptionError::NoVariants);
        }
        if self.is_empty() && count != 1 {
            return Err(OptionError::DefaultVariantOnly { count });
        }
        if count > MAX_VARIANTS {
            return Err(OptionError::TooManyVariants {
                count,
                max: MAX_VARIANTS,
            });
        }
        let resolved = selections
            .iter()
            .map(|s| self.resolve(s))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen: HashMap<&OptionSelection, usize> = HashMap::with_capacity(count);
        for (second, selection) in resolved.iter().enumerate() {
            match seen.entry(selection) {
                Entry::Occupied(first) => {
                    return Err(OptionError::DuplicateVariant {
                        selection: selection.clone(),
                        first: *first.get(),
                        second,
                    });
                }
                Entry::Vacant(slot) => {
                    slot.insert(second);
                }
            }
        }
        Ok(resolved)
    }

    /// Every combination of values, one selection each, at most [`MAX_VARIANTS`]: the
    /// option types in order, the last varying fastest, each type's values in its
    /// order (Red S, Red M, ..., Blue XXL). Without options, the one empty selection.
    ///
    /// ```
    /// use ecom_domain::catalog::{OptionType, ProductOptions};
    /// use ecom_domain::values::{OptionName, OptionValue};
    ///
    /// let option = |name, values: &[&str]| {
    ///     let values = values.iter().map(|v| OptionValue::parse(v).unwrap()).collect();
    ///     OptionType::new(OptionName::parse(name).unwrap(), values).unwrap()
    /// };
    /// let shirt = ProductOptions::new(vec![
    ///     option("Colour", &["Red", "Green", "Blue"]),
    ///     option("Size", &["S", "M", "L", "XL", "XXL"]),
    /// ])
    /// .unwrap();
    /// let all = shirt.combinations().unwrap();
    /// assert_eq!(all.len(), 15);
    /// assert_eq!(all[1].to_string(), "Colour: Red, Size: M");
    /// assert!(shirt.check_variants(&all).is_ok());
    /// ```
    pub fn combinations(&self) -> Result<Vec<OptionSelection>, OptionError> {
        let count = self.combination_count();
        if count > MAX_VARIANTS {
            return Err(OptionError::TooManyVariants {
                count,
                max: MAX_VARIANTS,
            });
        }
        let mut all = Vec::with_capacity(count);
        // An odometer over the value positions, the last wheel turning fastest.
        let mut wheels = vec![0usize; self.0.len()];
        loop {
            all.push(OptionSelection(
                self.0
                    .iter()
                    .zip(&wheels)
                    .map(|(t, &at)| OptionChoice {
                        option: t.name.clone(),
                        value: t.values[at].clone(),
                    })
                    .collect(),
            ));
            let mut wheel = wheels.len();
            loop {
                if wheel == 0 {
                    return Ok(all);
                }
                wheel -= 1;
                wheels[wheel] += 1;
                if wheels[wheel] < self.0[wheel].values.len() {
                    break;
                }
                wheels[wheel] = 0;
            }
        }
    }
}

impl TryFrom<Vec<OptionType>> for ProductOptions {
    type Error = OptionError;
    fn try_from(types: Vec<OptionType>) -> Result<Self, Self::Error> {
        Self::new(types)
    }
}

impl From<ProductOptions> for Vec<OptionType> {
    fn from(options: ProductOptions) -> Self {
        options.0
    }
}

/// One value of one option type: "Colour: Red".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OptionChoice {
    /// The option type's name.
    pub option: OptionName,
    /// The value picked.
    pub value: OptionValue,
}

impl fmt::Display for OptionChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.option, self.value)
    }
}

/// What tells one variant from its siblings: one value per option type of its
/// product. On its own it only knows its option names are distinct;
/// [`ProductOptions::resolve`] checks it against a product. Empty for a product's
/// default variant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<OptionChoice>", into = "Vec<OptionChoice>")]
pub struct OptionSelection(Vec<OptionChoice>);

impl OptionSelection {
    /// Choices of up to [`ProductOptions::MAX_TYPES`] distinct options (ignoring case).
    pub fn new(choices: Vec<OptionChoice>) -> Result<Self, OptionError> {
        if choices.len() > ProductOptions::MAX_TYPES {
            return Err(OptionError::TooManyOptions {
                count: choices.len(),
                max: ProductOptions::MAX_TYPES,
            });
        }
        let mut seen = HashSet::with_capacity(choices.len());
        if let Some(c) = choices
            .iter()
            .find(|c| !seen.insert(fold(c.option.as_str())))
        {
            return Err(OptionError::DuplicateOption {
                option: c.option.clone(),
            });
        }
        Ok(Self(choices))
    }

    /// The empty selection, of a product's default variant.
    pub fn none() -> Self {
        Self::default()
    }

    /// The choices, in order.
    pub fn choices(&self) -> &[OptionChoice] {
        &self.0
    }

    /// True for a default variant's selection.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value chosen for the option `option` names, ignoring case.
    pub fn value_of(&self, option: &str) -> Option<&OptionValue> {
        let key = fold(option);
        self.0
            .iter()
            .find(|c| fold(c.option.as_str()) == key)
            .map(|c| &c.value)
    }
}

impl TryFrom<Vec<OptionChoice>> for OptionSelection {
    type Error = OptionError;
    fn try_from(choices: Vec<OptionChoice>) -> Result<Self, Self::Error> {
        Self::new(choices)
    }
}

impl From<OptionSelection> for Vec<OptionChoice> {
    fn from(selection: OptionSelection) -> Self {
        selection.0
    }
}

/// "Colour: Red, Size: M"; "default" for the empty selection.
impl fmt::Display for OptionSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("default");
        }
        for (i, choice) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{choice}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn name(text: &str) -> OptionName {
        OptionName::parse(text).unwrap()
    }

    pub(crate) fn value(text: &str) -> OptionValue {
        OptionValue::parse(text).unwrap()
    }

    pub(crate) fn option(option: &str, values: &[&str]) -> OptionType {
        OptionType::new(name(option), values.iter().map(|v| value(v)).collect()).unwrap()
    }

    pub(crate) fn choice(option: &str, picked: &str) -> OptionChoice {
        OptionChoice {
            option: name(option),
            value: value(picked),
        }
    }

    pub(crate) fn select(choices: &[(&str, &str)]) -> OptionSelection {
        OptionSelection::new(choices.iter().map(|(o, v)| choice(o, v)).collect()).unwrap()
    }

    /// Colour (Red, Green, Blue) × Size (S, M, L, XL, XXL).
    pub(crate) fn shirt() -> ProductOptions {
        ProductOptions::new(vec![
            option("Colour", &["Red", "Green", "Blue"]),
            option("Size", &["S", "M", "L", "XL", "XXL"]),
        ])
        .unwrap()
    }

    #[test]
    fn three_colours_by_five_sizes_make_fifteen_variants_in_display_order() {
        let all = shirt().combinations().unwrap();
        assert_eq!(all.len(), 15);
        let text: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(text[0], "Colour: Red, Size: S");
        assert_eq!(text[4], "Colour: Red, Size: XXL");
        assert_eq!(text[5], "Colour: Green, Size: S");
        assert_eq!(text[14], "Colour: Blue, Size: XXL");
        assert_eq!(shirt().check_variants(&all), Ok(all));
    }

    #[test]
    fn a_product_without_options_has_exactly_one_default_variant() {
        let none = ProductOptions::none();
        assert_eq!(none.combinations(), Ok(vec![OptionSelection::none()]));
        assert_eq!(
            none.check_variants(&[OptionSelection::none()]),
            Ok(vec![OptionSelection::none()])
        );
        assert_eq!(none.check_variants(&[]), Err(OptionError::NoVariants));
        assert_eq!(
            none.check_variants(&vec![OptionSelection::none(); 3]),
            Err(OptionError::DefaultVariantOnly { count: 3 })
        );
        assert_eq!(
            none.check_variants(&[select(&[("Colour", "Red")])]),
            Err(OptionError::UnknownOption {
                option: name("Colour")
            })
        );
        assert_eq!(OptionSelection::none().to_string(), "default");
    }

    #[test]
    fn option_types_have_distinct_values_ignoring_case() {
        assert_eq!(
            OptionType::new(
                name("Colour"),
                vec![value("Red"), value("Blue"), value("RED")]
            ),
            Err(OptionError::DuplicateValue {
                option: name("Colour"),
                value: value("RED")
            })
        );
        assert_eq!(
            OptionType::new(name("Colour"), vec![]),
            Err(OptionError::NoValues {
                option: name("Colour")
            })
        );
        let many = (0..=OptionType::MAX_VALUES)
            .map(|i| value(&i.to_string()))
            .collect();
        assert_eq!(
            OptionType::new(name("Size"), many),
            Err(OptionError::TooManyValues {
                option: name("Size"),
                count: 101,
                max: 100
            })
        );
        let colour = option("Colour", &["Red", "Blue"]);
        assert_eq!(colour.find("bLUE"), Some(&value("Blue")));
        assert_eq!(colour.find("Green"), None);
    }

    #[test]
    fn a_product_names_each_option_type_once_and_has_few() {
        assert_eq!(
            ProductOptions::new(vec![option("Size", &["S"]), option("size", &["M"])]),
            Err(OptionError::DuplicateOption {
                option: name("size")
            })
        );
        let six = (0..6).map(|i| option(&format!("O{i}"), &["x"])).collect();
        assert_eq!(
            ProductOptions::new(six),
            Err(OptionError::TooManyOptions { count: 6, max: 5 })
        );
        assert_eq!(shirt().get("SIZE").map(|t| t.values().len()), Some(5));
    }

    #[test]
    fn a_selection_picks_one_known_value_of_every_option() {
        let shirt = shirt();
        // Found ignoring case and order, returned in the product's.
        assert_eq!(
            shirt.resolve(&select(&[("size", "xl"), ("COLOUR", "blue")])),
            Ok(select(&[("Colour", "Blue"), ("Size", "XL")]))
        );
        assert_eq!(
            shirt.resolve(&select(&[("Colour", "Red")])),
            Err(OptionError::MissingOption {
                option: name("Size")
            })
        );
        assert_eq!(
            shirt.resolve(&select(&[
                ("Colour", "Red"),
                ("Size", "M"),
                ("Fit", "Slim")
            ])),
            Err(OptionError::UnknownOption {
                option: name("Fit")
            })
        );
        assert_eq!(
            shirt.resolve(&select(&[("Colour", "Pink"), ("Size", "M")])),
            Err(OptionError::UnknownValue {
                option: name("Colour"),
                value: value("Pink")
            })
        );
        assert_eq!(
            OptionSelection::new(vec![choice("Colour", "Red"), choice("colour", "Blue")]),
            Err(OptionError::DuplicateOption {
                option: name("colour")
            })
        );
    }

    #[test]
    fn two_variants_with_one_combination_are_named() {
        let variants = [
            select(&[("Colour", "Red"), ("Size", "S")]),
            select(&[("Colour", "Blue"), ("Size", "S")]),
            select(&[("size", "s"), ("colour", "red")]),
        ];
        let err = shirt().check_variants(&variants).unwrap_err();
        assert_eq!(
            err,
            OptionError::DuplicateVariant {
                selection: select(&[("Colour", "Red"), ("Size", "S")]),
                first: 0,
                second: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "variants 0 and 2 both choose Colour: Red, Size: S"
        );
    }

    #[test]
    fn combinations_are_bounded() {
        let ten: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
        let big =
            ProductOptions::new((0..4).map(|i| option(&format!("O{i}"), &ten)).collect()).unwrap();
        assert_eq!(big.combination_count(), 10_000);
        assert_eq!(
            big.combinations(),
            Err(OptionError::TooManyVariants {
                count: 10_000,
                max: MAX_VARIANTS
            })
        );
        let hundred: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let hundred: Vec<&str> = hundred.iter().map(String::as_str).collect();
        let huge =
            ProductOptions::new((0..5).map(|i| option(&format!("O{i}"), &hundred)).collect())
                .unwrap();
        assert_eq!(huge.combination_count(), 10_000_000_000);
        assert!(huge.combinations().is_err());
    }

    #[test]
    fn serde_round_trips_and_checks_the_rules_again() {
        let options = shirt();
        let json = serde_json::to_string(&options).unwrap();
        assert_eq!(
            json,
            r#"[{"name":"Colour","values":["Red","Green","Blue"]},{"name":"Size","values":["S","M","L","XL","XXL"]}]"#
        );
        assert_eq!(
            serde_json::from_str::<ProductOptions>(&json).unwrap(),
            options
        );
        let twice = r#"[{"name":"Colour","values":["Red","red"]}]"#;
        assert!(serde_json::from_str::<ProductOptions>(twice).is_err());
        let no_values = r#"[{"name":"Colour","values":[]}]"#;
        assert!(serde_json::from_str::<ProductOptions>(no_values).is_err());

        let selection = select(&[("Colour", "Red"), ("Size", "M")]);
        let json = serde_json::to_string(&selection).unwrap();
        assert_eq!(
            json,
            r#"[{"option":"Colour","value":"Red"},{"option":"Size","value":"M"}]"#
        );
        assert_eq!(
            serde_json::from_str::<OptionSelection>(&json).unwrap(),
            selection
        );
        let twice = r#"[{"option":"Size","value":"S"},{"option":"SIZE","value":"M"}]"#;
        assert!(serde_json::from_str::<OptionSelection>(twice).is_err());
    }

    /// Up to 3 option types of up to 4 values, distinct by construction.
    fn small_options() -> impl Strategy<Value = ProductOptions> {
        proptest::collection::vec(1usize..=4, 0..=3).prop_map(|counts| {
            let types = counts
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let values = (0..n).map(|j| value(&format!("Value {i}.{j}"))).collect();
                    OptionType::new(name(&format!("Option {i}")), values).unwrap()
                })
                .collect();
            ProductOptions::new(types).unwrap()
        })
    }

    /// Text that collides often, in case too.
    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[abAB]{1,2}",
            1 => any::<String>(),
            1 => "\\PC{0,8}",
        ]
    }

    /// Changes the case of some letters.
    fn recase(text: &str, mask: u64) -> String {
        text.chars()
            .enumerate()
            .map(|(i, c)| {
                if mask >> (i % 64) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    }

    proptest! {
        #[test]
        fn building_options_from_anything_never_panics_and_keeps_the_rules(
            raw in proptest::collection::vec(
                (word(), proptest::collection::vec(word(), 0..6)),
                0..7,
            ),
        ) {
            let types: Vec<OptionType> = raw
                .iter()
                .filter_map(|(n, vs)| {
                    let values = vs.iter().filter_map(|v| OptionValue::parse(v).ok()).collect();
                    OptionType::new(OptionName::parse(n).ok()?, values).ok()
                })
                .collect();
            if let Ok(options) = ProductOptions::new(types) {
                prop_assert!(options.types().len() <= ProductOptions::MAX_TYPES);
                let names: HashSet<String> =
                    options.types().iter().map(|t| fold(t.name().as_str())).collect();
                prop_assert_eq!(names.len(), options.types().len());
                for t in options.types() {
                    let values: HashSet<String> =
                        t.values().iter().map(|v| fold(v.as_str())).collect();
                    prop_assert_eq!(values.len(), t.values().len());
                    prop_assert!(!t.values().is_empty() && t.values().len() <= OptionType::MAX_VALUES);
                }
                let json = serde_json::to_string(&options).unwrap();
                prop_assert_eq!(serde_json::from_str::<ProductOptions>(&json).unwrap(), options);
            }
        }

        #[test]
        fn every_combination_is_unique_valid_and_counted(options in small_options()) {
            let all = options.combinations()?;
            prop_assert_eq!(all.len(), options.combination_count());
            prop_assert_eq!(&options.check_variants(&all)?, &all);
            for selection in &all {
                prop_assert_eq!(&options.resolve(selection)?, selection);
                prop_assert_eq!(selection.choices().len(), options.types().len());
            }
            prop_assert_eq!(all.iter().collect::<HashSet<_>>().len(), all.len());
        }

        #[test]
        fn a_combination_chosen_twice_is_refused_and_named_however_it_is_spelled(
            options in small_options(),
            keep in proptest::collection::vec(any::<bool>(), 64),
            pick in any::<prop::sample::Index>(),
            mask in any::<u64>(),
        ) {
            let all = options.combinations()?;
            let mut variants: Vec<OptionSelection> = all
                .iter()
                .zip(keep.iter().cycle())
                .filter(|(_, keep)| **keep)
                .map(|(s, _)| s.clone())
                .collect();
            if variants.is_empty() {
                variants.push(all[0].clone());
            }
            // Any subset of the combinations is a valid set of variants...
            prop_assert_eq!(&options.check_variants(&variants)?, &variants);
            // ...until one of them comes again, spelled in another case and order.
            let first = pick.index(variants.len());
            let mut again: Vec<OptionChoice> = variants[first]
                .choices()
                .iter()
                .map(|c| OptionChoice {
                    option: OptionName::parse(&recase(c.option.as_str(), mask)).unwrap(),
                    value: OptionValue::parse(&recase(c.value.as_str(), !mask)).unwrap(),
                })
                .collect();
            again.reverse();
            variants.push(OptionSelection::new(again)?);
            let second = variants.len() - 1;
            if options.is_empty() {
                prop_assert_eq!(
                    options.check_variants(&variants),
                    Err(OptionError::DefaultVariantOnly { count: 2 })
                );
            } else {
                prop_assert_eq!(
                    options.check_variants(&variants),
                    Err(OptionError::DuplicateVariant {
                        selection: variants[first].clone(),
                        first,
                        second,
                    })
                );
            }
        }

        #[test]
        fn a_selection_resolves_exactly_when_a_brute_force_check_says_so(
            options in small_options(),
            raw in proptest::collection::vec(
                (0u8..5, any::<prop::sample::Index>(), any::<u64>(), word(), word()),
                0..5,
            ),
            reverse in any::<bool>(),
        ) {
            let mut choices: Vec<OptionChoice> = raw
                .iter()
                .enumerate()
                .filter_map(|(i, (mode, at, mask, o, v))| {
                    // Mostly the product's own names and values, recased; sometimes a
                    // real name with any value; sometimes anything at all.
                    let real = options.types().get(i);
                    let (option, value) = match real {
                        Some(t) if *mode < 3 => (
                            recase(t.name().as_str(), *mask),
                            recase(t.values()[at.index(t.values().len())].as_str(), !mask),
                        ),
                        Some(t) if *mode == 3 => (t.name().as_str().to_owned(), v.clone()),
                        _ => (o.clone(), v.clone()),
                    };
                    Some(OptionChoice {
                        option: OptionName::parse(&option).ok()?,
                        value: OptionValue::parse(&value).ok()?,
                    })
                })
                .collect();
            if reverse {
                choices.reverse();
            }
            let Ok(selection) = OptionSelection::new(choices) else { return Ok(()) };
            let json = serde_json::to_string(&selection).unwrap();
            prop_assert_eq!(serde_json::from_str::<OptionSelection>(&json).unwrap(), selection.clone());

            let same = |a: &str, b: &str| fold(a) == fold(b);
            let every_choice_known = selection.choices().iter().all(|c| {
                options.types().iter().any(|t| {
                    same(t.name().as_str(), c.option.as_str())
                        && t.values().iter().any(|v| same(v.as_str(), c.value.as_str()))
                })
            });
            let every_option_chosen = options.types().iter().all(|t| {
                selection.choices().iter().any(|c| same(c.option.as_str(), t.name().as_str()))
            });
            let resolved = options.resolve(&selection);
            prop_assert_eq!(resolved.is_ok(), every_choice_known && every_option_chosen);
            if let Ok(resolved) = resolved {
                prop_assert_eq!(resolved.choices().len(), options.types().len());
                for (c, t) in resolved.choices().iter().zip(options.types()) {
                    prop_assert_eq!(&c.option, t.name());
                    prop_assert!(t.values().contains(&c.value));
                    prop_assert_eq!(
                        selection.value_of(c.option.as_str()).map(|v| fold(v.as_str())),
                        Some(fold(c.value.as_str()))
                    );
                }
            }
        }

        #[test]
        fn a_product_without_options_accepts_one_empty_selection_only(n in 0usize..5) {
            let result = ProductOptions::none().check_variants(&vec![OptionSelection::none(); n]);
            prop_assert_eq!(result.is_ok(), n == 1);
        }
    }
}
