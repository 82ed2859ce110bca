use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::ids::{GiftCardId, OrderId, PaymentId};
use crate::money::{Currency, Money};
use crate::payment::PaymentEvent;
use crate::values::{IdempotencyKey, ProviderName};

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

fn card(id: i64, balance: i64) -> GiftCard {
    GiftCard {
        id: GiftCardId::new(id),
        last_four: "ABCD".into(),
        initial_value: eur(balance.max(1)),
        balance: eur(balance),
        expires_at: None,
        created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

#[test]
fn a_code_reads_as_people_type_it() {
    let code = GiftCardCode::from_bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 31]);
    assert_eq!(code.grouped(), "0123-4567-89AB-CDEZ");
    assert_eq!(code.last_four(), "CDEZ");
    for typed in [
        "0123-4567-89ab-cdez",
        "o123 4567 89AB CDEZ",
        "0l23456789abcdez",
    ] {
        let read = GiftCardCode::parse(typed).unwrap();
        assert_eq!(read.grouped(), "0123-4567-89AB-CDEZ", "{typed}");
        assert_eq!(read.digest(), code.digest());
    }
    for bad in [
        "",
        "0123-4567-89AB-CDE",
        "0123-4567-89AB-CDEZ0",
        "0123-4567-89AB-CDEU",
        "ü123456789ABCDEZ",
    ] {
        assert_eq!(
            GiftCardCode::parse(bad),
            Err(GiftCardError::MalformedCode),
            "{bad}"
        );
    }
    assert_eq!(format!("{code:?}"), "GiftCardCode(…CDEZ)");
}

#[test]
fn random_codes_parse_back_and_differ() {
    let a = GiftCardCode::random();
    let b = GiftCardCode::random();
    assert_ne!(a, b);
    assert_eq!(GiftCardCode::parse(&a.grouped()).unwrap(), a);
}

#[test]
fn a_card_is_issued_with_a_positive_bounded_value() {
    let new = |value| NewGiftCard {
        value,
        expires_at: None,
    };
    assert!(new(eur(1)).checked(now()).is_ok());
    assert!(
        new(eur(NewGiftCard::MAX_VALUE * 100))
            .checked(now())
            .is_ok()
    );
    for bad in [eur(0), eur(-1), eur(NewGiftCard::MAX_VALUE * 100 + 1)] {
        assert_eq!(new(bad).checked(now()), Err(GiftCardError::Value(bad)));
    }
    let ended = NewGiftCard {
        value: eur(100),
        expires_at: Some(now()),
    };
    assert_eq!(ended.checked(now()), Err(GiftCardError::ExpiresBeforeIssue));
}

#[test]
fn a_card_refuses_with_the_reason() {
    let mut expired = card(1, 500);
    expired.expires_at = Some(now());
    assert!(matches!(
        expired.accepts(Currency::EUR, now()),
        Err(GiftCardError::Expired { .. })
    ));
    assert!(
        expired
            .accepts(Currency::EUR, now() - Duration::seconds(1))
            .is_ok()
    );
    assert!(matches!(
        card(1, 500).accepts(Currency::USD, now()),
        Err(GiftCardError::WrongCurrency {
            card: Currency::EUR,
            cart: Currency::USD,
            ..
        })
    ));
    assert!(matches!(
        card(1, 0).accepts(Currency::EUR, now()),
        Err(GiftCardError::Empty { .. })
    ));
}

#[test]
fn cards_pay_in_their_order_and_the_rest_is_left() {
    // 50.00 due: the first card pays its 20.00, the second the 30.00 left of its
    // 100.00, the third nothing.
    let paid = tender(
        eur(5000),
        &[card(1, 2000), card(2, 10000), card(3, 700)],
        now(),
    )
    .unwrap();
    assert_eq!(paid, vec![eur(2000), eur(3000), eur(0)]);
    let paid = tender(eur(5000), &[card(1, 2000)], now()).unwrap();
    assert_eq!(paid, vec![eur(2000)]);
}

#[test]
fn a_checkout_names_few_distinct_cards() {
    let a = GiftCardCode::from_bytes([1; 16]);
    let b = GiftCardCode::from_bytes([2; 16]);
    assert!(distinct_cards(&[a.clone(), b.clone()]).is_ok());
    assert_eq!(
        distinct_cards(&[a.clone(), b, a.clone()]),
        Err(GiftCardError::Repeated)
    );
    let many: Vec<_> = (0..6).map(|i| GiftCardCode::from_bytes([i; 16])).collect();
    assert_eq!(distinct_cards(&many), Err(GiftCardError::TooMany(6)));
}

fn captured(id: i64, minor: i64, gift_card: bool) -> Payment {
    let order = OrderId::new(1);
    let amount = eur(minor);
    if gift_card {
        return Payment::from_gift_card(PaymentId::new(id), order, GiftCardId::new(id), amount)
            .unwrap();
    }
    let mut p = Payment::new(
        PaymentId::new(id),
        order,
        ProviderName::parse("psp").unwrap(),
        amount,
    );
    for (i, action) in Payment::gift_card_actions(amount).into_iter().enumerate() {
        let key = IdempotencyKey::parse(&format!("k{i}")).unwrap();
        p.apply(PaymentEvent { key, action }).unwrap();
    }
    p
}

#[test]
fn a_refund_goes_to_the_cards_first_by_default() {
    let payments = [
        captured(1, 3000, true),
        captured(2, 2000, true),
        captured(3, 5000, false),
    ];
    // Newest card first, then the older card, then the provider.
    let plan = plan_refund(&payments, eur(4000), RefundPriority::GiftCardsFirst).unwrap();
    assert_eq!(
        plan,
        vec![
            (PaymentId::new(2), eur(2000)),
            (PaymentId::new(1), eur(2000))
        ]
    );
    let plan = plan_refund(&payments, eur(6000), RefundPriority::ProviderFirst).unwrap();
    assert_eq!(
        plan,
        vec![
            (PaymentId::new(3), eur(5000)),
            (PaymentId::new(2), eur(1000))
        ]
    );
    assert!(matches!(
        plan_refund(&payments, eur(10001), RefundPriority::GiftCardsFirst),
        Err(PaymentError::OverRefund { .. })
    ));
    assert!(matches!(
        plan_refund(&payments, eur(0), RefundPriority::GiftCardsFirst),
        Err(PaymentError::NonPositive(_))
    ));
}

#[test]
fn a_ledger_sums_to_the_balance() {
    let entry = |kind, minor| GiftCardEntry {
        kind,
        amount: eur(minor),
        payment_id: None,
        balance_after: eur(0),
        at: now(),
    };
    let ledger = [
        entry(GiftCardEntryKind::Issue, 5000),
        entry(GiftCardEntryKind::Redeem, 1999),
        entry(GiftCardEntryKind::Refund, 500),
    ];
    assert_eq!(ledger_balance(&ledger, Currency::EUR), Ok(eur(3501)));
}

proptest! {
    /// Cards never pay more than is due or than they hold, and together pay all of
    /// it or all they hold, whichever is less.
    #[test]
    fn tender_pays_at_most_what_is_due_and_held(
        due in 1i64..1_000_000,
        balances in proptest::collection::vec(1i64..500_000, 0..5),
    ) {
        let cards: Vec<_> = balances.iter().enumerate().map(|(i, b)| card(i as i64, *b)).collect();
        let paid = tender(eur(due), &cards, now()).unwrap();
        prop_assert_eq!(paid.len(), cards.len());
        let mut sum = 0;
        for (part, card) in paid.iter().zip(&cards) {
            let minor = part.to_minor().unwrap();
            prop_assert!(minor >= 0 && minor <= card.balance.to_minor().unwrap());
            sum += minor;
        }
        prop_assert_eq!(sum, due.min(balances.iter().sum()));
    }

    /// A refund plan gives back exactly the amount, each payment at most what it
    /// holds, all of one kind before any of the other.
    #[test]
    fn a_refund_plan_sums_exactly(
        parts in proptest::collection::vec((1i64..100_000, any::<bool>()), 1..5),
        share in 1u32..=100,
        cards_first in any::<bool>(),
    ) {
        let payments: Vec<_> = parts
            .iter()
            .enumerate()
            .map(|(i, (minor, card))| captured(i as i64 + 1, *minor, *card))
            .collect();
        let held: i64 = parts.iter().map(|(m, _)| m).sum();
        let amount = (held * i64::from(share) / 100).max(1);
        let priority = if cards_first { RefundPriority::GiftCardsFirst } else { RefundPriority::ProviderFirst };
        let plan = plan_refund(&payments, eur(amount), priority).unwrap();
        let sum: i64 = plan.iter().map(|(_, m)| m.to_minor().unwrap()).sum();
        prop_assert_eq!(sum, amount);
        let mut seen_second_kind = false;
        for (id, part) in &plan {
            let payment = payments.iter().find(|p| p.id == *id).unwrap();
            prop_assert!(part.to_minor().unwrap() <= payment.captured.to_minor().unwrap());
            let first_kind = payment.gift_card.is_some() == cards_first;
            if !first_kind {
                seen_second_kind = true;
            }
            prop_assert!(!(first_kind && seen_second_kind));
        }
    }
}
