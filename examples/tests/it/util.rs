//! What every test here shares: a store with cheap password hashes, on a database of
//! the test's own.

use ecom_domain::prelude::*;
use ecom_domain::rules::StoreRules;
use ecom_store::testing::TestDb;
use ecom_store::{PgPool, PgStore, StoreConfig, build_pool};

/// The flows put this in their names; any number will do on a fresh database.
pub const RUN: i64 = 1;

/// A store on `pool` whose password hashes cost next to nothing: registration is not
/// what these tests are about.
pub fn store_on(pool: PgPool) -> PgStore {
    let cheap = HashCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    PgStore::with_rules(
        pool,
        StoreRules {
            hash_cost: cheap,
            ..StoreRules::default()
        },
    )
}

/// A store on `db` with a pool of `connections`, for flows that need more than
/// [`TestDb::pool`]'s few.
pub fn store_with_pool(db: &TestDb, connections: u32) -> PgStore {
    let pool = build_pool(&StoreConfig {
        pool_max_size: connections,
        pool_min_idle: 0,
        ..StoreConfig::new(db.url())
    })
    .expect("a pool on the test database");
    store_on(pool)
}

/// `amount` euros, from a literal such as `"53.88"`.
pub fn eur(amount: &str) -> Money {
    Money::parse(amount, Currency::EUR).expect("a valid amount")
}
