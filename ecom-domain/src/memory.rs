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
//! let book = store.create_product(NewProduct {
//!     sku: Sku::parse("BOOK-1")?,
//!     name: ProductName::parse("The Rust Book")?,
//!     description: Description::parse("")?,
//!     category_id: root.id,
//!     price: Money::parse("39.90", Currency::EUR)?,
//!     stock_on_hand: 3,
//! })?;
//! let cart = store.open_cart(&CartOwner::Guest(GuestToken::parse("guest-token-0123456789")?), Currency::EUR)?;
//! store.add_item(cart.id, book.id, Quantity::new(2)?)?;
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
//!     idempotency_key: IdempotencyKey::parse("order-1")?,
//! })?;
//! assert_eq!(done.order.status, OrderStatus::PendingPayment);
//! assert_eq!(store.product(book.id)?.stock_on_hand, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};

use crate::account::{Address, NewAddress, NewUser, ProfileUpdate, User};
use crate::cart::{Cart, CartOwner, CartStatus};
use crate::catalog::{
    Category, NewCategory, NewProduct, Page, PageRequest, Product, ProductStatus, ProductUpdate,
    check_price, check_stock, ensure_in_stock,
};
use crate::error::{DomainError, Taken};
use crate::ids::{AddressId, CartId, CategoryId, OrderId, PaymentId, ProductId, UserId};
use crate::money::{Currency, Money};
use crate::order::{Customer, Order, OrderEvent, OrderStatus, StatusChange};
use crate::password::{HashCost, Password, PasswordHash};
use crate::payment::{Applied, Payment, PaymentEvent, order_accepts};
use crate::pricing::{OrderDraft, Pricing};
use crate::repo::{
    AccountRepository, AddressChoice, CartRepository, CatalogReader, CatalogRepository, Checkout,
    CheckoutRepository, CheckoutRequest, OrderCursor, OrderDetails, OrderReader, OrderRepository,
    OrderSummary, PaymentOutcome, PaymentRepository,
};
use crate::values::{
    CountryCode, Email, IdempotencyKey, PostalAddress, ProviderName, ProviderRef, Quantity, Sku,
};

/// How long a placed order waits for its payment before it expires, by default.
pub const DEFAULT_PAYMENT_WINDOW: Duration = Duration::minutes(30);

/// Settings of a store that are business rules rather than data.
#[derive(Debug, Clone)]
pub struct StoreRules {
    /// Tax and shipping.
    pub pricing: Pricing,
    /// Cost of password hashes made at registration and password change.
    pub hash_cost: HashCost,
    /// How long a placed order may stay unpaid.
    pub payment_window: Duration,
}

impl Default for StoreRules {
    fn default() -> Self {
        Self {
            pricing: Pricing::default(),
            hash_cost: HashCost::OWASP,
            payment_window: DEFAULT_PAYMENT_WINDOW,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct State {
    next_id: i64,
    categories: BTreeMap<CategoryId, Category>,
    products: BTreeMap<ProductId, Product>,
    users: BTreeMap<UserId, User>,
    addresses: BTreeMap<AddressId, Address>,
    carts: BTreeMap<CartId, Cart>,
    orders: BTreeMap<OrderId, Order>,
    payments: BTreeMap<PaymentId, Payment>,
    idempotency: HashMap<String, (IdempotencyRecord, DateTime<Utc>)>,
}

#[derive(Debug, Clone)]
struct IdempotencyRecord {
    fingerprint: [u8; 32],
    order_id: OrderId,
}

impl State {
    fn next<T: From<i64>>(&mut self) -> T {
        self.next_id += 1;
        T::from(self.next_id)
    }

    fn category(&self, id: CategoryId) -> Result<&Category, DomainError> {
        self.categories
            .get(&id)
            .ok_or_else(|| DomainError::not_found("category", id))
    }

    fn product(&self, id: ProductId) -> Result<&Product, DomainError> {
        self.products
            .get(&id)
            .ok_or_else(|| DomainError::not_found("product", id))
    }

    fn product_mut(&mut self, id: ProductId) -> Result<&mut Product, DomainError> {
        self.products
            .get_mut(&id)
            .ok_or_else(|| DomainError::not_found("product", id))
    }

    fn user(&self, id: UserId) -> Result<&User, DomainError> {
        self.users
            .get(&id)
            .ok_or_else(|| DomainError::not_found("user", id))
    }

    fn cart(&self, id: CartId) -> Result<&Cart, DomainError> {
        self.carts
            .get(&id)
            .ok_or_else(|| DomainError::not_found("cart", id))
    }

    fn order(&self, id: OrderId) -> Result<&Order, DomainError> {
        self.orders
            .get(&id)
            .ok_or_else(|| DomainError::not_found("order", id))
    }

    fn payment(&self, id: PaymentId) -> Result<&Payment, DomainError> {
        self.payments
            .get(&id)
            .ok_or_else(|| DomainError::not_found("payment", id))
    }

    fn address(&self, user: UserId, id: AddressId) -> Result<&Address, DomainError> {
        self.addresses
            .get(&id)
            .filter(|a| a.user_id == user)
            .ok_or_else(|| DomainError::not_found("address", id))
    }

    fn email_taken(&self, email: &Email, except: Option<UserId>) -> Result<(), DomainError> {
        if self
            .users
            .values()
            .any(|u| u.email == *email && Some(u.id) != except)
        {
            return Err(DomainError::AlreadyTaken {
                what: Taken::Email,
                value: email.as_str().to_owned(),
            });
        }
        Ok(())
    }

    fn descendants_and_self(&self, root: CategoryId) -> Vec<CategoryId> {
        let mut found = vec![root];
        let mut i = 0;
        while i < found.len() {
            let parent = found[i];
            found.extend(
                self.categories
                    .values()
                    .filter(|c| c.parent_id == Some(parent))
                    .map(|c| c.id),
            );
            i += 1;
        }
        found
    }

    fn summary(&self, order: &Order) -> OrderSummary {
        OrderSummary {
            id: order.id,
            status: order.status,
            grand_total: order.totals.grand_total,
            line_count: order.lines.len() as u32,
            created_at: order.created_at,
        }
    }

    fn change_order(
        &mut self,
        id: OrderId,
        event: OrderEvent,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let order = self
            .orders
            .get_mut(&id)
            .ok_or_else(|| DomainError::not_found("order", id))?;
        let from = order.status;
        let to = from.apply(event)?;
        order.status = to;
        order.history.push(StatusChange {
            from: Some(from),
            to,
            event: Some(event),
            note,
            at: now,
        });
        if to.restocks() {
            let lines = order.lines.clone();
            for line in lines {
                let product = self.product_mut(line.product_id)?;
                product.stock_on_hand += line.quantity.get();
            }
        }
        Ok(())
    }

    /// Settles the payments of an order that is being cancelled or expired.
    fn settle_payments(&mut self, order_id: OrderId) -> Result<(), DomainError> {
        let ids: Vec<PaymentId> = self
            .payments
            .values()
            .filter(|p| p.order_id == order_id)
            .map(|p| p.id)
            .collect();
        for id in ids {
            let payment = self
                .payments
                .get_mut(&id)
                .ok_or_else(|| DomainError::not_found("payment", id))?;
            if let Some(action) = payment.settlement_on_cancel() {
                let key = IdempotencyKey::parse(&format!("settle-{}-{}", order_id, action.kind()))?;
                payment.apply(PaymentEvent { key, action })?;
            }
        }
        Ok(())
    }

    fn snapshot_address(
        &self,
        owner: Option<UserId>,
        choice: &AddressChoice,
    ) -> Result<PostalAddress, DomainError> {
        match (choice, owner) {
            (AddressChoice::Given(a), _) => Ok(a.clone()),
            (AddressChoice::Saved(id), Some(user)) => Ok(self.address(user, *id)?.postal.clone()),
            (AddressChoice::Saved(id), None) => Err(DomainError::not_found("address", id)),
        }
    }
}

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

    fn product_by_sku(&self, sku: &Sku) -> Result<Product, DomainError> {
        self.read(|s| {
            s.products
                .values()
                .find(|p| p.sku == *sku)
                .cloned()
                .ok_or_else(|| DomainError::not_found("product", sku.as_str()))
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
            check_price(new.price)?;
            check_stock(new.stock_on_hand)?;
            s.category(new.category_id)?;
            if s.products.values().any(|p| p.sku == new.sku) {
                return Err(DomainError::AlreadyTaken {
                    what: Taken::Sku,
                    value: new.sku.as_str().to_owned(),
                });
            }
            let now = Utc::now();
            let product = Product {
                id: s.next(),
                sku: new.sku,
                name: new.name,
                description: new.description,
                category_id: new.category_id,
                price: new.price,
                status: ProductStatus::Active,
                stock_on_hand: new.stock_on_hand,
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

    fn set_price(&self, id: ProductId, price: Money) -> Result<Product, DomainError> {
        self.atomically(|s| {
            check_price(price)?;
            let product = s.product_mut(id)?;
            product.price.try_cmp(&price)?;
            product.price = price;
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

    fn restock(&self, id: ProductId, units: u32) -> Result<Product, DomainError> {
        self.atomically(|s| {
            let product = s.product_mut(id)?;
            let stock = product
                .stock_on_hand
                .checked_add(units)
                .ok_or(DomainError::StockOutOfRange(u32::MAX))?;
            product.stock_on_hand = check_stock(stock)?;
            product.updated_at = Utc::now();
            Ok(product.clone())
        })
    }
}

/// pg_trgm's similarity as an exact fraction: shared trigrams over all trigrams of
/// the two strings, where each word is padded with two spaces in front and one behind.
#[derive(Debug, Clone, Copy)]
struct Similarity {
    shared: usize,
    all: usize,
}

impl Similarity {
    fn of(a: &str, b: &str) -> Self {
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
    fn at_least_threshold(self) -> bool {
        self.all > 0 && 10 * self.shared >= 3 * self.all
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

impl AccountRepository for MemoryStore {
    type Error = DomainError;

    fn register(&self, new: NewUser) -> Result<User, DomainError> {
        // Hash outside the lock: it is the slow part.
        let hash = PasswordHash::hash(&new.password, self.rules.hash_cost)?;
        self.atomically(|s| {
            s.email_taken(&new.email, None)?;
            let now = Utc::now();
            let user = User {
                id: s.next(),
                email: new.email,
                name: new.name,
                password_hash: hash,
                created_at: now,
                updated_at: now,
            };
            s.users.insert(user.id, user.clone());
            Ok(user)
        })
    }

    fn authenticate(&self, email: &Email, password: &Password) -> Result<User, DomainError> {
        let found = self.read(|s| Ok(s.users.values().find(|u| u.email == *email).cloned()))?;
        match found {
            Some(user) if user.password_hash.verify(password) => {
                // A hash made with weaker parameters is upgraded while the password
                // is at hand.
                if !user.password_hash.needs_rehash(self.rules.hash_cost) {
                    return Ok(user);
                }
                let hash = PasswordHash::hash(password, self.rules.hash_cost)?;
                self.atomically(|s| {
                    let stored = s
                        .users
                        .get_mut(&user.id)
                        .ok_or_else(|| DomainError::not_found("user", user.id))?;
                    if stored.password_hash == user.password_hash {
                        stored.password_hash = hash;
                    }
                    Ok(stored.clone())
                })
            }
            Some(_) => Err(DomainError::InvalidCredentials),
            None => {
                PasswordHash::verify_unknown_user(password, self.rules.hash_cost);
                Err(DomainError::InvalidCredentials)
            }
        }
    }

    fn user(&self, id: UserId) -> Result<User, DomainError> {
        self.read(|s| s.user(id).cloned())
    }

    fn update_profile(&self, id: UserId, update: ProfileUpdate) -> Result<User, DomainError> {
        self.atomically(|s| {
            s.user(id)?;
            if let Some(email) = &update.email {
                s.email_taken(email, Some(id))?;
            }
            let user = s
                .users
                .get_mut(&id)
                .ok_or_else(|| DomainError::not_found("user", id))?;
            if let Some(email) = update.email {
                user.email = email;
            }
            if let Some(name) = update.name {
                user.name = name;
            }
            user.updated_at = Utc::now();
            Ok(user.clone())
        })
    }

    fn change_password(
        &self,
        id: UserId,
        current: &Password,
        new: &Password,
    ) -> Result<(), DomainError> {
        let user = self.user(id)?;
        if !user.password_hash.verify(current) {
            return Err(DomainError::InvalidCredentials);
        }
        let hash = PasswordHash::hash(new, self.rules.hash_cost)?;
        self.atomically(|s| {
            let user = s
                .users
                .get_mut(&id)
                .ok_or_else(|| DomainError::not_found("user", id))?;
            user.password_hash = hash;
            user.updated_at = Utc::now();
            Ok(())
        })
    }

    fn add_address(&self, user: UserId, new: NewAddress) -> Result<Address, DomainError> {
        self.atomically(|s| {
            s.user(user)?;
            let has_default = s
                .addresses
                .values()
                .any(|a| a.user_id == user && a.kind == new.kind && a.is_default);
            let is_default = new.make_default || !has_default;
            if is_default {
                for a in s
                    .addresses
                    .values_mut()
                    .filter(|a| a.user_id == user && a.kind == new.kind)
                {
                    a.is_default = false;
                }
            }
            let address = Address {
                id: s.next(),
                user_id: user,
                kind: new.kind,
                is_default,
                postal: new.postal,
            };
            s.addresses.insert(address.id, address.clone());
            Ok(address)
        })
    }

    fn update_address(
        &self,
        user: UserId,
        id: AddressId,
        postal: PostalAddress,
    ) -> Result<Address, DomainError> {
        self.atomically(|s| {
            s.address(user, id)?;
            let address = s
                .addresses
                .get_mut(&id)
                .ok_or_else(|| DomainError::not_found("address", id))?;
            address.postal = postal;
            Ok(address.clone())
        })
    }

    fn remove_address(&self, user: UserId, id: AddressId) -> Result<(), DomainError> {
        self.atomically(|s| {
            let removed = s.address(user, id)?.clone();
            s.addresses.remove(&id);
            if removed.is_default {
                let heir = s
                    .addresses
                    .values_mut()
                    .rev()
                    .find(|a| a.user_id == user && a.kind == removed.kind);
                if let Some(heir) = heir {
                    heir.is_default = true;
                }
            }
            Ok(())
        })
    }

    fn set_default_address(&self, user: UserId, id: AddressId) -> Result<Address, DomainError> {
        self.atomically(|s| {
            let kind = s.address(user, id)?.kind;
            for a in s
                .addresses
                .values_mut()
                .filter(|a| a.user_id == user && a.kind == kind)
            {
                a.is_default = a.id == id;
            }
            Ok(s.address(user, id)?.clone())
        })
    }

    fn addresses(&self, user: UserId) -> Result<Vec<Address>, DomainError> {
        self.read(|s| {
            s.user(user)?;
            Ok(s.addresses
                .values()
                .filter(|a| a.user_id == user)
                .cloned()
                .collect())
        })
    }
}

impl CartRepository for MemoryStore {
    type Error = DomainError;

    fn open_cart(&self, owner: &CartOwner, currency: Currency) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            if let CartOwner::User(user) = owner {
                s.user(*user)?;
            }
            if let Some(cart) = s
                .carts
                .values()
                .find(|c| c.owner == *owner && c.status == CartStatus::Open)
            {
                return Ok(cart.clone());
            }
            let cart = Cart::new(s.next(), owner.clone(), currency);
            s.carts.insert(cart.id, cart.clone());
            Ok(cart)
        })
    }

    fn cart(&self, id: CartId) -> Result<Cart, DomainError> {
        self.read(|s| s.cart(id).cloned())
    }

    fn add_item(
        &self,
        cart: CartId,
        product: ProductId,
        quantity: Quantity,
    ) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            let product = s.product(product)?.clone();
            let cart = s
                .carts
                .get_mut(&cart)
                .ok_or_else(|| DomainError::not_found("cart", cart))?;
            cart.add(&product, quantity)?;
            Ok(cart.clone())
        })
    }

    fn set_quantity(
        &self,
        cart: CartId,
        product: ProductId,
        quantity: Quantity,
    ) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            let cart = s
                .carts
                .get_mut(&cart)
                .ok_or_else(|| DomainError::not_found("cart", cart))?;
            cart.set_quantity(product, quantity)?;
            Ok(cart.clone())
        })
    }

    fn remove_item(&self, cart: CartId, product: ProductId) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            let cart = s
                .carts
                .get_mut(&cart)
                .ok_or_else(|| DomainError::not_found("cart", cart))?;
            cart.remove(product)?;
            Ok(cart.clone())
        })
    }

    fn clear_cart(&self, cart: CartId) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            let cart = s
                .carts
                .get_mut(&cart)
                .ok_or_else(|| DomainError::not_found("cart", cart))?;
            cart.clear()?;
            Ok(cart.clone())
        })
    }

    fn attach_cart(&self, cart_id: CartId, user: UserId) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            s.user(user)?;
            let guest = s.cart(cart_id)?.clone();
            guest.ensure_open()?;
            if guest.owner == CartOwner::User(user) {
                return Ok(guest);
            }
            let owned = CartOwner::User(user);
            let existing = s
                .carts
                .values()
                .find(|c| c.owner == owned && c.status == CartStatus::Open)
                .cloned();
            match existing {
                None => {
                    let cart = s
                        .carts
                        .get_mut(&cart_id)
                        .ok_or_else(|| DomainError::not_found("cart", cart_id))?;
                    cart.owner = owned;
                    Ok(cart.clone())
                }
                Some(mut target) => {
                    for line in &guest.lines {
                        let product = s.product(line.product_id)?.clone();
                        target.add(&product, line.quantity)?;
                    }
                    s.carts.insert(target.id, target.clone());
                    if let Some(g) = s.carts.get_mut(&cart_id) {
                        g.status = CartStatus::Abandoned;
                    }
                    Ok(target)
                }
            }
        })
    }

    fn price_cart(&self, cart: CartId, ship_to: CountryCode) -> Result<OrderDraft, DomainError> {
        self.read(|s| {
            let cart = s.cart(cart)?;
            let products = cart
                .lines
                .iter()
                .map(|l| Ok((s.product(l.product_id)?, l.quantity)))
                .collect::<Result<Vec<_>, DomainError>>()?;
            self.rules.pricing.price(cart.currency, &products, ship_to)
        })
    }
}

impl CheckoutRepository for MemoryStore {
    type Error = DomainError;

    fn checkout(&self, request: &CheckoutRequest) -> Result<Checkout, DomainError> {
        let fingerprint = request.fingerprint();
        self.atomically(|s| {
            if let Some((record, _)) = s.idempotency.get(request.idempotency_key.as_str()) {
                if record.fingerprint != fingerprint {
                    return Err(DomainError::IdempotencyConflict {
                        key: request.idempotency_key.as_str().to_owned(),
                    });
                }
                let order = s.order(record.order_id)?.clone();
                let payment = s
                    .payments
                    .values()
                    .find(|p| p.order_id == order.id)
                    .cloned()
                    .ok_or_else(|| DomainError::not_found("payment for order", order.id))?;
                return Ok(Checkout {
                    order,
                    payment,
                    replayed: true,
                });
            }

            let cart = s.cart(request.cart_id)?.clone();
            cart.ensure_open()?;
            let (customer, owner) = match &cart.owner {
                CartOwner::User(user) => (Customer::User(*user), Some(*user)),
                CartOwner::Guest(_) => {
                    let email = request
                        .guest_email
                        .clone()
                        .ok_or(DomainError::GuestEmailRequired)?;
                    (Customer::Guest(email), None)
                }
            };
            let shipping_address = s.snapshot_address(owner, &request.shipping)?;
            let billing_address = s.snapshot_address(owner, &request.billing)?;
            let products = cart
                .lines
                .iter()
                .map(|l| Ok((s.product(l.product_id)?, l.quantity)))
                .collect::<Result<Vec<_>, DomainError>>()?;
            let draft =
                self.rules
                    .pricing
                    .price(cart.currency, &products, shipping_address.country())?;

            ensure_in_stock(&products)?;
            for line in &draft.lines {
                s.product_mut(line.product_id)?.stock_on_hand -= line.quantity.get();
            }

            let now = Utc::now();
            let order = Order {
                id: s.next(),
                customer,
                cart_id: Some(cart.id),
                currency: cart.currency,
                lines: draft.order_lines(),
                totals: draft.totals,
                shipping_address,
                billing_address,
                status: OrderStatus::PendingPayment,
                payment_deadline: now + self.rules.payment_window,
                history: vec![StatusChange {
                    from: None,
                    to: OrderStatus::PendingPayment,
                    event: None,
                    note: None,
                    at: now,
                }],
                created_at: now,
            };
            let payment = Payment::new(
                s.next(),
                order.id,
                request.provider.clone(),
                draft.totals.grand_total,
            );
            s.orders.insert(order.id, order.clone());
            s.payments.insert(payment.id, payment.clone());
            if let Some(c) = s.carts.get_mut(&cart.id) {
                c.status = CartStatus::Converted;
            }
            s.idempotency.insert(
                request.idempotency_key.as_str().to_owned(),
                (
                    IdempotencyRecord {
                        fingerprint,
                        order_id: order.id,
                    },
                    now,
                ),
            );
            Ok(Checkout {
                order,
                payment,
                replayed: false,
            })
        })
    }

    fn expire_unpaid_orders(&self, now: DateTime<Utc>) -> Result<Vec<OrderId>, DomainError> {
        self.atomically(|s| {
            let due: Vec<OrderId> = s
                .orders
                .values()
                .filter(|o| o.status == OrderStatus::PendingPayment && o.payment_deadline < now)
                .map(|o| o.id)
                .collect();
            for id in &due {
                s.change_order(*id, OrderEvent::Expire, None, now)?;
                s.settle_payments(*id)?;
            }
            Ok(due)
        })
    }

    fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, DomainError> {
        self.atomically(|s| {
            let n = s.idempotency.len();
            s.idempotency.retain(|_, (_, created)| *created >= before);
            Ok((n - s.idempotency.len()) as u64)
        })
    }
}

impl OrderReader for MemoryStore {
    type Error = DomainError;

    fn order(&self, id: OrderId) -> Result<OrderDetails, DomainError> {
        self.read(|s| {
            let order = s.order(id)?.clone();
            let payments = s
                .payments
                .values()
                .filter(|p| p.order_id == id)
                .cloned()
                .collect();
            Ok(OrderDetails { order, payments })
        })
    }

    fn orders_of_user(
        &self,
        user: UserId,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, DomainError> {
        self.read(|s| {
            s.user(user)?;
            let mut orders: Vec<OrderSummary> = s
                .orders
                .values()
                .filter(|o| o.customer == Customer::User(user))
                .map(|o| s.summary(o))
                .filter(|o| page.after.is_none_or(|after| o.cursor() < after))
                .collect();
            orders.sort_by_key(|o| std::cmp::Reverse(o.cursor()));
            Ok(paginate(orders, page.clamped_limit()))
        })
    }

    fn orders_in_status(
        &self,
        status: OrderStatus,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, DomainError> {
        self.read(|s| {
            let mut orders: Vec<OrderSummary> = s
                .orders
                .values()
                .filter(|o| o.status == status)
                .map(|o| s.summary(o))
                .filter(|o| page.after.is_none_or(|after| o.cursor() > after))
                .collect();
            orders.sort_by_key(OrderSummary::cursor);
            Ok(paginate(orders, page.clamped_limit()))
        })
    }
}

impl OrderRepository for MemoryStore {
    fn transition(
        &self,
        id: OrderId,
        event: OrderEvent,
        note: Option<String>,
    ) -> Result<Order, DomainError> {
        if !matches!(
            event,
            OrderEvent::Ship | OrderEvent::Deliver | OrderEvent::Cancel
        ) {
            return Err(DomainError::NotAManualEvent(event));
        }
        self.atomically(|s| {
            s.change_order(id, event, note, Utc::now())?;
            if event == OrderEvent::Cancel {
                s.settle_payments(id)?;
            }
            Ok(s.order(id)?.clone())
        })
    }
}

fn paginate(items: Vec<OrderSummary>, limit: u32) -> Page<OrderSummary, OrderCursor> {
    Page::from_overfetch(items, limit as usize, OrderSummary::cursor)
}

impl PaymentRepository for MemoryStore {
    type Error = DomainError;

    fn record_payment_event(
        &self,
        payment_id: PaymentId,
        event: PaymentEvent,
    ) -> Result<PaymentOutcome, DomainError> {
        self.atomically(|s| {
            let mut payment = s.payment(payment_id)?.clone();
            let order = s.order(payment.order_id)?.clone();
            if payment.check(&event)? == Applied::Duplicate {
                return Ok(PaymentOutcome {
                    payment,
                    order_status: order.status,
                    applied: Applied::Duplicate,
                });
            }
            if !order_accepts(order.status, event.action.kind()) {
                return Err(DomainError::OrderNotPayable {
                    order_id: order.id,
                    status: order.status,
                });
            }
            if let crate::payment::PaymentAction::Authorize {
                provider_ref: Some(reference),
                ..
            } = &event.action
            {
                let taken = s.payments.values().any(|p| {
                    p.id != payment_id
                        && p.provider == payment.provider
                        && p.provider_ref.as_ref() == Some(reference)
                });
                if taken {
                    return Err(DomainError::AlreadyTaken {
                        what: Taken::ProviderRef,
                        value: reference.as_str().to_owned(),
                    });
                }
            }
            payment.apply(event)?;
            if let Some(order_event) = payment.order_event(order.status) {
                s.change_order(order.id, order_event, None, Utc::now())?;
            }
            s.payments.insert(payment_id, payment.clone());
            Ok(PaymentOutcome {
                payment,
                order_status: s.order(order.id)?.status,
                applied: Applied::Changed,
            })
        })
    }

    fn payment(&self, id: PaymentId) -> Result<Payment, DomainError> {
        self.read(|s| s.payment(id).cloned())
    }

    fn payment_by_provider_ref(
        &self,
        provider: &ProviderName,
        reference: &ProviderRef,
    ) -> Result<Payment, DomainError> {
        self.read(|s| {
            s.payments
                .values()
                .find(|p| p.provider == *provider && p.provider_ref.as_ref() == Some(reference))
                .cloned()
                .ok_or_else(|| DomainError::not_found("payment", reference.as_str()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::PersonName;

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
