//! Publishing the transactional outbox from the service: to the log, or POSTed to a
//! webhook URL (`OUTBOX_WEBHOOK_URL`) as JSON, signed the way the payment provider
//! signs its reports to the shop ([`ecom_domain::webhook`]: `Webhook-Signature:
//! t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`), so a receiver checks it
//! with the same `WebhookVerifier`.
//!
//! Delivery is at least once. Each batch is one POST of `{"events": [...]}`, oldest
//! first, inside the store's publishing transaction ([`PgStore::publish_outbox`]):
//! the events are marked published only when the receiver answers 2xx within the
//! timeout. Any other answer, a timeout or a refused connection rolls the batch
//! back, and the publisher tries it again after a backoff that doubles up to a cap,
//! so one instance hands events out in order. An acknowledged batch whose commit
//! then fails comes again: receivers dedupe by event `id`. Several instances
//! publish disjoint batches at once (`FOR UPDATE SKIP LOCKED`), so order holds
//! within a batch, not across instances.
//!
//! The POST runs while the batch's rows are locked and its connection is in a
//! transaction: keep the timeout well under the database's
//! `idle_in_transaction_session_timeout` (`ECOM_IDLE_IN_TRANSACTION_TIMEOUT_MS`, a
//! minute by default), or a slow receiver makes every batch come again.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ecom_domain::webhook::WebhookSecret;
use ecom_store::PgStore;
use ecom_store::outbox::{OutboxEvent, PublishError};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;
use utoipa::ToSchema;

use super::metrics::Metrics;
use super::provider::SIGNATURE_HEADER;

/// Events in one POST to a webhook: a body of tens of kilobytes.
const WEBHOOK_BATCH: i64 = 100;

/// Events written to the log in one transaction.
const LOG_BATCH: i64 = 500;

/// Where the outbox's events are POSTed, and how patiently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxWebhook {
    url: String,
    secret: WebhookSecret,
    /// A delivery not answered within this (connecting, sending, the answer's
    /// head) has failed.
    pub timeout: Duration,
    /// The wait after a first failed delivery; it doubles with each failure in a
    /// row.
    pub backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
}

/// Why an outbox webhook cannot be configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxConfigError {
    /// The URL is not `http://...` or `https://...`.
    #[error("the outbox webhook URL must begin with http:// or https://")]
    NotHttp,
}

impl OutboxWebhook {
    /// How long a delivery may take by default: ten seconds.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Deliveries to `url` signed with `secret`, with the default timeout and a
    /// backoff from one second to one minute.
    pub fn new(url: &str, secret: WebhookSecret) -> Result<Self, OutboxConfigError> {
        let url = url.trim();
        let scheme_ok = ["http://", "https://"].iter().any(|scheme| {
            url.get(..scheme.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
                && url.len() > scheme.len()
        });
        if !scheme_ok {
            return Err(OutboxConfigError::NotHttp);
        }
        Ok(Self {
            url: url.to_owned(),
            secret,
            timeout: Self::DEFAULT_TIMEOUT,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        })
    }

    /// The URL events are POSTed to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The wait after `failures` failed deliveries in a row.
    fn backoff_after(&self, failures: u32) -> Duration {
        let doubled = self
            .backoff
            .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1)));
        doubled.min(self.max_backoff)
    }
}

/// What the outbox webhook receives: a batch of events, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OutboxDelivery)]
pub struct OutboxDelivery {
    events: Vec<OutboxEventBody>,
}

/// An event of the outbox.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OutboxEvent)]
struct OutboxEventBody {
    /// Increases with each event written; a receiver dedupes by it, since a batch
    /// may come more than once.
    id: i64,
    /// What happened.
    #[serde(rename = "type")]
    #[schema(example = "order.placed")]
    event_type: String,
    /// `order` or `payment`.
    aggregate_type: String,
    /// The order's or payment's id.
    aggregate_id: i64,
    /// The details, which depend on the type.
    payload: Value,
    /// When the change was committed.
    created_at: DateTime<Utc>,
}

impl OutboxDelivery {
    fn new(events: &[OutboxEvent]) -> Self {
        Self {
            events: events
                .iter()
                .map(|e| OutboxEventBody {
                    id: e.id,
                    event_type: e.event_type.clone(),
                    aggregate_type: e.aggregate_type.clone(),
                    aggregate_id: e.aggregate_id,
                    payload: e.payload.clone(),
                    created_at: e.created_at,
                })
                .collect(),
        }
    }
}

/// Why a batch was not delivered; it stays in the outbox.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The receiver answered, but not 2xx.
    #[error("the receiver answered {0}")]
    Refused(u16),
    /// No answer: refused connection, timeout, broken connection...
    #[error("the receiver could not be reached: {0}")]
    Unreachable(#[source] ureq::Error),
    /// The batch could not be written as JSON.
    #[error("the batch could not be encoded: {0}")]
    Encode(#[source] serde_json::Error),
}

/// Where the publisher sends events.
enum Publisher {
    Log,
    Webhook {
        hook: OutboxWebhook,
        agent: ureq::Agent,
    },
}

impl Publisher {
    fn new(webhook: Option<OutboxWebhook>) -> Self {
        match webhook {
            None => Publisher::Log,
            Some(hook) => {
                let agent = ureq::Agent::config_builder()
                    .timeout_global(Some(hook.timeout))
                    .http_status_as_error(false)
                    // A signed delivery goes where it was configured to, or fails.
                    .max_redirects(0)
                    .user_agent("ecom-dms-outbox")
                    .build()
                    .into();
                Publisher::Webhook { hook, agent }
            }
        }
    }

    /// Publishes one batch; 0 when the outbox is empty. Blocking.
    fn publish_batch(
        &self,
        store: &PgStore,
        metrics: &Metrics,
    ) -> Result<usize, PublishError<DeliveryError>> {
        let limit = match self {
            Publisher::Log => LOG_BATCH,
            Publisher::Webhook { .. } => WEBHOOK_BATCH,
        };
        store.publish_outbox(limit, |events| {
            if let Some(oldest) = events.first() {
                metrics.outbox_lag(Utc::now() - oldest.created_at);
            }
            match self {
                Publisher::Log => {
                    log(events);
                    Ok(())
                }
                Publisher::Webhook { hook, agent } => deliver(agent, hook, events),
            }
        })
    }

    /// The wait after `failures` failed rounds in a row.
    fn backoff_after(&self, failures: u32, period: Duration) -> Duration {
        match self {
            Publisher::Log => period,
            Publisher::Webhook { hook, .. } => hook.backoff_after(failures),
        }
    }
}

fn log(events: &[OutboxEvent]) {
    for event in events {
        tracing::info!(
            target: "ecom::outbox",
            id = event.id,
            event_type = %event.event_type,
            aggregate_type = %event.aggregate_type,
            aggregate_id = event.aggregate_id,
            payload = %event.payload,
            "event"
        );
    }
}

/// POSTs `events` to the hook, signed; `Ok` only on a 2xx answer.
fn deliver(
    agent: &ureq::Agent,
    hook: &OutboxWebhook,
    events: &[OutboxEvent],
) -> Result<(), DeliveryError> {
    let body = serde_json::to_vec(&OutboxDelivery::new(events)).map_err(DeliveryError::Encode)?;
    let signature = hook.secret.sign(&body, Utc::now());
    let response = agent
        .post(&hook.url)
        .header("Content-Type", "application/json")
        .header(SIGNATURE_HEADER, &signature)
        .send(&body[..])
        .map_err(DeliveryError::Unreachable)?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(DeliveryError::Refused(status.as_u16()))
    }
}

/// Publishes the outbox until `stopped` turns true: every `period` while it keeps
/// up, after a growing backoff while deliveries fail. A batch in flight is finished
/// (its delivery is bounded by the webhook's timeout); a wait is cut short.
pub(super) async fn run(
    store: PgStore,
    metrics: Arc<Metrics>,
    webhook: Option<OutboxWebhook>,
    period: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let publisher = Arc::new(Publisher::new(webhook));
    let mut failures = 0u32;
    loop {
        let wait = match drain(&publisher, &store, &metrics, &stopped).await {
            Ok(()) => {
                failures = 0;
                period
            }
            Err(err) => {
                failures = failures.saturating_add(1);
                metrics.outbox_failed();
                let wait = publisher.backoff_after(failures, period);
                tracing::warn!(
                    error = %err,
                    failures,
                    retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "publishing the outbox failed; its events stay for the next attempt"
                );
                wait
            }
        };
        if *stopped.borrow() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stopped.changed() => return,
        }
    }
}

/// Publishes batches until the outbox is empty (or a stop is asked for).
async fn drain(
    publisher: &Arc<Publisher>,
    store: &PgStore,
    metrics: &Arc<Metrics>,
    stopped: &watch::Receiver<bool>,
) -> Result<(), String> {
    loop {
        let (publisher, store_, metrics_) = (publisher.clone(), store.clone(), metrics.clone());
        let published =
            tokio::task::spawn_blocking(move || publisher.publish_batch(&store_, &metrics_))
                .await
                .map_err(|err| format!("the outbox publisher panicked: {err}"))?
                .map_err(|err| err.to_string())?;
        metrics.outbox_published(published);
        if published == 0 {
            metrics.outbox_lag(chrono::Duration::zero());
            return Ok(());
        }
        if *stopped.borrow() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> WebhookSecret {
        WebhookSecret::parse("whsec_outbox-0123456789").unwrap()
    }

    #[test]
    fn only_http_urls_are_taken() {
        for url in [
            "http://127.0.0.1:9/events",
            "https://hooks.example.com/x",
            "HTTPS://a",
        ] {
            assert!(OutboxWebhook::new(url, secret()).is_ok(), "{url}");
        }
        for url in [
            "",
            "http://",
            "ftp://example.com",
            "example.com/hook",
            "file:///etc",
        ] {
            assert_eq!(
                OutboxWebhook::new(url, secret()),
                Err(OutboxConfigError::NotHttp),
                "{url}"
            );
        }
    }

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let hook = OutboxWebhook {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(700),
            ..OutboxWebhook::new("http://127.0.0.1:9/", secret()).unwrap()
        };
        let waits: Vec<u128> = (1..=6).map(|n| hook.backoff_after(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 700, 700, 700]);
        assert_eq!(hook.backoff_after(u32::MAX), Duration::from_millis(700));
    }
}
