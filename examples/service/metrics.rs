//! Prometheus metrics at `GET /metrics`, and the liveness and readiness probes.
//!
//! | metric | what it counts |
//! |---|---|
//! | `http_requests_total{method,route,status}` | answers, by route template (`/carts/{id}`), never by raw path |
//! | `http_request_duration_seconds{method,route}` | time to answer |
//! | `service_rejected_total{bound}` | requests refused by a bound: `store_calls`, `password_hashes`, `rate`, `timeout` |
//! | `password_hashes_in_flight_max` | the most password hashes seen running at once |
//! | `checkout_outcomes_total{outcome}` | `created`, `replayed`, `out_of_stock`, `refused`, `failed` |
//! | `db_pool_connections{state}` | the pool's `idle` and `in_use` connections, read at each scrape |
//! | `orders_expired_total` | unpaid orders the sweeper expired |
//! | `sweeper_last_success_timestamp_seconds` | when the sweeper last finished a round |
//! | `outbox_lag_seconds` | age of the oldest event waiting to be published, as the publisher last saw it (0 once the outbox is empty) |
//! | `outbox_events_published_total` | events published (to the log or acknowledged by the webhook) |
//! | `outbox_failures_total` | publishing rounds that failed (the webhook refused or did not answer, or the database failed); their events wait for the next attempt |

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::app::App;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BoundLabels {
    bound: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

/// The service's metrics, registered once.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    rejected: Family<BoundLabels, Counter>,
    hashes_max: Gauge,
    hashes_seen: AtomicI64,
    checkouts: Family<OutcomeLabels, Counter>,
    pool: Family<PoolLabels, Gauge>,
    expired: Counter,
    swept_at: Gauge,
    outbox_lag: Gauge<f64, AtomicU64>,
    outbox_published: Counter,
    outbox_failures: Counter,
    /// Encoding is rare and quick; one at a time keeps the pool gauges consistent.
    scrape: Mutex<()>,
}

impl Metrics {
    pub(super) fn new() -> Self {
        let mut metrics = Self {
            registry: Registry::default(),
            requests: Family::default(),
            // 1 ms to about 8 s.
            latency: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.001, 2.0, 14))
            }),
            rejected: Family::default(),
            hashes_max: Gauge::default(),
            hashes_seen: AtomicI64::new(0),
            checkouts: Family::default(),
            pool: Family::default(),
            expired: Counter::default(),
            swept_at: Gauge::default(),
            outbox_lag: Gauge::default(),
            outbox_published: Counter::default(),
            outbox_failures: Counter::default(),
            scrape: Mutex::new(()),
        };
        // The order of registration is the order of `GET /metrics`.
        metrics.register_requests();
        metrics.register_sweeper();
        metrics.register_outbox();
        metrics
    }

    /// The metrics of the requests: answers, their time, refusals, password hashes,
    /// checkouts, and the pool they draw on.
    fn register_requests(&mut self) {
        let registry = &mut self.registry;
        registry.register("http_requests", "HTTP answers", self.requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer",
            self.latency.clone(),
        );
        registry.register(
            "service_rejected",
            "Requests refused by a bound",
            self.rejected.clone(),
        );
        registry.register(
            "password_hashes_in_flight_max",
            "The most password hashes seen running at once",
            self.hashes_max.clone(),
        );
        registry.register(
            "checkout_outcomes",
            "Checkouts by outcome",
            self.checkouts.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections",
            self.pool.clone(),
        );
    }

    /// The sweeper's metrics: orders expired, and when it last finished.
    fn register_sweeper(&mut self) {
        let registry = &mut self.registry;
        registry.register(
            "orders_expired",
            "Unpaid orders the sweeper expired",
            self.expired.clone(),
        );
        registry.register(
            "sweeper_last_success_timestamp_seconds",
            "When the sweeper last finished a round",
            self.swept_at.clone(),
        );
    }

    /// The outbox publisher's metrics: lag, events published, failed rounds.
    fn register_outbox(&mut self) {
        let registry = &mut self.registry;
        registry.register(
            "outbox_lag_seconds",
            "Age of the oldest event waiting to be published, as last seen",
            self.outbox_lag.clone(),
        );
        registry.register(
            "outbox_events_published",
            "Outbox events published",
            self.outbox_published.clone(),
        );
        registry.register(
            "outbox_failures",
            "Outbox publishing rounds that failed",
            self.outbox_failures.clone(),
        );
    }

    /// Counts a request refused by `bound`.
    pub(super) fn rejected(&self, bound: &'static str) {
        self.rejected.get_or_create(&BoundLabels { bound }).inc();
    }

    /// Notes that `running` password hashes are running now.
    pub(super) fn hashing_started(&self, running: usize) {
        let running = i64::try_from(running).unwrap_or(i64::MAX);
        let max = self
            .hashes_seen
            .fetch_max(running, Ordering::Relaxed)
            .max(running);
        self.hashes_max.set(max);
    }

    /// Notes a finished sweep that expired `count` orders.
    pub(super) fn swept(&self, count: usize) {
        self.expired
            .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
        self.swept_at.set(chrono::Utc::now().timestamp());
    }

    /// Notes the age of the oldest event waiting to be published.
    pub(super) fn outbox_lag(&self, age: chrono::Duration) {
        let age = age.to_std().unwrap_or_default();
        self.outbox_lag.set(age.as_secs_f64());
    }

    /// Counts `count` events published.
    pub(super) fn outbox_published(&self, count: usize) {
        self.outbox_published
            .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
    }

    /// Counts a publishing round that failed.
    pub(super) fn outbox_failed(&self) {
        self.outbox_failures.inc();
    }

    /// Counts a checkout's outcome.
    pub(super) fn checkout(&self, outcome: &'static str) {
        self.checkouts
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    fn encode(&self, app: &App) -> Result<String, std::fmt::Error> {
        let _one = self.scrape.lock().unwrap_or_else(|e| e.into_inner());
        let state = app.store.pool().state();
        let idle = i64::from(state.idle_connections);
        let all = i64::from(state.connections);
        self.pool
            .get_or_create(&PoolLabels { state: "idle" })
            .set(idle);
        self.pool
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(all - idle);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Counts and times every answer by its route template.
pub(super) async fn track(State(app): State<App>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let metrics = &app.metrics;
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status,
        })
        .inc();
    response
}

/// The service's metrics, in the OpenMetrics text format Prometheus scrapes.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Counters, gauges and histograms (see `examples/service/metrics.rs`)",
            body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
    )
)]
pub(super) async fn metrics(State(app): State<App>) -> Response {
    match app.metrics.encode(&app) {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "operations",
    responses((status = 204, description = "The process answers"))
)]
pub(super) async fn live() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// Readiness: the database answers, within the request timeout.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "operations",
    responses(
        (status = 204, description = "The database answers"),
        (status = 503, response = super::openapi::Unavailable),
    )
)]
pub(super) async fn ready(State(app): State<App>) -> Response {
    let answered = app.blocking(|store| Ok(store.ping()?)).await;
    match answered {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => err.into_response(),
    }
}
