//! The price book: what prices, tax and shipping read from the shop's data. The
//! market of the shop's currency (gross prices but in US and Canadian dollars),
//! tax rates per country, US state and class with their real changes ([`taxes`]),
//! shipping zones with their methods ([`shipping`]), and price lists (a sale,
//! business customers' tiers, staff prices) with their entries and the customer
//! groups they are for ([`lists`]). Products' tax classes follow their department
//! ([`tax_class_of_department`]) and are written with the products.
//!
//! Every row is built as the domain's value and checked by its rules before it is
//! written: [`TaxTable::new`](ecom_domain::pricing::TaxTable::new) (each rate, and
//! no two at once), `NewShippingZone::checked`, `NewShippingMethod::checked`,
//! `NewPriceList::checked` and `ListPrice::entries_of`. The seeded orders are not
//! priced from it: they keep the flat rules (`Pricing::default()`), without an
//! invoice.

mod lists;
mod shipping;
mod taxes;

use chrono::Duration;
use ecom_domain::money::Currency;
use ecom_domain::pricing::Market;

pub(crate) use self::lists::CustomerGroups;
pub(crate) use self::taxes::tax_class_of_department;
use super::catalog::Catalog;
use super::{Out, Phase};
use crate::SeedError;
use crate::plan::Plan;
use crate::table::Table;

/// The market of `currency`: consumers in Europe, the UK and most of the world see
/// prices with tax included; in the United States and Canada tax is added at the
/// till.
pub(crate) fn market(currency: Currency) -> Market {
    Market {
        currency,
        prices_include_tax: !matches!(currency, Currency::USD | Currency::CAD),
    }
}

/// Writes the price book: first the shop's market, tax rates, shipping zones and
/// price lists (one entity; without the first three when the database has them),
/// then each product's list prices (one entity a product).
pub(crate) fn write(plan: &Plan, catalog: &Catalog, out: &mut Out<'_>) -> Result<(), SeedError> {
    out.start(Phase::PriceBook);
    // Set up before the catalog's oldest product (30 days to a year before the
    // period), as the attribute vocabulary is.
    let created = plan.since - Duration::days(400);
    if !plan.tax_and_shipping_defined {
        let market = market(plan.currency);
        let w = out.w(Table::Markets);
        w.text(market.currency.code());
        w.bool(market.prices_include_tax);
        w.end();
        taxes::write(plan, &taxes::rates()?, out);
        shipping::write(plan, &shipping::zones(plan)?, created, out)?;
    }
    let lists = lists::lists(plan)?;
    lists::write_lists(&lists, created + Duration::hours(1), out);
    if !out.done() {
        return Ok(());
    }
    for p in 0..catalog.product_count() {
        let entries = lists::entries_of_product(plan, catalog, &lists, p)?;
        lists::write_entries(&entries, out);
        if !out.done() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_include_tax_but_in_north_american_dollars() {
        assert!(market(Currency::EUR).prices_include_tax);
        assert!(market(Currency::GBP).prices_include_tax);
        assert!(!market(Currency::USD).prices_include_tax);
        assert!(!market(Currency::CAD).prices_include_tax);
    }
}
