//! What describes a product beyond its options, as JSON both ways: attribute values
//! and definitions, images, and collections.

use chrono::{DateTime, Utc};
use ecom_domain::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::OptionValueJson;
use crate::service::error::ApiError;

/// One attribute value of a product or a variant, by its attribute's type. In a
/// request, the name is matched against the definitions ignoring case (an undefined
/// one is `invalid_attributes`) and the value must be of the attribute's type.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[schema(as = AttributeValue)]
pub(in crate::service) enum AttributeJson {
    /// For a text attribute: 1 to 200 characters.
    Text {
        #[schema(example = "Machine wash at 30 °C")]
        name: String,
        value: String,
    },
    /// For a number attribute: a decimal string (at most 12 digits before the
    /// point and 6 after), never a float, in the definition's unit.
    Number {
        #[schema(example = "Weight")]
        name: String,
        #[schema(example = "180.5")]
        value: String,
    },
    /// For a boolean attribute.
    Boolean {
        #[schema(example = "Waterproof")]
        name: String,
        value: bool,
    },
    /// For a one-of attribute: one of its choices, matched ignoring case.
    Choice {
        #[schema(example = "Material")]
        name: String,
        #[schema(example = "Cotton")]
        value: String,
    },
}

impl AttributeJson {
    /// The attribute value it names; the store checks it against its definition.
    pub(in crate::service) fn into_attribute(self) -> Result<Attribute, ApiError> {
        let text = |name: &AttributeName, raw: &str| {
            AttributeText::parse(raw).map_err(|source| AttributeError::InvalidText {
                attribute: name.clone(),
                source,
            })
        };
        let (name, value) = match self {
            AttributeJson::Text { name, value } => {
                let name = AttributeName::parse(&name)?;
                let value = AttributeValue::Text(text(&name, &value)?);
                (name, value)
            }
            AttributeJson::Number { name, value } => {
                let name = AttributeName::parse(&name)?;
                let number = Decimal::from_str_exact(value.trim()).map_err(|_| {
                    AttributeError::NotANumber {
                        attribute: name.clone(),
                        value: value.chars().take(50).collect(),
                    }
                })?;
                (name, AttributeValue::Number(number))
            }
            AttributeJson::Boolean { name, value } => {
                (AttributeName::parse(&name)?, AttributeValue::Boolean(value))
            }
            AttributeJson::Choice { name, value } => {
                let name = AttributeName::parse(&name)?;
                let value = AttributeValue::Choice(text(&name, &value)?);
                (name, value)
            }
        };
        Ok(Attribute { name, value })
    }
}

impl From<&Attribute> for AttributeJson {
    fn from(a: &Attribute) -> Self {
        let name = a.name.as_str().to_owned();
        match &a.value {
            AttributeValue::Text(t) => AttributeJson::Text {
                name,
                value: t.as_str().to_owned(),
            },
            AttributeValue::Number(n) => AttributeJson::Number {
                name,
                value: n.to_string(),
            },
            AttributeValue::Boolean(b) => AttributeJson::Boolean { name, value: *b },
            AttributeValue::Choice(c) => AttributeJson::Choice {
                name,
                value: c.as_str().to_owned(),
            },
        }
    }
}

/// `attributes` as JSON, in their order.
pub(in crate::service) fn attribute_values(attributes: &[Attribute]) -> Vec<AttributeJson> {
    attributes.iter().map(AttributeJson::from).collect()
}

/// An attribute of the catalog: its name (unique ignoring case) and the values it
/// takes. Defined once; values already written stay valid.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[schema(as = AttributeDefinition)]
pub(in crate::service) enum AttributeDefinitionJson {
    /// Free text.
    Text {
        #[schema(example = "Care")]
        name: String,
    },
    /// An exact decimal number.
    Number {
        #[schema(example = "Weight")]
        name: String,
        /// What it counts, 1 to 20 characters ("g", "cm"); null for a bare count.
        #[schema(example = "g", required = true)]
        unit: Option<String>,
    },
    /// Yes or no.
    Boolean {
        #[schema(example = "Waterproof")]
        name: String,
    },
    /// One of a list: 1 to 100 choices, distinct ignoring case, in display order.
    OneOf {
        #[schema(example = "Material")]
        name: String,
        #[schema(example = json!(["Cotton", "Linen", "Wool"]))]
        choices: Vec<String>,
    },
}

impl AttributeDefinitionJson {
    /// The definition it asks for.
    pub(in crate::service) fn into_definition(self) -> Result<AttributeDefinition, ApiError> {
        let (name, kind) = match self {
            AttributeDefinitionJson::Text { name } => (name, AttributeKind::Text),
            AttributeDefinitionJson::Number { name, unit } => (
                name,
                AttributeKind::Number {
                    unit: unit.as_deref().map(AttributeUnit::parse).transpose()?,
                },
            ),
            AttributeDefinitionJson::Boolean { name } => (name, AttributeKind::Boolean),
            AttributeDefinitionJson::OneOf { name, choices } => {
                // Bounded before each is parsed.
                if choices.len() > AttributeChoices::MAX {
                    return Err(AttributeError::TooManyChoices {
                        count: choices.len(),
                        max: AttributeChoices::MAX,
                    }
                    .into());
                }
                let choices = choices
                    .iter()
                    .map(|c| AttributeText::parse(c))
                    .collect::<Result<Vec<_>, _>>()?;
                (
                    name,
                    AttributeKind::OneOf {
                        choices: AttributeChoices::new(choices)?,
                    },
                )
            }
        };
        Ok(AttributeDefinition {
            name: AttributeName::parse(&name)?,
            kind,
        })
    }
}

impl From<&AttributeDefinition> for AttributeDefinitionJson {
    fn from(d: &AttributeDefinition) -> Self {
        let name = d.name.as_str().to_owned();
        match &d.kind {
            AttributeKind::Text => AttributeDefinitionJson::Text { name },
            AttributeKind::Number { unit } => AttributeDefinitionJson::Number {
                name,
                unit: unit.as_ref().map(|u| u.as_str().to_owned()),
            },
            AttributeKind::Boolean => AttributeDefinitionJson::Boolean { name },
            AttributeKind::OneOf { choices } => AttributeDefinitionJson::OneOf {
                name,
                choices: choices
                    .as_slice()
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .collect(),
            },
        }
    }
}

/// The catalog's attribute definitions, by name.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AttributeList)]
pub(in crate::service) struct AttributeListView {
    items: Vec<AttributeDefinitionJson>,
}

impl AttributeListView {
    pub(in crate::service) fn new(definitions: &[AttributeDefinition]) -> Self {
        Self {
            items: definitions
                .iter()
                .map(AttributeDefinitionJson::from)
                .collect(),
        }
    }
}

/// One image of a product, in display order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Image)]
pub(in crate::service) struct ImageView {
    #[schema(example = "https://cdn.example.com/tee/red.jpg")]
    url: String,
    /// What it shows, in words; empty when none was given.
    alt: String,
    /// The option value it shows (the red shirt's photos go with Colour: Red); null
    /// for an image of the product as a whole.
    #[schema(required = true)]
    option: Option<OptionValueJson>,
}

impl From<&ProductImage> for ImageView {
    fn from(i: &ProductImage) -> Self {
        Self {
            url: i.url.as_str().to_owned(),
            alt: i.alt.as_str().to_owned(),
            option: i.option.as_ref().map(|c| OptionValueJson {
                option: c.option.as_str().to_owned(),
                value: c.value.as_str().to_owned(),
            }),
        }
    }
}

/// A collection as the shop front shows it; its active products are at
/// `/collections/{slug}/products`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Collection)]
pub(in crate::service) struct CollectionView {
    id: i64,
    /// Its URL key.
    #[schema(example = "summer-sale")]
    slug: String,
    name: String,
}

impl From<&Collection> for CollectionView {
    fn from(c: &Collection) -> Self {
        Self {
            id: c.id.get(),
            slug: c.slug.as_str().to_owned(),
            name: c.name.as_str().to_owned(),
        }
    }
}

/// A collection as the back office sees it: with every product it holds, drafts and
/// archived ones included, in order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CollectionDetail)]
pub(in crate::service) struct CollectionDetailView {
    id: i64,
    #[schema(example = "summer-sale")]
    slug: String,
    name: String,
    product_ids: Vec<i64>,
    updated_at: DateTime<Utc>,
}

impl From<&Collection> for CollectionDetailView {
    fn from(c: &Collection) -> Self {
        Self {
            id: c.id.get(),
            slug: c.slug.as_str().to_owned(),
            name: c.name.as_str().to_owned(),
            product_ids: c.products.as_slice().iter().map(|p| p.get()).collect(),
            updated_at: c.updated_at,
        }
    }
}
