//! Postal addresses and the countries they are in.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::check::{ValidationError, single_line};
use super::text::PersonName;

/// Every ISO 3166-1 alpha-2 code (249 countries and territories).
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG \
BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX \
CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN \
GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI \
KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ \
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR \
PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC \
TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT \
ZA ZM ZW";

/// An ISO 3166-1 alpha-2 country code such as `DE` or `US`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a code; surrounding spaces and lower case are accepted.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let code = raw.trim().to_ascii_uppercase();
        let known = code.len() == 2 && ISO_3166_ALPHA2.split(' ').any(|c| c == code);
        if !known {
            return Err(ValidationError::UnknownCountry(raw.to_owned()));
        }
        let bytes = code.as_bytes();
        Ok(Self([bytes[0], bytes[1]]))
    }

    /// The two-letter code.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters from the table above are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// Every code this type accepts.
    pub fn all() -> impl Iterator<Item = CountryCode> {
        ISO_3166_ALPHA2.split(' ').map(|c| {
            let b = c.as_bytes();
            CountryCode([b[0], b[1]])
        })
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl TryFrom<String> for CountryCode {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<CountryCode> for String {
    fn from(value: CountryCode) -> String {
        value.as_str().to_owned()
    }
}

/// An address as a user typed it, before validation. Missing fields deserialize as
/// empty text (and then fail validation if they are required).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RawAddress {
    /// Who receives mail there.
    pub recipient: String,
    /// Street and number.
    pub line1: String,
    /// Flat, floor, c/o (optional: empty means none).
    pub line2: String,
    /// City or town.
    pub city: String,
    /// State, province or county (optional: empty means none).
    pub region: String,
    /// Postal or ZIP code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

/// A validated postal address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PostalAddress {
    recipient: PersonName,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postal_code: String,
    country: CountryCode,
}

impl PostalAddress {
    /// Validates every field: lines up to 200 characters, city and region up to 100,
    /// postal code 1 to 16 of letters, digits, spaces and hyphens, a known country.
    pub fn parse(raw: &RawAddress) -> Result<Self, ValidationError> {
        let optional = |field, value: &str, max| -> Result<Option<String>, ValidationError> {
            let value = single_line(field, value, 0, max)?;
            Ok((!value.is_empty()).then(|| value.to_owned()))
        };
        let postal_code = single_line("postal code", &raw.postal_code, 1, 16)?.to_uppercase();
        if !postal_code
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || c == '-')
        {
            return Err(ValidationError::Malformed {
                field: "postal code",
                value: raw.postal_code.clone(),
                rule: "only letters, digits, spaces and hyphens",
            });
        }
        Ok(Self {
            recipient: PersonName::parse(&raw.recipient)?,
            line1: single_line("address line 1", &raw.line1, 1, 200)?.to_owned(),
            line2: optional("address line 2", &raw.line2, 200)?,
            city: single_line("city", &raw.city, 1, 100)?.to_owned(),
            region: optional("region", &raw.region, 100)?,
            postal_code,
            country: CountryCode::parse(&raw.country)?,
        })
    }

    /// The recipient.
    pub fn recipient(&self) -> &PersonName {
        &self.recipient
    }
    /// Street and number.
    pub fn line1(&self) -> &str {
        &self.line1
    }
    /// Second address line, if any.
    pub fn line2(&self) -> Option<&str> {
        self.line2.as_deref()
    }
    /// City or town.
    pub fn city(&self) -> &str {
        &self.city
    }
    /// Region, if any.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// Postal code, upper-cased.
    pub fn postal_code(&self) -> &str {
        &self.postal_code
    }
    /// Country.
    pub fn country(&self) -> CountryCode {
        self.country
    }

    /// The address back as raw text fields (e.g. to store or edit it).
    pub fn to_raw(&self) -> RawAddress {
        RawAddress {
            recipient: self.recipient.as_str().to_owned(),
            line1: self.line1.clone(),
            line2: self.line2.clone().unwrap_or_default(),
            city: self.city.clone(),
            region: self.region.clone().unwrap_or_default(),
            postal_code: self.postal_code.clone(),
            country: self.country.as_str().to_owned(),
        }
    }
}
