//! The carts that never became orders (a converted cart is written with its order).

use chrono::Duration;
use rand::RngExt;

use super::catalog::Catalog;
use super::rng::{Stream, rng_for, secs};
use super::{Out, Phase, values};
use crate::SeedError;
use crate::plan::Plan;
use crate::table::Table;

/// Writes the carts that never became orders: mostly abandoned, some still open (at
/// most one open cart per user or guest token).
pub(crate) fn open_and_abandoned_carts(
    plan: &Plan,
    catalog: &Catalog,
    out: &mut Out<'_>,
) -> Result<(), SeedError> {
    out.start(Phase::Carts);
    let buyable: Vec<usize> = (0..catalog.product_count())
        .filter(|p| catalog.is_product_buyable(*p))
        .collect();
    let span = (plan.until - plan.since).num_seconds();
    let mut open_users = 0u64;
    for k in 0..plan.sizes.carts {
        let cart_id = plan.ids.carts + (plan.sizes.orders + k) as i64 + 1;
        let mut rng = rng_for(plan.seed, Stream::Cart, cart_id);
        let mut open = rng.random_range(0..100u32) < 30;
        let by_user = plan.sizes.users > 0 && rng.random_range(0..100u32) < 70;
        let user = if !by_user {
            None
        } else if open && open_users < plan.sizes.users {
            // Users take turns so that no user has two open carts.
            open_users += 1;
            Some(plan.ids.users + open_users as i64)
        } else {
            open = false;
            Some(plan.ids.users + rng.random_range(0..plan.sizes.users) as i64 + 1)
        };
        let token = match user {
            Some(_) => None,
            None => Some(values::guest_token(&mut rng, cart_id)?),
        };
        let created = plan.since + Duration::seconds(rng.random_range(0..span));
        let updated = (created + secs(&mut rng, 0..2 * 86_400)).min(plan.until);
        let w = out.w(Table::Carts);
        w.int(cart_id);
        w.opt_int(user);
        w.text(plan.currency.code());
        w.text(if open { "open" } else { "abandoned" });
        w.ts(created);
        w.ts(updated);
        w.opt_bytea(
            token
                .map(|t| t.digest())
                .as_ref()
                .map(|d| &d.as_bytes()[..]),
        );
        w.text(&values::public_id(plan.seed, "carts", cart_id));
        w.end();
        let mut taken: Vec<usize> = Vec::with_capacity(4);
        if !buyable.is_empty() {
            for _ in 0..rng.random_range(1..=4u32) {
                let product = buyable[rng.random_range(0..buyable.len())];
                let v = catalog.popular_variant(product, &mut rng);
                if taken.contains(&v) {
                    continue;
                }
                taken.push(v);
            }
        }
        taken.sort_unstable();
        for v in taken {
            let w = out.w(Table::CartLines);
            w.int(cart_id);
            w.int(catalog.variant_id(v));
            w.int(rng.random_range(1..=3));
            w.ts(created);
            w.end();
        }
        if !out.done() {
            break;
        }
    }
    Ok(())
}
