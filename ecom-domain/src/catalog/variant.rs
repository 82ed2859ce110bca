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
#[path = "variant_tests.rs"]
pub(crate) mod tests;
