//! Random streams: one ChaCha8 generator per entity, keyed by (seed, stream, id).
//!
//! Deriving a fresh generator per entity (rather than drawing everything from one
//! sequence) lets any entity be regenerated on its own: an order rebuilds its
//! customer's address book from the user's id instead of keeping every user in
//! memory, which keeps memory flat at any scale. ChaCha8 is specified, so the same
//! key gives the same numbers on every platform and version of `rand` that ships it.

use chrono::Duration;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

/// The generator every value comes from.
pub type SeedRng = ChaCha8Rng;

/// What a random stream is for; part of its key, so streams never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// A category.
    Category = 1,
    /// A product.
    Product = 2,
    /// A user and their address book.
    User = 3,
    /// Address fields (tests).
    Address = 4,
    /// An order's timing, path and basket.
    Basket = 5,
    /// An order's other values (guest identity, notes).
    Order = 6,
    /// A cart that did not become an order.
    Cart = 7,
    /// A product's description (drawn only when the product is written).
    ProductText = 8,
    /// A product's attribute values and images (drawn only when it is written).
    ProductMedia = 9,
    /// A collection and its products.
    Collection = 10,
    /// A product's prices in the price lists (drawn when the price book is written).
    ListPrices = 11,
    /// A user's customer group.
    CustomerGroup = 12,
    /// The shop's own choices: the sale's window (id 0), its staff (id 1).
    Shop = 13,
    /// A gift card: its value, dates and code.
    GiftCard = 14,
    /// Whether an order is paid by gift card, and which card it tries first.
    Tender = 15,
}

/// The generator of entity `id` in `stream` under `seed`.
pub fn rng_for(seed: u64, stream: Stream, id: i64) -> SeedRng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(stream as u64).to_le_bytes());
    key[16..24].copy_from_slice(&id.to_le_bytes());
    key[24..].copy_from_slice(b"ecomseed");
    ChaCha8Rng::from_seed(key)
}

/// A random whole number of seconds in `range`.
pub(crate) fn secs(rng: &mut SeedRng, range: std::ops::Range<i64>) -> Duration {
    Duration::seconds(rng.random_range(range))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |seed, stream, id| {
            let mut rng = rng_for(seed, stream, id);
            (0..4).map(|_| rng.random::<u64>()).collect::<Vec<_>>()
        };
        assert_eq!(draw(1, Stream::User, 5), draw(1, Stream::User, 5));
        assert_ne!(draw(1, Stream::User, 5), draw(2, Stream::User, 5));
        assert_ne!(draw(1, Stream::User, 5), draw(1, Stream::Order, 5));
        assert_ne!(draw(1, Stream::User, 5), draw(1, Stream::User, 6));
    }
}
