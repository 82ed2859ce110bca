//! Gift cards: a few per hundred customers, each drawn from a stream of its own,
//! and what the orders they paid for did to their balances.
//!
//! A card's row holds its balance at the end of the period, but it is written
//! before the orders that spend it (their payments refer to it), so the orders
//! are walked once before ([`Spending`], alongside the stock's walk) to learn
//! which card pays which order and what each card has left. The code is drawn
//! from the card's stream and forgotten: only its digest and last four letters
//! are written, as the store keeps them.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use ecom_domain::gift_card::{GiftCardCode, NewGiftCard};
use ecom_domain::ids::GiftCardId;
use ecom_domain::money::Money;
use rand::RngExt;
use rust_decimal::Decimal;

use super::rng::{SeedRng, Stream, rng_for, secs};
use super::{Out, Phase};
use crate::SeedError;
use crate::plan::{Plan, Sizes};
use crate::table::Table;

/// Cards issued per hundred customers.
const PER_HUNDRED_USERS: u64 = 8;

/// How many cards a plan issues: [`PER_HUNDRED_USERS`], rounded up.
pub(crate) const fn count(sizes: &Sizes) -> u64 {
    (sizes.users * PER_HUNDRED_USERS).div_ceil(100)
}

/// Cards tried, from one drawn at random, for an order a card is to pay: the
/// first that can pay it all does.
const CARDS_TRIED: usize = 64;

/// A card as it was issued (its code is drawn again when it is written).
pub(crate) struct Card {
    value: Money,
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

/// Every card of the plan, in id order.
pub(crate) struct GiftCards {
    first_id: i64,
    cards: Vec<Card>,
}

impl GiftCards {
    /// Draws every card: its value, issue date, expiry; each checked by
    /// [`NewGiftCard::checked`] as the store checks a card it issues.
    pub(crate) fn draw(plan: &Plan) -> Result<Self, SeedError> {
        let cards = (0..count(&plan.sizes))
            .map(|k| {
                let id = plan.ids.gift_cards + k as i64 + 1;
                let (card, _) = draw(plan, id)?;
                Ok(card)
            })
            .collect::<Result<_, SeedError>>()?;
        Ok(Self {
            first_id: plan.ids.gift_cards + 1,
            cards,
        })
    }

    fn id(&self, index: usize) -> GiftCardId {
        GiftCardId::new(self.first_id + index as i64)
    }

    /// Finds a card's position from its id.
    pub(crate) fn indexer(&self) -> CardIndex {
        CardIndex(self.first_id)
    }

    /// The cards' values, in id order: their balances once issued.
    pub(crate) fn values(&self) -> Vec<Decimal> {
        self.cards.iter().map(|c| c.value.amount()).collect()
    }
}

/// Card `id`: 25, 50, 100 or 200 in the shop's currency, issued from half a
/// year before the period to its last day; half never expire, most of the others
/// two years after their issue, a few within a year (some of them during the
/// period). The code's 16 bytes come last from the same stream.
fn draw(plan: &Plan, id: i64) -> Result<(Card, GiftCardCode), SeedError> {
    let mut rng = rng_for(plan.seed, Stream::GiftCard, id);
    let major = match rng.random_range(0..100u32) {
        0..10 => 25,
        10..30 => 50,
        30..65 => 100,
        _ => 200,
    };
    let value = Money::new(Decimal::from(major), plan.currency)
        .map_err(|e| SeedError::invalid("gift card value", e))?;
    let from = plan.since - Duration::days(180);
    let span = (plan.until - from).num_seconds().max(2);
    let created_at = (from + secs(&mut rng, 0..span)).min(plan.until - Duration::seconds(1));
    let expires_at = match rng.random_range(0..100u32) {
        0..50 => None,
        50..90 => Some(created_at + Duration::days(730)),
        _ => Some(created_at + secs(&mut rng, 30 * 86_400..365 * 86_400)),
    };
    let new = NewGiftCard { value, expires_at }
        .checked(created_at)
        .map_err(|e| SeedError::invalid("gift card", e))?;
    let code = GiftCardCode::from_bytes(rng.random::<[u8; GiftCardCode::LEN]>());
    let card = Card {
        value: new.value,
        expires_at: new.expires_at,
        created_at,
    };
    Ok((card, code))
}

/// A card's position among the plan's cards, from its id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CardIndex(i64);

impl CardIndex {
    /// The position of card `id`.
    pub(crate) fn index(self, id: GiftCardId) -> usize {
        (id.get() - self.0) as usize
    }
}

/// A card's balance at the end of the period and when it last changed.
#[derive(Debug, Clone, Copy)]
struct Ledger {
    balance: Decimal,
    updated: DateTime<Utc>,
}

/// Which card paid which order, and each card's ledger at the end: what the
/// walk before writing learned.
pub(crate) struct Tenders {
    by_order: HashMap<i64, GiftCardId>,
    ledgers: Vec<Ledger>,
}

impl Tenders {
    /// The card that paid for order `order_id`, if one did.
    pub(crate) fn card_of(&self, order_id: i64) -> Option<GiftCardId> {
        self.by_order.get(&order_id).copied()
    }

    /// The balance of the card at `index` once every order is written.
    pub(crate) fn balance(&self, index: usize) -> Decimal {
        self.ledgers[index].balance
    }
}

/// The walk before writing: cards spent on orders in id order (which is time
/// order), and given back what those orders' refunds return.
pub(crate) struct Spending<'a> {
    cards: &'a GiftCards,
    /// What each card can still pay, refunds aside: a refund booked later in the
    /// period must not pay for an earlier order, and any order between the two
    /// sees at least this much in the ledger by id.
    spendable: Vec<Decimal>,
    ledgers: Vec<Ledger>,
    by_order: HashMap<i64, GiftCardId>,
}

impl<'a> Spending<'a> {
    /// Every card as issued.
    pub(crate) fn new(cards: &'a GiftCards) -> Self {
        Self {
            cards,
            spendable: cards.values(),
            ledgers: cards
                .cards
                .iter()
                .map(|c| Ledger {
                    balance: c.value.amount(),
                    updated: c.created_at,
                })
                .collect(),
            by_order: HashMap::new(),
        }
    }

    /// A card that pays all of `total` at `at`: issued before, not expired, with
    /// enough left; tried from one drawn from `rng`. Taken off its balance.
    pub(crate) fn redeem(
        &mut self,
        order_id: i64,
        at: DateTime<Utc>,
        total: Money,
        rng: &mut SeedRng,
    ) -> Option<GiftCardId> {
        let n = self.cards.cards.len();
        if n == 0 {
            return None;
        }
        let start = rng.random_range(0..n);
        let due = total.amount();
        let index = (0..n.min(CARDS_TRIED))
            .map(|i| (start + i) % n)
            .find(|&i| {
                let card = &self.cards.cards[i];
                card.created_at < at
                    && card.expires_at.is_none_or(|end| end > at)
                    && card.value.currency() == total.currency()
                    && self.spendable[i] >= due
            })?;
        self.spendable[index] -= due;
        self.change(index, -due, at);
        let id = self.cards.id(index);
        self.by_order.insert(order_id, id);
        Some(id)
    }

    /// A refund of `amount` to card `id` at `at`.
    pub(crate) fn refund(&mut self, id: GiftCardId, amount: Decimal, at: DateTime<Utc>) {
        self.change(self.cards.indexer().index(id), amount, at);
    }

    fn change(&mut self, index: usize, by: Decimal, at: DateTime<Utc>) {
        let ledger = &mut self.ledgers[index];
        ledger.balance += by;
        ledger.updated = ledger.updated.max(at);
    }

    /// What the walk learned.
    pub(crate) fn finish(self) -> Tenders {
        Tenders {
            by_order: self.by_order,
            ledgers: self.ledgers,
        }
    }
}

/// Writes every card with its balance at the end and its issue entry, the
/// first of its ledger (the entries of the orders follow, with the orders).
pub(crate) fn write(
    plan: &Plan,
    cards: &GiftCards,
    tenders: &Tenders,
    out: &mut Out<'_>,
) -> Result<(), SeedError> {
    out.start(Phase::GiftCards);
    for (index, card) in cards.cards.iter().enumerate() {
        let id = cards.id(index).get();
        // Drawn again for its code: the cards kept in memory do not hold it.
        let (_, code) = draw(plan, id)?;
        let ledger = tenders.ledgers[index];
        let w = out.w(Table::GiftCards);
        w.int(id);
        w.bytea(&code.digest());
        w.text(code.last_four());
        w.text(plan.currency.code());
        w.money(card.value);
        w.decimal(ledger.balance);
        w.opt_ts(card.expires_at);
        w.ts(card.created_at);
        w.ts(ledger.updated);
        w.end();
        let w = out.w(Table::GiftCardEntries);
        w.int(plan.ids.gift_card_entries + index as i64 + 1);
        w.int(id);
        w.text("issue");
        w.money(card.value);
        w.null();
        w.money(card.value);
        w.ts(card.created_at);
        w.end();
        if !out.done() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scale;

    #[test]
    fn every_preset_issues_a_few_cards_per_hundred_customers() {
        assert_eq!(count(&Scale::Small.sizes()), 8);
        assert_eq!(count(&Scale::Medium.sizes()), 400);
        assert_eq!(count(&Scale::Large.sizes()), 20_000);
    }

    #[test]
    fn codes_are_distinct_and_cards_end_after_they_start() {
        let mut plan = Plan::new(Scale::Medium);
        plan.sizes.users = 20_000;
        let cards = GiftCards::draw(&plan).unwrap();
        let mut digests = std::collections::HashSet::new();
        for (index, card) in cards.cards.iter().enumerate() {
            let (_, code) = draw(&plan, cards.id(index).get()).unwrap();
            assert!(digests.insert(code.digest()));
            assert_eq!(GiftCardCode::parse(&code.grouped()), Ok(code.clone()));
            assert!(card.expires_at.is_none_or(|end| end > card.created_at));
            assert!(card.created_at < plan.until);
        }
        let never = cards
            .cards
            .iter()
            .filter(|c| c.expires_at.is_none())
            .count();
        let past = cards
            .cards
            .iter()
            .filter(|c| c.expires_at.is_some_and(|end| end < plan.until))
            .count();
        assert!(never > 0 && past > 0 && never + past < cards.cards.len());
    }
}
