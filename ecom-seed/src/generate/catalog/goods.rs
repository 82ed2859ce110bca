//! What each department sells: its kind of goods decides its products' option types
//! (a T-shirt comes in colours and sizes, a book in one form), their names, prices,
//! weights and barcodes.

use rand::RngExt;

use super::axes::{Axis, BABY_SIZE, COLOUR, FINISH, METAL, Pick, SHOE_SIZE, SIZE, VOLUME};
use crate::generate::rng::SeedRng;

/// The values one product offers of an option type: a mask over [`Axis::picks`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Offer {
    /// The option type.
    pub axis: &'static Axis,
    /// Bit `i` set: the product offers `axis.picks[i]`.
    pub mask: u16,
}

impl Offer {
    /// The offered values' positions in [`Axis::picks`], in display order.
    pub fn positions(self) -> impl Iterator<Item = usize> {
        (0..self.axis.picks.len()).filter(move |i| self.mask & (1 << i) != 0)
    }

    /// The offered values, in display order.
    pub fn picks(self) -> impl Iterator<Item = &'static Pick> {
        self.positions().map(move |i| &self.axis.picks[i])
    }

    /// `count` of the axis's values at random, kept in display order.
    fn any(rng: &mut SeedRng, axis: &'static Axis, count: usize) -> Self {
        let mut all: Vec<usize> = (0..axis.picks.len()).collect();
        let count = count.min(all.len());
        // A partial Fisher-Yates shuffle: the first `count` are a uniform sample.
        for i in 0..count {
            let j = rng.random_range(i..all.len());
            all.swap(i, j);
        }
        let mask = all[..count].iter().fold(0u16, |m, i| m | (1 << i));
        Self { axis, mask }
    }

    /// A run of `len` neighbouring values starting at `first` (sizes come in runs).
    fn run(axis: &'static Axis, first: usize, len: usize) -> Self {
        let end = (first + len).min(axis.picks.len());
        let mask = (first..end).fold(0u16, |m, i| m | (1 << i));
        Self { axis, mask }
    }
}

/// The kind of goods a department sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Goods {
    /// Clothes: Colour × Size (XS to XXL).
    Apparel,
    /// Baby clothes: Colour × Size in months.
    BabyWear,
    /// Shoes: Colour × EU size.
    Footwear,
    /// Books: one form, with an ISBN.
    Books,
    /// Devices and media: one form, with an EAN.
    Electronics,
    /// Furniture: sometimes in several finishes.
    Furniture,
    /// Jewellery: often in several metals.
    Jewelry,
    /// Beauty and health: often in several bottle sizes.
    Cosmetics,
    /// Everything else: sometimes in a few colours.
    General,
}

/// A price band: `share` percent of products cost `low..high` (major units).
type Band = (u32, i64, i64);

impl Goods {
    /// What a department of this (base) name sells.
    pub fn of_department(department: &str) -> Goods {
        match department {
            "Fashion" | "Sports" => Goods::Apparel,
            "Baby" => Goods::BabyWear,
            "Shoes" => Goods::Footwear,
            "Books" => Goods::Books,
            "Electronics" | "Audio" | "Music" => Goods::Electronics,
            "Furniture" => Goods::Furniture,
            "Jewelry" => Goods::Jewelry,
            "Beauty" | "Health" => Goods::Cosmetics,
            _ => Goods::General,
        }
    }

    /// The option types a product offers, with the values of each: none for a
    /// product sold in one form.
    pub fn offers(self, rng: &mut SeedRng) -> Vec<Offer> {
        let chance = |rng: &mut SeedRng, percent: u32| rng.random_range(0..100u32) < percent;
        match self {
            Goods::Apparel => {
                let colours = rng.random_range(4..=8);
                // Runs that all hold M and L, the sizes most bought.
                let (first, len) =
                    [(0, 4), (1, 4), (0, 5), (1, 5), (0, 6), (1, 5)][rng.random_range(0..6usize)];
                vec![
                    Offer::any(rng, &COLOUR, colours),
                    Offer::run(&SIZE, first, len),
                ]
            }
            Goods::BabyWear => {
                let colours = rng.random_range(2..=4);
                let first = rng.random_range(0..2);
                vec![
                    Offer::any(rng, &COLOUR, colours),
                    Offer::run(&BABY_SIZE, first, 5 - first),
                ]
            }
            Goods::Footwear => {
                let colours = rng.random_range(2..=6);
                let first = rng.random_range(0..=3);
                let last = rng.random_range(first + 6..=10);
                vec![
                    Offer::any(rng, &COLOUR, colours),
                    Offer::run(&SHOE_SIZE, first, last - first + 1),
                ]
            }
            Goods::Books | Goods::Electronics => Vec::new(),
            Goods::Furniture if chance(rng, 60) => {
                let finishes = rng.random_range(2..=4);
                vec![Offer::any(rng, &FINISH, finishes)]
            }
            Goods::Jewelry if chance(rng, 70) => {
                let metals = rng.random_range(2..=3);
                vec![Offer::any(rng, &METAL, metals)]
            }
            Goods::Cosmetics if chance(rng, 60) => {
                let first = rng.random_range(0..2);
                let len = rng.random_range(2..=3);
                vec![Offer::run(&VOLUME, first, len)]
            }
            Goods::General if chance(rng, 35) => {
                let colours = rng.random_range(2..=4);
                vec![Offer::any(rng, &COLOUR, colours)]
            }
            Goods::Furniture | Goods::Jewelry | Goods::Cosmetics | Goods::General => Vec::new(),
        }
    }

    /// Whether a variant of two option types is left out one time in ten: not every
    /// colour comes in every size. The value most bought of the last type is never
    /// left out, so every colour keeps a variant.
    pub fn has_gaps(self) -> bool {
        matches!(self, Goods::Apparel | Goods::BabyWear | Goods::Footwear)
    }

    /// The first three digits of its products' barcodes (GTIN-13), if they have one:
    /// books an ISBN (978), devices an EAN of a German company prefix (426).
    pub fn barcode_prefix(self) -> Option<u16> {
        match self {
            Goods::Books => Some(978),
            Goods::Electronics => Some(426),
            _ => None,
        }
    }

    /// A product name, such as "Relaxed Linen Shirt" or "The Silent Harbour".
    pub fn name(self, rng: &mut SeedRng) -> String {
        fn any(rng: &mut SeedRng, words: &[&'static str]) -> &'static str {
            words[rng.random_range(0..words.len())]
        }
        match self {
            Goods::Apparel => format!(
                "{} {} {}",
                any(rng, words::FIT),
                any(rng, words::FABRIC),
                any(rng, words::GARMENT)
            ),
            Goods::BabyWear => format!(
                "{} Baby {}",
                any(rng, words::SOFT),
                any(rng, words::BABY_GARMENT)
            ),
            Goods::Footwear => format!(
                "{} {} {}",
                any(rng, words::FIT),
                any(rng, words::UPPER),
                any(rng, words::SHOE)
            ),
            Goods::Books => match rng.random_range(0..3u32) {
                0 => format!(
                    "The {} {}",
                    any(rng, words::TITLE_ADJECTIVE),
                    any(rng, words::TITLE_NOUN)
                ),
                1 => format!("A Short History of {}", any(rng, words::SUBJECT)),
                _ => format!("{} for Beginners", any(rng, words::HOBBY)),
            },
            Goods::Electronics => format!(
                "{} {} {}{}",
                any(rng, words::BRAND),
                any(rng, words::DEVICE),
                any(rng, &["X", "S", "Pro ", "Air ", "Max "]),
                rng.random_range(2..10u32)
            ),
            Goods::Furniture => {
                format!("{} {}", any(rng, words::STYLE), any(rng, words::FURNITURE))
            }
            Goods::Jewelry => format!(
                "{} {} {}",
                any(rng, words::DELICATE),
                any(rng, words::STONE),
                any(rng, words::JEWEL)
            ),
            Goods::Cosmetics => {
                format!("{} {}", any(rng, words::INGREDIENT), any(rng, words::CARE))
            }
            Goods::General => format!(
                "{} {} {}",
                any(rng, words::ADJECTIVE),
                any(rng, words::MATERIAL),
                any(rng, words::THING)
            ),
        }
    }

    /// A base price in minor units (cents), in bands typical of the goods, ending in
    /// .00, .49, .95 or .99.
    pub fn price_minor(self, rng: &mut SeedRng) -> i64 {
        const GENERAL: &[Band] = &[(40, 1, 10), (35, 10, 50), (18, 50, 200), (7, 200, 2_000)];
        let bands: &[Band] = match self {
            Goods::Apparel => &[(55, 9, 40), (35, 40, 90), (10, 90, 250)],
            Goods::BabyWear => &[(70, 6, 25), (30, 25, 60)],
            Goods::Footwear => &[(50, 35, 90), (40, 90, 160), (10, 160, 350)],
            Goods::Books => &[(60, 6, 20), (35, 20, 45), (5, 45, 120)],
            Goods::Electronics => &[(40, 15, 60), (40, 60, 300), (20, 300, 2_000)],
            Goods::Furniture => &[(40, 40, 200), (45, 200, 800), (15, 800, 3_000)],
            Goods::Jewelry => &[(60, 15, 80), (30, 80, 300), (10, 300, 1_500)],
            Goods::Cosmetics => &[(70, 3, 15), (30, 15, 60)],
            Goods::General => GENERAL,
        };
        let roll = rng.random_range(0..100u32);
        let mut below = 0;
        let (low, high) = bands
            .iter()
            .find(|(share, _, _)| {
                below += share;
                roll < below
            })
            .map_or((1, 10), |(_, low, high)| (*low, *high));
        let major = rng.random_range(low..high);
        let cents: i64 = match rng.random_range(0..4u32) {
            0 => 0,
            1 => 49,
            2 => 95,
            _ => 99,
        };
        major * 100 + cents
    }

    /// A base weight in grams; one general product in seven has none recorded.
    pub fn weight_grams(self, rng: &mut SeedRng) -> Option<u32> {
        let (low, high) = match self {
            Goods::Apparel => (120, 900),
            Goods::BabyWear => (40, 250),
            Goods::Footwear => (450, 1_300),
            Goods::Books => (120, 1_200),
            Goods::Electronics => (40, 4_000),
            Goods::Furniture => (2_500, 45_000),
            Goods::Jewelry => (3, 60),
            // The smallest bottle.
            Goods::Cosmetics => (40, 90),
            Goods::General => {
                if rng.random_range(0..7u32) == 0 {
                    return None;
                }
                (30, 5_000)
            }
        };
        Some(rng.random_range(low..=high))
    }
}

/// Words products are named from; their attributes are read from them too.
pub(crate) mod words {
    pub(crate) const FIT: &[&str] = &[
        "Classic",
        "Relaxed",
        "Slim",
        "Essential",
        "Oversized",
        "Everyday",
        "Vintage",
        "Lightweight",
        "Tailored",
        "Organic",
    ];
    pub(crate) const FABRIC: &[&str] = &[
        "Cotton", "Linen", "Merino", "Denim", "Fleece", "Jersey", "Corduroy", "Flannel", "Twill",
    ];
    pub(crate) const GARMENT: &[&str] = &[
        "T-Shirt",
        "Hoodie",
        "Sweater",
        "Shirt",
        "Jacket",
        "Jeans",
        "Chinos",
        "Dress",
        "Polo Shirt",
        "Cardigan",
        "Shorts",
        "Joggers",
        "Skirt",
        "Overshirt",
    ];
    pub(crate) const SOFT: &[&str] = &["Soft", "Cosy", "Organic", "Striped", "Ribbed", "Knitted"];
    pub(crate) const BABY_GARMENT: &[&str] = &[
        "Bodysuit",
        "Romper",
        "Sleepsuit",
        "Cardigan",
        "Leggings",
        "Hat",
        "Dungarees",
    ];
    pub(crate) const UPPER: &[&str] = &["Leather", "Suede", "Canvas", "Mesh", "Knit", "Nubuck"];
    pub(crate) const SHOE: &[&str] = &[
        "Sneakers",
        "Boots",
        "Loafers",
        "Sandals",
        "Running Shoes",
        "Chelsea Boots",
        "Trainers",
        "Brogues",
        "Slip-Ons",
    ];
    pub(crate) const TITLE_ADJECTIVE: &[&str] = &[
        "Silent",
        "Last",
        "Hidden",
        "Forgotten",
        "Quiet",
        "Golden",
        "Broken",
        "Distant",
        "Secret",
        "Winter",
        "Painted",
        "Northern",
    ];
    pub(crate) const TITLE_NOUN: &[&str] = &[
        "Garden",
        "River",
        "Orchard",
        "Lighthouse",
        "Map",
        "Kingdom",
        "Letter",
        "Harbour",
        "Forest",
        "Library",
        "Station",
        "Island",
    ];
    pub(crate) const SUBJECT: &[&str] = &[
        "Salt", "Clocks", "Bridges", "Maps", "Bread", "Coffee", "Islands", "Paper", "Glass", "Tea",
    ];
    pub(crate) const HOBBY: &[&str] = &[
        "Rust",
        "Gardening",
        "Sourdough",
        "Chess",
        "Watercolour",
        "Astronomy",
        "Knitting",
        "Statistics",
        "Birdwatching",
        "Pottery",
    ];
    pub(crate) const BRAND: &[&str] = &[
        "Voltra", "Nimbus", "Arcwave", "Lumo", "Helix", "Quanta", "Sonora", "Pixelo",
    ];
    pub(crate) const DEVICE: &[&str] = &[
        "Wireless Earbuds",
        "Bluetooth Speaker",
        "USB-C Charger",
        "Smartwatch",
        "Headphones",
        "Mechanical Keyboard",
        "Webcam",
        "Power Bank",
        "E-Reader",
        "Action Camera",
        "Soundbar",
        "Turntable",
    ];
    pub(crate) const STYLE: &[&str] = &[
        "Nordic",
        "Rustic",
        "Modern",
        "Classic",
        "Compact",
        "Industrial",
        "Mid-Century",
    ];
    pub(crate) const FURNITURE: &[&str] = &[
        "Dining Table",
        "Bookshelf",
        "Armchair",
        "Sideboard",
        "Desk",
        "Bedside Table",
        "Bench",
        "Wardrobe",
        "Coffee Table",
        "TV Stand",
    ];
    pub(crate) const DELICATE: &[&str] = &[
        "Delicate",
        "Twisted",
        "Minimalist",
        "Vintage",
        "Classic",
        "Hammered",
    ];
    pub(crate) const STONE: &[&str] =
        &["Pearl", "Opal", "Sapphire", "Garnet", "Topaz", "Moonstone"];
    pub(crate) const JEWEL: &[&str] = &[
        "Ring", "Necklace", "Bracelet", "Earrings", "Pendant", "Anklet",
    ];
    pub(crate) const INGREDIENT: &[&str] = &[
        "Aloe",
        "Lavender",
        "Shea",
        "Vitamin C",
        "Rosehip",
        "Green Tea",
        "Coconut",
        "Charcoal",
    ];
    pub(crate) const CARE: &[&str] = &[
        "Face Cream",
        "Body Lotion",
        "Shampoo",
        "Conditioner",
        "Serum",
        "Shower Gel",
        "Hand Cream",
        "Cleanser",
    ];
    pub(crate) const ADJECTIVE: &[&str] = &[
        "Ergonomic",
        "Rustic",
        "Sleek",
        "Handcrafted",
        "Durable",
        "Lightweight",
        "Compact",
        "Elegant",
        "Practical",
        "Refined",
        "Classic",
        "Modern",
        "Gorgeous",
        "Sturdy",
        "Portable",
        "Foldable",
        "Organic",
        "Recycled",
        "Waterproof",
        "Cozy",
        "Smart",
        "Vintage",
        "Minimalist",
        "Premium",
    ];
    pub(crate) const MATERIAL: &[&str] = &[
        "Steel",
        "Wooden",
        "Cotton",
        "Granite",
        "Leather",
        "Bamboo",
        "Ceramic",
        "Glass",
        "Wool",
        "Linen",
        "Copper",
        "Aluminium",
        "Oak",
        "Silicone",
        "Marble",
        "Rubber",
    ];
    pub(crate) const THING: &[&str] = &[
        "Chair", "Table", "Lamp", "Mug", "Backpack", "Bottle", "Notebook", "Blanket", "Pillow",
        "Watch", "Wallet", "Knife", "Pan", "Kettle", "Planter", "Shelf", "Clock", "Bowl", "Towel",
        "Toolbox", "Tent", "Helmet", "Puzzle", "Candle", "Vase", "Umbrella",
    ];
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const AXES: [&Axis; 7] = [
        &COLOUR, &SIZE, &BABY_SIZE, &SHOE_SIZE, &FINISH, &METAL, &VOLUME,
    ];

    #[test]
    fn every_axis_fits_a_mask_and_its_codes_are_distinct_sku_parts() {
        for axis in AXES {
            assert!(axis.picks.len() <= 16, "{}", axis.name);
            let codes: HashSet<&str> = axis.picks.iter().map(|p| p.code).collect();
            assert_eq!(codes.len(), axis.picks.len(), "{}", axis.name);
            for p in axis.picks {
                assert!(
                    p.code
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
                    "{}",
                    p.code
                );
                assert!(p.popularity > 0 && p.heft > 0);
            }
        }
    }
}
