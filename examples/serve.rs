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
//! Secrets come from the environment, never from a file in the repository:
//! `PAYMENT_WEBHOOK_SECRETS` (the provider's webhook secrets, comma-separated, the
//! current one first; without it no payment report is believed) and `ADMIN_TOKEN`
//! (the back office's token, 32 characters or more; without it `/admin` is closed).
//! `OUTBOX_WEBHOOK_URL` sends the outbox's events there as signed JSON POSTs,
//! signed with `OUTBOX_WEBHOOK_SECRET` (required with it), each answered within
//! `OUTBOX_WEBHOOK_TIMEOUT_MS` (10 s); without it they are written to the log.
//!
//! Run it with `cargo run -p ecom-examples --bin shop-service -- migrate`, then
//! `cargo run -p ecom-examples --bin shop-service`.
//! `shop-service openapi` prints the service's OpenAPI document (what it serves at
//! `/openapi.json`) and exits, without a database: `docs/openapi.json` is made by it.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use ecom_domain::webhook::WebhookSecret;
use ecom_examples::service::{
    AdminToken, App, Intervals, OutboxWebhook, ServiceConfig, serve, shutdown_signal,
};
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
    if std::env::args().nth(1).as_deref() == Some("openapi") {
        print!("{}", ecom_examples::service::openapi::openapi_json());
        return Ok(());
    }
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
        Some(other) => {
            return Err(format!("unknown command {other:?}; expected migrate or openapi").into());
        }
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
    // Every setting is checked before the service listens: one that is wrong stops
    // the start, with its name, rather than a service that says it is up.
    let config = ServiceConfig {
        webhook_secrets: webhook_secrets()?,
        admin_token: admin_token()?,
        outbox_webhook: outbox_webhook()?,
        ..ServiceConfig::for_store(&store)
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        tracing::info!("listening on http://{}", listener.local_addr()?);
        let app = App::new(store, config);
        serve(listener, app, Intervals::default(), shutdown_signal()).await?;
        Ok(())
    })
}

/// `PAYMENT_WEBHOOK_SECRETS`: comma-separated, the current secret first.
fn webhook_secrets() -> Result<Vec<WebhookSecret>, Box<dyn Error>> {
    let Ok(raw) = std::env::var("PAYMENT_WEBHOOK_SECRETS") else {
        tracing::warn!("PAYMENT_WEBHOOK_SECRETS is not set: payment reports are refused");
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(|secret| {
            WebhookSecret::parse(secret.trim())
                .map_err(|e| format!("PAYMENT_WEBHOOK_SECRETS: {e}").into())
        })
        .collect()
}

/// `OUTBOX_WEBHOOK_URL`, with `OUTBOX_WEBHOOK_SECRET` and
/// `OUTBOX_WEBHOOK_TIMEOUT_MS`: where the outbox's events go, if not to the log.
fn outbox_webhook() -> Result<Option<OutboxWebhook>, Box<dyn Error>> {
    let Ok(url) = std::env::var("OUTBOX_WEBHOOK_URL") else {
        return Ok(None);
    };
    let secret = std::env::var("OUTBOX_WEBHOOK_SECRET")
        .map_err(|_| "OUTBOX_WEBHOOK_URL needs OUTBOX_WEBHOOK_SECRET to sign with")?;
    let secret =
        WebhookSecret::parse(secret.trim()).map_err(|e| format!("OUTBOX_WEBHOOK_SECRET: {e}"))?;
    let mut hook =
        OutboxWebhook::new(&url, secret).map_err(|e| format!("OUTBOX_WEBHOOK_URL: {e}"))?;
    if let Ok(ms) = std::env::var("OUTBOX_WEBHOOK_TIMEOUT_MS") {
        let ms: u64 = ms
            .trim()
            .parse()
            .ok()
            .filter(|ms| *ms > 0)
            .ok_or("OUTBOX_WEBHOOK_TIMEOUT_MS must be a positive number of milliseconds")?;
        hook.timeout = Duration::from_millis(ms);
    }
    // The URL may carry a token in its query; the log shows where, not how.
    tracing::info!(
        host = hook
            .url()
            .split('/')
            .nth(2)
            .and_then(|authority| authority.rsplit('@').next())
            .unwrap_or_default(),
        timeout_ms = u64::try_from(hook.timeout.as_millis()).unwrap_or(u64::MAX),
        "the outbox is published to a webhook"
    );
    Ok(Some(hook))
}

/// `ADMIN_TOKEN`: the back office's token.
fn admin_token() -> Result<Option<AdminToken>, Box<dyn Error>> {
    match std::env::var("ADMIN_TOKEN") {
        Err(_) => {
            tracing::warn!("ADMIN_TOKEN is not set: the back office (/admin) is closed");
            Ok(None)
        }
        Ok(raw) => AdminToken::parse(raw.trim()).map(Some).ok_or_else(|| {
            format!(
                "ADMIN_TOKEN must have at least {} characters",
                ecom_examples::service::admin::MIN_ADMIN_TOKEN_LEN
            )
            .into()
        }),
    }
}
