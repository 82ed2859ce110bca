//! Payments and their state machine.
//!
//! A payment records what a provider reported: authorizations, captures (possibly in
//! parts), voids, refunds (possibly several) and failures. Each report is a
//! [`PaymentEvent`] with an idempotency key; [`Payment::apply`] checks it against the
//! state machine and the amount invariants (captured ≤ authorized ≤ amount due,
//! refunded ≤ captured). A report whose key was applied before is recognised as a
//! duplicate and changes nothing, so a provider calling back twice is harmless.
//!
//! One kind of event is the store's own, never a provider's: a reduction of the
//! amount due, booked when units of an order not yet paid are cancelled
//! ([`PaymentAction::Reduce`]).

use serde::{Deserialize, Serialize};

use crate::ids::{GiftCardId, OrderId, PaymentId};
use crate::money::{Money, MoneyError};
use crate::order::{OrderEvent, OrderStatus};
use crate::values::{IdempotencyKey, ProviderName, ProviderRef, Reason};

/// Where a payment is in its life. See the crate documentation for the diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Created at checkout; nothing reported yet.
    Pending,
    /// The provider reserved the money.
    Authorized,
    /// Some or all of the authorized money was taken.
    Captured,
    /// Part of the captured money went back.
    PartiallyRefunded,
    /// All captured money went back.
    Refunded,
    /// The authorization was released before any capture.
    Voided,
    /// The provider refused.
    Failed,
}

crate::text_enum!(PaymentStatus {
    Pending = "pending",
    Authorized = "authorized",
    Captured = "captured",
    PartiallyRefunded = "partially_refunded",
    Refunded = "refunded",
    Voided = "voided",
    Failed = "failed",
});

/// The kinds of [`PaymentAction`], for messages and storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentActionKind {
    /// See [`PaymentAction::Authorize`].
    Authorize,
    /// See [`PaymentAction::Capture`].
    Capture,
    /// See [`PaymentAction::Void`].
    Void,
    /// See [`PaymentAction::Refund`].
    Refund,
    /// See [`PaymentAction::Fail`].
    Fail,
    /// See [`PaymentAction::Reduce`].
    Reduce,
}

crate::text_enum!(PaymentActionKind {
    Authorize = "authorize",
    Capture = "capture",
    Void = "void",
    Refund = "refund",
    Fail = "fail",
    Reduce = "reduce",
});

/// What a provider reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentAction {
    /// Money reserved, up to the amount due; the provider's reference for it.
    Authorize {
        /// Amount reserved.
        amount: Money,
        /// The provider's id for this payment, unique per provider.
        provider_ref: Option<ProviderRef>,
    },
    /// Reserved money taken (may happen in several parts).
    Capture {
        /// Amount taken.
        amount: Money,
    },
    /// Reservation released; only before any capture.
    Void,
    /// Captured money returned (may happen several times).
    Refund {
        /// Amount returned.
        amount: Money,
        /// Why, for the records.
        reason: Option<Reason>,
    },
    /// The provider refused the payment.
    Fail {
        /// The provider's reason.
        reason: Reason,
    },
    /// The amount due lowered, because units of the order were cancelled before it
    /// was paid; an authorization above the new amount due is lowered to it (the
    /// service asks its provider to adjust the authorization). Booked by the store
    /// alone ([`check_reported`]); something stays due, and at least what was
    /// captured.
    Reduce {
        /// How much less is due.
        amount: Money,
    },
}

impl PaymentAction {
    /// Its kind.
    pub fn kind(&self) -> PaymentActionKind {
        match self {
            PaymentAction::Authorize { .. } => PaymentActionKind::Authorize,
            PaymentAction::Capture { .. } => PaymentActionKind::Capture,
            PaymentAction::Void => PaymentActionKind::Void,
            PaymentAction::Refund { .. } => PaymentActionKind::Refund,
            PaymentAction::Fail { .. } => PaymentActionKind::Fail,
            PaymentAction::Reduce { .. } => PaymentActionKind::Reduce,
        }
    }

    /// The amount it moves, if any.
    pub fn amount(&self) -> Option<Money> {
        match self {
            PaymentAction::Authorize { amount, .. }
            | PaymentAction::Capture { amount }
            | PaymentAction::Refund { amount, .. }
            | PaymentAction::Reduce { amount } => Some(*amount),
            PaymentAction::Void | PaymentAction::Fail { .. } => None,
        }
    }
}

/// A provider report with the key that makes it idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentEvent {
    /// Unique per payment: the same key twice is the same report.
    pub key: IdempotencyKey,
    /// What happened.
    pub action: PaymentAction,
}

/// Why a payment event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The payment's state does not accept this kind of event.
    #[error("a payment that is {from} does not accept {action}; it accepts {}", list(.allowed))]
    Transition {
        /// Current state.
        from: PaymentStatus,
        /// The refused kind.
        action: PaymentActionKind,
        /// What it would accept.
        allowed: Vec<PaymentActionKind>,
    },
    /// Amounts must be above zero.
    #[error("payment amounts must be positive, got {0}")]
    NonPositive(Money),
    /// Authorizing more than is due.
    #[error("cannot authorize {requested}: only {due} is due")]
    OverAuthorize {
        /// Asked.
        requested: Money,
        /// Amount due.
        due: Money,
    },
    /// Capturing more than was authorized.
    #[error(
        "cannot capture {requested}: {captured} of {authorized} authorized is already captured"
    )]
    OverCapture {
        /// Asked.
        requested: Money,
        /// Already captured.
        captured: Money,
        /// Authorized.
        authorized: Money,
    },
    /// Refunding more than was captured.
    #[error("cannot refund {requested}: {refunded} of {captured} captured is already refunded")]
    OverRefund {
        /// Asked.
        requested: Money,
        /// Already refunded.
        refunded: Money,
        /// Captured.
        captured: Money,
    },
    /// Lowering the amount due by more than leaves something due, and at least
    /// what was captured.
    #[error(
        "cannot lower the amount due by {requested}: {due} is due and {captured} of it was captured; something must stay due, and at least what was captured"
    )]
    OverReduce {
        /// Asked.
        requested: Money,
        /// Amount due before.
        due: Money,
        /// Captured.
        captured: Money,
    },
    /// A provider reported what only the store books.
    #[error("a payment's {0} is booked by the store itself, not reported by a provider")]
    StoreOnly(PaymentActionKind),
    /// The key was used before for a different report.
    #[error("idempotency key {0:?} was already used for a different payment event")]
    KeyReused(String),
    /// Amount in the wrong currency.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

fn list(allowed: &[PaymentActionKind]) -> String {
    if allowed.is_empty() {
        return "nothing (it is final)".into();
    }
    allowed
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Money given back to the customer: a recorded refund event of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The key the refund was recorded under.
    pub key: IdempotencyKey,
    /// How much went back.
    pub amount: Money,
    /// Why, if the shop said.
    pub reason: Option<Reason>,
}

/// Whether [`Payment::apply`] changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The event was new and is now recorded.
    Changed,
    /// The same event (same key, same content) was applied before; nothing changed.
    Duplicate,
}

/// A payment for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// Its id.
    pub id: PaymentId,
    /// The order it pays for.
    pub order_id: OrderId,
    /// The provider that handles it ([`ProviderName::GIFT_CARD`] for a gift card's).
    pub provider: ProviderName,
    /// The gift card it was spent from, for a gift card's payment. The store books
    /// its events itself: it is captured at checkout, and a refund of it goes back
    /// onto the card.
    pub gift_card: Option<GiftCardId>,
    /// The provider's id for it, once authorized.
    pub provider_ref: Option<ProviderRef>,
    /// The amount due at checkout (the order's grand total, or what its gift cards
    /// left of it); what is due now is [`Payment::due`].
    pub amount: Money,
    /// Taken off the amount due since checkout ([`PaymentAction::Reduce`]).
    pub released: Money,
    /// Reserved so far.
    pub authorized: Money,
    /// Taken so far.
    pub captured: Money,
    /// Returned so far.
    pub refunded: Money,
    /// Current state.
    pub status: PaymentStatus,
    /// Every applied event, oldest first.
    pub events: Vec<PaymentEvent>,
}

impl PaymentStatus {
    /// The kinds of event this state accepts.
    pub fn allowed_actions(self) -> Vec<PaymentActionKind> {
        use PaymentActionKind as A;
        match self {
            PaymentStatus::Pending => vec![A::Authorize, A::Void, A::Fail, A::Reduce],
            PaymentStatus::Authorized => vec![A::Capture, A::Void, A::Reduce],
            PaymentStatus::Captured => vec![A::Capture, A::Refund, A::Reduce],
            PaymentStatus::PartiallyRefunded => vec![A::Refund],
            PaymentStatus::Refunded | PaymentStatus::Voided | PaymentStatus::Failed => vec![],
        }
    }

    /// True for states that accept no event.
    pub fn is_terminal(self) -> bool {
        self.allowed_actions().is_empty()
    }
}

impl Payment {
    /// A new pending payment of `amount` for an order.
    pub fn new(id: PaymentId, order_id: OrderId, provider: ProviderName, amount: Money) -> Self {
        let zero = Money::zero(amount.currency());
        Self {
            id,
            order_id,
            provider,
            gift_card: None,
            provider_ref: None,
            amount,
            released: zero,
            authorized: zero,
            captured: zero,
            refunded: zero,
            status: PaymentStatus::Pending,
            events: Vec::new(),
        }
    }

    /// A gift card's payment of `amount` at checkout: authorized and captured at
    /// once, under the store's own keys.
    pub fn from_gift_card(
        id: PaymentId,
        order_id: OrderId,
        card: GiftCardId,
        amount: Money,
    ) -> Result<Self, PaymentError> {
        let mut payment = Self {
            gift_card: Some(card),
            ..Self::new(id, order_id, ProviderName::gift_card(), amount)
        };
        for action in Self::gift_card_actions(amount) {
            let key = IdempotencyKey::reserved(&format!("gift-card:{}", action.kind()));
            payment.apply(PaymentEvent { key, action })?;
        }
        Ok(payment)
    }

    /// What a gift card's payment books at checkout: the whole amount authorized
    /// and captured.
    pub fn gift_card_actions(amount: Money) -> [PaymentAction; 2] {
        [
            PaymentAction::Authorize {
                amount,
                provider_ref: None,
            },
            PaymentAction::Capture { amount },
        ]
    }

    /// The refunds recorded so far, oldest first.
    pub fn refunds(&self) -> Vec<Refund> {
        self.events
            .iter()
            .filter_map(|e| match &e.action {
                PaymentAction::Refund { amount, reason } => Some(Refund {
                    key: e.key.clone(),
                    amount: *amount,
                    reason: reason.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// What is due now: the amount due at checkout less what was taken off it.
    pub fn due(&self) -> Money {
        // released < amount, checked by `apply` and by the database.
        self.amount
            .checked_sub(self.released)
            .unwrap_or(self.amount)
    }

    /// How much the amount due can still be lowered: down to what was captured,
    /// and never to nothing (a smallest unit of the currency stays due).
    pub fn reducible(&self) -> Result<Money, MoneyError> {
        let floor = if self.captured.is_zero() {
            Money::from_minor(1, self.amount.currency())
        } else {
            self.captured
        };
        let room = self.due().checked_sub(floor)?;
        Ok(if room.is_negative() {
            Money::zero(self.amount.currency())
        } else {
            room
        })
    }

    /// True when the whole amount due was captured.
    pub fn is_fully_captured(&self) -> bool {
        self.captured == self.due()
    }

    /// Checks whether `event` would apply, without changing anything: `Ok(Duplicate)`
    /// for a repeat of an applied event, `Ok(Changed)` for a new one that fits.
    pub fn check(&self, event: &PaymentEvent) -> Result<Applied, PaymentError> {
        self.clone().apply(event.clone())
    }

    /// Applies a provider report: the one transition function of the payment machine.
    pub fn apply(&mut self, event: PaymentEvent) -> Result<Applied, PaymentError> {
        if let Some(seen) = self.events.iter().find(|e| e.key == event.key) {
            return if *seen == event {
                Ok(Applied::Duplicate)
            } else {
                Err(PaymentError::KeyReused(event.key.as_str().to_owned()))
            };
        }
        let kind = event.action.kind();
        if !self.status.allowed_actions().contains(&kind) {
            return Err(PaymentError::Transition {
                from: self.status,
                action: kind,
                allowed: self.status.allowed_actions(),
            });
        }
        if let Some(amount) = event.action.amount() {
            if amount.currency() != self.amount.currency() {
                return Err(MoneyError::CurrencyMismatch {
                    left: self.amount.currency(),
                    right: amount.currency(),
                }
                .into());
            }
            if amount.is_zero() || amount.is_negative() {
                return Err(PaymentError::NonPositive(amount));
            }
        }
        match &event.action {
            PaymentAction::Authorize {
                amount,
                provider_ref,
            } => {
                if amount.try_cmp(&self.due())?.is_gt() {
                    return Err(PaymentError::OverAuthorize {
                        requested: *amount,
                        due: self.due(),
                    });
                }
                self.authorized = *amount;
                if provider_ref.is_some() {
                    self.provider_ref.clone_from(provider_ref);
                }
                self.status = PaymentStatus::Authorized;
            }
            PaymentAction::Capture { amount } => {
                let after = self.captured.checked_add(*amount)?;
                if after.try_cmp(&self.authorized)?.is_gt() {
                    return Err(PaymentError::OverCapture {
                        requested: *amount,
                        captured: self.captured,
                        authorized: self.authorized,
                    });
                }
                self.captured = after;
                self.status = PaymentStatus::Captured;
            }
            PaymentAction::Void => self.status = PaymentStatus::Voided,
            PaymentAction::Refund { amount, .. } => {
                let after = self.refunded.checked_add(*amount)?;
                if after.try_cmp(&self.captured)?.is_gt() {
                    return Err(PaymentError::OverRefund {
                        requested: *amount,
                        refunded: self.refunded,
                        captured: self.captured,
                    });
                }
                self.refunded = after;
                self.status = if after == self.captured {
                    PaymentStatus::Refunded
                } else {
                    PaymentStatus::PartiallyRefunded
                };
            }
            PaymentAction::Fail { .. } => self.status = PaymentStatus::Failed,
            PaymentAction::Reduce { amount } => {
                if amount.try_cmp(&self.reducible()?)?.is_gt() {
                    return Err(PaymentError::OverReduce {
                        requested: *amount,
                        due: self.due(),
                        captured: self.captured,
                    });
                }
                self.released = self.released.checked_add(*amount)?;
                let due = self.due();
                if self.authorized.try_cmp(&due)?.is_gt() {
                    self.authorized = due;
                }
            }
        }
        self.events.push(event);
        Ok(Applied::Changed)
    }

    /// The event the order must take after this payment changed, if any, given
    /// the statuses of the order's other payments (its gift cards'): fully
    /// captured, with the others captured, moves a pending order to paid; fully
    /// refunded, with the others refunded, moves a paid, shipped or delivered order
    /// to refunded.
    pub fn order_event(&self, order: OrderStatus, others: &[PaymentStatus]) -> Option<OrderEvent> {
        let (event, all) = match self.status {
            PaymentStatus::Captured if self.is_fully_captured() => {
                (OrderEvent::PaymentCaptured, PaymentStatus::Captured)
            }
            PaymentStatus::Refunded => (OrderEvent::PaymentRefunded, PaymentStatus::Refunded),
            _ => return None,
        };
        if others.iter().any(|s| *s != all) {
            return None;
        }
        order.apply(event).is_ok().then_some(event)
    }

    /// What must happen to this payment when its order is cancelled or expires:
    /// release an authorization, or give back what was captured. The event's key is
    /// one of the store's own (`store:settle:{order}:{action}`), which no client key
    /// can equal, so one settlement per order and action is ever booked.
    pub fn settlement_on_cancel(&self) -> Option<PaymentEvent> {
        let action = match self.status {
            PaymentStatus::Pending | PaymentStatus::Authorized => PaymentAction::Void,
            PaymentStatus::Captured | PaymentStatus::PartiallyRefunded => {
                let amount = self.captured.checked_sub(self.refunded).ok()?;
                PaymentAction::Refund {
                    amount,
                    reason: Some(Reason::fixed("order cancelled")),
                }
            }
            PaymentStatus::Refunded | PaymentStatus::Voided | PaymentStatus::Failed => {
                return None;
            }
        };
        let key = IdempotencyKey::reserved(&format!("settle:{}:{}", self.order_id, action.kind()));
        Some(PaymentEvent { key, action })
    }
}

/// What `payments` refunded under `key` (a return's or a cancellation's own key),
/// in `currency`: zero when nothing was booked under it.
pub fn refunded_under(
    key: &IdempotencyKey,
    currency: crate::money::Currency,
    payments: &[Payment],
) -> Result<Money, MoneyError> {
    booked_under(key, PaymentActionKind::Refund, currency, payments)
}

/// What `payments` took off their amounts due under `key` (a cancellation's own
/// key), in `currency`: zero when nothing was booked under it.
pub fn released_under(
    key: &IdempotencyKey,
    currency: crate::money::Currency,
    payments: &[Payment],
) -> Result<Money, MoneyError> {
    booked_under(key, PaymentActionKind::Reduce, currency, payments)
}

fn booked_under(
    key: &IdempotencyKey,
    kind: PaymentActionKind,
    currency: crate::money::Currency,
    payments: &[Payment],
) -> Result<Money, MoneyError> {
    let mut total = Money::zero(currency);
    for event in payments.iter().flat_map(|p| &p.events) {
        if let (true, Some(amount)) = (
            event.key == *key && event.action.kind() == kind,
            event.action.amount(),
        ) {
            total = total.checked_add(amount)?;
        }
    }
    Ok(total)
}

/// How much of `amount` each payment of an order not yet paid takes off what it
/// is due: its provider's payments (a gift card's was captured at checkout and
/// is not lowered), newest first, each as far as [`Payment::reducible`] lets it.
/// Refused when they cannot take it all: something stays due on each, and at
/// least what each captured.
pub fn plan_reduction(
    payments: &[Payment],
    amount: Money,
) -> Result<Vec<(PaymentId, Money)>, PaymentError> {
    if amount.is_zero() || amount.is_negative() {
        return Err(PaymentError::NonPositive(amount));
    }
    let mut open: Vec<&Payment> = payments
        .iter()
        .filter(|p| p.gift_card.is_none())
        .filter(|p| {
            p.status
                .allowed_actions()
                .contains(&PaymentActionKind::Reduce)
        })
        .collect();
    open.sort_by_key(|p| std::cmp::Reverse(p.id));
    let mut left = amount;
    let mut plan = Vec::new();
    for payment in &open {
        if left.is_zero() {
            break;
        }
        let room = payment.reducible()?;
        if room.is_zero() {
            continue;
        }
        let part = if room.try_cmp(&left)?.is_lt() {
            room
        } else {
            left
        };
        left = left.checked_sub(part)?;
        plan.push((payment.id, part));
    }
    if !left.is_zero() {
        let currency = amount.currency();
        return Err(PaymentError::OverReduce {
            requested: amount,
            due: Money::sum(currency, &open.iter().map(|p| p.due()).collect::<Vec<_>>())?,
            captured: Money::sum(currency, open.iter().map(|p| &p.captured))?,
        });
    }
    Ok(plan)
}

/// Refuses, from a provider, an event only the store books
/// ([`PaymentAction::Reduce`]).
pub fn check_reported(event: &PaymentEvent) -> Result<(), PaymentError> {
    match event.action.kind() {
        PaymentActionKind::Reduce => Err(PaymentError::StoreOnly(PaymentActionKind::Reduce)),
        _ => Ok(()),
    }
}

/// The statuses of the payments in `payments` other than `id`.
pub fn other_statuses(payments: &[Payment], id: PaymentId) -> Vec<PaymentStatus> {
    payments
        .iter()
        .filter(|p| p.id != id)
        .map(|p| p.status)
        .collect()
}

/// Checks that an order in `status` accepts a payment event of `kind` at all:
/// authorizations and captures only while the order waits for payment, refunds only
/// once it was paid. (Cancellation settles payments itself.)
pub fn order_accepts(status: OrderStatus, kind: PaymentActionKind) -> bool {
    use PaymentActionKind as A;
    match kind {
        A::Authorize | A::Capture | A::Fail | A::Void => status == OrderStatus::PendingPayment,
        // Booked by a cancellation, which checks the order itself.
        A::Reduce => false,
        A::Refund => matches!(
            status,
            OrderStatus::Paid
                | OrderStatus::PartiallyShipped
                | OrderStatus::Shipped
                | OrderStatus::PartiallyDelivered
                | OrderStatus::Delivered
        ),
    }
}

#[cfg(test)]
#[path = "payment_tests.rs"]
mod tests;
