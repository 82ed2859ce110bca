//! The shop's typed attributes: their definitions (one vocabulary, the same at every
//! size), and the values each kind of goods has of them. A product's values follow
//! from what it is (a "Relaxed Linen Shirt" is of linen, in a relaxed fit; an
//! e-reader has a screen and a battery); a variant has its own where its size says
//! something measurable (the chest of a size M shirt, the foot length of an EU 42
//! shoe). Every list goes through the domain's [`check_attributes`] before it is
//! written.

use ecom_domain::catalog::{
    Attribute, AttributeChoices, AttributeDefinition, AttributeKind, AttributeValue,
    check_attributes,
};
use ecom_domain::values::{AttributeName, AttributeText, AttributeUnit};
use rand::RngExt;
use rust_decimal::Decimal;

use super::Listed;
use super::axes::{BABY_SIZE, SHOE_SIZE, SIZE};
use super::goods::{Goods, words};
use crate::SeedError;
use crate::generate::rng::SeedRng;

/// What values an attribute takes, as this vocabulary spells it.
enum Kind {
    Text,
    /// In this unit, if any.
    Number(Option<&'static str>),
    Boolean,
    OneOf(&'static [&'static str]),
}

/// One attribute of the vocabulary.
struct Def {
    name: &'static str,
    kind: Kind,
}

const fn def(name: &'static str, kind: Kind) -> Def {
    Def { name, kind }
}

const CM: Kind = Kind::Number(Some("cm"));

/// The materials of every kind of goods: fabrics, uppers, woods, metals...
const MATERIALS: &[&str] = &[
    "Cotton",
    "Organic cotton",
    "Linen",
    "Wool",
    "Merino wool",
    "Polyester",
    "Denim",
    "Fleece",
    "Jersey",
    "Corduroy",
    "Flannel",
    "Twill",
    "Bamboo",
    "Leather",
    "Suede",
    "Canvas",
    "Mesh",
    "Knit",
    "Nubuck",
    "Oak",
    "Walnut",
    "Pine",
    "Birch plywood",
    "Rattan",
    "Wood",
    "Steel",
    "Granite",
    "Ceramic",
    "Glass",
    "Copper",
    "Aluminium",
    "Silicone",
    "Marble",
    "Rubber",
];

const LANGUAGES: &[&str] = &[
    "English",
    "German",
    "French",
    "Spanish",
    "Italian",
    "Dutch",
    "Portuguese",
];

/// The vocabulary, in the order its rows are written (ids follow it).
const DEFINITIONS: &[Def] = &[
    def("Material", Kind::OneOf(MATERIALS)),
    def(
        "Fit",
        Kind::OneOf(&["Slim", "Regular", "Relaxed", "Oversized", "Tailored"]),
    ),
    def("Care", Kind::Text),
    def("Fabric weight", Kind::Number(Some("g/m²"))),
    def("Chest", CM),
    def("Waist", CM),
    def("Fits height", CM),
    def("Foot length", CM),
    def(
        "Sole",
        Kind::OneOf(&["Rubber", "EVA foam", "Leather", "Crepe"]),
    ),
    def("Screen size", Kind::Number(Some("in"))),
    def("Battery", Kind::Number(Some("mAh"))),
    def("Waterproof", Kind::Boolean),
    def(
        "Connectivity",
        Kind::OneOf(&["Bluetooth 5.0", "Bluetooth 5.3", "Wi-Fi", "USB-C", "Wired"]),
    ),
    def("Power output", Kind::Number(Some("W"))),
    def("Warranty", Kind::Number(Some("months"))),
    def("Pages", Kind::Number(None)),
    def("Language", Kind::OneOf(LANGUAGES)),
    def("Binding", Kind::OneOf(&["Paperback", "Hardcover"])),
    def("Publication year", Kind::Number(None)),
    def("Width", CM),
    def("Depth", CM),
    def("Height", CM),
    def("Assembly required", Kind::Boolean),
    def(
        "Stone",
        Kind::OneOf(&["Pearl", "Opal", "Sapphire", "Garnet", "Topaz", "Moonstone"]),
    ),
    def("Hypoallergenic", Kind::Boolean),
    def(
        "Skin type",
        Kind::OneOf(&["All", "Dry", "Normal", "Oily", "Combination", "Sensitive"]),
    ),
    def("Vegan", Kind::Boolean),
];

/// How many attributes the vocabulary defines.
pub(crate) const COUNT: u64 = DEFINITIONS.len() as u64;

/// The vocabulary through the domain's types, in order.
pub(crate) fn definitions() -> Result<Vec<AttributeDefinition>, SeedError> {
    DEFINITIONS
        .iter()
        .map(|d| {
            let kind = match d.kind {
                Kind::Text => AttributeKind::Text,
                Kind::Number(unit) => AttributeKind::Number {
                    unit: unit
                        .map(AttributeUnit::parse)
                        .transpose()
                        .map_err(|e| SeedError::invalid("attribute unit", e))?,
                },
                Kind::Boolean => AttributeKind::Boolean,
                Kind::OneOf(choices) => AttributeKind::OneOf {
                    choices: AttributeChoices::new(
                        choices.iter().map(|c| text(c)).collect::<Result<_, _>>()?,
                    )
                    .map_err(|e| SeedError::invalid("attribute choices", e))?,
                },
            };
            Ok(AttributeDefinition {
                name: AttributeName::parse(d.name)
                    .map_err(|e| SeedError::invalid("attribute name", e))?,
                kind,
            })
        })
        .collect()
}

fn text(s: &str) -> Result<AttributeText, SeedError> {
    AttributeText::parse(s).map_err(|e| SeedError::invalid("attribute text", e))
}

/// Attribute values as they are drawn, checked by [`Values::checked`].
#[derive(Default)]
struct Values(Vec<Attribute>);

impl Values {
    fn put(&mut self, name: &str, value: AttributeValue) -> Result<(), SeedError> {
        let name = AttributeName::parse(name).map_err(|e| SeedError::invalid("attribute", e))?;
        self.0.push(Attribute { name, value });
        Ok(())
    }

    fn choice(&mut self, name: &str, choice: &str) -> Result<(), SeedError> {
        self.put(name, AttributeValue::Choice(text(choice)?))
    }

    fn text(&mut self, name: &str, value: &str) -> Result<(), SeedError> {
        self.put(name, AttributeValue::Text(text(value)?))
    }

    /// A number of `tenths` tenths: `Decimal::new(235, 1)` is 23.5.
    fn tenths(&mut self, name: &str, tenths: i64) -> Result<(), SeedError> {
        self.put(name, AttributeValue::Number(Decimal::new(tenths, 1)))
    }

    fn whole(&mut self, name: &str, n: i64) -> Result<(), SeedError> {
        self.put(name, AttributeValue::Number(Decimal::from(n)))
    }

    fn boolean(&mut self, name: &str, value: bool) -> Result<(), SeedError> {
        self.put(name, AttributeValue::Boolean(value))
    }

    /// The values in stored form, as the domain checks them against `definitions`.
    fn checked(self, definitions: &[AttributeDefinition]) -> Result<Vec<Attribute>, SeedError> {
        check_attributes(definitions, self.0).map_err(|e| SeedError::invalid("attributes", e))
    }
}

/// The word of `list` that `name` holds, if any.
fn word_of(name: &str, list: &[&'static str]) -> Option<&'static str> {
    list.iter().copied().find(|w| name.contains(w))
}

fn any<T: Copy>(rng: &mut SeedRng, list: &[T]) -> T {
    list[rng.random_range(0..list.len())]
}

fn chance(rng: &mut SeedRng, percent: u32) -> bool {
    rng.random_range(0..100u32) < percent
}

/// Garments worn below the waist: sized by waist, not chest.
const BOTTOMS: &[&str] = &["Jeans", "Chinos", "Shorts", "Joggers", "Skirt"];

/// The attribute values of the product `listed`, drawn from `rng` (the product's
/// own stream), checked against `definitions`.
pub(super) fn of_product(
    listed: &Listed,
    definitions: &[AttributeDefinition],
    rng: &mut SeedRng,
) -> Result<Vec<Attribute>, SeedError> {
    let name = listed.name.as_str();
    let mut v = Values::default();
    match listed.goods {
        Goods::Apparel => {
            let fabric = word_of(name, words::FABRIC).unwrap_or("Cotton");
            v.choice(
                "Material",
                if fabric == "Merino" {
                    "Merino wool"
                } else {
                    fabric
                },
            )?;
            let fit =
                word_of(name, &["Relaxed", "Slim", "Oversized", "Tailored"]).unwrap_or("Regular");
            v.choice("Fit", fit)?;
            let care = match fabric {
                "Merino" => "Hand wash cold, dry flat",
                "Denim" => "Machine wash at 30 °C, inside out",
                "Fleece" => "Machine wash at 30 °C, do not tumble dry",
                _ => any(
                    rng,
                    &[
                        "Machine wash at 30 °C",
                        "Machine wash at 40 °C",
                        "Machine wash at 30 °C, tumble dry low",
                    ],
                ),
            };
            v.text("Care", care)?;
            let (low, high) = match fabric {
                "Linen" | "Jersey" => (150, 220),
                "Merino" => (170, 260),
                "Denim" => (300, 450),
                "Fleece" | "Corduroy" => (250, 350),
                "Flannel" => (160, 240),
                "Twill" => (200, 300),
                _ => (140, 260),
            };
            v.whole("Fabric weight", rng.random_range(low / 5..=high / 5) * 5)?;
        }
        Goods::BabyWear => {
            v.choice(
                "Material",
                any(rng, &["Organic cotton", "Cotton", "Bamboo"]),
            )?;
            v.text("Care", "Machine wash at 40 °C")?;
        }
        Goods::Footwear => {
            v.choice("Material", word_of(name, words::UPPER).unwrap_or("Leather"))?;
            let shoe = word_of(name, words::SHOE).unwrap_or("Sneakers");
            let sole = match shoe {
                "Running Shoes" | "Trainers" | "Sneakers" => any(rng, &["EVA foam", "Rubber"]),
                "Loafers" | "Brogues" => any(rng, &["Leather", "Rubber", "Crepe"]),
                _ => "Rubber",
            };
            v.choice("Sole", sole)?;
            v.boolean("Waterproof", shoe.ends_with("Boots") && chance(rng, 50))?;
        }
        Goods::Books => {
            let pages = if name.ends_with("for Beginners") {
                rng.random_range(150..=400)
            } else {
                rng.random_range(96..=800)
            };
            v.whole("Pages", pages)?;
            let language = match rng.random_range(0..100u32) {
                0..70 => "English",
                70..80 => "German",
                80..86 => "French",
                86..92 => "Spanish",
                92..96 => "Italian",
                96..98 => "Dutch",
                _ => "Portuguese",
            };
            v.choice("Language", language)?;
            let binding = if chance(rng, 65) {
                "Paperback"
            } else {
                "Hardcover"
            };
            v.choice("Binding", binding)?;
            // Most books on sale are recent: the later of two years.
            let year = rng
                .random_range(1995..=2025)
                .max(rng.random_range(1995..=2025));
            v.whole("Publication year", year)?;
        }
        Goods::Electronics => electronics(&mut v, name, rng)?,
        Goods::Furniture => {
            v.choice(
                "Material",
                any(
                    rng,
                    &["Oak", "Walnut", "Pine", "Birch plywood", "Steel", "Rattan"],
                ),
            )?;
            let [w, d, h] = match word_of(name, words::FURNITURE).unwrap_or("Desk") {
                "Dining Table" => [(140, 220), (80, 100), (74, 76)],
                "Bookshelf" => [(60, 120), (28, 40), (90, 200)],
                "Armchair" => [(70, 90), (75, 90), (80, 105)],
                "Sideboard" => [(120, 200), (40, 50), (70, 90)],
                "Bedside Table" => [(40, 55), (35, 45), (45, 60)],
                "Bench" => [(100, 160), (35, 45), (43, 47)],
                "Wardrobe" => [(80, 200), (55, 65), (180, 220)],
                "Coffee Table" => [(90, 130), (50, 70), (35, 45)],
                "TV Stand" => [(120, 200), (35, 45), (40, 60)],
                _ => [(100, 160), (50, 80), (72, 76)],
            };
            for (attribute, (low, high)) in [("Width", w), ("Depth", d), ("Height", h)] {
                v.whole(attribute, rng.random_range(low..=high))?;
            }
            v.boolean("Assembly required", chance(rng, 80))?;
        }
        Goods::Jewelry => {
            v.choice("Stone", word_of(name, words::STONE).unwrap_or("Pearl"))?;
            v.boolean("Hypoallergenic", chance(rng, 80))?;
        }
        Goods::Cosmetics => {
            let skin = if chance(rng, 40) {
                "All"
            } else {
                any(rng, &["Dry", "Normal", "Oily", "Combination", "Sensitive"])
            };
            v.choice("Skin type", skin)?;
            v.boolean("Vegan", chance(rng, 60))?;
        }
        Goods::General => {
            let material = match word_of(name, words::MATERIAL) {
                Some("Wooden") => Some("Wood"),
                other => other,
            };
            if let Some(material) = material {
                v.choice("Material", material)?;
            }
            if name.contains("Waterproof") {
                v.boolean("Waterproof", true)?;
            }
            if v.0.is_empty() {
                v.whole("Warranty", any(rng, &[12, 24]))?;
            }
        }
    }
    v.checked(definitions)
}

/// What a device has: a battery, a screen, a way to connect, whether it is
/// waterproof, how much power it gives; every device a warranty.
fn electronics(v: &mut Values, name: &str, rng: &mut SeedRng) -> Result<(), SeedError> {
    const BLUETOOTH: &[&str] = &["Bluetooth 5.0", "Bluetooth 5.3"];
    // Battery capacities in steps of 10 mAh.
    let battery =
        |rng: &mut SeedRng, low: i64, high: i64| rng.random_range(low / 10..=high / 10) * 10;
    match word_of(name, words::DEVICE).unwrap_or("Webcam") {
        "Wireless Earbuds" => {
            v.whole("Battery", battery(rng, 300, 600))?;
            v.boolean("Waterproof", chance(rng, 70))?;
            v.choice("Connectivity", any(rng, BLUETOOTH))?;
        }
        "Bluetooth Speaker" => {
            v.whole("Battery", battery(rng, 1_200, 5_200))?;
            v.boolean("Waterproof", chance(rng, 60))?;
            v.choice("Connectivity", any(rng, BLUETOOTH))?;
        }
        "USB-C Charger" => {
            v.whole("Power output", any(rng, &[20, 30, 45, 65, 100, 140]))?;
            v.choice("Connectivity", "USB-C")?;
        }
        "Smartwatch" => {
            v.tenths("Screen size", rng.random_range(12..=19))?;
            v.whole("Battery", battery(rng, 200, 600))?;
            v.boolean("Waterproof", true)?;
            v.choice("Connectivity", "Bluetooth 5.3")?;
        }
        "Headphones" => {
            if chance(rng, 80) {
                v.whole("Battery", battery(rng, 500, 1_200))?;
                v.choice("Connectivity", any(rng, BLUETOOTH))?;
            } else {
                v.choice("Connectivity", "Wired")?;
            }
        }
        "Mechanical Keyboard" => {
            v.choice(
                "Connectivity",
                any(rng, &["USB-C", "Bluetooth 5.0", "Wired"]),
            )?;
        }
        "Power Bank" => {
            v.whole("Battery", any(rng, &[5_000, 10_000, 20_000, 26_800]))?;
            v.whole("Power output", any(rng, &[18, 20, 30, 45, 65]))?;
            v.choice("Connectivity", "USB-C")?;
        }
        "E-Reader" => {
            v.tenths("Screen size", any(rng, &[60, 68, 70, 78]))?;
            v.whole("Battery", battery(rng, 1_500, 2_500))?;
            v.boolean("Waterproof", chance(rng, 50))?;
            v.choice("Connectivity", "Wi-Fi")?;
        }
        "Action Camera" => {
            v.tenths("Screen size", any(rng, &[14, 20, 23]))?;
            v.whole("Battery", battery(rng, 1_100, 1_800))?;
            v.boolean("Waterproof", true)?;
        }
        "Soundbar" => {
            v.whole("Power output", rng.random_range(5..=20) * 20)?;
            v.choice("Connectivity", any(rng, &["Wi-Fi", "Bluetooth 5.0"]))?;
        }
        "Turntable" => v.choice("Connectivity", any(rng, &["Wired", "Bluetooth 5.0"]))?,
        _ => v.choice("Connectivity", "USB-C")?,
    }
    let warranty = match rng.random_range(0..10u32) {
        0..2 => 12,
        2..9 => 24,
        _ => 36,
    };
    v.whole("Warranty", warranty)
}

/// Chest (tops) and waist (bottoms) in cm, by [`SIZE`] value (XS to XXL).
const CHEST_CM: [i64; 6] = [84, 90, 96, 102, 108, 116];
const WAIST_CM: [i64; 6] = [66, 72, 78, 84, 92, 100];
/// The height a baby size fits, in cm, by [`BABY_SIZE`] value.
const BABY_HEIGHT_CM: [i64; 5] = [62, 68, 80, 86, 92];
/// Foot length in tenths of a cm, by [`SHOE_SIZE`] value (EU 36 to 46).
const FOOT_LENGTH_MM: [i64; 11] = [230, 236, 243, 250, 256, 263, 270, 276, 283, 290, 296];

/// The variant's own attribute values, from the size it is (`picks`, positions in
/// each of `listed`'s option types): none for a product not sold in sizes. No
/// randomness: a variant's values follow from its product and its size.
pub(super) fn of_variant(
    listed: &Listed,
    picks: &[u8; 2],
    definitions: &[AttributeDefinition],
) -> Result<Vec<Attribute>, SeedError> {
    let mut v = Values::default();
    for (offer, at) in listed.offers.iter().zip(picks) {
        let at = usize::from(*at);
        if std::ptr::eq(offer.axis, &SIZE) {
            let name = listed.name.as_str();
            if word_of(name, BOTTOMS).is_some() {
                v.whole("Waist", WAIST_CM[at])?;
            } else {
                // Roomier cuts measure more at the same size.
                let ease = if word_of(name, &["Relaxed", "Oversized"]).is_some() {
                    4
                } else {
                    0
                };
                v.whole("Chest", CHEST_CM[at] + ease)?;
            }
        } else if std::ptr::eq(offer.axis, &BABY_SIZE) {
            v.whole("Fits height", BABY_HEIGHT_CM[at])?;
        } else if std::ptr::eq(offer.axis, &SHOE_SIZE) {
            v.tenths("Foot length", FOOT_LENGTH_MM[at])?;
        }
    }
    if v.0.is_empty() {
        return Ok(Vec::new());
    }
    v.checked(definitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabulary_is_valid_and_its_names_distinct() {
        let definitions = definitions().unwrap();
        assert_eq!(definitions.len() as u64, COUNT);
        let mut names: Vec<String> = definitions
            .iter()
            .map(|d| d.name.as_str().to_lowercase())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), definitions.len());
    }

    #[test]
    fn every_size_has_its_measure() {
        assert_eq!(CHEST_CM.len(), SIZE.picks.len());
        assert_eq!(WAIST_CM.len(), SIZE.picks.len());
        assert_eq!(BABY_HEIGHT_CM.len(), BABY_SIZE.picks.len());
        assert_eq!(FOOT_LENGTH_MM.len(), SHOE_SIZE.picks.len());
        for measures in [&CHEST_CM[..], &WAIST_CM, &BABY_HEIGHT_CM, &FOOT_LENGTH_MM] {
            assert!(measures.windows(2).all(|w| w[0] < w[1]), "{measures:?}");
        }
    }
}
