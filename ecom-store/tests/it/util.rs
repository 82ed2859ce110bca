//! What the tests of this binary share: SQL helpers, a shop with products, requests
//! and events, cheap password hashing, a cluster that stops when dropped, and the
//! route a test's stores take to PostgreSQL (directly, or through pgbouncer).

use std::borrow::Borrow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Duration;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use ecom_domain::prelude::*;
use ecom_domain::rules::StoreRules;
use ecom_store::dev::{PgBouncer, PrivateCluster};
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

/// A product without options: its one variant `sku` at 20.00 EUR with `stock` units.
pub fn product(store: &PgStore, category: CategoryId, sku: &str, stock: u32) -> Product {
    store
        .create_product(NewProduct::single(
            Slug::parse(&sku.to_lowercase()).unwrap(),
            ProductName::parse(&format!("Lamp {sku}")).unwrap(),
            category,
            Sku::parse(sku).unwrap(),
            Money::parse("20.00", Currency::EUR).unwrap(),
            stock,
        ))
        .unwrap()
}

/// The one variant of a product without options.
pub fn only(product: &Product) -> VariantId {
    assert_eq!(product.variants.len(), 1, "{product:?}");
    product.variants[0].id
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

/// A store over `db` (which must outlive it), on the test's [`Route`].
pub fn pg_store(db: &TestDb) -> PgStore {
    match ROUTE.get() {
        Route::Direct => PgStore::with_rules(db.pool().clone(), rules()),
        Route::Pgbouncer => {
            // As TestDb::pool, through pgbouncer.
            let config = StoreConfig {
                pool_max_size: 5,
                pool_min_idle: 0,
                connection_timeout: Duration::from_secs(10),
                application_name: "ecom-store-test".into(),
                ..StoreConfig::new(db.url())
            };
            PgStore::with_rules(build_pool(&on_route(db, config)).unwrap(), rules())
        }
    }
}

/// How the stores a test makes with [`pg_store`] and [`Shop`] reach PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Straight to the server, with diesel's statement cache: the default.
    Direct,
    /// Through a pgbouncer in transaction mode of the test's own, with
    /// `transaction_pooling` on (`ECOM_TRANSACTION_POOLING=1`).
    Pgbouncer,
}

/// Server connections of the tests' pgbouncers, per database and user: fewer than
/// most tests' clients, so that clients do take turns on server connections.
pub const PGBOUNCER_POOL_SIZE: u32 = 3;

thread_local! {
    static ROUTE: Cell<Route> = const { Cell::new(Route::Direct) };
    /// The pgbouncers started for the running test, stopped when it ends.
    static BOUNCERS: RefCell<Vec<PgBouncer>> = const { RefCell::new(Vec::new()) };
}

/// `config` (for `db`, direct) on the test's route: through a new pgbouncer in front
/// of `db`'s server, with `transaction_pooling` on, when the route is
/// [`Route::Pgbouncer`].
pub fn on_route(db: &TestDb, config: StoreConfig) -> StoreConfig {
    match ROUTE.get() {
        Route::Direct => config,
        Route::Pgbouncer => {
            let bouncer = db
                .start_pgbouncer(PGBOUNCER_POOL_SIZE)
                .unwrap_or_else(|err| panic!("cannot start pgbouncer: {err}"));
            let url = db.url_through(&bouncer);
            BOUNCERS.with_borrow_mut(|bouncers| bouncers.push(bouncer));
            StoreConfig {
                database_url: url,
                transaction_pooling: true,
                ..config
            }
        }
    }
}

/// Runs `test` with its stores on [`Route::Pgbouncer`]; its pgbouncers stop when it
/// returns or panics.
pub fn run_through_pgbouncer(test: fn()) {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            ROUTE.set(Route::Direct);
            // The test's pools are gone; let their threads finish opening connections
            // before their pgbouncer goes away.
            ecom_store::wait_for_opening_connections(Duration::from_secs(10));
            drop(BOUNCERS.take());
        }
    }
    ROUTE.set(Route::Pgbouncer);
    let _reset = Reset;
    test();
    assert!(
        BOUNCERS.with_borrow(|bouncers| !bouncers.is_empty()),
        "the test made no store through pgbouncer: build its stores with pg_store or Shop"
    );
}

/// Defines, for each test named, a test of the same name that runs it through
/// pgbouncer ([`run_through_pgbouncer`]), plus `NAMES`, the list of them. Use it in a
/// `through_pgbouncer` module inside the tests' module:
///
/// ```ignore
/// mod through_pgbouncer {
///     crate::util::through_pgbouncer![checkout_never_oversells, ...];
/// }
/// ```
macro_rules! through_pgbouncer {
    ($($test:ident),+ $(,)?) => {
        /// The tests of the parent module that also run through pgbouncer.
        pub const NAMES: &[&str] = &[$(stringify!($test)),+];
        $(
            #[test]
            fn $test() {
                $crate::util::run_through_pgbouncer(super::$test);
            }
        )+
    };
}
pub(crate) use through_pgbouncer;

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
    /// The one variant of each product, in the order of the stock levels.
    pub products: Vec<VariantId>,
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
                "WITH p AS ( \
                   INSERT INTO products (slug, name, category_id) \
                   SELECT lower($1), $2, id FROM categories RETURNING id \
                 ) \
                 INSERT INTO product_variants (product_id, sku, price, currency, stock_on_hand) \
                 SELECT p.id, $1, 10.00 + $3, 'EUR', $3 FROM p RETURNING id",
            )
            .bind::<Text, _>(format!("TOOL-{i}"))
            .bind::<Text, _>(format!("Hammer {i}"))
            .bind::<diesel::sql_types::Integer, _>(*stock as i32)
            .get_result(&mut conn)
            .unwrap();
            products.push(VariantId::new(id.id));
        }
        let config = StoreConfig {
            pool_max_size: connections,
            pool_min_idle: 0,
            ..StoreConfig::new(db.url())
        };
        let pool = build_pool(&on_route(&db, config)).unwrap();
        let store = PgStore::with_rules(pool, rules());
        Shop {
            db,
            store,
            products,
        }
    }

    pub fn stock(&self, variant: VariantId) -> i64 {
        self.count(&format!(
            "SELECT stock_on_hand::bigint AS n FROM product_variants WHERE id = {}",
            variant.get()
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
        shipping_method: None,
        coupon_codes: vec![],
        gift_cards: vec![],
        idempotency_key: IdempotencyKey::parse(key).unwrap(),
    }
}

pub fn event(key: &str, action: PaymentAction) -> PaymentEvent {
    PaymentEvent {
        key: IdempotencyKey::parse(key).unwrap(),
        action,
    }
}

/// Runs `contender(i)` for `i` in `0..n` on `n` threads released together; returns
/// their outcomes in thread order.
pub fn all_at_once<T: Send>(n: usize, contender: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let start = std::sync::Barrier::new(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (start, contender) = (&start, &contender);
                scope.spawn(move || {
                    start.wait();
                    contender(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}
