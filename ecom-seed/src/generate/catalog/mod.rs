//! Categories (a tree) and products.

use chrono::{DateTime, Duration, Utc};
use ecom_domain::catalog::{Product, ProductStatus, check_price};
use ecom_domain::ids::{CategoryId, ProductId};
use ecom_domain::money::Money;
use ecom_domain::values::Description;
use rand::RngExt;
use rust_decimal::Decimal;

use super::rng::{Stream, rng_for};
use super::{Out, Phase, values};
use crate::SeedError;
use crate::plan::Plan;
use crate::table::Table;

/// What products need to know of a category.
pub(crate) struct CategoryInfo {
    pub id: i64,
    /// The name of its root (department), for SKU prefixes.
    pub department: String,
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
        let (parent, name, department) = if k < roots {
            let name = values::department_name(k)?;
            let department = name.as_str().to_owned();
            (None, name, department)
        } else {
            let parent = &infos[rng.random_range(0..infos.len())];
            let name = values::subcategory_name(&mut rng, &parent.department)?;
            (Some(parent.id), name, parent.department.clone())
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
        infos.push(CategoryInfo { id, department });
        if !out.done() {
            break;
        }
    }
    Ok(infos)
}

/// Prices spread like a general store's: mostly cheap, a long tail of expensive.
fn price_minor(rng: &mut super::rng::SeedRng) -> i64 {
    let major: i64 = match rng.random_range(0..100u32) {
        0..40 => rng.random_range(1..10),
        40..75 => rng.random_range(10..50),
        75..93 => rng.random_range(50..200),
        _ => rng.random_range(200..2_000),
    };
    let cents: i64 = match rng.random_range(0..4u32) {
        0 => 0,
        1 => 49,
        2 => 95,
        _ => 99,
    };
    major * 100 + cents
}

/// The product catalog in memory (without descriptions), with initial stock.
pub(crate) fn products(plan: &Plan, cats: &[CategoryInfo]) -> Result<Vec<Product>, SeedError> {
    let n = plan.sizes.products;
    let mut products = Vec::with_capacity(n as usize);
    // Average units one product sells, so shelves are stocked for the demand: an order
    // has about 2.3 lines of about 1.5 units.
    let demand = (plan.sizes.orders * 35).div_ceil(10 * n.max(1)) as u32;
    for k in 0..n {
        let id = plan.ids.products + k as i64 + 1;
        let mut rng = rng_for(plan.seed, Stream::Product, id);
        let cat = &cats[rng.random_range(0..cats.len())];
        let sku = values::sku(&cat.department, id)?;
        let name = values::product_name(&mut rng)?;
        let price = Money::round_half_even(Decimal::new(price_minor(&mut rng), 2), plan.currency);
        let price = check_price(price).map_err(|e| SeedError::invalid("price", e))?;
        let status = if rng.random_range(0..100u32) < 3 {
            ProductStatus::Archived
        } else {
            ProductStatus::Active
        };
        let stock = rng.random_range(demand..=demand.saturating_mul(3)) + rng.random_range(0..=25);
        let created_at: DateTime<Utc> =
            plan.since - Duration::days(30) - Duration::minutes(rng.random_range(0..525_600));
        products.push(Product {
            id: ProductId::new(id),
            sku,
            name,
            description: Description::default(),
            category_id: CategoryId::new(cat.id),
            price,
            status,
            stock_on_hand: stock,
            created_at,
            updated_at: created_at,
        });
    }
    Ok(products)
}

/// Writes the products, with their descriptions and final stock.
pub(crate) fn write_products(
    plan: &Plan,
    products: &[Product],
    out: &mut Out<'_>,
) -> Result<(), SeedError> {
    out.start(Phase::Products);
    for p in products {
        let mut rng = rng_for(plan.seed, Stream::ProductText, p.id.get());
        let description = values::description(&mut rng)?;
        let w = out.w(Table::Products);
        w.int(p.id.get());
        w.text(p.sku.as_str());
        w.text(p.name.as_str());
        w.text(description.as_str());
        w.int(p.category_id.get());
        w.money(p.price);
        w.text(p.price.currency().code());
        w.text(p.status.as_str());
        w.int(i64::from(p.stock_on_hand));
        w.ts(p.created_at);
        w.ts(p.updated_at);
        w.end();
        if !out.done() {
            break;
        }
    }
    Ok(())
}
