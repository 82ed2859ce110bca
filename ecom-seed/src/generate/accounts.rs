//! Users, their address books and their customer groups.

use chrono::{DateTime, Duration, Utc};
use ecom_domain::account::AddressKind;
use ecom_domain::values::{Email, PersonName, PostalAddress};
use rand::RngExt;

use super::price_book::CustomerGroups;
use super::rng::{Stream, rng_for};
use super::values::{self, Country};
use super::{DEMO_PASSWORD_HASH, Out, Phase, postal_columns};
use crate::SeedError;
use crate::plan::Plan;
use crate::table::Table;

/// A user as generated from their id alone, so orders can rebuild it on demand.
pub(crate) struct Profile {
    pub name: PersonName,
    pub email: Email,
    pub created_at: DateTime<Utc>,
    /// One to three addresses: (kind, default of its kind, address).
    pub addresses: Vec<(AddressKind, bool, PostalAddress)>,
}

impl Profile {
    /// The default shipping address (always the first).
    pub fn shipping(&self) -> &PostalAddress {
        &self.addresses[0].2
    }

    /// The default billing address, or the shipping one when there is none.
    pub fn billing(&self) -> &PostalAddress {
        self.addresses
            .iter()
            .find(|(kind, default, _)| *kind == AddressKind::Billing && *default)
            .map_or(self.shipping(), |(_, _, a)| a)
    }
}

/// The user with id `id`.
pub(crate) fn profile(plan: &Plan, id: i64) -> Result<Profile, SeedError> {
    let mut rng = rng_for(plan.seed, Stream::User, id);
    let country = Country::pick(&mut rng);
    let (first, last) = values::person(&mut rng, country);
    let name = values::full_name(&first, &last)?;
    let email = values::email(&mut rng, &first, &last, id)?;
    // Registered up to two years before the period, so before any of their orders.
    let created_at =
        plan.since - Duration::days(1) - Duration::minutes(rng.random_range(0..1_051_200));
    let count = match rng.random_range(0..100u32) {
        0..60 => 1,
        60..90 => 2,
        _ => 3,
    };
    // The first address is the default shipping one; a second is the default billing
    // one; a third is another shipping address, not the default (one default per kind).
    let mut addresses = Vec::with_capacity(count);
    for n in 0..count {
        let here = if n > 0 && rng.random_range(0..100u32) < 10 {
            Country::pick(&mut rng)
        } else {
            country
        };
        let address = values::postal_address(&mut rng, here, &name)?;
        let (kind, default) = match n {
            0 => (AddressKind::Shipping, true),
            1 => (AddressKind::Billing, true),
            _ => (AddressKind::Shipping, false),
        };
        addresses.push((kind, default, address));
    }
    Ok(Profile {
        name,
        email,
        created_at,
        addresses,
    })
}

/// Writes users, their addresses and the customer group of those in one.
pub(crate) fn users(
    plan: &Plan,
    groups: &CustomerGroups,
    out: &mut Out<'_>,
) -> Result<(), SeedError> {
    out.start(Phase::Users);
    let mut address_id = plan.ids.addresses;
    for k in 0..plan.sizes.users {
        let id = plan.ids.users + k as i64 + 1;
        let p = profile(plan, id)?;
        let w = out.w(Table::Users);
        w.int(id);
        w.text(p.email.as_str());
        w.text(p.name.as_str());
        w.text(DEMO_PASSWORD_HASH);
        w.ts(p.created_at);
        w.ts(p.created_at);
        w.end();
        for (n, (kind, default, a)) in p.addresses.iter().enumerate() {
            address_id += 1;
            let w = out.w(Table::Addresses);
            w.int(address_id);
            w.int(id);
            w.text(kind.as_str());
            w.bool(*default);
            postal_columns(w, a);
            w.ts(p.created_at + Duration::minutes(n as i64));
            w.end();
        }
        if let Some(group) = groups.of(plan, id) {
            let w = out.w(Table::CustomerGroups);
            w.int(id);
            w.text(group.as_str());
            w.end();
        }
        if !out.done() {
            break;
        }
    }
    Ok(())
}
