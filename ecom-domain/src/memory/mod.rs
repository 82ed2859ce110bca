//! The in-memory reference store: every repository trait over plain maps behind one
//! mutex. Each method takes the lock once, works on a copy of what it changes and
//! commits only when everything succeeded, so a failed call leaves the store as it
//! was: the same all-or-nothing contract a database transaction gives.
//!
//! It is the model that tests compare the PostgreSQL store against, and a fake that
//! services can use in their own unit tests.
//!
//! ```
//! use ecom_domain::memory::MemoryStore;
//! use ecom_domain::prelude::*;
//!
//! let store = MemoryStore::new();
//! let root = store.create_category(NewCategory {
//!     parent_id: None,
//!     slug: Slug::parse("books")?,
//!     name: CategoryName::parse("Books")?,
//! })?;
//! let book = store.create_product(NewProduct::single(
//!     Slug::parse("the-rust-book")?,
//!     ProductName::parse("The Rust Book")?,
//!     root.id,
//!     Sku::parse("BOOK-1")?,
//!     Money::parse("39.90", Currency::EUR)?,
//!     3,
//! ))?;
//! let copy = book.variants[0].id; // a product without options has one variant
//! let cart = store.open_cart(&CartOwner::guest(&GuestToken::parse("guest-token-0123456789")?), Currency::EUR)?;
//! store.add_item(cart.id, copy, Quantity::new(2)?)?;
//! let address = PostalAddress::parse(&RawAddress {
//!     recipient: "Ada Lovelace".into(), line1: "1 Main St".into(), city: "London".into(),
//!     postal_code: "N1 1AA".into(), country: "GB".into(), ..RawAddress::default()
//! })?;
//! let done = store.checkout(&CheckoutRequest {
//!     cart_id: cart.id,
//!     shipping: AddressChoice::Given(address.clone()),
//!     billing: AddressChoice::Given(address),
//!     guest_email: Some(Email::parse("ada@example.com")?),
//!     provider: ProviderName::parse("test")?,
//!     shipping_method: None,
//!     coupon_codes: vec![],
//!     gift_cards: vec![],
//!     idempotency_key: IdempotencyKey::parse("order-1")?,
//! })?;
//! assert_eq!(done.order.status, OrderStatus::PendingPayment);
//! assert_eq!(done.payment.map(|p| p.amount), Some(done.order.totals.grand_total));
//! assert_eq!(store.variant(copy)?.variant.stock_on_hand, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod account;
mod browse;
mod cart;
mod catalog;
mod checkout;
mod customer;
mod fulfillment;
mod gift_card;
mod inventory;
mod order;
mod payment;
mod price_book;
mod promotion;
mod returns;
mod state;

use std::sync::{Mutex, MutexGuard};

use crate::error::DomainError;
use crate::rules::StoreRules;

use self::state::State;

/// The reference store. Cheap to create; `Send + Sync`, so tests can share it
/// between threads.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    rules: StoreRules,
}

impl MemoryStore {
    /// An empty store with default rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with the given rules.
    pub fn with_rules(rules: StoreRules) -> Self {
        Self {
            state: Mutex::default(),
            rules,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock can only come from a bug in this module;
        // the state itself is only replaced whole, so it is still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on a copy of the state and keeps the copy only if `f` succeeds.
    fn atomically<T>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, DomainError>,
    ) -> Result<T, DomainError> {
        let mut guard = self.lock();
        let mut draft = guard.clone();
        let value = f(&mut draft)?;
        *guard = draft;
        Ok(value)
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> Result<T, DomainError>) -> Result<T, DomainError> {
        f(&self.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn a_login_upgrades_a_hash_made_with_weaker_parameters() {
        let weak = HashCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let current = HashCost {
            memory_kib: 128,
            iterations: 2,
            parallelism: 1,
        };
        let mut store = MemoryStore::with_rules(StoreRules {
            hash_cost: weak,
            ..StoreRules::default()
        });
        let email = Email::parse("ada@example.com").unwrap();
        let password = Password::new("correct horse battery").unwrap();
        let user = store
            .register(NewUser {
                email: email.clone(),
                name: PersonName::parse("Ada").unwrap(),
                password: password.clone(),
            })
            .unwrap();
        store.rules.hash_cost = current;
        assert!(
            store
                .user(user.id)
                .unwrap()
                .password_hash
                .needs_rehash(current)
        );
        let wrong = Password::new("wrong horse battery").unwrap();
        assert!(store.authenticate(&email, &wrong).is_err());
        assert!(
            store
                .user(user.id)
                .unwrap()
                .password_hash
                .needs_rehash(current)
        );
        let logged_in = store.authenticate(&email, &password).unwrap();
        assert!(!logged_in.password_hash.needs_rehash(current));
        assert!(
            !store
                .user(user.id)
                .unwrap()
                .password_hash
                .needs_rehash(current)
        );
        store.authenticate(&email, &password).unwrap();
    }
}
