//! Attribute definitions, categories (a tree), products with their variants, their
//! attribute values and images, and collections.
//!
//! What a department sells ([`goods`]) decides its products' option types: apparel
//! comes in colours and sizes, a book in one form with an ISBN; and their
//! [`attributes`]: a shirt's material and fit, a book's pages. The catalog is drawn
//! once into a compact [`Catalog`] (a few dozen bytes a variant: no strings but the
//! product's name and SKU stem), which orders draw their baskets from and price
//! against; each product's rows are written from it, through the domain's
//! [`NewProduct::checked`], [`check_attributes`](ecom_domain::catalog::check_attributes)
//! and [`check_images`](ecom_domain::catalog::check_images), once orders have taken
//! their stock. Attribute values and images are drawn only then, from a stream of
//! their own, so the catalog kept in memory does not grow with them.

mod attributes;
mod axes;
mod collections;
mod goods;
mod media;

use std::cmp::Reverse;
use std::ops::Range;

use chrono::{DateTime, Duration, Utc};
use ecom_domain::catalog::{
    AttributeDefinition, NewProduct, NewVariant, OptionChoice, OptionSelection, OptionType,
    ProductOptions, ProductStatus, Sellable, Variant, check_price,
};
use ecom_domain::ids::{CategoryId, ProductId, VariantId};
use ecom_domain::money::Money;
use ecom_domain::pricing::TaxClass;
use ecom_domain::values::{Description, OptionName, OptionValue, ProductName, Sku};
use rand::RngExt;
use rust_decimal::Decimal;

use self::axes::Pick;
use self::goods::{Goods, Offer};
use super::price_book::tax_class_of_department;
use super::rng::{SeedRng, Stream, rng_for};
use super::{Out, Phase, values};
use crate::SeedError;
use crate::jsonb;
use crate::plan::Plan;
use crate::table::Table;

pub(crate) use self::attributes::COUNT as ATTRIBUTE_COUNT;
pub(crate) use self::collections::write_collections;

/// Writes the attribute definitions the database lacks (all of them unless
/// appending); returns every definition of the vocabulary, which the values are
/// checked against.
pub(crate) fn attribute_definitions(
    plan: &Plan,
    out: &mut Out<'_>,
) -> Result<Vec<AttributeDefinition>, SeedError> {
    out.start(Phase::Attributes);
    let definitions = attributes::definitions()?;
    let created = plan.since - Duration::days(400);
    let mut id = plan.ids.attribute_definitions;
    for (k, definition) in definitions.iter().enumerate() {
        let name = definition.name.as_str();
        if !plan
            .defined_attributes
            .iter()
            .any(|d| *d == name.to_lowercase())
        {
            id += 1;
            let w = out.w(Table::AttributeDefinitions);
            w.int(id);
            w.text(name);
            w.text(&jsonb::attribute_kind(&definition.kind)?);
            w.ts(created + Duration::minutes(k as i64));
            w.end();
        }
        if !out.done() {
            break;
        }
    }
    Ok(definitions)
}

/// What products need to know of a category.
pub(crate) struct CategoryInfo {
    pub id: i64,
    /// The name of its root (department), for SKU prefixes.
    pub department: String,
    /// What its department sells.
    goods: Goods,
    /// What its department's products pay tax as.
    tax_class: TaxClass,
}

/// Writes the category tree; returns what products need of it.
pub(crate) fn categories(plan: &Plan, out: &mut Out<'_>) -> Result<Vec<CategoryInfo>, SeedError> {
    out.start(Phase::Categories);
    let n = plan.sizes.categories;
    // About one in five is a department (a root); the rest hang below earlier ones.
    let roots = n.div_ceil(5).clamp(n.min(1), n);
    let mut infos: Vec<CategoryInfo> = Vec::with_capacity(n as usize);
    let created = plan.since - Duration::days(400);
    for k in 0..n {
        let id = plan.ids.categories + k as i64 + 1;
        let mut rng = rng_for(plan.seed, Stream::Category, id);
        let (parent, name, department, goods, tax_class) = if k < roots {
            let name = values::department_name(k)?;
            let department = name.as_str().to_owned();
            let base = values::department_base(k);
            let goods = Goods::of_department(base);
            (None, name, department, goods, tax_class_of_department(base))
        } else {
            let parent = &infos[rng.random_range(0..infos.len())];
            let name = values::subcategory_name(&mut rng, &parent.department)?;
            (
                Some(parent.id),
                name,
                parent.department.clone(),
                parent.goods,
                parent.tax_class,
            )
        };
        let slug = values::slug(name.as_str(), id)?;
        let at = created + Duration::minutes(k as i64);
        let w = out.w(Table::Categories);
        w.int(id);
        w.opt_int(parent);
        w.text(slug.as_str());
        w.text(name.as_str());
        w.ts(at);
        w.end();
        infos.push(CategoryInfo {
            id,
            department,
            goods,
            tax_class,
        });
        if !out.done() {
            break;
        }
    }
    Ok(infos)
}

/// A product as the generator keeps it: what a sale snapshots, and where its
/// variants are.
struct Listed {
    id: i64,
    category_id: i64,
    name: ProductName,
    status: ProductStatus,
    created_at: DateTime<Utc>,
    goods: Goods,
    /// Its department's.
    tax_class: TaxClass,
    /// Its variants' SKUs without their option codes: `FAS-000042`.
    stem: Sku,
    /// Its option types, each with the values it offers; none for one form.
    offers: Vec<Offer>,
    /// Its variants' positions in [`Catalog::variants`].
    variants: Range<usize>,
}

impl Listed {
    /// The value the variant with `picks` chose of each option type, with the type's
    /// name.
    fn picks<'a>(
        &'a self,
        picks: &'a [u8; 2],
    ) -> impl Iterator<Item = (&'static str, &'static Pick)> + 'a {
        self.offers
            .iter()
            .zip(picks)
            .map(|(o, at)| (o.axis.name, &o.axis.picks[usize::from(*at)]))
    }

    /// How often the variant with `picks` is bought, relative to its siblings.
    fn popularity(&self, picks: &[u8; 2]) -> u64 {
        self.picks(picks)
            .map(|(_, p)| u64::from(p.popularity))
            .product()
    }
}

/// A variant as the generator keeps it.
struct Stocked {
    /// Its product's position in [`Catalog::products`].
    product: u32,
    /// Per option type of its product, the position of its value in the type's
    /// [`Axis::picks`](axes::Axis); unused past the product's option types.
    picks: [u8; 2],
    price: Money,
    /// Units before any order.
    stock: u32,
    weight_grams: Option<u32>,
    /// The popularity of this variant and of its product's before it: drawing a
    /// variant as customers pick them is a binary search.
    popularity_through: u64,
}

/// The whole catalog, compact: orders draw from it and price against it, and each
/// product's rows are written from it.
pub(crate) struct Catalog {
    products: Vec<Listed>,
    variants: Vec<Stocked>,
    /// The largest variant id before this catalog's.
    variant_ids_after: i64,
}

impl Catalog {
    /// Draws every product with its variants and initial stock, each checked by the
    /// domain's rules for a new product.
    pub(crate) fn draw(plan: &Plan, cats: &[CategoryInfo]) -> Result<Catalog, SeedError> {
        let n = plan.sizes.products;
        let mut catalog = Catalog {
            products: Vec::with_capacity(n as usize),
            variants: Vec::with_capacity(n as usize * 4),
            variant_ids_after: plan.ids.variants,
        };
        // Average units of one product sold, so shelves are stocked for the demand:
        // an order has about 2.3 lines of about 1.5 units.
        let demand = (plan.sizes.orders * 35).div_ceil(10 * n.max(1));
        for k in 0..n {
            let id = plan.ids.products + k as i64 + 1;
            let mut rng = rng_for(plan.seed, Stream::Product, id);
            catalog.draw_product(plan, cats, id, demand, &mut rng)?;
            catalog
                .new_product(catalog.products.len() - 1)?
                .checked()
                .map_err(|e| SeedError::invalid("product", e))?;
        }
        Ok(catalog)
    }

    /// Draws product `id` and its variants; the order of the draws is part of the
    /// data.
    fn draw_product(
        &mut self,
        plan: &Plan,
        cats: &[CategoryInfo],
        id: i64,
        demand: u64,
        rng: &mut SeedRng,
    ) -> Result<(), SeedError> {
        let cat = &cats[rng.random_range(0..cats.len())];
        let goods = cat.goods;
        let name = values::product_name(&goods.name(rng))?;
        let base = goods.price_minor(rng);
        let status = match rng.random_range(0..100u32) {
            0..3 => ProductStatus::Archived,
            3 => ProductStatus::Draft,
            _ => ProductStatus::Active,
        };
        let created_at: DateTime<Utc> =
            plan.since - Duration::days(30) - Duration::minutes(rng.random_range(0..525_600));
        let offers = goods.offers(rng);
        let weight = goods.weight_grams(rng);
        let product = u32::try_from(self.products.len())
            .map_err(|_| SeedError::Plan("too many products to keep in memory".into()))?;
        let listed = Listed {
            id,
            category_id: cat.id,
            name,
            status,
            created_at,
            goods,
            tax_class: cat.tax_class,
            stem: values::sku(&cat.department, id)?,
            variants: self.variants.len()..self.variants.len(),
            offers,
        };
        let combinations = combinations(goods, &listed.offers, rng);
        let total: u64 = combinations.iter().map(|c| listed.popularity(c)).sum();
        let mut popularity_through = 0;
        for picks in &combinations {
            popularity_through += listed.popularity(picks);
            let premium: i64 = listed.picks(picks).map(|(_, p)| p.premium).sum();
            // Surcharges are whole units of money: 19.99 + 10 % is 20.99.
            let minor = base + base * premium / 100 / 100 * 100;
            let price = Money::round_half_even(Decimal::new(minor, 2), plan.currency);
            let price = check_price(price).map_err(|e| SeedError::invalid("price", e))?;
            let weight_grams = weight.map(|grams| {
                listed.picks(picks).fold(grams, |g, (_, p)| {
                    u32::try_from(u64::from(g) * u64::from(p.heft) / 100).unwrap_or(u32::MAX)
                })
            });
            // The variant's share of the product's demand, as customers pick it.
            let share = u32::try_from((demand * listed.popularity(picks)).div_ceil(total.max(1)))
                .unwrap_or(u32::MAX / 4);
            let stock = rng.random_range(share..=share.saturating_mul(3)) + rng.random_range(0..=8);
            self.variants.push(Stocked {
                product,
                picks: *picks,
                price,
                stock,
                weight_grams,
                popularity_through,
            });
        }
        self.products.push(Listed {
            variants: listed.variants.start..self.variants.len(),
            ..listed
        });
        Ok(())
    }

    /// How many products there are.
    pub(crate) fn product_count(&self) -> usize {
        self.products.len()
    }

    /// How many variants there are.
    pub(crate) fn variant_count(&self) -> usize {
        self.variants.len()
    }

    /// The id of the variant at `v`.
    pub(crate) fn variant_id(&self, v: usize) -> i64 {
        self.variant_ids_after + v as i64 + 1
    }

    /// The id of the product at `p`.
    pub(crate) fn product_id(&self, p: usize) -> i64 {
        self.products[p].id
    }

    /// The positions of the variants of the product at `p`.
    pub(crate) fn variants_of(&self, p: usize) -> Range<usize> {
        self.products[p].variants.clone()
    }

    /// The price of the variant at `v`: its own, in the shop's currency.
    pub(crate) fn variant_price(&self, v: usize) -> Money {
        self.variants[v].price
    }

    /// Every variant's stock before any order, in order.
    pub(crate) fn initial_stock(&self) -> Vec<u32> {
        self.variants.iter().map(|v| v.stock).collect()
    }

    /// True when the product at `p` is on sale.
    pub(crate) fn is_product_buyable(&self, p: usize) -> bool {
        self.products[p].status == ProductStatus::Active
    }

    /// True when the variant at `v` is on sale (its product is).
    pub(crate) fn is_buyable(&self, v: usize) -> bool {
        self.is_product_buyable(self.variants[v].product as usize)
    }

    /// One of the variants of the product at `p`, drawn as customers pick them: M
    /// more often than XXL, black more often than yellow.
    pub(crate) fn popular_variant(&self, p: usize, rng: &mut SeedRng) -> usize {
        let range = self.products[p].variants.clone();
        let variants = &self.variants[range.clone()];
        let total = variants.last().map_or(1, |v| v.popularity_through);
        let roll = rng.random_range(0..total);
        let at = variants.partition_point(|v| v.popularity_through <= roll);
        range.start + at.min(variants.len() - 1)
    }

    /// The variant at `v` with what a sale needs of its product, and its stock before
    /// any order (pricing does not read it).
    pub(crate) fn sellable(&self, v: usize) -> Result<Sellable, SeedError> {
        let stocked = &self.variants[v];
        let listed = &self.products[stocked.product as usize];
        let new = new_variant(listed, stocked)?;
        Ok(Sellable {
            variant: Variant {
                id: VariantId::new(self.variant_id(v)),
                product_id: ProductId::new(listed.id),
                sku: new.sku,
                selection: new.selection,
                price: new.price,
                stock_on_hand: new.stock_on_hand,
                weight_grams: new.weight_grams,
                gtin: new.gtin,
                // A sale reads none of them; the written rows have them.
                attributes: Vec::new(),
                created_at: listed.created_at,
                updated_at: listed.created_at,
            },
            product_name: listed.name.clone(),
            product_status: listed.status,
        })
    }

    /// The product at `p` with its variants as the domain creates them, without a
    /// description (drawn only when it is written). [`Catalog::draw`] has checked
    /// each by the domain's rules (options, selections, distinct SKUs and barcodes,
    /// one currency); nothing changes it after but its stock, which only goes down.
    fn new_product(&self, p: usize) -> Result<NewProduct, SeedError> {
        let listed = &self.products[p];
        let options = listed
            .offers
            .iter()
            .map(|offer| {
                let values = offer
                    .picks()
                    .map(|pick| option_value(pick.value))
                    .collect::<Result<Vec<_>, _>>()?;
                OptionType::new(option_name(offer.axis.name)?, values)
                    .map_err(|e| SeedError::invalid("option type", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let variants = self.variants[listed.variants.clone()]
            .iter()
            .map(|v| new_variant(listed, v))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NewProduct {
            slug: values::slug(listed.name.as_str(), listed.id)?,
            name: listed.name.clone(),
            description: Description::default(),
            category_id: CategoryId::new(listed.category_id),
            status: listed.status,
            options: ProductOptions::new(options)
                .map_err(|e| SeedError::invalid("product options", e))?,
            variants,
        })
    }
}

/// A variant of `listed` as the domain creates it: its SKU is the product's stem and
/// its values' codes (`FAS-000042-NVY-XL`); a product of one form has a barcode if
/// its goods do.
fn new_variant(listed: &Listed, v: &Stocked) -> Result<NewVariant, SeedError> {
    let choices = listed
        .picks(&v.picks)
        .map(|(option, pick)| {
            Ok(OptionChoice {
                option: option_name(option)?,
                value: option_value(pick.value)?,
            })
        })
        .collect::<Result<Vec<_>, SeedError>>()?;
    let selection =
        OptionSelection::new(choices).map_err(|e| SeedError::invalid("option selection", e))?;
    let sku = values::variant_sku(&listed.stem, listed.picks(&v.picks).map(|(_, p)| p.code))?;
    let gtin = match listed.goods.barcode_prefix() {
        Some(prefix) if listed.offers.is_empty() => values::gtin(prefix, listed.id)?,
        _ => None,
    };
    Ok(NewVariant {
        sku,
        selection,
        price: v.price,
        stock_on_hand: v.stock,
        weight_grams: v.weight_grams,
        gtin,
    })
}

fn option_name(text: &str) -> Result<OptionName, SeedError> {
    OptionName::parse(text).map_err(|e| SeedError::invalid("option name", e))
}

fn option_value(text: &str) -> Result<OptionValue, SeedError> {
    OptionValue::parse(text).map_err(|e| SeedError::invalid("option value", e))
}

/// The value positions of each variant of a product offering `offers`: every
/// combination, the last option type turning fastest, as
/// [`ProductOptions::combinations`] orders them; for goods with gaps about one in
/// ten left out, never the last type's most popular value, so that every value of
/// the first type keeps a variant. One empty combination for a product of one form.
fn combinations(goods: Goods, offers: &[Offer], rng: &mut SeedRng) -> Vec<[u8; 2]> {
    const UNUSED: u8 = u8::MAX;
    match offers {
        [] => vec![[UNUSED; 2]],
        [only] => only.positions().map(|a| [a as u8, UNUSED]).collect(),
        [outer, inner, ..] => {
            // The first of the most popular values.
            let core = inner
                .positions()
                .min_by_key(|i| Reverse(inner.axis.picks[*i].popularity))
                .unwrap_or(0);
            let mut all = Vec::new();
            for a in outer.positions() {
                for b in inner.positions() {
                    if goods.has_gaps() && b != core && rng.random_range(0..10u32) == 0 {
                        continue;
                    }
                    all.push([a as u8, b as u8]);
                }
            }
            all
        }
    }
}

/// Writes the products, each followed by its variants, with descriptions, attribute
/// values (checked against `definitions`), images and `left`, each variant's stock
/// once orders have taken theirs.
pub(crate) fn write_products(
    plan: &Plan,
    catalog: &Catalog,
    definitions: &[AttributeDefinition],
    left: &[u32],
    out: &mut Out<'_>,
) -> Result<(), SeedError> {
    out.start(Phase::Products);
    for (p, listed) in catalog.products.iter().enumerate() {
        let product = catalog.new_product(p)?;
        let mut rng = rng_for(plan.seed, Stream::ProductText, listed.id);
        let description = values::description(&mut rng)?;
        let mut rng = rng_for(plan.seed, Stream::ProductMedia, listed.id);
        let attributes = attributes::of_product(listed, definitions, &mut rng)?;
        let images = media::of_product(listed, &product.slug, &product.options, &mut rng)?;
        let w = out.w(Table::Products);
        w.int(listed.id);
        w.text(product.name.as_str());
        w.text(description.as_str());
        w.int(product.category_id.get());
        w.text(product.status.as_str());
        w.ts(listed.created_at);
        w.ts(listed.created_at);
        w.text(product.slug.as_str());
        w.text(&jsonb::product_options(&product.options));
        w.text(&jsonb::attributes(&attributes)?);
        w.text(&jsonb::images(&images)?);
        w.text(listed.tax_class.as_str());
        w.end();
        for (v, variant) in listed.variants.clone().zip(&product.variants) {
            let attributes =
                attributes::of_variant(listed, &catalog.variants[v].picks, definitions)?;
            let w = out.w(Table::ProductVariants);
            w.int(catalog.variant_id(v));
            w.int(listed.id);
            w.text(variant.sku.as_str());
            w.text(&jsonb::selection(&variant.selection));
            w.money(variant.price);
            w.text(variant.price.currency().code());
            w.int(i64::from(left[v]));
            w.opt_int(variant.weight_grams.map(i64::from));
            w.opt_text(variant.gtin.as_ref().map(|g| g.as_str()));
            w.ts(listed.created_at);
            w.ts(listed.created_at);
            w.text(&jsonb::attributes(&attributes)?);
            w.end();
        }
        if !out.done() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::Scale;

    fn small_catalog() -> Catalog {
        let plan = Plan::new(Scale::Small);
        let mut sink = |_| true;
        let mut out = Out::new(&mut sink);
        let cats = categories(&plan, &mut out).unwrap();
        Catalog::draw(&plan, &cats).unwrap()
    }

    fn option_names(product: &NewProduct) -> Vec<&str> {
        product
            .options
            .types()
            .iter()
            .map(|t| t.name().as_str())
            .collect()
    }

    #[test]
    fn the_small_preset_sells_apparel_in_colours_and_sizes_and_books_with_isbns() {
        let catalog = small_catalog();
        let products: Vec<NewProduct> = (0..catalog.product_count())
            .map(|p| catalog.new_product(p).unwrap())
            .collect();
        let apparel: Vec<&NewProduct> = products
            .iter()
            .filter(|p| option_names(p) == ["Colour", "Size"])
            .collect();
        assert!(apparel.len() > 20, "{}", apparel.len());
        assert!(apparel.iter().all(|p| p.variants.len() >= 4));
        let books: Vec<&NewProduct> = products
            .iter()
            .filter(|p| p.variants[0].sku.as_str().starts_with("BOO-"))
            .collect();
        assert!(books.len() > 20, "{}", books.len());
        for book in books {
            assert!(book.options.is_empty());
            assert_eq!(book.variants.len(), 1);
            assert!(book.variants[0].selection.is_empty());
            let isbn = book.variants[0].gtin.as_ref().expect("an ISBN");
            assert!(isbn.as_str().starts_with("0978"), "{isbn}");
        }
        // Distinct across the whole catalog, not only within a product.
        let mut skus = HashSet::new();
        let mut gtins = HashSet::new();
        for variant in products.iter().flat_map(|p| &p.variants) {
            assert!(skus.insert(variant.sku.clone()), "{}", variant.sku);
            if let Some(gtin) = &variant.gtin {
                assert!(gtins.insert(gtin.clone()), "{gtin}");
            }
        }
        assert_eq!(skus.len(), catalog.variant_count());
    }

    #[test]
    fn books_pay_the_reduced_rate_and_the_small_preset_s_other_goods_the_standard_one() {
        let catalog = small_catalog();
        let mut books = 0;
        for listed in &catalog.products {
            let expected = if listed.stem.as_str().starts_with("BOO-") {
                books += 1;
                TaxClass::Reduced
            } else {
                TaxClass::Standard
            };
            assert_eq!(listed.tax_class, expected, "{}", listed.name);
        }
        assert!(books > 20, "{books}");
    }

    #[test]
    fn every_offered_value_of_the_first_option_type_has_a_variant() {
        let catalog = small_catalog();
        for p in 0..catalog.product_count() {
            let product = catalog.new_product(p).unwrap();
            let Some(first) = product.options.types().first() else {
                continue;
            };
            for value in first.values() {
                assert!(
                    product
                        .variants
                        .iter()
                        .any(|v| v.selection.choices()[0].value == *value),
                    "{} has no {value} variant",
                    product.name
                );
            }
        }
    }

    #[test]
    fn customers_pick_m_more_often_than_xxl() {
        let catalog = small_catalog();
        let p = (0..catalog.product_count())
            .find(|p| {
                let listed = &catalog.products[*p];
                listed.offers.len() == 2 && listed.offers[1].picks().any(|s| s.value == "XXL")
            })
            .expect("a product sold up to XXL");
        let mut rng = rng_for(1, Stream::Basket, 1);
        let mut picked = std::collections::HashMap::new();
        for _ in 0..5_000 {
            let v = catalog.popular_variant(p, &mut rng);
            assert!(catalog.products[p].variants.contains(&v));
            let size = catalog.sellable(v).unwrap().variant.selection.choices()[1]
                .value
                .as_str()
                .to_owned();
            *picked.entry(size).or_insert(0) += 1;
        }
        assert!(picked["M"] > 2 * picked["XXL"], "{picked:?}");
    }
}
