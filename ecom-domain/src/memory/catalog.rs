//! Categories and products in the reference store.

use chrono::Utc;

use crate::catalog::{
    Attribute, AttributeDefinition, Browse, BrowseRequest, Category, Collection,
    CollectionProducts, Hit, NewCategory, NewCollection, NewProduct, NewVariant, Page, PageRequest,
    Product, ProductImage, ProductStatus, ProductUpdate, SearchCursor, SearchLanguage,
    SearchRequest, Sellable, Variant, check_price, check_stock,
};
use crate::error::{DomainError, Taken};
use crate::ids::{CategoryId, CollectionId, ProductId, VariantId};
use crate::money::Money;
use crate::repo::{CatalogReader, CatalogRepository};
use crate::values::{Sku, Slug};

use super::MemoryStore;

impl CatalogReader for MemoryStore {
    type Error = DomainError;

    fn category(&self, id: CategoryId) -> Result<Category, DomainError> {
        self.read(|s| s.category(id).cloned())
    }

    fn category_children(&self, parent: Option<CategoryId>) -> Result<Vec<Category>, DomainError> {
        self.read(|s| {
            if let Some(parent) = parent {
                s.category(parent)?;
            }
            let mut children: Vec<Category> = s
                .categories
                .values()
                .filter(|c| c.parent_id == parent)
                .cloned()
                .collect();
            children.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
            Ok(children)
        })
    }

    fn category_path(&self, id: CategoryId) -> Result<Vec<Category>, DomainError> {
        self.read(|s| {
            let mut path = vec![s.category(id)?.clone()];
            while let Some(parent) = path.last().and_then(|c| c.parent_id) {
                path.push(s.category(parent)?.clone());
            }
            path.reverse();
            Ok(path)
        })
    }

    fn product(&self, id: ProductId) -> Result<Product, DomainError> {
        self.read(|s| s.product(id).cloned())
    }

    fn product_by_slug(&self, slug: &Slug) -> Result<Product, DomainError> {
        self.read(|s| {
            s.products
                .values()
                .find(|p| p.slug == *slug)
                .cloned()
                .ok_or_else(|| DomainError::not_found("product", slug.as_str()))
        })
    }

    fn variant(&self, id: VariantId) -> Result<Sellable, DomainError> {
        self.read(|s| s.sellable(id))
    }

    fn variant_by_sku(&self, sku: &Sku) -> Result<Sellable, DomainError> {
        self.read(|s| {
            s.products
                .values()
                .find_map(|p| {
                    let v = p.variants.iter().find(|v| v.sku == *sku)?;
                    Some(Sellable::of(p, v.clone()))
                })
                .ok_or_else(|| DomainError::not_found("variant", sku.as_str()))
        })
    }

    fn list_products(
        &self,
        category: CategoryId,
        page: PageRequest<ProductId>,
    ) -> Result<Page<Product, ProductId>, DomainError> {
        self.read(|s| {
            s.category(category)?;
            let tree = s.descendants_and_self(category);
            let limit = page.clamped_limit() as usize;
            let items: Vec<Product> = s
                .products
                .values()
                .filter(|p| p.is_buyable() && tree.contains(&p.category_id))
                .filter(|p| page.after.is_none_or(|after| p.id > after))
                .take(limit + 1)
                .cloned()
                .collect();
            Ok(Page::from_overfetch(items, limit, |p| p.id))
        })
    }

    fn search_products(&self, query: &str, limit: u32) -> Result<Vec<Product>, DomainError> {
        self.read(|s| {
            let needle = query.trim().to_lowercase();
            let mut hits: Vec<(Similarity, &Product)> = s
                .products
                .values()
                .filter(|p| p.is_buyable())
                .filter_map(|p| {
                    let name = p.name.as_str().to_lowercase();
                    let score = Similarity::of(&needle, &name);
                    let contains = !needle.is_empty() && name.contains(&needle);
                    (score.at_least_threshold() || contains).then_some((score, p))
                })
                .collect();
            hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
            Ok(hits
                .into_iter()
                .take(limit.clamp(1, 500) as usize)
                .map(|(_, p)| p.clone())
                .collect())
        })
    }

    fn browse(&self, request: BrowseRequest) -> Result<Browse, DomainError> {
        self.read(|s| s.browse(request))
    }

    fn search(&self, request: SearchRequest) -> Result<Page<Hit, SearchCursor>, DomainError> {
        self.read(|s| s.search(&request))
    }

    fn attributes(&self) -> Result<Vec<AttributeDefinition>, DomainError> {
        self.read(|s| Ok(s.attributes.clone()))
    }

    fn collection(&self, slug: &Slug) -> Result<Collection, DomainError> {
        self.read(|s| s.collection_by_slug(slug))
    }

    fn collection_products(
        &self,
        id: CollectionId,
        page: PageRequest<u32>,
    ) -> Result<Page<Product, u32>, DomainError> {
        self.read(|s| s.collection_products(id, page))
    }
}

impl CatalogRepository for MemoryStore {
    fn create_category(&self, new: NewCategory) -> Result<Category, DomainError> {
        self.atomically(|s| {
            if let Some(parent) = new.parent_id {
                s.category(parent)?;
            }
            if s.categories.values().any(|c| c.slug == new.slug) {
                return Err(DomainError::AlreadyTaken {
                    what: Taken::Slug,
                    value: new.slug.as_str().to_owned(),
                });
            }
            let category = Category {
                id: s.next(),
                parent_id: new.parent_id,
                slug: new.slug,
                name: new.name,
            };
            s.categories.insert(category.id, category.clone());
            Ok(category)
        })
    }

    fn move_category(
        &self,
        id: CategoryId,
        new_parent: Option<CategoryId>,
    ) -> Result<Category, DomainError> {
        self.atomically(|s| {
            s.category(id)?;
            if let Some(parent) = new_parent {
                s.category(parent)?;
                if s.descendants_and_self(id).contains(&parent) {
                    return Err(DomainError::CategoryCycle {
                        category: id,
                        new_parent: parent,
                    });
                }
            }
            let category = s
                .categories
                .get_mut(&id)
                .ok_or_else(|| DomainError::not_found("category", id))?;
            category.parent_id = new_parent;
            Ok(category.clone())
        })
    }

    fn create_product(&self, new: NewProduct) -> Result<Product, DomainError> {
        self.atomically(|s| {
            let new = new.checked()?;
            s.category(new.category_id)?;
            for v in &new.variants {
                s.ensure_unique(v)?;
            }
            if s.products.values().any(|p| p.slug == new.slug) {
                return Err(DomainError::AlreadyTaken {
                    what: Taken::Slug,
                    value: new.slug.as_str().to_owned(),
                });
            }
            let now = Utc::now();
            let id: ProductId = s.next();
            let variants = new
                .variants
                .into_iter()
                .map(|v| s.new_variant(id, v))
                .collect();
            let product = Product {
                id,
                slug: new.slug,
                name: new.name,
                description: new.description,
                category_id: new.category_id,
                status: new.status,
                options: new.options,
                attributes: Vec::new(),
                images: Vec::new(),
                variants,
                created_at: now,
                updated_at: now,
            };
            s.products.insert(product.id, product.clone());
            Ok(product)
        })
    }

    fn update_product(&self, id: ProductId, update: ProductUpdate) -> Result<Product, DomainError> {
        self.atomically(|s| {
            if let Some(category) = update.category_id {
                s.category(category)?;
            }
            let product = s.product_mut(id)?;
            if let Some(name) = update.name {
                product.name = name;
            }
            if let Some(description) = update.description {
                product.description = description;
            }
            if let Some(category) = update.category_id {
                product.category_id = category;
            }
            product.updated_at = Utc::now();
            Ok(product.clone())
        })
    }

    fn set_product_status(
        &self,
        id: ProductId,
        status: ProductStatus,
    ) -> Result<Product, DomainError> {
        self.atomically(|s| {
            let product = s.product_mut(id)?;
            product.status = status;
            product.updated_at = Utc::now();
            Ok(product.clone())
        })
    }

    fn add_variant(&self, product: ProductId, new: NewVariant) -> Result<Variant, DomainError> {
        self.atomically(|s| {
            let p = s.product(product)?;
            let new = new.checked_beside(&p.options, &p.variants)?;
            s.ensure_unique(&new)?;
            let variant = s.new_variant(product, new);
            let p = s.product_mut(product)?;
            p.variants.push(variant.clone());
            p.updated_at = variant.created_at;
            Ok(variant)
        })
    }

    fn set_price(&self, id: VariantId, price: Money) -> Result<Variant, DomainError> {
        self.atomically(|s| {
            check_price(price)?;
            let variant = s.variant_mut(id)?;
            variant.price.try_cmp(&price)?;
            variant.price = price;
            variant.updated_at = Utc::now();
            Ok(variant.clone())
        })
    }

    fn restock(&self, id: VariantId, units: u32) -> Result<Variant, DomainError> {
        self.atomically(|s| {
            let variant = s.variant_mut(id)?;
            let stock = variant
                .stock_on_hand
                .checked_add(units)
                .ok_or(DomainError::StockOutOfRange(u32::MAX))?;
            variant.stock_on_hand = check_stock(stock)?;
            variant.updated_at = Utc::now();
            Ok(variant.clone())
        })
    }

    fn define_attribute(
        &self,
        definition: AttributeDefinition,
    ) -> Result<AttributeDefinition, DomainError> {
        self.atomically(|s| s.define_attribute(definition))
    }

    fn set_product_attributes(
        &self,
        id: ProductId,
        attributes: Vec<Attribute>,
    ) -> Result<Product, DomainError> {
        self.atomically(|s| s.set_product_attributes(id, attributes))
    }

    fn set_variant_attributes(
        &self,
        id: VariantId,
        attributes: Vec<Attribute>,
    ) -> Result<Variant, DomainError> {
        self.atomically(|s| s.set_variant_attributes(id, attributes))
    }

    fn set_images(&self, id: ProductId, images: Vec<ProductImage>) -> Result<Product, DomainError> {
        self.atomically(|s| s.set_images(id, images))
    }

    fn create_collection(&self, new: NewCollection) -> Result<Collection, DomainError> {
        self.atomically(|s| s.create_collection(new))
    }

    fn set_collection_products(
        &self,
        id: CollectionId,
        products: CollectionProducts,
    ) -> Result<Collection, DomainError> {
        self.atomically(|s| s.set_collection_products(id, products))
    }

    fn set_search_language(&self, language: SearchLanguage) -> Result<(), DomainError> {
        self.atomically(|s| {
            s.set_search_language(language);
            Ok(())
        })
    }
}

impl super::state::State {
    /// Refuses a new variant whose SKU or barcode another variant has.
    fn ensure_unique(&self, new: &NewVariant) -> Result<(), DomainError> {
        let all = || self.products.values().flat_map(|p| &p.variants);
        if all().any(|v| v.sku == new.sku) {
            return Err(DomainError::AlreadyTaken {
                what: Taken::Sku,
                value: new.sku.as_str().to_owned(),
            });
        }
        if let Some(gtin) = &new.gtin
            && all().any(|v| v.gtin.as_ref() == Some(gtin))
        {
            return Err(DomainError::AlreadyTaken {
                what: Taken::Gtin,
                value: gtin.as_str().to_owned(),
            });
        }
        Ok(())
    }

    /// Variant `new` of `product`, with a new id, indexed.
    fn new_variant(&mut self, product: ProductId, new: NewVariant) -> Variant {
        let now = Utc::now();
        let variant = Variant {
            id: self.next(),
            product_id: product,
            sku: new.sku,
            selection: new.selection,
            price: new.price,
            stock_on_hand: new.stock_on_hand,
            weight_grams: new.weight_grams,
            gtin: new.gtin,
            attributes: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        self.variant_products.insert(variant.id, product);
        variant
    }
}

/// pg_trgm's similarity as an exact fraction: shared trigrams over all trigrams of
/// the two strings, where each word is padded with two spaces in front and one behind.
#[derive(Debug, Clone, Copy)]
pub(super) struct Similarity {
    shared: usize,
    all: usize,
}

impl Similarity {
    pub(super) fn of(a: &str, b: &str) -> Self {
        fn trigrams(s: &str) -> std::collections::BTreeSet<[char; 3]> {
            let mut set = std::collections::BTreeSet::new();
            for word in s
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
            {
                let padded: Vec<char> = "  "
                    .chars()
                    .chain(word.chars())
                    .chain(" ".chars())
                    .collect();
                for w in padded.windows(3) {
                    set.insert([w[0], w[1], w[2]]);
                }
            }
            set
        }
        let (ta, tb) = (trigrams(a), trigrams(b));
        let shared = ta.intersection(&tb).count();
        Self {
            shared,
            all: ta.len() + tb.len() - shared,
        }
    }

    /// pg_trgm's default `%` threshold: similarity ≥ 0.3.
    pub(super) fn at_least_threshold(self) -> bool {
        self.all > 0 && 10 * self.shared >= 3 * self.all
    }

    /// The similarity in millionths, rounded down.
    pub(super) fn millionths(self) -> i64 {
        (self.shared * 1_000_000 / self.all.max(1)) as i64
    }
}

impl PartialEq for Similarity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Similarity {}

impl PartialOrd for Similarity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Similarity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // a/b vs c/d as a*d vs c*b, with 0/0 as zero.
        (self.shared * other.all.max(1)).cmp(&(other.shared * self.all.max(1)))
    }
}
