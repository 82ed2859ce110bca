//! Shipping as data: three zones (the shop's home country, the rest of the European
//! Union, the rest of the world) covering every country customers live in and two
//! more the shop ships to (Austria, the United Kingdom); in each, standard delivery
//! by weight (parcels up to 31.5 kg) free from an order value, and express delivery
//! at a flat price; at home, pick-up in store for nothing.

use chrono::{DateTime, Duration, Utc};
use ecom_domain::ids::{ShippingMethodId, ShippingZoneId};
use ecom_domain::money::{Currency, Money};
use ecom_domain::pricing::{
    Area, NewShippingMethod, NewShippingZone, ShippingMethod, ShippingRate, ShippingZone, TaxClass,
    WeightBand,
};
use ecom_domain::values::{CountryCode, ShippingMethodName, ShippingZoneName, Slug};
use rust_decimal::Decimal;

use crate::SeedError;
use crate::generate::Out;
use crate::jsonb;
use crate::plan::Plan;
use crate::table::Table;

/// The countries of the European Union the shop ships to.
pub(super) const EU: [&str; 6] = ["DE", "AT", "FR", "IT", "NL", "PT"];

/// The others.
pub(super) const ELSEWHERE: [&str; 3] = ["GB", "US", "BR"];

/// Where a shop selling in `currency` is, and what that country is called: the
/// United States for dollars, the United Kingdom for pounds, Germany otherwise (its
/// customers, like the seed's, are mostly German).
pub(crate) fn home(currency: Currency) -> (&'static str, &'static str) {
    match currency {
        Currency::USD => ("US", "United States"),
        Currency::GBP => ("GB", "United Kingdom"),
        _ => ("DE", "Germany"),
    }
}

/// A price of a method, in major units: `4.90`, rounded to the currency's minor unit
/// as the catalog's prices are.
fn price(cents: i64, currency: Currency) -> Money {
    Money::round_half_even(Decimal::new(cents, 2), currency)
}

/// What a zone's methods cost: standard delivery's weight bands (heaviest parcel
/// in grams, price in cents) and the order value it is free from, express delivery's
/// flat price, and whether customers may pick up in store.
struct Tariff {
    bands: [(u64, i64); 4],
    free_from: i64,
    express: i64,
    pickup: bool,
}

const HOME: Tariff = Tariff {
    bands: [(1_000, 490), (5_000, 690), (10_000, 990), (31_500, 1_690)],
    free_from: 5_000,
    express: 1_290,
    pickup: true,
};
const EUROPE: Tariff = Tariff {
    bands: [
        (1_000, 990),
        (5_000, 1_490),
        (10_000, 1_990),
        (31_500, 3_490),
    ],
    free_from: 10_000,
    express: 2_990,
    pickup: false,
};
const WORLD: Tariff = Tariff {
    bands: [
        (1_000, 1_990),
        (5_000, 3_490),
        (10_000, 4_990),
        (31_500, 8_990),
    ],
    free_from: 25_000,
    express: 5_990,
    pickup: false,
};

/// The zones with their areas and methods, as the domain creates them (ids after
/// the plan's), each checked by its rules.
pub(crate) fn zones(plan: &Plan) -> Result<Vec<(ShippingZone, Vec<ShippingMethod>)>, SeedError> {
    let (home_code, home_name) = home(plan.currency);
    let others = |list: &[&'static str]| -> Vec<&'static str> {
        list.iter().copied().filter(|c| *c != home_code).collect()
    };
    let plans = [
        (home_name, vec![home_code], &HOME),
        ("European Union", others(&EU), &EUROPE),
        ("Rest of the world", others(&ELSEWHERE), &WORLD),
    ];
    let mut zones = Vec::with_capacity(plans.len());
    let mut method_id = plan.ids.shipping_methods;
    for (z, (name, countries, tariff)) in plans.into_iter().enumerate() {
        let areas = countries
            .into_iter()
            .map(|c| {
                Ok(Area {
                    country: CountryCode::parse(c).map_err(|e| SeedError::invalid("country", e))?,
                    region: None,
                })
            })
            .collect::<Result<Vec<_>, SeedError>>()?;
        let zone = NewShippingZone {
            name: ShippingZoneName::parse(name)
                .map_err(|e| SeedError::invalid("shipping zone name", e))?,
            areas,
        }
        .checked()
        .map_err(|e| SeedError::invalid("shipping zone", e))?
        .with_id(ShippingZoneId::new(plan.ids.shipping_zones + z as i64 + 1));
        let methods = methods(plan.currency, zone.id, tariff)?
            .into_iter()
            .map(|m| {
                method_id += 1;
                m.with_id(ShippingMethodId::new(method_id))
            })
            .collect();
        zones.push((zone, methods));
    }
    Ok(zones)
}

fn methods(
    currency: Currency,
    zone: ShippingZoneId,
    tariff: &Tariff,
) -> Result<Vec<NewShippingMethod>, SeedError> {
    let standard = ShippingRate::ByWeight {
        bands: tariff
            .bands
            .iter()
            .map(|(grams, cents)| WeightBand {
                up_to_grams: *grams,
                price: price(*cents, currency),
            })
            .collect(),
    };
    let flat = |cents| ShippingRate::Flat {
        price: price(cents, currency),
    };
    let mut offered = vec![
        (
            "standard",
            "Standard delivery",
            standard,
            Some(price(tariff.free_from, currency)),
        ),
        ("express", "Express delivery", flat(tariff.express), None),
    ];
    if tariff.pickup {
        offered.push(("pickup", "Pick up in store", flat(0), None));
    }
    offered
        .into_iter()
        .map(|(code, name, rate, free_from)| {
            NewShippingMethod {
                zone,
                code: Slug::parse(code).map_err(|e| SeedError::invalid("method code", e))?,
                name: ShippingMethodName::parse(name)
                    .map_err(|e| SeedError::invalid("shipping method name", e))?,
                currency,
                rate,
                free_from,
                // Shipping pays the destination's standard rate.
                tax_class: TaxClass::Standard,
            }
            .checked()
            .map_err(|e| SeedError::invalid("shipping method", e))
        })
        .collect()
}

/// Writes the zones, their areas (ids after the plan's) and their methods, created
/// at `created` a minute apart.
pub(super) fn write(
    plan: &Plan,
    zones: &[(ShippingZone, Vec<ShippingMethod>)],
    created: DateTime<Utc>,
    out: &mut Out<'_>,
) -> Result<(), SeedError> {
    let mut area_id = plan.ids.shipping_zone_areas;
    let mut minute = 0;
    let mut at = || {
        minute += 1;
        created + Duration::minutes(minute)
    };
    for (zone, methods) in zones {
        let w = out.w(Table::ShippingZones);
        w.int(zone.id.get());
        w.text(zone.name.as_str());
        w.ts(at());
        w.end();
        for area in &zone.areas {
            area_id += 1;
            let w = out.w(Table::ShippingZoneAreas);
            w.int(area_id);
            w.int(zone.id.get());
            w.text(area.country.as_str());
            w.opt_text(area.region.as_ref().map(|r| r.as_str()));
            w.end();
        }
        for method in methods {
            let rate = jsonb::shipping_rate(&method.rate)?;
            let w = out.w(Table::ShippingMethods);
            w.int(method.id.get());
            w.int(method.zone.get());
            w.text(method.code.as_str());
            w.text(method.name.as_str());
            w.text(method.currency.code());
            w.text(&rate);
            w.opt_money(method.free_from);
            w.text(method.tax_class.as_str());
            w.ts(at());
            w.end();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ecom_domain::pricing::{Destination, shipping_options};

    use super::*;
    use crate::generate::values::Country;

    fn to(code: &str) -> Destination {
        Destination::country(CountryCode::parse(code).unwrap())
    }

    fn options(plan: &Plan, code: &str, subtotal: i64, grams: u64) -> Vec<(String, Money)> {
        let (zones, methods): (Vec<_>, Vec<Vec<_>>) = zones(plan).unwrap().into_iter().unzip();
        let methods: Vec<ShippingMethod> = methods.into_iter().flatten().collect();
        shipping_options(
            &zones,
            &methods,
            &to(code),
            price(subtotal, plan.currency),
            grams,
        )
        .into_iter()
        .map(|o| (o.method.code.as_str().to_owned(), o.price))
        .collect()
    }

    #[test]
    fn every_country_customers_live_in_is_in_exactly_one_zone() {
        for currency in [Currency::EUR, Currency::USD, Currency::GBP, Currency::JPY] {
            let plan = Plan {
                currency,
                ..Plan::default()
            };
            let zones = zones(&plan).unwrap();
            let customers = [
                Country::Us,
                Country::De,
                Country::Fr,
                Country::It,
                Country::Nl,
                Country::Pt,
                Country::Br,
            ];
            for code in customers.iter().map(|c| c.code()).chain(["AT", "GB"]) {
                let covering: Vec<&str> = zones
                    .iter()
                    .filter(|(z, _)| z.covers(&to(code)))
                    .map(|(z, _)| z.name.as_str())
                    .collect();
                assert_eq!(covering.len(), 1, "{currency}: {code} in {covering:?}");
            }
            // Every method in the shop's currency.
            for (_, methods) in &zones {
                assert!(methods.iter().all(|m| m.currency == currency));
            }
        }
    }

    #[test]
    fn customers_choose_standard_express_and_at_home_pickup() {
        let plan = Plan::default();
        // A 2 kg parcel of 30.00 at home: pick-up, standard by weight, express.
        assert_eq!(
            options(&plan, "DE", 3_000, 2_000),
            [
                ("pickup".to_owned(), price(0, Currency::EUR)),
                ("standard".to_owned(), price(690, Currency::EUR)),
                ("express".to_owned(), price(1_290, Currency::EUR)),
            ]
        );
        // Free from 50.00 at home; no pick-up abroad.
        assert_eq!(
            options(&plan, "DE", 5_000, 2_000)[1],
            ("standard".to_owned(), price(0, Currency::EUR))
        );
        assert_eq!(
            options(&plan, "FR", 3_000, 500),
            [
                ("standard".to_owned(), price(990, Currency::EUR)),
                ("express".to_owned(), price(2_990, Currency::EUR)),
            ]
        );
        // Too heavy for a parcel: express only.
        assert_eq!(
            options(&plan, "US", 3_000, 40_000),
            [("express".to_owned(), price(5_990, Currency::EUR))]
        );
        // A dollar shop's home is the United States.
        let usd = Plan {
            currency: Currency::USD,
            ..Plan::default()
        };
        assert_eq!(options(&usd, "US", 3_000, 500).len(), 3);
        assert_eq!(options(&usd, "DE", 3_000, 500).len(), 2);
    }
}
