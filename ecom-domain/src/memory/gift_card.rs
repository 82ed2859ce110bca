//! Gift cards in the reference store: cards by the digest of their code, each with
//! its ledger, and the payments they make at checkout.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::gift_card::{
    GiftCard, GiftCardCode, GiftCardEntry, GiftCardEntryKind, GiftCardError, IssuedGiftCard,
    NewGiftCard, distinct_cards, tender,
};
use crate::ids::{GiftCardId, OrderId, PaymentId};
use crate::money::Money;
use crate::payment::{Applied, Payment, PaymentAction, PaymentEvent};
use crate::repo::GiftCardRepository;

use super::MemoryStore;
use super::state::State;

/// The cards, by id, and their ids by the digest of their codes.
#[derive(Debug, Clone, Default)]
pub(super) struct GiftCards {
    cards: BTreeMap<GiftCardId, (GiftCard, Vec<GiftCardEntry>)>,
    by_digest: BTreeMap<[u8; 32], GiftCardId>,
}

impl GiftCards {
    fn card(&self, id: GiftCardId) -> Result<&(GiftCard, Vec<GiftCardEntry>), DomainError> {
        self.cards
            .get(&id)
            .ok_or_else(|| DomainError::not_found("gift card", id))
    }

    fn by_code(&self, code: &GiftCardCode) -> Result<&GiftCard, DomainError> {
        self.by_digest
            .get(&code.digest())
            .and_then(|id| self.cards.get(id))
            .map(|(card, _)| card)
            .ok_or_else(|| GiftCardError::Unknown.into())
    }

    /// Moves a card's balance by `amount` (down for a redemption, up for a
    /// refund) and writes the ledger entry.
    fn book(
        &mut self,
        id: GiftCardId,
        kind: GiftCardEntryKind,
        amount: Money,
        payment_id: PaymentId,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let (card, ledger) = self
            .cards
            .get_mut(&id)
            .ok_or_else(|| DomainError::not_found("gift card", id))?;
        card.balance = match kind {
            GiftCardEntryKind::Redeem => card.balance.checked_sub(amount)?,
            GiftCardEntryKind::Issue | GiftCardEntryKind::Refund => {
                card.balance.checked_add(amount)?
            }
        };
        ledger.push(GiftCardEntry {
            kind,
            amount,
            payment_id: Some(payment_id),
            balance_after: card.balance,
            at,
        });
        Ok(())
    }
}

impl State {
    /// Spends the cards named at checkout on `due`, in their order: one captured
    /// payment of `order` per card that pays something, its redemption booked.
    pub(super) fn spend_gift_cards(
        &mut self,
        order: OrderId,
        due: Money,
        codes: &[GiftCardCode],
        at: DateTime<Utc>,
    ) -> Result<Vec<Payment>, DomainError> {
        distinct_cards(codes)?;
        let cards = codes
            .iter()
            .map(|code| self.gift_cards.by_code(code).cloned())
            .collect::<Result<Vec<_>, _>>()?;
        let parts = tender(due, &cards, at)?;
        let mut payments = Vec::new();
        for (card, part) in cards.iter().zip(parts) {
            if part.is_zero() {
                continue;
            }
            let payment = Payment::from_gift_card(self.next(), order, card.id, part)?;
            self.gift_cards
                .book(card.id, GiftCardEntryKind::Redeem, part, payment.id, at)?;
            self.payments.insert(payment.id, payment.clone());
            payments.push(payment);
        }
        Ok(payments)
    }

    /// Applies an event the store books itself (a settlement or a refund) to a
    /// payment; a refund of a gift card's payment goes back onto the card.
    pub(super) fn book_payment_event(
        &mut self,
        id: PaymentId,
        event: PaymentEvent,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let payment = self
            .payments
            .get_mut(&id)
            .ok_or_else(|| DomainError::not_found("payment", id))?;
        let refund = match &event.action {
            PaymentAction::Refund { amount, .. } => Some(*amount),
            _ => None,
        };
        if payment.apply(event)? == Applied::Duplicate {
            return Ok(());
        }
        if let (Some(card), Some(amount)) = (payment.gift_card, refund) {
            self.gift_cards
                .book(card, GiftCardEntryKind::Refund, amount, id, at)?;
        }
        Ok(())
    }
}

impl GiftCardRepository for MemoryStore {
    type Error = DomainError;

    fn issue_gift_card(&self, new: NewGiftCard) -> Result<IssuedGiftCard, DomainError> {
        let now = Utc::now();
        let new = new.checked(now)?;
        self.atomically(|s| {
            let code = GiftCardCode::random();
            let card = GiftCard {
                id: s.next(),
                last_four: code.last_four().to_owned(),
                initial_value: new.value,
                balance: new.value,
                expires_at: new.expires_at,
                created_at: now,
            };
            let issue = GiftCardEntry {
                kind: GiftCardEntryKind::Issue,
                amount: new.value,
                payment_id: None,
                balance_after: new.value,
                at: now,
            };
            s.gift_cards.by_digest.insert(code.digest(), card.id);
            s.gift_cards
                .cards
                .insert(card.id, (card.clone(), vec![issue]));
            Ok(IssuedGiftCard { card, code })
        })
    }

    fn gift_card(&self, code: &GiftCardCode) -> Result<GiftCard, DomainError> {
        self.read(|s| s.gift_cards.by_code(code).cloned())
    }

    fn gift_card_by_id(&self, id: GiftCardId) -> Result<GiftCard, DomainError> {
        self.read(|s| Ok(s.gift_cards.card(id)?.0.clone()))
    }

    fn gift_card_ledger(&self, id: GiftCardId) -> Result<Vec<GiftCardEntry>, DomainError> {
        self.read(|s| Ok(s.gift_cards.card(id)?.1.clone()))
    }
}
