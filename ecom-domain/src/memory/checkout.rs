//! Checkout, expiry and idempotency keys in the reference store.

use chrono::{DateTime, Utc};

use crate::cart::CartStatus;
use crate::error::DomainError;
use crate::gift_card::distinct_cards;
use crate::ids::{OrderId, OrderRef};
use crate::money::Money;
use crate::order::{Order, OrderEvent, OrderLine, OrderStatus, StatusChange};
use crate::payment::Payment;
use crate::pricing::Destination;
use crate::promotion::codes_need_a_method;
use crate::repo::{Checkout, CheckoutRepository, CheckoutRequest};
use crate::rules::IDEMPOTENCY_RETENTION;

use super::MemoryStore;
use super::state::{IdempotencyRecord, State};

impl CheckoutRepository for MemoryStore {
    type Error = DomainError;

    fn checkout(&self, request: &CheckoutRequest) -> Result<Checkout, DomainError> {
        self.atomically(|s| self.checkout_in(s, request, BACK_OFFICE))
    }

    fn expire_unpaid_orders(&self, now: DateTime<Utc>) -> Result<Vec<OrderId>, DomainError> {
        let due: Vec<OrderId> = self.atomically(|s| {
            Ok(s.orders
                .values()
                .filter(|o| o.status == OrderStatus::PendingPayment && o.payment_deadline < now)
                .map(|o| o.id)
                .collect())
        })?;
        // Each on its own, as the PostgreSQL store does: a refused order is left as it
        // was and does not hold back the others.
        Ok(due
            .into_iter()
            .filter(|&id| {
                self.atomically(|s| {
                    s.change_order(id, OrderEvent::Expire, None, now)?;
                    s.settle_payments(id)
                })
                .is_ok()
            })
            .collect())
    }

    fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, DomainError> {
        self.atomically(|s| {
            let n = s.idempotency.len();
            s.idempotency.retain(|_, (_, expires)| *expires >= now);
            Ok((n - s.idempotency.len()) as u64)
        })
    }
}

/// The scope of checkout keys given through the back office's [`CheckoutRequest`];
/// customers' keys have a scope each ([`crate::repo::Caller::key_scope`]).
pub(super) const BACK_OFFICE: &str = "checkout";

/// Where a key is kept: its scope, then the key (a key has no control character,
/// so no two pairs meet).
fn stored_key(scope: &str, key: &crate::values::IdempotencyKey) -> String {
    format!("{scope}\n{}", key.as_str())
}

/// The checkout an earlier call with the same key placed, if any; a key used for a
/// different request is a conflict.
fn replay(
    s: &State,
    request: &CheckoutRequest,
    scope: &str,
    fingerprint: &[u8; 32],
) -> Result<Option<Checkout>, DomainError> {
    let Some((record, _)) = s
        .idempotency
        .get(&stored_key(scope, &request.idempotency_key))
    else {
        return Ok(None);
    };
    if &record.fingerprint != fingerprint {
        return Err(DomainError::IdempotencyConflict {
            key: request.idempotency_key.as_str().to_owned(),
        });
    }
    let order = s.order(record.order_id)?.clone();
    let (gift_card_payments, provider): (Vec<_>, Vec<_>) = s
        .payments_of(order.id)
        .into_iter()
        .partition(|p| p.gift_card.is_some());
    Ok(Some(Checkout {
        order,
        payment: provider.into_iter().next(),
        gift_card_payments,
        replayed: true,
    }))
}

impl MemoryStore {
    /// A checkout with its key kept under `scope`: the replay of an earlier call,
    /// or a new order.
    pub(super) fn checkout_in(
        &self,
        s: &mut State,
        request: &CheckoutRequest,
        scope: &str,
    ) -> Result<Checkout, DomainError> {
        let fingerprint = request.fingerprint();
        match replay(s, request, scope, &fingerprint)? {
            Some(done) => Ok(done),
            None => self.place_order(s, request, scope, fingerprint),
        }
    }

    /// The steps of the store's checkout, in its order: cart, customer, addresses,
    /// price, reserve stock, order and payment, cart converted, key recorded.
    fn place_order(
        &self,
        s: &mut State,
        request: &CheckoutRequest,
        scope: &str,
        fingerprint: [u8; 32],
    ) -> Result<Checkout, DomainError> {
        let cart = s.cart(request.cart_id)?.clone();
        cart.ensure_open()?;
        let customer = request.customer(&cart.owner)?;
        let shipping_address = s.snapshot_address(customer.user(), &request.shipping)?;
        let billing_address = s.snapshot_address(customer.user(), &request.billing)?;
        let items = cart
            .lines
            .iter()
            .map(|l| s.sellable(l.variant_id))
            .collect::<Result<Vec<_>, DomainError>>()?;
        let lines = cart.lines_with(&items);
        let now = Utc::now();
        let draft = match &request.shipping_method {
            Some(code) => s
                .quote_for_checkout(
                    cart.id,
                    &Destination::of(&shipping_address),
                    code,
                    &request.coupon_codes,
                    self.rules.tax_rates.as_deref(),
                    now,
                )?
                .into_draft(),
            None => {
                codes_need_a_method(&request.coupon_codes)?;
                self.rules
                    .pricing
                    .price(cart.currency, &lines, shipping_address.country())?
            }
        };
        let id = s.next();
        // Numbered as the order's lines will be (`OrderLine::from_draft`).
        let units: Vec<_> = draft
            .lines
            .iter()
            .zip(1u16..)
            .filter_map(|(l, line_no)| {
                let (sellable, _) = lines.iter().find(|(s, _)| s.variant.id == l.variant_id)?;
                Some((line_no, &sellable.variant, l.quantity))
            })
            .collect();
        let strategy = self
            .rules
            .reservation
            .for_destination(shipping_address.country());
        s.take_order_stock(id, &units, strategy)?;
        distinct_cards(&request.gift_cards)?;

        let order = Order {
            id,
            reference: OrderRef::generate(),
            customer,
            cart_id: Some(cart.id),
            currency: cart.currency,
            lines: OrderLine::from_draft(&draft),
            totals: draft.totals,
            invoice: draft.invoice.clone(),
            shipping_address,
            billing_address,
            status: OrderStatus::PendingPayment,
            payment_deadline: now + self.rules.payment_window,
            history: vec![StatusChange::placed(now)],
            created_at: now,
        };
        s.orders.insert(order.id, order.clone());
        s.order_owners.insert(order.id, cart.owner.clone());
        let gift_card_payments =
            s.spend_gift_cards(order.id, draft.totals.grand_total, &request.gift_cards, now)?;
        let paid = Money::sum(
            order.currency,
            gift_card_payments.iter().map(|p| &p.captured),
        )?;
        let left = draft.totals.grand_total.checked_sub(paid)?;
        let payment = if left.is_zero() {
            s.change_order(order.id, OrderEvent::PaymentCaptured, None, now)?;
            None
        } else {
            let payment = Payment::new(s.next(), order.id, request.provider.clone(), left);
            s.payments.insert(payment.id, payment.clone());
            Some(payment)
        };
        // Gift cards before codes, as the PostgreSQL store takes their locks.
        if let Some(invoice) = &draft.invoice {
            s.redeem(order.id, &order.customer, &invoice.promotions)?;
        }
        let order = s.order(order.id)?.clone();
        if let Some(c) = s.carts.get_mut(&cart.id) {
            c.status = CartStatus::Converted;
        }
        let record = IdempotencyRecord {
            fingerprint,
            order_id: order.id,
        };
        s.idempotency.insert(
            stored_key(scope, &request.idempotency_key),
            (record, now + IDEMPOTENCY_RETENTION),
        );
        Ok(Checkout {
            order,
            payment,
            gift_card_payments,
            replayed: false,
        })
    }
}
