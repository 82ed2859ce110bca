//! Price lists and who they are for: a sale of a few weeks inside the order period
//! (a product in eight at 20 to 50 % off), business customers' prices with
//! quantity tiers (5 % off from 1 unit, 10 % from 10, 15 % from 50, on a product in
//! four) and staff prices (25 % off everything on sale); a few percent of the users
//! are business customers, a handful staff.
//!
//! A product's entries are drawn from a stream of its own when the price book is
//! written, so nothing of them is kept in memory; each is checked against its list
//! by the domain ([`ListPrice::entries_of`]).

use chrono::{DateTime, Datelike, Duration, Utc};
use ecom_domain::ids::{PriceListId, VariantId};
use ecom_domain::money::Money;
use ecom_domain::pricing::{ListPrice, NewPriceList, PriceEntry, PriceList};
use ecom_domain::values::{PriceListName, Slug};
use rand::RngExt;
use rust_decimal::Decimal;

use crate::SeedError;
use crate::generate::Out;
use crate::generate::catalog::Catalog;
use crate::generate::rng::{SeedRng, Stream, rng_for};
use crate::plan::Plan;
use crate::table::Table;

/// The customer group of business customers.
const B2B: &str = "b2b";
/// The customer group of the shop's staff.
const STAFF: &str = "staff";

/// Percent of products on sale, and the discounts drawn for them.
const ON_SALE: u32 = 12;
const SALE_DISCOUNTS: [i64; 6] = [20, 25, 30, 30, 40, 50];
/// Percent of products with business prices, and their tiers: from so many units,
/// so much off.
const FOR_BUSINESS: u32 = 25;
const TIERS: [(u32, i64); 3] = [(1, 5), (10, 10), (50, 15)];
/// Staff pay this much less for anything.
const STAFF_DISCOUNT: i64 = 25;
/// Percent of users who are business customers.
const BUSINESS_USERS: u32 = 4;

/// The shop's three lists, as the domain creates them.
pub(crate) struct Lists {
    /// A sale for everyone, for a few weeks.
    pub sale: PriceList,
    /// Business customers' prices, with quantity tiers.
    pub business: PriceList,
    /// Staff prices.
    pub staff: PriceList,
    /// When the sale list was created: a week before it starts.
    pub sale_created: DateTime<Utc>,
}

fn slug(text: &str) -> Result<Slug, SeedError> {
    Slug::parse(text).map_err(|e| SeedError::invalid("customer group", e))
}

/// The sale's window: two to six weeks from a midnight inside the period, cut to
/// the period; named after the season it starts in ("Summer sale 2025").
fn sale_window(plan: &Plan, rng: &mut SeedRng) -> (String, DateTime<Utc>, DateTime<Utc>) {
    const DAY: i64 = 86_400;
    let span = (plan.until - plan.since).num_seconds().max(1);
    let length = (rng.random_range(14..=42i64) * DAY).min(span);
    let offset = rng.random_range(0..=span - length);
    let starts = plan.since + Duration::seconds(offset - offset % DAY);
    let season = match starts.month() {
        3..=5 => "Spring",
        6..=8 => "Summer",
        9..=11 => "Autumn",
        _ => "Winter",
    };
    let name = format!("{season} sale {}", starts.year());
    (name, starts, starts + Duration::seconds(length))
}

/// The three lists (ids after the plan's), each checked by the domain's rules.
pub(crate) fn lists(plan: &Plan) -> Result<Lists, SeedError> {
    let mut rng = rng_for(plan.seed, Stream::Shop, 0);
    let (sale_name, starts, ends) = sale_window(plan, &mut rng);
    let mut id = plan.ids.price_lists;
    let mut list =
        |name: &str, group: Option<&str>, window: Option<(DateTime<Utc>, DateTime<Utc>)>| {
            id += 1;
            Ok::<_, SeedError>(
                NewPriceList {
                    name: PriceListName::parse(name)
                        .map_err(|e| SeedError::invalid("price list name", e))?,
                    currency: plan.currency,
                    group: group.map(slug).transpose()?,
                    starts_at: window.map(|(s, _)| s),
                    ends_at: window.map(|(_, e)| e),
                }
                .checked()
                .map_err(|e| SeedError::invalid("price list", e))?
                .with_id(PriceListId::new(id)),
            )
        };
    Ok(Lists {
        sale: list(&sale_name, None, Some((starts, ends)))?,
        business: list("Business customers", Some(B2B), None)?,
        staff: list("Staff prices", Some(STAFF), None)?,
        sale_created: starts - Duration::days(7),
    })
}

/// Writes the lists; `created` is when the lists for groups were set up.
pub(super) fn write_lists(lists: &Lists, created: DateTime<Utc>, out: &mut Out<'_>) {
    for (list, at) in [
        (&lists.sale, lists.sale_created),
        (&lists.business, created),
        (&lists.staff, created + Duration::minutes(1)),
    ] {
        let w = out.w(Table::PriceLists);
        w.int(list.id.get());
        w.text(list.name.as_str());
        w.text(list.currency.code());
        w.opt_text(list.group.as_ref().map(Slug::as_str));
        w.opt_ts(list.starts_at);
        w.opt_ts(list.ends_at);
        w.ts(at);
        w.end();
    }
}

/// `percent` off `price`, rounded half-even to the minor unit; `None` when that
/// is not a lower price above zero (a price of a few minor units).
fn off(price: Money, percent: i64) -> Option<Money> {
    let amount = price.amount() * Decimal::new(100 - percent, 2);
    let lower = Money::round_half_even(amount, price.currency());
    (Decimal::ZERO < lower.amount() && lower.amount() < price.amount()).then_some(lower)
}

/// The entries of the product at `p`, of every list, by variant, list and tier:
/// none for a product not on sale.
pub(crate) fn entries_of_product(
    plan: &Plan,
    catalog: &Catalog,
    lists: &Lists,
    p: usize,
) -> Result<Vec<PriceEntry>, SeedError> {
    let mut rng = rng_for(plan.seed, Stream::ListPrices, catalog.product_id(p));
    // Drawn for every product, in this order, so that one product's draws do not
    // depend on another's.
    let on_sale = rng.random_range(0..100u32) < ON_SALE;
    let sale_discount = SALE_DISCOUNTS[rng.random_range(0..SALE_DISCOUNTS.len())];
    let for_business = rng.random_range(0..100u32) < FOR_BUSINESS;
    if !catalog.is_product_buyable(p) {
        return Ok(Vec::new());
    }
    let mut sale = Vec::new();
    let mut business = Vec::new();
    let mut staff = Vec::new();
    for v in catalog.variants_of(p) {
        let variant = VariantId::new(catalog.variant_id(v));
        let price = catalog.variant_price(v);
        let put = |into: &mut Vec<ListPrice>, min_quantity: u32, percent: i64| {
            if let Some(price) = off(price, percent) {
                into.push(ListPrice {
                    variant,
                    min_quantity,
                    price,
                });
            }
        };
        if on_sale {
            put(&mut sale, 1, sale_discount);
        }
        if for_business {
            for (min_quantity, percent) in TIERS {
                put(&mut business, min_quantity, percent);
            }
        }
        put(&mut staff, 1, STAFF_DISCOUNT);
    }
    let mut entries = Vec::new();
    for (list, prices) in [
        (&lists.sale, sale),
        (&lists.business, business),
        (&lists.staff, staff),
    ] {
        entries.extend(
            ListPrice::entries_of(list, prices).map_err(|e| SeedError::invalid("list price", e))?,
        );
    }
    entries.sort_by_key(|e| (e.variant, e.list, e.min_quantity));
    Ok(entries)
}

/// Writes entries, in the order given.
pub(super) fn write_entries(entries: &[PriceEntry], out: &mut Out<'_>) {
    for e in entries {
        let w = out.w(Table::PriceListEntries);
        w.int(e.list.get());
        w.int(e.variant.get());
        w.int(i64::from(e.min_quantity));
        w.money(e.price);
        w.end();
    }
}

/// Who is in which customer group: business customers drawn user by user, and a
/// handful of staff (two to forty, one user in 250) drawn once.
pub(crate) struct CustomerGroups {
    business: Slug,
    staff: Slug,
    /// The staff's user ids, sorted.
    staff_ids: Vec<i64>,
}

impl CustomerGroups {
    /// The groups of the plan's users.
    pub(crate) fn draw(plan: &Plan) -> Result<Self, SeedError> {
        let users = plan.sizes.users;
        let count = (users / 250).clamp(users.min(2), 40);
        let mut rng = rng_for(plan.seed, Stream::Shop, 1);
        let mut staff_ids: Vec<i64> = Vec::with_capacity(count as usize);
        while (staff_ids.len() as u64) < count {
            let id = plan.ids.users + rng.random_range(0..users) as i64 + 1;
            if !staff_ids.contains(&id) {
                staff_ids.push(id);
            }
        }
        staff_ids.sort_unstable();
        Ok(Self {
            business: slug(B2B)?,
            staff: slug(STAFF)?,
            staff_ids,
        })
    }

    /// The group of user `id`, if any: staff, or a business customer.
    pub(crate) fn of(&self, plan: &Plan, id: i64) -> Option<&Slug> {
        if self.staff_ids.binary_search(&id).is_ok() {
            return Some(&self.staff);
        }
        let mut rng = rng_for(plan.seed, Stream::CustomerGroup, id);
        (rng.random_range(0..100u32) < BUSINESS_USERS).then_some(&self.business)
    }
}

#[cfg(test)]
mod tests {
    use ecom_domain::money::Currency;
    use ecom_domain::values::Quantity;

    use super::*;
    use crate::Scale;
    use crate::generate::catalog;

    fn small() -> (Plan, Catalog) {
        let plan = Plan::new(Scale::Small);
        let mut sink = |_| true;
        let mut out = Out::new(&mut sink);
        let cats = catalog::categories(&plan, &mut out).unwrap();
        let catalog = Catalog::draw(&plan, &cats).unwrap();
        (plan, catalog)
    }

    #[test]
    fn the_sale_runs_for_weeks_inside_the_order_period() {
        for seed in 0..50 {
            let plan = Plan {
                seed,
                ..Plan::default()
            };
            let lists = lists(&plan).unwrap();
            let (starts, ends) = (lists.sale.starts_at.unwrap(), lists.sale.ends_at.unwrap());
            assert!(plan.since <= starts && ends <= plan.until);
            assert!((14..=42).contains(&(ends - starts).num_days()));
            assert!(lists.sale.name.as_str().ends_with(" sale 2025"));
            assert_eq!(lists.sale.group, None);
            assert_eq!(lists.business.group.as_ref().map(Slug::as_str), Some(B2B));
            assert_eq!(lists.staff.group.as_ref().map(Slug::as_str), Some(STAFF));
        }
        // A period of a day: the sale is that day.
        let short = Plan {
            until: Plan::default().since + Duration::days(1),
            ..Plan::default()
        };
        let sale = lists(&short).unwrap().sale;
        assert_eq!(
            (sale.starts_at, sale.ends_at),
            (Some(short.since), Some(short.until))
        );
    }

    /// Each entry is lower than the variant's own price, and a business customer
    /// pays less the more they buy: what the domain's rules then pick.
    #[test]
    fn list_prices_undercut_the_variant_s_own_and_tiers_fall_with_quantity() {
        let (plan, catalog) = small();
        let lists = lists(&plan).unwrap();
        let all = [
            lists.sale.clone(),
            lists.business.clone(),
            lists.staff.clone(),
        ];
        let mut counts = [0usize; 3];
        for p in 0..catalog.product_count() {
            let entries = entries_of_product(&plan, &catalog, &lists, p).unwrap();
            if !catalog.is_product_buyable(p) {
                assert!(entries.is_empty());
                continue;
            }
            for v in catalog.variants_of(p) {
                let item = catalog.sellable(v).unwrap();
                let mine: Vec<&PriceEntry> =
                    entries.iter().filter(|e| e.variant == item.id()).collect();
                for e in &mine {
                    assert!(e.price.amount() < item.variant.price.amount());
                    assert_eq!(e.price.currency(), Currency::EUR);
                    counts[all.iter().position(|l| l.id == e.list).unwrap()] += 1;
                }
                let entries: Vec<PriceEntry> = mine.into_iter().cloned().collect();
                let price = |quantity: i64, groups: &[Slug], at| {
                    ecom_domain::pricing::unit_price(
                        &item.variant,
                        Quantity::new(quantity).unwrap(),
                        &all,
                        &entries,
                        ecom_domain::pricing::PriceContext {
                            currency: Currency::EUR,
                            groups,
                            at,
                        },
                    )
                    .unwrap()
                    .price
                    .amount()
                };
                let before_sale = plan.since - Duration::days(1);
                let business = [slug(B2B).unwrap()];
                let staff = [slug(STAFF).unwrap()];
                // A guest outside the sale pays the variant's own price.
                assert_eq!(price(1, &[], before_sale), item.variant.price.amount());
                assert!(price(1, &staff, before_sale) < item.variant.price.amount());
                assert!(price(50, &business, before_sale) <= price(10, &business, before_sale));
                assert!(price(10, &business, before_sale) <= price(1, &business, before_sale));
            }
        }
        let [sale, business, staff] = counts;
        assert!(sale > 20 && business > 3 * 20 && staff > sale, "{counts:?}");
    }

    #[test]
    fn a_few_users_are_business_customers_and_a_handful_staff() {
        let mut plan = Plan::new(Scale::Medium);
        plan.ids.users = 1_000;
        let groups = CustomerGroups::draw(&plan).unwrap();
        let mut counts = std::collections::HashMap::new();
        for id in 1_001..=1_000 + plan.sizes.users as i64 {
            if let Some(group) = groups.of(&plan, id) {
                *counts.entry(group.as_str()).or_insert(0u64) += 1;
            }
        }
        assert_eq!(counts[STAFF], 20);
        let business = counts[B2B];
        assert!((100..=300).contains(&business), "{business}");
        // The small preset has staff too.
        let small = Plan::new(Scale::Small);
        let groups = CustomerGroups::draw(&small).unwrap();
        let staff = (1..=100)
            .filter(|id| groups.of(&small, *id).map(Slug::as_str) == Some(STAFF))
            .count();
        assert_eq!(staff, 2);
    }

    #[test]
    fn discounts_round_to_the_minor_unit_and_never_reach_zero() {
        let eur = |minor| Money::from_minor(minor, Currency::EUR);
        assert_eq!(off(eur(2_999), 25), Some(eur(2_249)));
        assert_eq!(off(eur(1), 25), None);
        assert_eq!(off(Money::from_minor(1, Currency::JPY), 50), None);
    }
}
