//! The service's work between requests: expiring unpaid orders (so abandoned
//! checkouts give their stock back), forgetting idempotency keys past their
//! retention, publishing the outbox (to the log or a webhook, see [`super::outbox`]),
//! and forgetting idle rate-limit buckets. Each runs on an interval until shutdown;
//! a failed round is logged and the next one tries again.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use ecom_domain::repo::CheckoutRepository;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::app::App;
use super::outbox;

/// How often each piece of background work runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intervals {
    /// Expiring orders past their payment deadline.
    pub expiry: Duration,
    /// Forgetting idempotency keys past their retention.
    pub purge: Duration,
    /// Publishing the outbox, when the last round found it empty. (After a failed
    /// delivery to a webhook, the webhook's backoff applies instead.)
    pub outbox: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Self {
            expiry: Duration::from_secs(30),
            purge: Duration::from_secs(3600),
            outbox: Duration::from_secs(1),
        }
    }
}

/// The background work, running until [`Background::stop`].
pub struct Background {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Background {
    /// Starts every piece of background work for `app` on the current runtime.
    pub fn start(app: &App, intervals: Intervals) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let store = app.store.clone();
        let metrics = app.metrics.clone();
        every(&mut tasks, &stopped, intervals.expiry, move || {
            let (store, metrics) = (store.clone(), metrics.clone());
            async move {
                match blocking(move || store.expire_unpaid_orders(Utc::now())).await {
                    Ok(expired) => {
                        metrics.swept(expired.len());
                        if !expired.is_empty() {
                            tracing::info!(count = expired.len(), "expired unpaid orders");
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "expiring unpaid orders failed"),
                }
            }
        });
        let store = app.store.clone();
        every(&mut tasks, &stopped, intervals.purge, move || {
            let store = store.clone();
            async move {
                match blocking(move || store.purge_idempotency_keys(Utc::now())).await {
                    Ok(0) => {}
                    Ok(count) => tracing::info!(count, "forgot expired idempotency keys"),
                    Err(err) => tracing::warn!(error = %err, "purging idempotency keys failed"),
                }
            }
        });
        tasks.spawn(outbox::run(
            app.store.clone(),
            app.metrics.clone(),
            app.config.outbox_webhook.clone(),
            intervals.outbox,
            stopped.clone(),
        ));
        if let Some(guarded) = app.guarded.clone() {
            // A bucket that has refilled holds nothing worth keeping.
            every(&mut tasks, &stopped, Duration::from_secs(60), move || {
                guarded.limiter().retain_recent();
                std::future::ready(())
            });
        }
        Self { stop, tasks }
    }

    /// Stops the work and waits for rounds in progress to finish.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Runs `round` every `period` until `stopped` turns true; a round in progress is
/// finished, never cut.
fn every<F, Fut>(
    tasks: &mut JoinSet<()>,
    stopped: &watch::Receiver<bool>,
    period: Duration,
    mut round: F,
) where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let mut stopped = stopped.clone();
    tasks.spawn(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => round().await,
                _ = stopped.changed() => return,
            }
        }
    });
}

/// Runs blocking store work off the runtime; a panic in it is logged as an error.
async fn blocking<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(|err| err.to_string()),
        Err(err) => Err(format!("background work panicked: {err}")),
    }
}
