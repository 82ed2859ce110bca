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
