//! Tax as data: the class each department's products pay, and the rates of every
//! country the shop ships to (and of every US state), per class, with their real
//! changes: Germany's 16 % → 19 % of 2007 and its 2020 cut, France's 19.6 % → 20 %,
//! the Dutch 6 % → 9 %, Louisiana's 4.45 % → 5 % of 2025...
//!
//! A product has one class; each country says what the class pays there. The
//! reduced class is what books and food pay: 7 % in Germany, 5.5 % in France, 4 %
//! in Italy, zero-rated in the United Kingdom; in US states books pay the state's
//! general rate, so the reduced class repeats it. The zero class is 0 % everywhere.
//! Rates are today's back to the table's start (2007), except for the changes
//! listed; a change takes effect at midnight UTC of its day.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use ecom_domain::pricing::{RegionCode, TaxClass, TaxRate, TaxTable};
use ecom_domain::values::{CountryCode, TaxRateName};
use rust_decimal::Decimal;

use crate::SeedError;
use crate::generate::Out;
use crate::plan::Plan;
use crate::table::Table;

/// The class of a department's products (by its base name): what its goods pay in
/// most of the countries the shop ships to. Books and food pay the reduced rate;
/// baby clothes are zero-rated, as in the United Kingdom and Ireland (one class a
/// product: elsewhere they would pay the standard rate); everything else the
/// standard rate. No department sells what is exempt (gift cards, services).
pub(crate) fn tax_class_of_department(department: &str) -> TaxClass {
    match department {
        "Books" | "Grocery" => TaxClass::Reduced,
        "Baby" => TaxClass::Zero,
        _ => TaxClass::Standard,
    }
}

/// A day, `(year, month, day)`: a rate starts at its midnight UTC.
type Day = (i32, u32, u32);

/// Where the table starts: rates without a change listed apply from here on.
const START: Day = (2007, 1, 1);

/// A rate in percent (`"7.25"`) from a day on, until the next one of its chain.
type Step = (&'static str, Day);

/// A country's rates: what its tax is called on an invoice, its standard and its
/// reduced chains, oldest first. Its zero rate applies from its first day.
struct Country {
    code: &'static str,
    tax: &'static str,
    standard: &'static [Step],
    reduced: &'static [Step],
}

/// Every country the shop ships to but the United States, whose states have rates
/// of their own.
const COUNTRIES: &[Country] = &[
    Country {
        code: "DE",
        tax: "VAT",
        // 16 % until 2007, 19 % since, but for the second half of 2020 (the
        // pandemic cut, 19 → 16 and 7 → 5).
        standard: &[
            ("16", (1998, 4, 1)),
            ("19", START),
            ("16", (2020, 7, 1)),
            ("19", (2021, 1, 1)),
        ],
        reduced: &[
            ("7", (1998, 4, 1)),
            ("5", (2020, 7, 1)),
            ("7", (2021, 1, 1)),
        ],
    },
    Country {
        code: "AT",
        tax: "VAT",
        standard: &[("20", START)],
        reduced: &[("10", START)],
    },
    Country {
        code: "FR",
        tax: "VAT",
        standard: &[("19.6", START), ("20", (2014, 1, 1))],
        reduced: &[("5.5", START)],
    },
    Country {
        code: "IT",
        tax: "VAT",
        standard: &[("20", START), ("21", (2011, 9, 17)), ("22", (2013, 10, 1))],
        // Books and staple foods: the super-reduced rate.
        reduced: &[("4", START)],
    },
    Country {
        code: "NL",
        tax: "VAT",
        standard: &[("19", START), ("21", (2012, 10, 1))],
        reduced: &[("6", START), ("9", (2019, 1, 1))],
    },
    Country {
        code: "PT",
        tax: "VAT",
        standard: &[
            ("21", START),
            ("20", (2008, 7, 1)),
            ("21", (2010, 7, 1)),
            ("23", (2011, 1, 1)),
        ],
        reduced: &[("5", START), ("6", (2010, 7, 1))],
    },
    Country {
        code: "GB",
        tax: "VAT",
        standard: &[
            ("17.5", START),
            ("15", (2008, 12, 1)),
            ("17.5", (2010, 1, 1)),
            ("20", (2011, 1, 4)),
        ],
        // Books and food are zero-rated.
        reduced: &[("0", START)],
    },
    Country {
        code: "BR",
        tax: "ICMS",
        standard: &[("17", START)],
        reduced: &[("7", START)],
    },
];

/// Each US state's sales tax (the state's own rate, without local ones), oldest
/// first: the states `fake` gives addresses in, by their ISO 3166-2 codes.
const US_STATES: &[(&str, &[Step])] = &[
    ("AL", &[("4", START)]),
    ("AK", &[("0", START)]),
    ("AZ", &[("5.6", START)]),
    ("AR", &[("6.5", START)]),
    (
        "CA",
        &[
            ("7.25", START),
            ("8.25", (2009, 4, 1)),
            ("7.25", (2011, 7, 1)),
            ("7.5", (2013, 1, 1)),
            ("7.25", (2017, 1, 1)),
        ],
    ),
    ("CO", &[("2.9", START)]),
    ("CT", &[("6.35", START)]),
    ("DE", &[("0", START)]),
    ("FL", &[("6", START)]),
    ("GA", &[("4", START)]),
    ("HI", &[("4", START)]),
    ("ID", &[("6", START)]),
    ("IL", &[("6.25", START)]),
    ("IN", &[("7", START)]),
    ("IA", &[("6", START)]),
    ("KS", &[("6.5", START)]),
    ("KY", &[("6", START)]),
    (
        "LA",
        &[
            ("4", START),
            ("5", (2016, 4, 1)),
            ("4.45", (2018, 7, 1)),
            ("5", (2025, 1, 1)),
        ],
    ),
    ("ME", &[("5.5", START)]),
    ("MD", &[("6", START)]),
    ("MA", &[("6.25", START)]),
    ("MI", &[("6", START)]),
    ("MN", &[("6.875", START)]),
    ("MS", &[("7", START)]),
    ("MO", &[("4.225", START)]),
    ("MT", &[("0", START)]),
    ("NE", &[("5.5", START)]),
    ("NV", &[("6.85", START)]),
    ("NH", &[("0", START)]),
    ("NJ", &[("6.625", START)]),
    ("NM", &[("4.875", START)]),
    ("NY", &[("4", START)]),
    ("NC", &[("4.75", START)]),
    ("ND", &[("5", START)]),
    ("OH", &[("5.75", START)]),
    ("OK", &[("4.5", START)]),
    ("OR", &[("0", START)]),
    ("PA", &[("6", START)]),
    ("RI", &[("7", START)]),
    ("SC", &[("6", START)]),
    (
        "SD",
        &[("4", START), ("4.5", (2016, 6, 1)), ("4.2", (2023, 7, 1))],
    ),
    ("TN", &[("7", START)]),
    ("TX", &[("6.25", START)]),
    ("UT", &[("6.1", START)]),
    ("VT", &[("6", START)]),
    ("VA", &[("5.3", START)]),
    ("WA", &[("6.5", START)]),
    ("WV", &[("6", START)]),
    ("WI", &[("5", START)]),
    ("WY", &[("4", START)]),
];

fn day((year, month, day): Day) -> Result<DateTime<Utc>, SeedError> {
    Utc.with_ymd_and_hms(year, month, day, 0, 0, 0)
        .single()
        .ok_or_else(|| SeedError::invalid("tax rate", format!("no day {year}-{month}-{day}")))
}

/// The rates of one chain: `name(percent)` names each; each ends when the next
/// starts.
fn chain(
    country: CountryCode,
    region: Option<&RegionCode>,
    class: TaxClass,
    steps: &[Step],
    name: impl Fn(&str) -> String,
) -> Result<Vec<TaxRate>, SeedError> {
    let mut rates = Vec::with_capacity(steps.len());
    for (i, (percent, from)) in steps.iter().enumerate() {
        let rate = Decimal::from_str(percent).map_err(|e| SeedError::invalid("tax rate", e))?
            / Decimal::ONE_HUNDRED;
        rates.push(TaxRate {
            name: TaxRateName::parse(&name(percent))
                .map_err(|e| SeedError::invalid("tax rate name", e))?,
            country,
            region: region.cloned(),
            class,
            rate,
            valid_from: day(*from)?,
            valid_until: steps.get(i + 1).map(|(_, next)| day(*next)).transpose()?,
        });
    }
    Ok(rates)
}

fn country(code: &str) -> Result<CountryCode, SeedError> {
    CountryCode::parse(code).map_err(|e| SeedError::invalid("country", e))
}

/// Every rate, by country (the United States last, state by state), then class,
/// oldest first; checked by the domain's rules: each rate, and no two of a country,
/// region and class at the same time ([`TaxTable::new`]).
pub(crate) fn rates() -> Result<TaxTable, SeedError> {
    let mut rates = Vec::new();
    for c in COUNTRIES {
        let code = country(c.code)?;
        let name = |percent: &str| format!("{} {} {percent} %", c.code, c.tax);
        rates.extend(chain(code, None, TaxClass::Standard, c.standard, name)?);
        rates.extend(chain(code, None, TaxClass::Reduced, c.reduced, name)?);
        let first = [("0", c.standard[0].1)];
        rates.extend(chain(code, None, TaxClass::Zero, &first, name)?);
    }
    let us = country("US")?;
    for (state, steps) in US_STATES {
        let region = RegionCode::parse(state).map_err(|e| SeedError::invalid("region", e))?;
        let name = |percent: &str| format!("US-{state} sales tax {percent} %");
        // Books pay the state's general rate: the reduced class repeats it.
        for class in [TaxClass::Standard, TaxClass::Reduced] {
            rates.extend(chain(us, Some(&region), class, steps, name)?);
        }
    }
    let zero = [("0", START)];
    rates.extend(chain(us, None, TaxClass::Zero, &zero, |_| {
        "US zero-rated 0 %".to_owned()
    })?);
    TaxTable::new(rates).map_err(|e| SeedError::invalid("tax rates", e))
}

/// Writes every rate, with ids after the plan's.
pub(super) fn write(plan: &Plan, table: &TaxTable, out: &mut Out<'_>) {
    for (k, rate) in table.rates().iter().enumerate() {
        let mut stored = rate.rate;
        // numeric(6,5): what the database prints back.
        stored.rescale(TaxRate::MAX_SCALE);
        let w = out.w(Table::TaxRates);
        w.int(plan.ids.tax_rates + k as i64 + 1);
        w.text(rate.name.as_str());
        w.text(rate.country.as_str());
        w.opt_text(rate.region.as_ref().map(RegionCode::as_str));
        w.text(rate.class.as_str());
        w.decimal(stored);
        w.ts(rate.valid_from);
        w.opt_ts(rate.valid_until);
        w.end();
    }
}

#[cfg(test)]
mod tests {
    use ecom_domain::pricing::Destination;
    use fake::locales::{Data, EN, IT_IT, PT_BR};

    use super::*;

    fn at(d: Day) -> DateTime<Utc> {
        day(d).unwrap()
    }

    fn rate_of(table: &TaxTable, to: &Destination, class: TaxClass, when: Day) -> Decimal {
        table
            .rate(to, class, at(when))
            .unwrap()
            .expect("a taxed class")
            .rate
    }

    #[test]
    fn germany_went_from_16_to_19_percent_and_back_down_for_half_of_2020() {
        let table = rates().unwrap();
        let de = Destination::country(country("DE").unwrap());
        let standard = |d| rate_of(&table, &de, TaxClass::Standard, d);
        let reduced = |d| rate_of(&table, &de, TaxClass::Reduced, d);
        assert_eq!(standard((2006, 12, 31)), Decimal::new(16, 2));
        assert_eq!(standard((2007, 1, 1)), Decimal::new(19, 2));
        assert_eq!(standard((2020, 8, 1)), Decimal::new(16, 2));
        assert_eq!(standard((2025, 6, 1)), Decimal::new(19, 2));
        assert_eq!(reduced((2020, 8, 1)), Decimal::new(5, 2));
        assert_eq!(reduced((2025, 6, 1)), Decimal::new(7, 2));
        let applied = table
            .rate(&de, TaxClass::Standard, at((2025, 6, 1)))
            .unwrap()
            .unwrap();
        assert_eq!(applied.name.as_str(), "DE VAT 19 %");
        // Rates that ended, and one change inside the default order period.
        assert!(table.rates().iter().any(|r| r.valid_until.is_some()));
        let us_la = Destination {
            country: country("US").unwrap(),
            region: Some(RegionCode::parse("LA").unwrap()),
        };
        assert_eq!(
            rate_of(&table, &us_la, TaxClass::Standard, (2024, 12, 31)),
            Decimal::new(445, 4)
        );
        assert_eq!(
            rate_of(&table, &us_la, TaxClass::Standard, (2025, 1, 1)),
            Decimal::new(5, 2)
        );
    }

    #[test]
    fn books_pay_the_reduced_rate_and_baby_clothes_none() {
        assert_eq!(tax_class_of_department("Books"), TaxClass::Reduced);
        assert_eq!(tax_class_of_department("Grocery"), TaxClass::Reduced);
        assert_eq!(tax_class_of_department("Baby"), TaxClass::Zero);
        assert_eq!(tax_class_of_department("Fashion"), TaxClass::Standard);
        let table = rates().unwrap();
        let in_ = |code: &str| Destination::country(country(code).unwrap());
        let now = (2025, 6, 1);
        assert_eq!(
            rate_of(&table, &in_("FR"), TaxClass::Reduced, now),
            Decimal::new(55, 3)
        );
        assert_eq!(
            rate_of(&table, &in_("GB"), TaxClass::Reduced, now),
            Decimal::ZERO
        );
        assert_eq!(
            rate_of(&table, &in_("GB"), TaxClass::Standard, now),
            Decimal::new(20, 2)
        );
        assert_eq!(
            rate_of(&table, &in_("AT"), TaxClass::Reduced, now),
            Decimal::new(10, 2)
        );
    }

    /// Every region `fake` writes in an address of a country with regions (US states,
    /// Italian provinces, Brazilian states) has a rate of each taxed class at every
    /// moment since the table starts: its own, or its country's.
    #[test]
    fn every_region_an_address_can_have_is_taxed_in_every_class() {
        let table = rates().unwrap();
        let regions = [
            ("US", EN::ADDRESS_STATE_ABBR),
            ("IT", IT_IT::ADDRESS_STATE_ABBR),
            ("BR", PT_BR::ADDRESS_STATE_ABBR),
        ];
        for (code, abbrs) in regions {
            for abbr in abbrs {
                let to = Destination {
                    country: country(code).unwrap(),
                    region: Some(RegionCode::parse(abbr).unwrap()),
                };
                for when in [START, (2020, 8, 1), (2025, 1, 1), (2030, 1, 1)] {
                    for class in [TaxClass::Standard, TaxClass::Reduced, TaxClass::Zero] {
                        let applied = table.rate(&to, class, at(when)).unwrap().unwrap();
                        assert_eq!(applied.country, to.country);
                        if code == "US" {
                            // A state's own rate, except for the zero class.
                            assert_eq!(applied.region.is_some(), class != TaxClass::Zero, "{abbr}");
                        }
                    }
                }
            }
        }
        let us_ny = Destination {
            country: country("US").unwrap(),
            region: Some(RegionCode::parse("NY").unwrap()),
        };
        let applied = table
            .rate(&us_ny, TaxClass::Standard, at((2025, 6, 1)))
            .unwrap()
            .unwrap();
        assert_eq!(
            (applied.name.as_str(), applied.rate),
            ("US-NY sales tax 4 %", Decimal::new(4, 2))
        );
    }

    #[test]
    fn rates_are_written_at_the_column_s_scale() {
        let table = rates().unwrap();
        let plan = Plan::default();
        let mut rows = Vec::new();
        let mut keep = |batch: crate::generate::Batch| {
            for chunk in batch.chunks {
                rows.extend(chunk.bytes);
            }
            true
        };
        let mut out = Out::new(&mut keep);
        write(&plan, &table, &mut out);
        out.done();
        out.flush();
        let text = String::from_utf8(rows).unwrap();
        assert_eq!(text.lines().count(), table.rates().len());
        assert!(text.starts_with(
            "1,DE VAT 16 %,DE,,standard,0.16000,1998-04-01 00:00:00+00,2007-01-01 00:00:00+00\n"
        ));
        assert!(text.contains(",US-MO sales tax 4.225 %,US,MO,standard,0.04225,"));
    }
}
