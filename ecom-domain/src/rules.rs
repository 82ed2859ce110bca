//! The business rules a store runs with, shared by every implementation.

use chrono::Duration;

use crate::password::HashCost;
use std::sync::Arc;

use crate::gift_card::RefundPriority;
use crate::inventory::ReservationStrategy;
use crate::pricing::{Pricing, TaxRates};

/// How long a placed order waits for its payment before it expires, by default.
pub const DEFAULT_PAYMENT_WINDOW: Duration = Duration::minutes(30);

/// How long a checkout's idempotency key is kept: a retry within this window replays
/// the first order; after it, `purge_idempotency_keys` may forget the key.
pub const IDEMPOTENCY_RETENTION: Duration = Duration::hours(24);

/// How long a session (a login's, or a guest's) lasts, by default.
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::days(30);

/// Settings of a store that are business rules rather than data.
#[derive(Debug, Clone)]
pub struct StoreRules {
    /// Tax and shipping of a checkout that names no shipping method: flat rules
    /// for a shop without a price book.
    pub pricing: Pricing,
    /// The tax rates of a checkout priced from the price book (one that names a
    /// shipping method): `None`, the default, reads the shop's tax rate tables;
    /// a service that asks an external tax engine sets its own.
    pub tax_rates: Option<Arc<dyn TaxRates>>,
    /// Cost of password hashes made at registration and password change.
    pub hash_cost: HashCost,
    /// How long a placed order may stay unpaid.
    pub payment_window: Duration,
    /// How long a session lasts from its start.
    pub session_lifetime: Duration,
    /// Where a refund of an order goes first when it was paid by gift card and
    /// by the provider.
    pub refund_priority: RefundPriority,
    /// Which locations checkout reserves the units of variants kept at locations.
    pub reservation: ReservationStrategy,
}

impl Default for StoreRules {
    fn default() -> Self {
        Self {
            pricing: Pricing::default(),
            tax_rates: None,
            hash_cost: HashCost::OWASP,
            payment_window: DEFAULT_PAYMENT_WINDOW,
            session_lifetime: DEFAULT_SESSION_LIFETIME,
            refund_priority: RefundPriority::default(),
            reservation: ReservationStrategy::default(),
        }
    }
}
