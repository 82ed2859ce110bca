//! What every handler shares: the store, the bounds on work a client can cause, and
//! the metrics.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use ecom_domain::webhook::{WebhookSecret, WebhookVerifier};
use ecom_store::PgStore;
use governor::clock::QuantaInstant;
use governor::middleware::NoOpMiddleware;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::PeerIpKeyExtractor;

use super::admin::AdminToken;
use super::error::ApiError;
use super::metrics::Metrics;
use super::outbox::OutboxWebhook;

/// The service's bounds. [`ServiceConfig::for_store`] sizes them to the store's pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// A request not answered within this is answered 503.
    pub request_timeout: Duration,
    /// Store calls running at once. No more than the pool's connections, so no call
    /// waits for a connection.
    pub max_store_calls: usize,
    /// How long a request waits for a store call or a password hash to be free: a
    /// short, bounded queue that rides out bursts. Past it the answer is 503 with
    /// `Retry-After`, never an unbounded queue.
    pub queue_wait: Duration,
    /// Password hashes computed at once (each takes the hash's memory, 19 MiB by
    /// default); a registration over the bound is answered 503 with `Retry-After`.
    pub max_password_hashes: usize,
    /// Registrations, sign-ins, checkouts and gift card balance checks one client
    /// address may start per minute, beyond its burst.
    pub guarded_per_minute: u32,
    /// How many guarded requests a client address may make at once before the rate
    /// applies.
    pub guarded_burst: u32,
    /// The secrets the payment provider signs its webhooks with: the current one,
    /// and the previous one while a rotation is under way. None: webhooks are
    /// refused (503), so no payment moves.
    pub webhook_secrets: Vec<WebhookSecret>,
    /// The back office's token (`/admin`); none: the back office is closed (503).
    pub admin_token: Option<AdminToken>,
    /// Where the outbox's events are POSTed; none: they are written to the log.
    pub outbox_webhook: Option<OutboxWebhook>,
}

impl ServiceConfig {
    /// Bounds for a store: as many store calls as the pool has connections, two
    /// password hashes, 30 guarded requests a minute per client after a burst of 10,
    /// ten seconds per request.
    pub fn for_store(store: &PgStore) -> Self {
        let connections = usize::try_from(store.pool().max_size()).unwrap_or(usize::MAX);
        Self {
            request_timeout: Duration::from_secs(10),
            max_store_calls: connections.max(1),
            queue_wait: Duration::from_secs(2),
            max_password_hashes: 2,
            guarded_per_minute: 30,
            guarded_burst: 10,
            webhook_secrets: Vec::new(),
            admin_token: None,
            outbox_webhook: None,
        }
    }
}

/// The handlers' state.
#[derive(Clone)]
pub struct App {
    pub(super) store: PgStore,
    pub(super) config: ServiceConfig,
    store_calls: Arc<Semaphore>,
    password_hashes: Arc<Semaphore>,
    pub(super) metrics: Arc<Metrics>,
    /// Checks the provider's webhook signatures, when secrets are configured.
    pub(super) webhooks: Option<WebhookVerifier>,
    /// The per-address rate limit on registrations and checkouts.
    pub(super) guarded:
        Option<Arc<GovernorConfig<PeerIpKeyExtractor, NoOpMiddleware<QuantaInstant>>>>,
}

impl App {
    /// The service over `store` with `config`'s bounds.
    pub fn new(store: PgStore, config: ServiceConfig) -> Self {
        // A burst, then one request every `60 s / guarded_per_minute`.
        let every_ms = (60_000 / u64::from(config.guarded_per_minute.max(1))).max(1);
        let guarded = GovernorConfigBuilder::default()
            .per_millisecond(every_ms)
            .burst_size(config.guarded_burst.max(1))
            .key_extractor(PeerIpKeyExtractor)
            .finish()
            .map(Arc::new);
        Self {
            webhooks: WebhookVerifier::new(config.webhook_secrets.clone()).ok(),
            guarded,
            store_calls: Arc::new(Semaphore::new(config.max_store_calls)),
            password_hashes: Arc::new(Semaphore::new(config.max_password_hashes)),
            metrics: Arc::new(Metrics::new()),
            store,
            config,
        }
    }

    /// The store the service runs on.
    pub fn store(&self) -> &PgStore {
        &self.store
    }

    /// Runs a blocking store call off the async runtime, if one of the store-call
    /// permits is free. The permit goes with the call: a request that times out does
    /// not free it while its call still holds a connection.
    pub(super) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&PgStore) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = self.permit(&self.store_calls, "store_calls").await?;
        self.spawn(vec![permit], f).await
    }

    /// Like [`App::blocking`], for a call that computes a password hash: it also
    /// takes one of the hashing permits, which bound the memory hashing uses.
    pub(super) async fn hashing<T: Send + 'static>(
        &self,
        f: impl FnOnce(&PgStore) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let hash = self
            .permit(&self.password_hashes, "password_hashes")
            .await?;
        let call = self.permit(&self.store_calls, "store_calls").await?;
        self.metrics.hashing_started(
            self.config.max_password_hashes - self.password_hashes.available_permits(),
        );
        self.spawn(vec![hash, call], f).await
    }

    /// One of `permits`, waiting at most the queue wait for it.
    async fn permit(
        &self,
        permits: &Arc<Semaphore>,
        bound: &'static str,
    ) -> Result<OwnedSemaphorePermit, ApiError> {
        let waited = tokio::time::timeout(self.config.queue_wait, permits.clone().acquire_owned());
        if let Ok(Ok(permit)) = waited.await {
            return Ok(permit);
        }
        // Timed out (or the semaphore was closed, which it never is).
        self.metrics.rejected(bound);
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "the service is at capacity; retry shortly",
        )
        .retry_after(1))
    }

    async fn spawn<T: Send + 'static>(
        &self,
        permits: Vec<OwnedSemaphorePermit>,
        f: impl FnOnce(&PgStore) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let _permits = permits;
            f(&store)
        })
        .await
        .map_err(|err| {
            // A panic in a store call: the client gets a bare 500, the log says why.
            tracing::error!(error = %err, "store call failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "worker failed",
            )
        })?
    }
}
