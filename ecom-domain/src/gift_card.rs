//! Gift cards: prepaid balances a customer spends as a tender at checkout.
//!
//! A card is issued with a value in one currency and a random code. The code is
//! shown once, when the card is issued: the store keeps only its SHA-256 digest (the
//! code has 80 random bits, so no salt or slow hash is needed to keep it out of
//! reach) and its last four letters, for support to name the card.
//!
//! Every change of a balance is an entry of the card's ledger
//! ([`GiftCardEntry`]): its issue, each redemption by a checkout and each refund to
//! it. The balance is the ledger's sum and never below zero.
//!
//! At checkout the cards named are spent in the order given, each for as much of
//! what is still due as its balance covers ([`tender`]); each spend is a payment of
//! the order, captured at once, and whatever the cards leave is the payment the
//! provider takes. A refund of the order goes back to the cards first, or to the
//! provider first, as [`RefundPriority`] says ([`plan_refund`]); a cancelled or
//! expired order gives each card back what it took, once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{GiftCardId, PaymentId};
use crate::money::{Currency, Money, MoneyError};
use crate::payment::{Payment, PaymentError};

/// The most gift cards one checkout takes.
pub const MAX_CARDS_PER_CHECKOUT: usize = 5;

/// A gift card's secret code: 16 letters of [`GiftCardCode::ALPHABET`], shown in
/// groups of four (`7KQ2-M9XD-...`). Parsing ignores case, spaces and dashes, and
/// reads the letters people confuse with digits as those digits.
///
/// Its `Debug` shows only the last four letters, so a logged value leaks nothing.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct GiftCardCode(String);

impl GiftCardCode {
    /// Letters of a code: Crockford's base 32 (no `I`, `L`, `O`, `U`).
    pub const ALPHABET: &'static [u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    /// Letters in a code: 16 × 5 = 80 random bits.
    pub const LEN: usize = 16;

    /// Reads a code as a customer types it.
    pub fn parse(raw: &str) -> Result<Self, GiftCardError> {
        if raw.len() > 64 {
            return Err(GiftCardError::MalformedCode);
        }
        let mut code = String::with_capacity(Self::LEN);
        for c in raw.chars().filter(|c| !matches!(c, '-' | ' ')) {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !Self::ALPHABET.contains(&(c as u8)) {
                return Err(GiftCardError::MalformedCode);
            }
            code.push(c);
        }
        if code.len() != Self::LEN {
            return Err(GiftCardError::MalformedCode);
        }
        Ok(Self(code))
    }

    /// A new random code from the operating system's random source.
    pub fn random() -> Self {
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        let mut bytes = [0u8; Self::LEN];
        OsRng.fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// The code of 16 random bytes: each gives one letter (its low five bits, so
    /// every letter is as likely).
    pub fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        let code = bytes
            .iter()
            .map(|b| char::from(Self::ALPHABET[usize::from(b & 31)]))
            .collect();
        Self(code)
    }

    /// The digest the store keeps and finds the card by.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The last four letters, which name the card without giving it away.
    pub fn last_four(&self) -> &str {
        &self.0[Self::LEN - 4..]
    }

    /// The code in groups of four, as it is printed on a card.
    pub fn grouped(&self) -> String {
        let groups: Vec<&str> = (0..Self::LEN)
            .step_by(4)
            .map(|at| &self.0[at..at + 4])
            .collect();
        groups.join("-")
    }
}

impl std::fmt::Debug for GiftCardCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GiftCardCode(…{})", self.last_four())
    }
}

/// What a gift card is issued with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGiftCard {
    /// Its value, the first balance.
    pub value: Money,
    /// When it stops being accepted; `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewGiftCard {
    /// The largest value a card is issued with, in major units: a bound against
    /// typos, far above any card a shop sells.
    pub const MAX_VALUE: i64 = 1_000_000;

    /// Checks the value is above zero and within [`NewGiftCard::MAX_VALUE`], and
    /// that the card, issued at `now`, does not end before it starts.
    pub fn checked(self, now: DateTime<Utc>) -> Result<Self, GiftCardError> {
        let too_large = self.value.amount() > rust_decimal::Decimal::from(Self::MAX_VALUE);
        if self.value.is_zero() || self.value.is_negative() || too_large {
            return Err(GiftCardError::Value(self.value));
        }
        if self.expires_at.is_some_and(|end| end <= now) {
            return Err(GiftCardError::ExpiresBeforeIssue);
        }
        Ok(self)
    }
}

/// A gift card as the store keeps it (without its code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftCard {
    /// Its id.
    pub id: GiftCardId,
    /// The last four letters of its code.
    pub last_four: String,
    /// What it was issued with.
    pub initial_value: Money,
    /// What is left to spend.
    pub balance: Money,
    /// When it stops being accepted, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
}

impl GiftCard {
    /// Its currency.
    pub fn currency(&self) -> Currency {
        self.balance.currency()
    }

    /// Checks the card can pay, at `at`, for a cart in `currency`.
    pub fn accepts(&self, currency: Currency, at: DateTime<Utc>) -> Result<(), GiftCardError> {
        if self.expires_at.is_some_and(|end| end <= at) {
            return Err(GiftCardError::Expired {
                last_four: self.last_four.clone(),
            });
        }
        if self.currency() != currency {
            return Err(GiftCardError::WrongCurrency {
                last_four: self.last_four.clone(),
                card: self.currency(),
                cart: currency,
            });
        }
        if self.balance.is_zero() {
            return Err(GiftCardError::Empty {
                last_four: self.last_four.clone(),
            });
        }
        Ok(())
    }
}

/// A card the store just issued, with its code: the one time the code is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedGiftCard {
    /// The card.
    pub card: GiftCard,
    /// Its code. The store keeps only its digest.
    pub code: GiftCardCode,
}

/// The kinds of ledger entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiftCardEntryKind {
    /// The card was issued with its value.
    Issue,
    /// A checkout spent some of it.
    Redeem,
    /// A refund (or a cancelled order) gave some back.
    Refund,
}

crate::text_enum!(GiftCardEntryKind {
    Issue = "issue",
    Redeem = "redeem",
    Refund = "refund",
});

/// One change of a card's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftCardEntry {
    /// What happened.
    pub kind: GiftCardEntryKind,
    /// By how much (above zero; the kind says which way).
    pub amount: Money,
    /// The order's payment it was spent on or refunded from; `None` for the issue.
    pub payment_id: Option<PaymentId>,
    /// The balance after it.
    pub balance_after: Money,
    /// When.
    pub at: DateTime<Utc>,
}

/// Why a gift card was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GiftCardError {
    /// Not 16 letters of the code alphabet.
    #[error("a gift card code is 16 letters and digits")]
    MalformedCode,
    /// No card has this code.
    #[error("no gift card has this code")]
    Unknown,
    /// The card's end date passed.
    #[error("gift card …{last_four} has expired")]
    Expired {
        /// The card's last four letters.
        last_four: String,
    },
    /// The card is in another currency than the cart.
    #[error("gift card …{last_four} is in {card}, the cart in {cart}")]
    WrongCurrency {
        /// The card's last four letters.
        last_four: String,
        /// The card's currency.
        card: Currency,
        /// The cart's.
        cart: Currency,
    },
    /// Nothing is left on the card.
    #[error("gift card …{last_four} has no balance left")]
    Empty {
        /// The card's last four letters.
        last_four: String,
    },
    /// One card named twice at one checkout.
    #[error("a gift card is named twice")]
    Repeated,
    /// More cards than one checkout takes.
    #[error("at most {MAX_CARDS_PER_CHECKOUT} gift cards per checkout, got {0}")]
    TooMany(usize),
    /// A value not above zero, or above [`NewGiftCard::MAX_VALUE`].
    #[error("a gift card's value must be above zero and at most {max}, got {0}", max = NewGiftCard::MAX_VALUE)]
    Value(Money),
    /// An end date not after the issue.
    #[error("a gift card must expire after it is issued")]
    ExpiresBeforeIssue,
    /// Amounts in different currencies.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Checks the codes one checkout names: at most [`MAX_CARDS_PER_CHECKOUT`], none twice.
pub fn distinct_cards(codes: &[GiftCardCode]) -> Result<(), GiftCardError> {
    if codes.len() > MAX_CARDS_PER_CHECKOUT {
        return Err(GiftCardError::TooMany(codes.len()));
    }
    let repeated = codes
        .iter()
        .enumerate()
        .any(|(i, code)| codes[..i].contains(code));
    if repeated {
        return Err(GiftCardError::Repeated);
    }
    Ok(())
}

/// What each card pays of `due`, in the order given: as much as its balance
/// covers of what the cards before it left. A card left nothing to pay pays
/// nothing (and is not charged). Each card must [accept](GiftCard::accepts) the
/// currency at `at`.
pub fn tender(
    due: Money,
    cards: &[GiftCard],
    at: DateTime<Utc>,
) -> Result<Vec<Money>, GiftCardError> {
    let mut left = due;
    let mut paid = Vec::with_capacity(cards.len());
    for card in cards {
        card.accepts(due.currency(), at)?;
        let part = if card.balance.amount() < left.amount() {
            card.balance
        } else {
            left
        };
        left = left.checked_sub(part)?;
        paid.push(part);
    }
    Ok(paid)
}

/// Where a refund of an order goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundPriority {
    /// Back to the gift cards first (most recent payment first among them), then
    /// to the provider. Money that came from a card stays the shop's to spend.
    #[default]
    GiftCardsFirst,
    /// Back to the provider first, then to the cards.
    ProviderFirst,
}

/// How much of `amount` each payment of an order gives back: payments in the
/// order `priority` says, each up to what it captured and has not refunded yet.
/// Only payments that give something back are listed. Refused when the payments
/// hold less than `amount`.
pub fn plan_refund(
    payments: &[Payment],
    amount: Money,
    priority: RefundPriority,
) -> Result<Vec<(PaymentId, Money)>, PaymentError> {
    if amount.is_zero() || amount.is_negative() {
        return Err(PaymentError::NonPositive(amount));
    }
    let mut order: Vec<&Payment> = payments.iter().collect();
    // Newest first within each group: the latest tender is undone first.
    order.sort_by_key(|p| {
        let card_first = p.gift_card.is_some() == (priority == RefundPriority::GiftCardsFirst);
        (!card_first, std::cmp::Reverse(p.id))
    });
    let mut left = amount;
    let mut plan = Vec::new();
    for payment in order {
        if left.is_zero() {
            break;
        }
        let open = payment.captured.checked_sub(payment.refunded)?;
        if open.is_zero() || open.is_negative() {
            continue;
        }
        let part = if open.try_cmp(&left)?.is_lt() {
            open
        } else {
            left
        };
        left = left.checked_sub(part)?;
        plan.push((payment.id, part));
    }
    if !left.is_zero() {
        let captured = Money::sum(amount.currency(), payments.iter().map(|p| &p.captured))?;
        let refunded = Money::sum(amount.currency(), payments.iter().map(|p| &p.refunded))?;
        return Err(PaymentError::OverRefund {
            requested: amount,
            refunded,
            captured,
        });
    }
    Ok(plan)
}

/// Sums a card's ledger: what its balance must be.
pub fn ledger_balance(entries: &[GiftCardEntry], currency: Currency) -> Result<Money, MoneyError> {
    entries
        .iter()
        .try_fold(Money::zero(currency), |sum, e| match e.kind {
            GiftCardEntryKind::Issue | GiftCardEntryKind::Refund => sum.checked_add(e.amount),
            GiftCardEntryKind::Redeem => sum.checked_sub(e.amount),
        })
}

#[cfg(test)]
#[path = "gift_card_tests.rs"]
mod tests;
