//! Collections: curated, ordered lists of products beside the category tree ("Summer
//! sale", "New arrivals", "Reading list"). A collection is about goods of some kinds
//! (a reading list holds books) or about the newest products, or a hand-picked
//! mix; it lists products on sale, each once, through the domain's
//! [`CollectionProducts`].

use std::cmp::Reverse;
use std::collections::HashSet;

use chrono::Duration;
use ecom_domain::catalog::CollectionProducts;
use ecom_domain::ids::ProductId;
use ecom_domain::values::CollectionName;
use rand::RngExt;

use super::Catalog;
use super::goods::Goods;
use crate::SeedError;
use crate::generate::rng::{Stream, rng_for};
use crate::generate::{Out, Phase, values};
use crate::plan::Plan;
use crate::table::Table;

/// What a collection lists.
#[derive(Clone, Copy)]
enum Theme {
    /// The most recently created products, newest first.
    Newest,
    /// Products of these kinds of goods, in the shop's chosen order.
    Of(&'static [Goods]),
    /// Any products, in the shop's chosen order.
    Mix,
}

use Goods::{
    Apparel, BabyWear, Books, Cosmetics, Electronics, Footwear, Furniture, General, Jewelry,
};

/// The collections a shop runs, in the order they are created; past the end of the
/// list they come round again, numbered ("Summer sale 2").
const COLLECTIONS: &[(&str, Theme)] = &[
    ("New arrivals", Theme::Newest),
    ("Summer sale", Theme::Mix),
    ("Staff picks", Theme::Mix),
    ("Reading list", Theme::Of(&[Books])),
    ("Tech essentials", Theme::Of(&[Electronics])),
    ("Wardrobe basics", Theme::Of(&[Apparel])),
    ("Gift ideas", Theme::Mix),
    ("Back to school", Theme::Of(&[Books, Electronics, Apparel])),
    ("Winter warmers", Theme::Of(&[Apparel, BabyWear, Footwear])),
    ("Home office", Theme::Of(&[Furniture, Electronics])),
    ("Step out in style", Theme::Of(&[Footwear])),
    ("Little ones", Theme::Of(&[BabyWear])),
    ("Sparkle and shine", Theme::Of(&[Jewelry])),
    ("Self-care Sunday", Theme::Of(&[Cosmetics])),
    ("Cosy home", Theme::Of(&[Furniture, General])),
    ("Bestsellers", Theme::Mix),
    ("Just landed", Theme::Newest),
    ("Weekend getaway", Theme::Mix),
    ("Last chance", Theme::Mix),
    (
        "Outdoor adventures",
        Theme::Of(&[General, Footwear, Apparel]),
    ),
    ("Eco-friendly picks", Theme::Mix),
    ("Black Friday", Theme::Mix),
    ("Spring refresh", Theme::Of(&[Apparel, General])),
    ("Festive gifts", Theme::Mix),
    ("Trending now", Theme::Mix),
    ("Editors' choice", Theme::Mix),
    ("Cyber Monday", Theme::Of(&[Electronics])),
    ("Desk setup", Theme::Of(&[Electronics, Furniture])),
    ("Beach ready", Theme::Of(&[Apparel, Footwear, Cosmetics])),
    ("Gym and run", Theme::Of(&[Apparel, Footwear])),
    ("Book club", Theme::Of(&[Books])),
    ("Mother's Day", Theme::Of(&[Jewelry, Cosmetics])),
    ("Father's Day", Theme::Of(&[Electronics, General])),
    ("Kitchen and dining", Theme::Of(&[General, Furniture])),
    ("Wedding season", Theme::Of(&[Jewelry, Apparel])),
    ("Travel light", Theme::Mix),
    ("Clearance", Theme::Mix),
    ("Limited edition", Theme::Mix),
    ("Online exclusives", Theme::Mix),
    ("Customer favourites", Theme::Mix),
];

/// The most products a collection lists: a few hundred at most, fewer in a small
/// catalog.
fn most_products(products: usize) -> usize {
    (products / 8).clamp(4, 300)
}

/// Writes the collections, each followed by its products in order.
pub(crate) fn write_collections(
    plan: &Plan,
    catalog: &Catalog,
    out: &mut Out<'_>,
) -> Result<(), SeedError> {
    out.start(Phase::Collections);
    let on_sale: Vec<usize> = (0..catalog.product_count())
        .filter(|p| catalog.is_product_buyable(*p))
        .collect();
    let most = most_products(on_sale.len());
    for k in 0..plan.sizes.collections {
        let id = plan.ids.collections + k as i64 + 1;
        let mut rng = rng_for(plan.seed, Stream::Collection, id);
        let (base, theme) = COLLECTIONS[(k % COLLECTIONS.len() as u64) as usize];
        let round = k / COLLECTIONS.len() as u64;
        let name = if round == 0 {
            base.to_owned()
        } else {
            format!("{base} {}", round + 1)
        };
        let name =
            CollectionName::parse(&name).map_err(|e| SeedError::invalid("collection name", e))?;
        let slug = values::slug(name.as_str(), id)?;
        let mut candidates: Vec<usize> = match theme {
            Theme::Of(goods) => on_sale
                .iter()
                .copied()
                .filter(|p| goods.contains(&catalog.products[*p].goods))
                .collect(),
            Theme::Newest | Theme::Mix => Vec::new(),
        };
        // A department the catalog lacks: the collection is a mix.
        if candidates.is_empty() {
            candidates.clone_from(&on_sale);
        }
        let len = rng
            .random_range(most.div_ceil(5)..=most)
            .min(candidates.len());
        let chosen: Vec<usize> = match theme {
            Theme::Newest => {
                candidates.sort_by_key(|p| Reverse((catalog.products[*p].created_at, *p)));
                candidates.truncate(len);
                candidates
            }
            Theme::Of(_) | Theme::Mix => sample(&candidates, len, &mut rng),
        };
        let products = CollectionProducts::new(
            chosen
                .iter()
                .map(|p| ProductId::new(catalog.products[*p].id))
                .collect(),
        )
        .map_err(|e| SeedError::invalid("collection products", e))?;
        let created = plan.since - Duration::days(rng.random_range(1..=60));
        let w = out.w(Table::Collections);
        w.int(id);
        w.text(slug.as_str());
        w.text(name.as_str());
        w.ts(created);
        w.ts(created);
        w.end();
        let w = out.w(Table::CollectionProducts);
        for (position, product) in products.as_slice().iter().enumerate() {
            w.int(id);
            w.int(position as i64);
            w.int(product.get());
            w.end();
        }
        if !out.done() {
            break;
        }
    }
    Ok(())
}

/// `len` distinct entries of `from` in random order.
fn sample(from: &[usize], len: usize, rng: &mut crate::generate::rng::SeedRng) -> Vec<usize> {
    if len * 2 >= from.len() {
        // A partial Fisher-Yates shuffle of a copy: the first `len` are a sample.
        let mut all = from.to_vec();
        for i in 0..len {
            let j = rng.random_range(i..all.len());
            all.swap(i, j);
        }
        all.truncate(len);
        return all;
    }
    // Few of many: draw until `len` distinct ones, without copying the catalog.
    let mut seen = HashSet::with_capacity(len);
    let mut chosen = Vec::with_capacity(len);
    while chosen.len() < len {
        let p = from[rng.random_range(0..from.len())];
        if seen.insert(p) {
            chosen.push(p);
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_collection_name_is_valid_and_distinct() {
        let mut slugs = HashSet::new();
        for (k, (name, _)) in COLLECTIONS.iter().enumerate() {
            CollectionName::parse(name).unwrap();
            assert!(slugs.insert(values::slug(name, k as i64 + 1).unwrap()));
        }
    }

    #[test]
    fn a_sample_is_distinct_and_as_long_as_asked() {
        let from: Vec<usize> = (100..1_100).collect();
        let mut rng = rng_for(1, Stream::Collection, 1);
        for len in [0, 1, 10, 499, 500, 1_000] {
            let chosen = sample(&from, len, &mut rng);
            assert_eq!(chosen.len(), len);
            assert_eq!(chosen.iter().collect::<HashSet<_>>().len(), len);
            assert!(chosen.iter().all(|p| from.contains(p)));
        }
    }
}
