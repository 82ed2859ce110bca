//! Listings with facets, search, attributes, images and collections in the reference
//! store: brute force over every product, the answer a database's indexes must give.

use chrono::Utc;

use crate::catalog::{
    Attribute, AttributeDefinition, Browse, Collection, CollectionProducts, Hit, NewCollection,
    Page, PageRequest, Product, ProductImage, SearchCursor, SearchLanguage, SearchRequest, Variant,
    check_attributes, check_images, words,
};
use crate::catalog::{AttributeValue, BrowseRequest};
use crate::error::{DomainError, Taken};
use crate::ids::{CollectionId, ProductId, VariantId};
use crate::values::Slug;

use super::state::State;

/// What a search weighs a word found in a product's name, description, and option
/// or attribute values.
const NAME_WEIGHT: i64 = 1_000_000;
const DESCRIPTION_WEIGHT: i64 = 400_000;
const VALUES_WEIGHT: i64 = 200_000;

impl State {
    pub(super) fn browse(&self, request: BrowseRequest) -> Result<Browse, DomainError> {
        let request = request.checked()?;
        self.category(request.category)?;
        let tree = self.descendants_and_self(request.category);
        let matching = self
            .products
            .values()
            .filter(|p| p.is_buyable() && tree.contains(&p.category_id))
            .filter(|p| request.filter.accepts(p))
            .cloned()
            .collect();
        Ok(Browse::of(matching, &request))
    }

    pub(super) fn search(
        &self,
        request: &SearchRequest,
    ) -> Result<Page<Hit, SearchCursor>, DomainError> {
        let query = &request.query;
        let active = || self.products.values().filter(|p| p.is_buyable());
        let mut hits: Vec<Hit> = active()
            .filter_map(|p| {
                let fields = searchable(p);
                let all: Vec<String> = fields.iter().flatten().cloned().collect();
                query.matches_words(&all).then(|| Hit {
                    score: score(query.words(), &fields),
                    product: p.clone(),
                })
            })
            .collect();
        if hits.is_empty() {
            let text = query.text();
            hits = active()
                .filter_map(|p| {
                    let similarity =
                        super::catalog::Similarity::of(&text, &p.name.as_str().to_lowercase());
                    similarity.at_least_threshold().then(|| Hit {
                        score: similarity.millionths(),
                        product: p.clone(),
                    })
                })
                .collect();
        }
        hits.sort_by(|a, b| (b.score, a.product.id).cmp(&(a.score, b.product.id)));
        let limit = request.page.clamped_limit() as usize;
        let items: Vec<Hit> = hits
            .into_iter()
            .filter(|h| {
                request.page.after.is_none_or(|c| {
                    (h.score, std::cmp::Reverse(h.product.id)) < (c.score, std::cmp::Reverse(c.id))
                })
            })
            .take(limit + 1)
            .collect();
        Ok(Page::from_overfetch(items, limit, |h| SearchCursor {
            score: h.score,
            id: h.product.id,
        }))
    }

    pub(super) fn define_attribute(
        &mut self,
        definition: AttributeDefinition,
    ) -> Result<AttributeDefinition, DomainError> {
        let key = definition.name.as_str().to_lowercase();
        if self
            .attributes
            .iter()
            .any(|d| d.name.as_str().to_lowercase() == key)
        {
            return Err(DomainError::AlreadyTaken {
                what: Taken::Attribute,
                value: definition.name.as_str().to_owned(),
            });
        }
        self.attributes.push(definition.clone());
        self.attributes
            .sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
        Ok(definition)
    }

    pub(super) fn set_product_attributes(
        &mut self,
        id: ProductId,
        attributes: Vec<Attribute>,
    ) -> Result<Product, DomainError> {
        let attributes = check_attributes(&self.attributes, attributes)?;
        let product = self.product_mut(id)?;
        product.attributes = attributes;
        product.updated_at = Utc::now();
        Ok(product.clone())
    }

    pub(super) fn set_variant_attributes(
        &mut self,
        id: VariantId,
        attributes: Vec<Attribute>,
    ) -> Result<Variant, DomainError> {
        let attributes = check_attributes(&self.attributes, attributes)?;
        let variant = self.variant_mut(id)?;
        variant.attributes = attributes;
        variant.updated_at = Utc::now();
        Ok(variant.clone())
    }

    pub(super) fn set_images(
        &mut self,
        id: ProductId,
        images: Vec<ProductImage>,
    ) -> Result<Product, DomainError> {
        let product = self.product_mut(id)?;
        product.images = check_images(&product.options, images)?;
        product.updated_at = Utc::now();
        Ok(product.clone())
    }

    pub(super) fn create_collection(
        &mut self,
        new: NewCollection,
    ) -> Result<Collection, DomainError> {
        if self.collections.values().any(|c| c.slug == new.slug) {
            return Err(DomainError::AlreadyTaken {
                what: Taken::Slug,
                value: new.slug.as_str().to_owned(),
            });
        }
        let now = Utc::now();
        let collection = Collection {
            id: self.next(),
            slug: new.slug,
            name: new.name,
            products: CollectionProducts::default(),
            created_at: now,
            updated_at: now,
        };
        self.collections.insert(collection.id, collection.clone());
        Ok(collection)
    }

    pub(super) fn set_collection_products(
        &mut self,
        id: CollectionId,
        products: CollectionProducts,
    ) -> Result<Collection, DomainError> {
        for &product in products.as_slice() {
            self.product(product)?;
        }
        let collection = self
            .collections
            .get_mut(&id)
            .ok_or_else(|| DomainError::not_found("collection", id))?;
        collection.products = products;
        collection.updated_at = Utc::now();
        Ok(collection.clone())
    }

    pub(super) fn collection_by_slug(&self, slug: &Slug) -> Result<Collection, DomainError> {
        self.collections
            .values()
            .find(|c| c.slug == *slug)
            .cloned()
            .ok_or_else(|| DomainError::not_found("collection", slug.as_str()))
    }

    pub(super) fn collection_products(
        &self,
        id: CollectionId,
        page: PageRequest<u32>,
    ) -> Result<Page<Product, u32>, DomainError> {
        let collection = self
            .collections
            .get(&id)
            .ok_or_else(|| DomainError::not_found("collection", id))?;
        let limit = page.clamped_limit() as usize;
        let items: Vec<(u32, Product)> = collection
            .products
            .as_slice()
            .iter()
            .enumerate()
            .filter(|(position, _)| page.after.is_none_or(|after| *position as u32 > after))
            .filter_map(|(position, id)| {
                let product = self.products.get(id)?;
                product
                    .is_buyable()
                    .then(|| (position as u32, product.clone()))
            })
            .take(limit + 1)
            .collect();
        let page = Page::from_overfetch(items, limit, |(position, _)| *position);
        Ok(Page {
            items: page.items.into_iter().map(|(_, p)| p).collect(),
            next: page.next,
        })
    }

    pub(super) fn set_search_language(&mut self, language: SearchLanguage) {
        self.search_language = language;
    }
}

/// The words a search finds a product by: its name's, its description's, and its
/// option values' and text or choice attribute values' (its own and its variants').
fn searchable(product: &Product) -> [Vec<String>; 3] {
    let mut values = String::new();
    let text_values = product
        .attributes
        .iter()
        .chain(product.variants.iter().flat_map(|v| &v.attributes))
        .filter_map(|a| match &a.value {
            AttributeValue::Text(t) | AttributeValue::Choice(t) => Some(t.as_str()),
            AttributeValue::Number(_) | AttributeValue::Boolean(_) => None,
        });
    let option_values = product
        .variants
        .iter()
        .flat_map(|v| v.selection.choices())
        .map(|c| c.value.as_str());
    for value in text_values.chain(option_values) {
        values.push_str(value);
        values.push(' ');
    }
    [
        words(product.name.as_str()),
        words(product.description.as_str()),
        words(&values),
    ]
}

/// The reference store's relevance: for each word of the query, the weight of the
/// best field that holds it (the last word as a prefix).
fn score(query: &[String], fields: &[Vec<String>; 3]) -> i64 {
    let weights = [NAME_WEIGHT, DESCRIPTION_WEIGHT, VALUES_WEIGHT];
    let last = query.len() - 1;
    query
        .iter()
        .enumerate()
        .map(|(i, word)| {
            fields
                .iter()
                .zip(weights)
                .find(|(field, _)| {
                    field.iter().any(|w| {
                        if i == last {
                            w.starts_with(word.as_str())
                        } else {
                            w == word
                        }
                    })
                })
                .map_or(0, |(_, weight)| weight)
        })
        .sum()
}
