//! The transactional outbox: every change of an order or a payment writes an event
//! row in the same transaction as the change, and a publisher drains them.
//!
//! ```no_run
//! # fn demo(store: &ecom_store::PgStore) -> Result<(), Box<dyn std::error::Error>> {
//! // In a loop, in as many workers as you like:
//! let published = store.publish_outbox(100, |events| {
//!     for event in events {
//!         println!("{} {} {}", event.event_type, event.aggregate_id, event.payload);
//!     }
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::schema::outbox_events;
use crate::{PgStore, StoreError, get_conn};

/// An event waiting to be published.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = outbox_events, check_for_backend(diesel::pg::Pg))]
pub struct OutboxEvent {
    /// Position in the outbox; increases with each event written.
    pub id: i64,
    /// `"order"` or `"payment"`.
    pub aggregate_type: String,
    /// The order's or payment's id.
    pub aggregate_id: i64,
    /// What happened, e.g. `"order.placed"`, `"payment.captured"`.
    pub event_type: String,
    /// The details, as JSON.
    pub payload: Value,
    /// When the change was committed.
    pub created_at: DateTime<Utc>,
}

/// Why publishing a batch failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError<E: std::error::Error + 'static> {
    /// Reading or marking the events failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The publish callback failed; the batch stays unpublished.
    #[error("publishing failed: {0}")]
    Publish(#[source] E),
}

/// Writes one event in the caller's transaction.
pub(crate) fn record(
    conn: &mut PgConnection,
    aggregate_type: &str,
    aggregate_id: i64,
    event_type: &str,
    payload: Value,
) -> Result<(), StoreError> {
    diesel::insert_into(outbox_events::table)
        .values((
            outbox_events::aggregate_type.eq(aggregate_type),
            outbox_events::aggregate_id.eq(aggregate_id),
            outbox_events::event_type.eq(event_type),
            outbox_events::payload.eq(payload),
        ))
        .execute(conn)?;
    Ok(())
}

impl PgStore {
    /// Takes up to `limit` unpublished events, oldest first, hands them to `publish`,
    /// and marks them published only if it returns `Ok`, all in one transaction.
    ///
    /// Rows are taken `FOR UPDATE SKIP LOCKED`: publishers running at once never get
    /// the same event, and an event whose publisher fails or dies before the commit is
    /// simply taken again later (at-least-once delivery; consumers dedupe by `id`).
    /// Returns how many events were published; 0 means the outbox is drained.
    pub fn publish_outbox<E: std::error::Error + 'static>(
        &self,
        limit: i64,
        publish: impl FnOnce(&[OutboxEvent]) -> Result<(), E>,
    ) -> Result<usize, PublishError<E>> {
        let mut conn = get_conn(self.pool())?;
        crate::pool::run_transaction(&mut conn, None, false, |conn| {
            let events = outbox_events::table
                .filter(outbox_events::published_at.is_null())
                .order(outbox_events::id)
                .limit(limit.max(1))
                .select(OutboxEvent::as_select())
                .for_update()
                .skip_locked()
                .load(conn)
                .map_err(StoreError::from)?;
            if events.is_empty() {
                return Ok(0);
            }
            publish(&events).map_err(PublishError::Publish)?;
            let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
            diesel::update(outbox_events::table.filter(outbox_events::id.eq_any(&ids)))
                .set(outbox_events::published_at.eq(diesel::dsl::now))
                .execute(conn)
                .map_err(StoreError::from)?;
            Ok(events.len())
        })
    }

    /// How many events wait to be published.
    pub fn outbox_backlog(&self) -> Result<i64, StoreError> {
        let mut conn = get_conn(self.pool())?;
        Ok(outbox_events::table
            .filter(outbox_events::published_at.is_null())
            .count()
            .get_result(&mut conn)?)
    }
}

impl<E: std::error::Error + 'static> From<diesel::result::Error> for PublishError<E> {
    fn from(err: diesel::result::Error) -> Self {
        PublishError::Store(err.into())
    }
}
