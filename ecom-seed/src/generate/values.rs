//! Single values: names, e-mails, addresses, SKUs... each built with the `fake` crate
//! or small word lists and then parsed by the domain's own types, so a value the
//! domain would refuse is a generator error, never a row.

use ecom_domain::values::{
    CategoryName, Description, Email, Gtin, GuestToken, PersonName, PostalAddress, ProductName,
    RawAddress, Sku, Slug,
};
use fake::Fake;
use fake::faker::address::raw::{
    BuildingNumber, CityName, PostCode, SecondaryAddress, StateAbbr, StreetName, ZipCode,
};
use fake::faker::lorem::raw::Sentence;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::{DE_DE, EN, FR_FR, IT_IT, NL_NL, PT_BR, PT_PT};
use rand::RngExt;

use super::rng::SeedRng;
use crate::SeedError;

/// A country customers live in, with the `fake` locale its postal data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Country {
    /// United States.
    Us,
    /// Germany.
    De,
    /// France.
    Fr,
    /// Italy.
    It,
    /// The Netherlands.
    Nl,
    /// Portugal.
    Pt,
    /// Brazil.
    Br,
}

impl Country {
    /// The ISO 3166-1 code.
    pub const fn code(self) -> &'static str {
        match self {
            Country::Us => "US",
            Country::De => "DE",
            Country::Fr => "FR",
            Country::It => "IT",
            Country::Nl => "NL",
            Country::Pt => "PT",
            Country::Br => "BR",
        }
    }

    /// A customer's country, weighted roughly like a European shop's audience.
    pub fn pick(rng: &mut SeedRng) -> Country {
        match rng.random_range(0..100u32) {
            0..30 => Country::De,
            30..50 => Country::Us,
            50..65 => Country::Fr,
            65..75 => Country::It,
            75..85 => Country::Nl,
            85..92 => Country::Pt,
            _ => Country::Br,
        }
    }
}

/// A first and last name in the country's language.
pub fn person(rng: &mut SeedRng, country: Country) -> (String, String) {
    macro_rules! names {
        ($loc:expr) => {
            (
                FirstName($loc).fake_with_rng::<String, _>(rng),
                LastName($loc).fake_with_rng::<String, _>(rng),
            )
        };
    }
    match country {
        Country::Us => names!(EN),
        Country::De => names!(DE_DE),
        Country::Fr => names!(FR_FR),
        Country::It => names!(IT_IT),
        Country::Nl => names!(NL_NL),
        Country::Pt => names!(PT_PT),
        Country::Br => names!(PT_BR),
    }
}

/// `first last` as a validated name.
pub fn full_name(first: &str, last: &str) -> Result<PersonName, SeedError> {
    PersonName::parse(&one_line(format!("{first} {last}")))
        .map_err(|e| SeedError::invalid("name", e))
}

/// Lower-case ASCII letters and digits of `text` (accents dropped, not transliterated).
fn ascii_word(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Reserved example domains (RFC 2606): generated addresses can never reach anyone.
const EMAIL_DOMAINS: [&str; 3] = ["example.com", "example.net", "example.org"];

/// `first.last.N@example.com`: unique because `unique` is (a user's or an order's id).
pub fn email(rng: &mut SeedRng, first: &str, last: &str, unique: i64) -> Result<Email, SeedError> {
    let mut local = ascii_word(first);
    let last = ascii_word(last);
    if !last.is_empty() {
        if !local.is_empty() {
            local.push('.');
        }
        local.push_str(&last);
    }
    if local.is_empty() {
        local.push_str("customer");
    }
    local.truncate(40);
    let domain = EMAIL_DOMAINS[rng.random_range(0..EMAIL_DOMAINS.len())];
    Email::parse(&format!("{local}.{unique}@{domain}")).map_err(|e| SeedError::invalid("email", e))
}

/// Single spaces for any run of whitespace: some of fake's data has tabs, which the
/// domain rightly refuses in an address line.
fn one_line(text: String) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A real-looking address in `country` for `recipient`.
pub fn postal_address(
    rng: &mut SeedRng,
    country: Country,
    recipient: &PersonName,
) -> Result<PostalAddress, SeedError> {
    macro_rules! parts {
        ($loc:expr, number_first: $nf:expr, code: $code:ident, region: $region:expr) => {{
            let street: String = StreetName($loc).fake_with_rng(rng);
            let number: String = BuildingNumber($loc).fake_with_rng(rng);
            let line1 = if $nf {
                format!("{number} {street}")
            } else {
                format!("{street} {number}")
            };
            let line2: String = if rng.random_range(0..100u32) < 15 {
                SecondaryAddress($loc).fake_with_rng(rng)
            } else {
                String::new()
            };
            let city: String = CityName($loc).fake_with_rng(rng);
            let postal_code: String = $code($loc).fake_with_rng(rng);
            let region: String = if $region {
                StateAbbr($loc).fake_with_rng(rng)
            } else {
                String::new()
            };
            (line1, line2, city, region, postal_code)
        }};
    }
    let (line1, line2, city, region, postal_code) = match country {
        Country::Us => parts!(EN, number_first: true, code: PostCode, region: true),
        Country::De => parts!(DE_DE, number_first: false, code: ZipCode, region: false),
        Country::Fr => parts!(FR_FR, number_first: true, code: ZipCode, region: false),
        Country::It => parts!(IT_IT, number_first: false, code: ZipCode, region: true),
        Country::Nl => parts!(NL_NL, number_first: false, code: ZipCode, region: false),
        Country::Pt => parts!(PT_PT, number_first: false, code: ZipCode, region: false),
        Country::Br => parts!(PT_BR, number_first: false, code: PostCode, region: true),
    };
    PostalAddress::parse(&RawAddress {
        recipient: recipient.as_str().to_owned(),
        line1: one_line(line1),
        line2: one_line(line2),
        city: one_line(city),
        region: one_line(region),
        postal_code: one_line(postal_code),
        country: country.code().to_owned(),
    })
    .map_err(|e| SeedError::invalid("address", e))
}

/// Top-level departments of the catalog. Those that sell goods in several forms
/// (clothes, shoes) and those with barcodes (books, electronics) come first, so that
/// even the small preset's few departments show every kind of product.
pub const DEPARTMENTS: [&str; 24] = [
    "Fashion",
    "Books",
    "Electronics",
    "Kitchen",
    "Shoes",
    "Home",
    "Toys",
    "Sports",
    "Beauty",
    "Garden",
    "Audio",
    "Furniture",
    "Office",
    "Jewelry",
    "Outdoor",
    "Pets",
    "Baby",
    "Health",
    "Lighting",
    "Tools",
    "Automotive",
    "Music",
    "Grocery",
    "Crafts",
];

const SUBCATEGORY_WORDS: [&str; 20] = [
    "Essentials",
    "Accessories",
    "Premium",
    "Travel",
    "Kids",
    "Vintage",
    "Eco",
    "Professional",
    "Compact",
    "Classic",
    "Smart",
    "Seasonal",
    "Gifts",
    "Storage",
    "Care",
    "Sets",
    "Basics",
    "Deluxe",
    "Outlet",
    "New Arrivals",
];

/// The department the `index`th root category is named after.
pub fn department_base(index: u64) -> &'static str {
    DEPARTMENTS[(index % DEPARTMENTS.len() as u64) as usize]
}

/// A root category's name: its department's, numbered from the second round on.
pub fn department_name(index: u64) -> Result<CategoryName, SeedError> {
    let base = department_base(index);
    let round = index / DEPARTMENTS.len() as u64;
    let name = if round == 0 {
        base.to_owned()
    } else {
        format!("{base} {}", round + 1)
    };
    CategoryName::parse(&name).map_err(|e| SeedError::invalid("category name", e))
}

/// A sub-category's name within a department.
pub fn subcategory_name(rng: &mut SeedRng, department: &str) -> Result<CategoryName, SeedError> {
    let word = SUBCATEGORY_WORDS[rng.random_range(0..SUBCATEGORY_WORDS.len())];
    CategoryName::parse(&format!("{department} {word}"))
        .map_err(|e| SeedError::invalid("category name", e))
}

/// A slug from a name, made unique with the id: `outdoor-essentials-17`.
pub fn slug(name: &str, id: i64) -> Result<Slug, SeedError> {
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut slug = words.join("-");
    slug.truncate(40);
    let slug = slug.trim_end_matches('-');
    let text = if slug.is_empty() {
        format!("c-{id}")
    } else {
        format!("{slug}-{id}")
    };
    Slug::parse(&text).map_err(|e| SeedError::invalid("slug", e))
}

/// A SKU from the department's first letters and the product id: `KIT-000042`.
pub fn sku(department: &str, id: i64) -> Result<Sku, SeedError> {
    let prefix: String = department
        .chars()
        .filter(char::is_ascii_alphabetic)
        .take(3)
        .collect();
    Sku::parse(&format!("{prefix}-{id:06}")).map_err(|e| SeedError::invalid("sku", e))
}

/// A variant's SKU: the product's and the codes of its option values, in the
/// product's order (`FAS-000042-NVY-XL`); the product's own for a default variant.
pub fn variant_sku<'a>(stem: &Sku, codes: impl Iterator<Item = &'a str>) -> Result<Sku, SeedError> {
    let mut text = stem.as_str().to_owned();
    for code in codes {
        text.push('-');
        text.push_str(code);
    }
    Sku::parse(&text).map_err(|e| SeedError::invalid("sku", e))
}

/// The GTIN-13 of product `id` under a three-digit prefix (`978`: an ISBN): nine
/// digits that are a permutation of the id (multiplying by 3^18, prime to 10^9,
/// is one-to-one below 10^9, so ids give distinct numbers that do not look
/// sequential), then the GS1 check digit. Ids from 10^9 on get none.
pub fn gtin(prefix: u16, id: i64) -> Result<Option<Gtin>, SeedError> {
    const SPACE: i64 = 1_000_000_000;
    if !(0..SPACE).contains(&id) {
        return Ok(None);
    }
    let body = format!(
        "{prefix:03}{:09}",
        (i128::from(id) * 387_420_489 % i128::from(SPACE)) as i64
    );
    // Gtin::parse checks the check digit again, its own way.
    Gtin::parse(&format!("{body}{}", check_digit(&body)))
        .map(Some)
        .map_err(|e| SeedError::invalid("gtin", e))
}

/// The GS1 check digit of `body` (ASCII digits): from the right, weights 3, 1, 3...;
/// the digit that brings the sum to a multiple of ten.
fn check_digit(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10
}

/// A product's name, as drawn for its goods.
pub fn product_name(text: &str) -> Result<ProductName, SeedError> {
    ProductName::parse(text).map_err(|e| SeedError::invalid("product name", e))
}

/// Two or three sentences of filler text.
pub fn description(rng: &mut SeedRng) -> Result<Description, SeedError> {
    let sentences = rng.random_range(2..4u32);
    let text: Vec<String> = (0..sentences)
        .map(|_| Sentence(EN, 6..14).fake_with_rng::<String, _>(rng))
        .collect();
    Description::parse(&text.join(" ")).map_err(|e| SeedError::invalid("description", e))
}

/// A guest's cart token: 24 random characters then the cart id, so it is unique.
pub fn guest_token(rng: &mut SeedRng, cart_id: i64) -> Result<GuestToken, SeedError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut token: String = (0..24)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    token.push('-');
    token.push_str(&cart_id.to_string());
    GuestToken::parse(&token).map_err(|e| SeedError::invalid("guest token", e))
}

/// The public reference of row `id` of `table` (a version 4 UUID's shape), derived
/// from the seed rather than drawn from a stream, so that adding it changed no other
/// value.
pub fn public_id(seed: u64, table: &str, id: i64) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(seed.to_be_bytes())
        .chain_update(table.as_bytes())
        .chain_update(id.to_be_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    ecom_domain::ids::CartRef::new(u128::from_be_bytes(bytes)).to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::generate::rng::{Stream, rng_for};

    #[test]
    fn emails_parse_and_are_unique_per_id() {
        let mut seen = HashSet::new();
        for id in 1..=5_000 {
            let mut rng = rng_for(7, Stream::User, id);
            let country = Country::pick(&mut rng);
            let (first, last) = person(&mut rng, country);
            let email = email(&mut rng, &first, &last, id).unwrap();
            assert!(Email::parse(email.as_str()).is_ok());
            assert!(seen.insert(email.normalized()), "duplicate {email}");
        }
    }

    #[test]
    fn addresses_of_every_country_parse() {
        let countries = [
            Country::Us,
            Country::De,
            Country::Fr,
            Country::It,
            Country::Nl,
            Country::Pt,
            Country::Br,
        ];
        for id in 0..2_000 {
            let mut rng = rng_for(1, Stream::Address, id);
            let country = countries[(id as usize) % countries.len()];
            let (first, last) = person(&mut rng, country);
            let name = full_name(&first, &last).unwrap();
            let address = postal_address(&mut rng, country, &name).unwrap();
            assert_eq!(address.country().as_str(), country.code());
            // What is stored parses again to the same value.
            assert_eq!(PostalAddress::parse(&address.to_raw()).unwrap(), address);
        }
    }

    #[test]
    fn catalog_values_parse() {
        let mut slugs = HashSet::new();
        for id in 1..=3_000 {
            let mut rng = rng_for(3, Stream::Product, id);
            let department = department_name(id as u64).unwrap();
            let sub = subcategory_name(&mut rng, department.as_str()).unwrap();
            assert!(slugs.insert(slug(sub.as_str(), id).unwrap()));
            let sku = sku(department.as_str(), id).unwrap();
            assert_eq!(Sku::parse(sku.as_str()).unwrap(), sku);
            let text = description(&mut rng).unwrap();
            assert!(Description::parse(text.as_str()).is_ok());
            let token = guest_token(&mut rng, id).unwrap();
            assert!(GuestToken::parse(token.as_str()).is_ok());
        }
    }

    #[test]
    fn variant_skus_append_the_option_codes() {
        let stem = sku("Fashion 2", 42).unwrap();
        assert_eq!(stem.as_str(), "FAS-000042");
        let navy_xl = variant_sku(&stem, ["NVY", "XL"].into_iter()).unwrap();
        assert_eq!(navy_xl.as_str(), "FAS-000042-NVY-XL");
        assert_eq!(variant_sku(&stem, std::iter::empty()).unwrap(), stem);
    }

    #[test]
    fn barcodes_are_valid_gtin_13s_distinct_per_id() {
        let mut seen = HashSet::new();
        for id in (1..=20_000).chain([999_999_999]) {
            let isbn = gtin(978, id).unwrap().unwrap();
            // The 14-digit form of a GTIN-13: a leading zero, then the prefix.
            assert!(isbn.as_str().starts_with("0978"), "{isbn}");
            assert_eq!(Gtin::parse(&isbn.as_str()[1..]).unwrap(), isbn);
            assert!(seen.insert(isbn), "duplicate for {id}");
        }
        // Published numbers: ISBN 978-0-306-40615-7 and EAN 4006381333931.
        assert_eq!(check_digit("978030640615"), 7);
        assert_eq!(check_digit("400638133393"), 1);
        assert_eq!(gtin(426, 1_000_000_000).unwrap(), None);
        assert_ne!(gtin(426, 7).unwrap(), gtin(978, 7).unwrap());
    }

    #[test]
    fn slugs_survive_odd_names() {
        assert_eq!(slug("Café & Bar", 3).unwrap().as_str(), "caf-bar-3");
        assert_eq!(slug("!!!", 9).unwrap().as_str(), "c-9");
    }
}
