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
        ProductOptions::new((0..5).map(|i| option(&format!("O{i}"), &hundred)).collect()).unwrap();
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
