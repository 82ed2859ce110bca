//! Starts the example HTTP service (see `service.rs` for the routes) on
//! `127.0.0.1:8080` (or `$PORT`), on the private database or `DATABASE_URL`.
//!
//! Run it with `cargo run -p ecom-examples --bin shop-service`.

use std::error::Error;

use ecom_store::{PgStore, StoreConfig, build_pool, migrate_pool};

fn main() -> Result<(), Box<dyn Error>> {
    let pool = build_pool(&StoreConfig::from_env_or_dev()?)?;
    migrate_pool(&pool)?;
    let store = PgStore::new(pool);
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening on http://{}", listener.local_addr()?);
        axum::serve(listener, ecom_examples::router(store)).await?;
        Ok(())
    })
}
