//! The `jsonb` columns in the text form PostgreSQL prints a `jsonb` in: the option
//! columns (`products.options`, `product_variants.options`, `order_lines.options`),
//! attribute values (`products.attributes`, `product_variants.attributes`), images
//! (`products.images`) and attribute kinds (`attribute_definitions.kind`).
//!
//! They hold the domain's serde form of [`ProductOptions`], [`OptionSelection`],
//! [`Attribute`], [`ProductImage`] and [`AttributeKind`], but written the way `jsonb`
//! writes it back (keys shorter first, then bytewise; `", "` and `": "` between
//! items), not the way `serde_json` writes it: the same value, and the bytes the
//! checksum covers are then the bytes the server returns (`COPY ... TO`), so the
//! loaded data can be compared with what was generated.

use ecom_domain::catalog::{
    Attribute, AttributeKind, OptionSelection, ProductImage, ProductOptions,
};
use ecom_domain::pricing::ShippingRate;
use serde_json::Value;

use crate::SeedError;

/// `[{"name": "Colour", "values": ["Red", "Blue"]}, ...]`; `[]` for none.
pub fn product_options(options: &ProductOptions) -> String {
    let mut out = String::from("[");
    for (i, option) in options.types().iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        // "name" is shorter than "values": jsonb keeps it first.
        out.push_str("{\"name\": ");
        string(&mut out, option.name().as_str());
        out.push_str(", \"values\": [");
        for (j, value) in option.values().iter().enumerate() {
            if j > 0 {
                out.push_str(", ");
            }
            string(&mut out, value.as_str());
        }
        out.push_str("]}");
    }
    out.push(']');
    out
}

/// `[{"value": "Red", "option": "Colour"}, ...]` in the product's order; `[]` for a
/// default variant.
pub fn selection(selection: &OptionSelection) -> String {
    let mut out = String::from("[");
    for (i, choice) in selection.choices().iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        // "value" is shorter than "option": jsonb puts it first.
        out.push_str("{\"value\": ");
        string(&mut out, choice.value.as_str());
        out.push_str(", \"option\": ");
        string(&mut out, choice.option.as_str());
        out.push('}');
    }
    out.push(']');
    out
}

/// `[{"name": "Material", "value": {"type": "choice", "value": "Linen"}}, ...]`;
/// numbers are strings, as the domain's decimals serialize.
pub fn attributes(attributes: &[Attribute]) -> Result<String, SeedError> {
    serialized("attributes", serde_json::to_value(attributes))
}

/// `[{"alt": "...", "url": "...", "option": null | {"value": ..., "option": ...}}, ...]`.
pub fn images(images: &[ProductImage]) -> Result<String, SeedError> {
    serialized("images", serde_json::to_value(images))
}

/// `{"type": "number", "unit": "cm"}`, `{"type": "one_of", "choices": [...]}`...
pub fn attribute_kind(kind: &AttributeKind) -> Result<String, SeedError> {
    serialized("attribute kind", serde_json::to_value(kind))
}

/// `{"type": "flat", "price": {"amount": "4.90", "currency": "EUR"}}` or
/// `{"type": "by_weight", "bands": [{"price": {...}, "up_to_grams": 1000}, ...]}`.
pub fn shipping_rate(rate: &ShippingRate) -> Result<String, SeedError> {
    serialized("shipping rate", serde_json::to_value(rate))
}

/// A serde value written as `jsonb` prints it.
fn serialized(what: &'static str, value: serde_json::Result<Value>) -> Result<String, SeedError> {
    let value = value.map_err(|e| SeedError::invalid(what, e))?;
    let mut out = String::new();
    write_value(&mut out, &value);
    Ok(out)
}

/// `value` as `jsonb` prints it. Numbers are written as `serde_json` writes them,
/// which is how `jsonb` prints them for integers, the only numbers the domain's
/// serde forms hold (decimals are strings).
fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // jsonb orders keys by length, then bytewise.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| {
                a.len()
                    .cmp(&b.len())
                    .then_with(|| a.as_bytes().cmp(b.as_bytes()))
            });
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                string(out, key);
                out.push_str(": ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// A JSON string as PostgreSQL escapes it (`escape_json`): quote, backslash and
/// control characters escaped, everything else, non-ASCII included, as it is.
fn string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use ecom_domain::catalog::{OptionChoice, OptionType};
    use ecom_domain::values::{OptionName, OptionValue};

    use super::*;

    fn name(text: &str) -> OptionName {
        OptionName::parse(text).unwrap()
    }

    fn value(text: &str) -> OptionValue {
        OptionValue::parse(text).unwrap()
    }

    #[test]
    fn options_are_written_as_jsonb_prints_them() {
        let shirt = ProductOptions::new(vec![
            OptionType::new(name("Colour"), vec![value("Red"), value("Navy")]).unwrap(),
            OptionType::new(name("Size"), vec![value("M")]).unwrap(),
        ])
        .unwrap();
        assert_eq!(
            product_options(&shirt),
            r#"[{"name": "Colour", "values": ["Red", "Navy"]}, {"name": "Size", "values": ["M"]}]"#
        );
        assert_eq!(product_options(&ProductOptions::none()), "[]");
    }

    #[test]
    fn selections_put_the_shorter_key_first_as_jsonb_does() {
        let red_m = OptionSelection::new(vec![
            OptionChoice {
                option: name("Colour"),
                value: value("Red"),
            },
            OptionChoice {
                option: name("Size"),
                value: value("M"),
            },
        ])
        .unwrap();
        assert_eq!(
            selection(&red_m),
            r#"[{"value": "Red", "option": "Colour"}, {"value": "M", "option": "Size"}]"#
        );
        assert_eq!(selection(&OptionSelection::none()), "[]");
    }

    #[test]
    fn attributes_images_and_kinds_are_written_as_jsonb_prints_them() {
        use ecom_domain::catalog::{AttributeChoices, AttributeValue};
        use ecom_domain::values::{AltText, AttributeName, AttributeText, AttributeUnit, MediaUrl};
        use rust_decimal::Decimal;

        let values = vec![
            Attribute {
                name: AttributeName::parse("Material").unwrap(),
                value: AttributeValue::Choice(AttributeText::parse("Linen").unwrap()),
            },
            Attribute {
                name: AttributeName::parse("Foot length").unwrap(),
                value: AttributeValue::Number(Decimal::new(235, 1)),
            },
            Attribute {
                name: AttributeName::parse("Waterproof").unwrap(),
                value: AttributeValue::Boolean(true),
            },
        ];
        let written = attributes(&values).unwrap();
        assert_eq!(
            written,
            r#"[{"name": "Material", "value": {"type": "choice", "value": "Linen"}}, {"name": "Foot length", "value": {"type": "number", "value": "23.5"}}, {"name": "Waterproof", "value": {"type": "boolean", "value": true}}]"#
        );
        // The same value the domain's serde form is.
        assert_eq!(
            serde_json::from_str::<Vec<Attribute>>(&written).unwrap(),
            values
        );

        let shown = vec![
            ProductImage {
                url: MediaUrl::parse("https://cdn.example.com/p/shirt-1/1.jpg").unwrap(),
                alt: AltText::parse("Shirt").unwrap(),
                option: None,
            },
            ProductImage {
                url: MediaUrl::parse("https://cdn.example.com/p/shirt-1/2.jpg").unwrap(),
                alt: AltText::parse("Shirt in Red").unwrap(),
                option: Some(OptionChoice {
                    option: name("Colour"),
                    value: value("Red"),
                }),
            },
        ];
        let written = images(&shown).unwrap();
        assert_eq!(
            written,
            r#"[{"alt": "Shirt", "url": "https://cdn.example.com/p/shirt-1/1.jpg", "option": null}, {"alt": "Shirt in Red", "url": "https://cdn.example.com/p/shirt-1/2.jpg", "option": {"value": "Red", "option": "Colour"}}]"#
        );
        assert_eq!(
            serde_json::from_str::<Vec<ProductImage>>(&written).unwrap(),
            shown
        );

        let kinds = [
            AttributeKind::Text,
            AttributeKind::Number {
                unit: Some(AttributeUnit::parse("cm").unwrap()),
            },
            AttributeKind::Number { unit: None },
            AttributeKind::OneOf {
                choices: AttributeChoices::new(vec![
                    AttributeText::parse("Cotton").unwrap(),
                    AttributeText::parse("Linen").unwrap(),
                ])
                .unwrap(),
            },
        ];
        let written: Vec<String> = kinds.iter().map(|k| attribute_kind(k).unwrap()).collect();
        assert_eq!(
            written,
            [
                r#"{"type": "text"}"#,
                r#"{"type": "number", "unit": "cm"}"#,
                r#"{"type": "number", "unit": null}"#,
                r#"{"type": "one_of", "choices": ["Cotton", "Linen"]}"#,
            ]
        );
        for (kind, text) in kinds.iter().zip(&written) {
            assert_eq!(&serde_json::from_str::<AttributeKind>(text).unwrap(), kind);
        }
    }

    #[test]
    fn shipping_rates_are_written_as_jsonb_prints_them() {
        use ecom_domain::money::{Currency, Money};
        use ecom_domain::pricing::WeightBand;

        let flat = ShippingRate::Flat {
            price: Money::from_minor(490, Currency::EUR),
        };
        let bands = ShippingRate::ByWeight {
            bands: vec![
                WeightBand {
                    up_to_grams: 1_000,
                    price: Money::from_minor(490, Currency::EUR),
                },
                WeightBand {
                    up_to_grams: 31_500,
                    price: Money::from_minor(1_690, Currency::EUR),
                },
            ],
        };
        let written = [
            shipping_rate(&flat).unwrap(),
            shipping_rate(&bands).unwrap(),
        ];
        assert_eq!(
            written,
            [
                r#"{"type": "flat", "price": {"amount": "4.90", "currency": "EUR"}}"#,
                r#"{"type": "by_weight", "bands": [{"price": {"amount": "4.90", "currency": "EUR"}, "up_to_grams": 1000}, {"price": {"amount": "16.90", "currency": "EUR"}, "up_to_grams": 31500}]}"#,
            ]
        );
        for (rate, text) in [flat, bands].iter().zip(&written) {
            assert_eq!(&serde_json::from_str::<ShippingRate>(text).unwrap(), rate);
        }
    }

    #[test]
    fn strings_are_escaped_as_postgres_escapes_them() {
        let mut out = String::new();
        string(&mut out, "a \"b\" \\ é\u{1}");
        assert_eq!(out, r#""a \"b\" \\ é\u0001""#);
    }
}
