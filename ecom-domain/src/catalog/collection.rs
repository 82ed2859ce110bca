//! Collections: curated, ordered product lists ("Summer sale") beside the category
//! tree. A collection has a display name ([`CollectionName`](crate::values::CollectionName))
//! and a URL key ([`Slug`](crate::values::Slug)); a product can be in many.

use std::collections::hash_map::{Entry, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CollectionId, ProductId};
use crate::values::{CollectionName, Slug};

/// A curated, ordered list of products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// Its id.
    pub id: CollectionId,
    /// Unique URL key.
    pub slug: Slug,
    /// Display name.
    pub name: CollectionName,
    /// Its products, in the shop's order (drafts and archived ones included: a
    /// listing of the collection shows only the active ones).
    pub products: CollectionProducts,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What it takes to create a collection; its products are set afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCollection {
    /// Unique URL key.
    pub slug: Slug,
    /// Display name.
    pub name: CollectionName,
}

/// What the collection rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectionError {
    /// More products than [`CollectionProducts::MAX`].
    #[error("{count} products, a collection holds at most {max}")]
    TooManyProducts {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// One product twice in a collection.
    #[error("product {product_id} is in the collection twice (positions {first} and {second})")]
    DuplicateProduct {
        /// The product.
        product_id: ProductId,
        /// The position of the first, counted from 0.
        first: usize,
        /// The position of the second.
        second: usize,
    },
}

/// The products of a collection, in the shop's order: each at most once, at most
/// [`CollectionProducts::MAX`]; empty for a collection not yet filled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<ProductId>", into = "Vec<ProductId>")]
pub struct CollectionProducts(Vec<ProductId>);

impl CollectionProducts {
    /// The most products one collection holds.
    pub const MAX: usize = 10_000;

    /// Checks the list; see the type's documentation.
    pub fn new(products: Vec<ProductId>) -> Result<Self, CollectionError> {
        if products.len() > Self::MAX {
            return Err(CollectionError::TooManyProducts {
                count: products.len(),
                max: Self::MAX,
            });
        }
        let mut seen: HashMap<ProductId, usize> = HashMap::with_capacity(products.len());
        for (second, &product_id) in products.iter().enumerate() {
            match seen.entry(product_id) {
                Entry::Occupied(first) => {
                    return Err(CollectionError::DuplicateProduct {
                        product_id,
                        first: *first.get(),
                        second,
                    });
                }
                Entry::Vacant(slot) => {
                    slot.insert(second);
                }
            }
        }
        Ok(Self(products))
    }

    /// The products, in order.
    pub fn as_slice(&self) -> &[ProductId] {
        &self.0
    }

    /// How many products.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when it holds no product.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Where `product` stands, counted from 0.
    pub fn position(&self, product: ProductId) -> Option<usize> {
        self.0.iter().position(|&p| p == product)
    }
}

impl TryFrom<Vec<ProductId>> for CollectionProducts {
    type Error = CollectionError;
    fn try_from(products: Vec<ProductId>) -> Result<Self, Self::Error> {
        Self::new(products)
    }
}

impl From<CollectionProducts> for Vec<ProductId> {
    fn from(products: CollectionProducts) -> Self {
        products.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(raw: &[i64]) -> Vec<ProductId> {
        raw.iter().copied().map(ProductId::new).collect()
    }

    #[test]
    fn a_collection_keeps_the_shop_s_order() {
        let summer = CollectionProducts::new(ids(&[7, 3, 9])).unwrap();
        assert_eq!(summer.as_slice(), ids(&[7, 3, 9]).as_slice());
        assert_eq!(summer.position(ProductId::new(9)), Some(2));
        assert_eq!(summer.position(ProductId::new(1)), None);
        assert!(CollectionProducts::new(vec![]).unwrap().is_empty());
    }

    #[test]
    fn a_product_is_in_a_collection_once_and_collections_are_bounded() {
        assert_eq!(
            CollectionProducts::new(ids(&[7, 3, 9, 3])),
            Err(CollectionError::DuplicateProduct {
                product_id: ProductId::new(3),
                first: 1,
                second: 3
            })
        );
        let many = (0..=CollectionProducts::MAX as i64)
            .map(ProductId::new)
            .collect();
        assert_eq!(
            CollectionProducts::new(many),
            Err(CollectionError::TooManyProducts {
                count: 10_001,
                max: 10_000
            })
        );
        assert!(serde_json::from_str::<CollectionProducts>("[1,2,1]").is_err());
    }

    proptest! {
        #[test]
        fn accepted_lists_are_unchanged_distinct_and_round_trip(
            raw in proptest::collection::vec(0i64..40, 0..30),
        ) {
            let distinct = raw.iter().collect::<std::collections::HashSet<_>>().len() == raw.len();
            match CollectionProducts::new(ids(&raw)) {
                Ok(products) => {
                    prop_assert!(distinct);
                    prop_assert_eq!(Vec::from(products.clone()), ids(&raw));
                    let json = serde_json::to_string(&products).unwrap();
                    prop_assert_eq!(serde_json::from_str::<CollectionProducts>(&json).unwrap(), products);
                }
                Err(CollectionError::DuplicateProduct { product_id, first, second }) => {
                    prop_assert!(!distinct);
                    prop_assert!(first < second);
                    prop_assert_eq!(raw[first], product_id.get());
                    prop_assert_eq!(raw[second], product_id.get());
                    // The first repeat in list order is the one named.
                    prop_assert!(raw[..second].iter().collect::<std::collections::HashSet<_>>().len() == second);
                }
                Err(other) => prop_assert!(false, "{}", other),
            }
        }
    }
}
