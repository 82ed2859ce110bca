//! The option types the seed's goods come in (colours, sizes, finishes...), each
//! value with what choosing it changes: its code in a SKU, how often it sells, what
//! it adds to the price and the weight.

/// One value an option type can take, with what choosing it changes.
#[derive(Debug)]
pub(crate) struct Pick {
    /// The value as a shop shows it: "Navy", "XL".
    pub value: &'static str,
    /// Its part of a variant's SKU: "NVY", "XL". Distinct within its option type.
    pub code: &'static str,
    /// How often it is bought relative to its siblings; stock follows demand.
    pub popularity: u32,
    /// Price surcharge, in percent of the product's base price.
    pub premium: i64,
    /// Weight, in percent of the product's base weight.
    pub heft: u32,
}

const fn pick(value: &'static str, code: &'static str, popularity: u32) -> Pick {
    Pick {
        value,
        code,
        popularity,
        premium: 0,
        heft: 100,
    }
}

const fn costly(mut p: Pick, premium: i64, heft: u32) -> Pick {
    p.premium = premium;
    p.heft = heft;
    p
}

/// An option type and every value it may offer, in display order. A product offers
/// some of them (at most 16: [`Offer`] keeps a bit mask).
#[derive(Debug)]
pub(crate) struct Axis {
    /// "Colour", "Size"...
    pub name: &'static str,
    /// The values, in the order a shop lists them.
    pub picks: &'static [Pick],
}

pub(crate) static COLOUR: Axis = Axis {
    name: "Colour",
    picks: &[
        pick("Black", "BLK", 20),
        pick("White", "WHT", 15),
        pick("Navy", "NVY", 12),
        pick("Grey", "GRY", 12),
        pick("Blue", "BLU", 10),
        pick("Red", "RED", 8),
        pick("Green", "GRN", 6),
        pick("Beige", "BEI", 6),
        pick("Burgundy", "BRG", 4),
        pick("Olive", "OLV", 4),
        pick("Pink", "PNK", 4),
        pick("Yellow", "YLW", 3),
    ],
};

pub(crate) static SIZE: Axis = Axis {
    name: "Size",
    picks: &[
        costly(pick("XS", "XS", 5), 0, 90),
        costly(pick("S", "S", 15), 0, 95),
        pick("M", "M", 30),
        costly(pick("L", "L", 28), 0, 105),
        costly(pick("XL", "XL", 15), 0, 110),
        costly(pick("XXL", "XXL", 7), 10, 120),
    ],
};

pub(crate) static BABY_SIZE: Axis = Axis {
    name: "Size",
    picks: &[
        costly(pick("0-3 months", "M03", 16), 0, 70),
        costly(pick("3-6 months", "M06", 22), 0, 80),
        costly(pick("6-12 months", "M12", 26), 0, 90),
        pick("12-18 months", "M18", 20),
        costly(pick("18-24 months", "M24", 16), 0, 110),
    ],
};

pub(crate) static SHOE_SIZE: Axis = Axis {
    name: "Size",
    picks: &[
        costly(pick("36", "36", 4), 0, 88),
        costly(pick("37", "37", 6), 0, 90),
        costly(pick("38", "38", 9), 0, 93),
        costly(pick("39", "39", 11), 0, 96),
        pick("40", "40", 12),
        costly(pick("41", "41", 13), 0, 103),
        costly(pick("42", "42", 13), 0, 106),
        costly(pick("43", "43", 11), 0, 109),
        costly(pick("44", "44", 9), 0, 112),
        costly(pick("45", "45", 6), 0, 115),
        costly(pick("46", "46", 4), 0, 118),
    ],
};

pub(crate) static FINISH: Axis = Axis {
    name: "Finish",
    picks: &[
        pick("Oak", "OAK", 30),
        costly(pick("Walnut", "WAL", 20), 15, 100),
        pick("White", "WHT", 25),
        pick("Black", "BLK", 20),
        costly(pick("Ash", "ASH", 10), 5, 100),
    ],
};

pub(crate) static METAL: Axis = Axis {
    name: "Metal",
    picks: &[
        pick("Silver", "SLV", 50),
        costly(pick("Gold", "GLD", 25), 150, 100),
        costly(pick("Rose Gold", "RSG", 25), 120, 100),
    ],
};

pub(crate) static VOLUME: Axis = Axis {
    name: "Size",
    picks: &[
        pick("30 ml", "30ML", 20),
        costly(pick("50 ml", "50ML", 35), 50, 160),
        costly(pick("100 ml", "100ML", 30), 120, 300),
        costly(pick("200 ml", "200ML", 15), 200, 560),
    ],
};
