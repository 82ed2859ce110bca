//! What the tests of this binary share: SQL helpers, a shop with products, requests
//! and events, cheap password hashing, and a cluster that stops when dropped.

use std::borrow::Borrow;
use std::collections::HashMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use ecom_domain::prelude::*;
use ecom_domain::rules::StoreRules;
use ecom_store::dev::PrivateCluster;
use ecom_store::testing::TestDb;
use ecom_store::{PgStore, StoreConfig, StoreError, build_pool};

/// Runs one SQL statement, mapping a failure the way repositories will.
pub fn exec(conn: &mut PgConnection, statement: &str) -> Result<usize, StoreError> {
    Ok(diesel::sql_query(statement).execute(conn)?)
}

/// Runs SQL that the test's arrangement depends on.
#[track_caller]
pub fn setup(conn: &mut PgConnection, statement: &str) {
    if let Err(err) = exec(conn, statement) {
        panic!("setup failed: {statement}: {err}");
    }
}

/// `SELECT expr` as a number, e.g. `scalar(conn, "count(*) FROM orders")`.
#[track_caller]
pub fn scalar(conn: &mut PgConnection, expr: &str) -> i64 {
    diesel::select(sql::<BigInt>(expr))
        .get_result(conn)
        .unwrap_or_else(|err| panic!("SELECT {expr}: {err}"))
}

/// Every checkout idempotency key that produced an order, with that order's id.
pub fn orders_by_key(conn: &mut PgConnection) -> HashMap<String, i64> {
    #[derive(QueryableByName)]
    struct KeyOrder {
        #[diesel(sql_type = Text)]
        key: String,
        #[diesel(sql_type = BigInt)]
        order_id: i64,
    }
    diesel::sql_query("SELECT key, order_id FROM idempotency_keys WHERE order_id IS NOT NULL")
        .load::<KeyOrder>(conn)
        .unwrap()
        .into_iter()
        .map(|r| (r.key, r.order_id))
        .collect()
}

/// A root category named after its slug.
pub fn category(store: &PgStore, slug: &str) -> Category {
    store
        .create_category(NewCategory {
            parent_id: None,
            slug: Slug::parse(slug).unwrap(),
            name: CategoryName::parse(slug).unwrap(),
        })
        .unwrap()
}

/// A 20.00 EUR product with `stock` units.
pub fn product(store: &PgStore, category: CategoryId, sku: &str, stock: u32) -> Product {
    store
        .create_product(NewProduct {
            sku: Sku::parse(sku).unwrap(),
            name: ProductName::parse(&format!("Lamp {sku}")).unwrap(),
            description: Description::default(),
            category_id: category,
            price: Money::parse("20.00", Currency::EUR).unwrap(),
            stock_on_hand: stock,
        })
        .unwrap()
}

/// Argon2 at a cost that keeps the tests fast; production uses `HashCost::OWASP`.
pub const CHEAP: HashCost = HashCost {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

/// Rules for tests: the defaults with cheap password hashing.
pub fn rules() -> StoreRules {
    StoreRules {
        hash_cost: CHEAP,
        ..StoreRules::default()
    }
}

/// A store over `db` (which must outlive it).
pub fn pg_store(db: &TestDb) -> PgStore {
    PgStore::with_rules(db.pool().clone(), rules())
}

/// The domain error inside a store error; panics with the error otherwise.
#[track_caller]
pub fn domain(err: impl Borrow<StoreError>) -> DomainError {
    match err.borrow() {
        StoreError::Domain(err) => err.clone(),
        other => panic!("expected a domain error, got {other:?}"),
    }
}

/// A private cluster of a test's own, stopped when the test ends, however it ends.
pub struct StopOnDrop(pub PrivateCluster);

/// A private cluster of the test's own (`ecom-pg-<name>` beside the shared one),
/// started, and stopped when dropped. Always a private cluster, whatever
/// `DATABASE_URL` says: it is for tests that stop, restart or reconfigure their
/// server, which would break every other test on a shared one.
#[track_caller]
pub fn own_private_cluster(name: &str) -> StopOnDrop {
    let dir = PrivateCluster::default_dir().with_file_name(format!("ecom-pg-{name}"));
    StopOnDrop(
        PrivateCluster::ensure_at(&dir)
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", dir.display())),
    )
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // The test's pools are gone; their threads may still be opening connections.
        ecom_store::wait_for_opening_connections(std::time::Duration::from_secs(10));
        if let Err(err) = self.0.stop() {
            eprintln!("warning: {err}");
        }
    }
}

/// A test database with one category and products at the given stock levels.
pub struct Shop {
    pub db: TestDb,
    pub store: PgStore,
    pub products: Vec<ProductId>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl Shop {
    pub fn new(stocks: &[u32]) -> Shop {
        Self::with_pool_size(stocks, 5)
    }

    /// A shop whose store has a pool of `connections`.
    pub fn with_pool_size(stocks: &[u32], connections: u32) -> Shop {
        let db = TestDb::new();
        let mut conn = db.connect();
        setup(
            &mut conn,
            "INSERT INTO categories (slug, name) VALUES ('tools', 'Tools')",
        );
        let mut products = Vec::new();
        for (i, stock) in stocks.iter().enumerate() {
            let id: Id = diesel::sql_query(
                "INSERT INTO products (sku, name, category_id, price, currency, stock_on_hand) \
                 SELECT $1, $2, id, 10.00 + $3, 'EUR', $3 FROM categories RETURNING id",
            )
            .bind::<Text, _>(format!("TOOL-{i}"))
            .bind::<Text, _>(format!("Hammer {i}"))
            .bind::<diesel::sql_types::Integer, _>(*stock as i32)
            .get_result(&mut conn)
            .unwrap();
            products.push(ProductId::new(id.id));
        }
        let pool = build_pool(&StoreConfig {
            pool_max_size: connections,
            pool_min_idle: 0,
            ..StoreConfig::new(db.url())
        })
        .unwrap();
        let store = PgStore::with_rules(pool, rules());
        Shop {
            db,
            store,
            products,
        }
    }

    pub fn stock(&self, product: ProductId) -> i64 {
        self.count(&format!(
            "SELECT stock_on_hand::bigint AS n FROM products WHERE id = {}",
            product.get()
        ))
    }

    pub fn count(&self, sql: &str) -> i64 {
        diesel::sql_query(sql)
            .get_result::<Count>(&mut self.db.connect())
            .unwrap()
            .n
    }

    /// A guest cart with the given lines.
    pub fn cart(&self, guest: u32, lines: &[(usize, i64)]) -> CartId {
        let cart = self
            .store
            .open_cart(&guest_owner(guest), Currency::EUR)
            .unwrap();
        for (product, quantity) in lines {
            self.store
                .add_item(
                    cart.id,
                    self.products[*product],
                    Quantity::new(*quantity).unwrap(),
                )
                .unwrap();
        }
        cart.id
    }
}

pub fn guest_owner(n: u32) -> CartOwner {
    CartOwner::guest(&GuestToken::parse(&format!("guest-token-{n:010}")).unwrap())
}

pub fn address(city: &str) -> PostalAddress {
    PostalAddress::parse(&RawAddress {
        recipient: "Grace Hopper".into(),
        line1: "1 Navy Way".into(),
        city: city.into(),
        postal_code: "10115".into(),
        country: "DE".into(),
        ..RawAddress::default()
    })
    .unwrap()
}

pub fn request(cart: CartId, key: &str) -> CheckoutRequest {
    CheckoutRequest {
        cart_id: cart,
        shipping: AddressChoice::Given(address("Berlin")),
        billing: AddressChoice::Given(address("Berlin")),
        guest_email: Some(Email::parse("guest@example.com").unwrap()),
        provider: ProviderName::parse("test").unwrap(),
        idempotency_key: IdempotencyKey::parse(key).unwrap(),
    }
}

pub fn event(key: &str, action: PaymentAction) -> PaymentEvent {
    PaymentEvent {
        key: IdempotencyKey::parse(key).unwrap(),
        action,
    }
}
