//! Starts the example HTTP service (see `service/mod.rs` for the routes) on
//! `127.0.0.1:8080` (or `$PORT`), on the private database or `DATABASE_URL`, as the
//! application role, which may change no schema. It does not migrate: it checks that
//! every migration it was built with is applied and refuses to start otherwise.
//! `shop-service migrate` applies them, as the owner of the schema
//! (`DATABASE_MIGRATION_URL`; on the private database, its owner), and exits: run it
//! first, from one place (a deployment job), then start the instances.
//! Logs, the service's and the store's, go to stderr at `info` and above, or at the
//! bare level in `RUST_LOG` (`RUST_LOG=debug` shows every connection opened), as
//! JSON lines when `LOG_FORMAT=json`. SIGTERM or Ctrl-C stops it gracefully:
//! requests in flight finish, then the background work.
//!
//! Run it with `cargo run -p ecom-examples --bin shop-service -- migrate`, then
//! `cargo run -p ecom-examples --bin shop-service`.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use ecom_examples::service::{App, Intervals, ServiceConfig, serve, shutdown_signal};
use ecom_store::{PgStore, StoreConfig, build_pool, check_schema, migrate_database};
use tracing::level_filters::LevelFilter;

fn main() -> ExitCode {
    let outcome = run();
    // The pools are dropped; let their threads finish opening connections first.
    ecom_store::wait_for_opening_connections(Duration::from_secs(10));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Display, not the Debug that returning the error from main prints: an
            // operator reads this when the service refuses to start.
            eprintln!("shop-service: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    // One level for everything rather than per-module directives: that would take
    // tracing-subscriber's env-filter feature and its regex engine, for an example.
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let logs = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").is_ok_and(|format| format == "json") {
        logs.json().init();
    } else {
        logs.init();
    }
    let config = StoreConfig::from_env_or_dev()?;
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("migrate") => {
            let applied = migrate_database(&config)?;
            if applied.is_empty() {
                tracing::info!("the schema is up to date");
            }
            for version in applied {
                tracing::info!("applied migration {version}");
            }
            return Ok(());
        }
        Some(other) => return Err(format!("unknown command {other:?}; expected migrate").into()),
    }
    let pool = build_pool(&config)?;
    // Never migrates: the application role may not, and instances starting together
    // must not race a schema change. A stale schema stops the start with a clear error.
    check_schema(&pool)?;
    let store = PgStore::new(pool);
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        tracing::info!("listening on http://{}", listener.local_addr()?);
        let config = ServiceConfig::for_store(&store);
        let app = App::new(store, config);
        serve(listener, app, Intervals::default(), shutdown_signal()).await?;
        Ok(())
    })
}
