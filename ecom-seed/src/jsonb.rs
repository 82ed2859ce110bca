//! The option columns (`products.options`, `product_variants.options`,
//! `order_lines.options`) in the text form PostgreSQL prints a `jsonb` in.
//!
//! They hold the domain's serde form of [`ProductOptions`] and [`OptionSelection`],
//! but written the way `jsonb` writes it back (keys shorter first, then bytewise;
//! `", "` and `": "` between items), not the way `serde_json` writes it: the same
//! value, and the bytes the checksum covers are then the bytes the server returns
//! (`COPY ... TO`), so the loaded data can be compared with what was generated.

use ecom_domain::catalog::{OptionSelection, ProductOptions};

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
    fn strings_are_escaped_as_postgres_escapes_them() {
        let mut out = String::new();
        string(&mut out, "a \"b\" \\ é\u{1}");
        assert_eq!(out, r#""a \"b\" \\ é\u0001""#);
    }
}
