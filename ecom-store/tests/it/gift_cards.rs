//! Gift cards on PostgreSQL: the same tenders, refusals, refunds and restores as
//! the reference store, with hand-computed amounts; two checkouts spending one card
//! at once; and the schema's own rules, written around the store.

use std::sync::Barrier;

use chrono::{Duration, Utc};
use ecom_domain::gift_card::{GiftCardError, RefundPriority, ledger_balance};
use ecom_domain::memory::MemoryStore;
use ecom_domain::prelude::*;
use ecom_domain::repo::PriceBookRepository;
use ecom_domain::rules::StoreRules;
use ecom_store::testing::TestDb;
use ecom_store::{Isolation, PgStore, RetryPolicy, StoreError};

use crate::promotions::{d, eur, shop};
use crate::util::{all_at_once, event, exec, guest_owner, pg_store, request, rules, scalar};

fn issue<S: GiftCardRepository>(store: &S, value: Money) -> IssuedGiftCard
where
    S::Error: RepoError,
{
    store
        .issue_gift_card(NewGiftCard {
            value,
            expires_at: None,
        })
        .map_err(d)
        .unwrap()
}

/// How an order was paid, without ids: each payment's provider, amount,
/// captured, refunded and status, gift cards first.
fn tenders(payments: &[Payment]) -> Vec<String> {
    payments
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {} {}",
                p.provider,
                p.amount.amount(),
                p.captured.amount(),
                p.refunded.amount(),
                p.status
            )
        })
        .collect()
}

fn balance<S: GiftCardRepository>(store: &S, card: &IssuedGiftCard) -> String
where
    S::Error: RepoError,
{
    let now = store.gift_card(&card.code).map_err(d).unwrap();
    let ledger = store.gift_card_ledger(now.id).map_err(d).unwrap();
    assert_eq!(
        ledger_balance(&ledger, now.currency()).unwrap(),
        now.balance,
        "the balance is the ledger's sum"
    );
    assert_eq!(ledger.last().unwrap().balance_after, now.balance);
    now.balance.amount().to_string()
}

/// Cards of 20.00 and 100.00 (and one in dollars) spent at checkout, alone and
/// with the provider; the refusals; refunds by amount and by line; a
/// cancellation that gives a card back what it paid. Every outcome as text.
fn scenario<S>(store: &S) -> Vec<Result<String, DomainError>>
where
    S: CatalogRepository
        + PriceBookRepository
        + CartRepository
        + CheckoutRepository
        + OrderRepository
        + PaymentRepository
        + GiftCardRepository,
    <S as CatalogReader>::Error: RepoError,
    <S as PriceBookRepository>::Error: RepoError,
    <S as CartRepository>::Error: RepoError,
    <S as CheckoutRepository>::Error: RepoError,
    <S as PaymentRepository>::Error: RepoError,
    <S as GiftCardRepository>::Error: RepoError,
{
    let (shirt, _) = shop(store);
    let small = issue(store, eur("20.00"));
    let large = issue(store, eur("100.00"));
    let dollars = issue(store, Money::parse("50.00", Currency::USD).unwrap());
    let mut n = 0;
    let mut checkout = |shirts: i64, cards: &[&IssuedGiftCard]| {
        n += 1;
        let cart = store
            .open_cart(&guest_owner(n), Currency::EUR)
            .map_err(d)
            .unwrap();
        store
            .add_item(cart.id, shirt, Quantity::new(shirts).unwrap())
            .map_err(d)
            .unwrap();
        let mut req = request(cart.id, &format!("gift-{n}"));
        req.shipping_method = Some(Slug::parse("standard").unwrap());
        req.gift_cards = cards.iter().map(|c| c.code.clone()).collect();
        store.checkout(&req).map_err(d).inspect(|done| {
            let stored = store.order(done.order.id).map_err(d).unwrap();
            assert_eq!(stored.order, done.order, "the order reads back as placed");
            assert_eq!(stored.payments, done.payments(), "and its payments");
            let paid = Money::sum(Currency::EUR, done.payments().iter().map(|p| &p.amount));
            assert_eq!(
                paid,
                Ok(done.order.totals.grand_total),
                "the payments sum to the total"
            );
        })
    };
    let text = |done: &Checkout| {
        format!(
            "{} {} {:?}",
            done.order.totals.grand_total.amount(),
            done.order.status,
            tenders(&done.payments())
        )
    };
    let mut out = Vec::new();
    // Two shirts and shipping, 23.80 + 4.90 = 28.70: the small card pays its 20.00,
    // the provider the 8.70 left.
    let split = checkout(2, &[&small]);
    out.push(split.as_ref().map(text).map_err(Clone::clone));
    out.push(Ok(balance(store, &small)));
    // One shirt, 16.80, all on the large card: paid at once.
    let whole = checkout(1, &[&large]);
    out.push(whole.as_ref().map(text).map_err(Clone::clone));
    out.push(Ok(balance(store, &large)));
    // Refused: a card spent to zero, a card in dollars, a code no card has, one
    // card twice. Nothing is taken from the large card.
    let unknown = IssuedGiftCard {
        code: GiftCardCode::from_bytes([7; 16]),
        ..small.clone()
    };
    for cards in [
        vec![&small],
        vec![&dollars],
        vec![&unknown],
        vec![&large, &large],
        vec![&large, &small],
    ] {
        out.push(checkout(1, &cards).map(|done| text(&done)));
    }
    out.push(Ok(balance(store, &large)));
    // A provider report on a card's payment is refused: the store books those.
    if let Ok(whole) = &whole {
        let paid_by_card = whole.gift_card_payments[0].id;
        out.push(
            store
                .record_payment_event(paid_by_card, event("psp-1", PaymentAction::Void))
                .map_err(d)
                .map(|o| o.payment.status.to_string()),
        );
    }
    let refund = |order: OrderId, of: RefundOf, key: &str| {
        store
            .refund(
                order,
                OrderRefund {
                    of,
                    reason: None,
                    key: IdempotencyKey::parse(key).unwrap(),
                },
            )
            .map_err(d)
            .map(|r| {
                format!(
                    "{:?} {} {:?}",
                    r.applied,
                    r.order_status,
                    tenders(&r.payments)
                )
            })
    };
    // The shirt's line back, 16.80 less its shipping: 11.90 onto the large card;
    // asked again, nothing more.
    if let Ok(whole) = &whole {
        out.push(refund(whole.order.id, RefundOf::Line(1), "line-1"));
        out.push(refund(whole.order.id, RefundOf::Line(1), "line-1-again"));
        out.push(refund(whole.order.id, RefundOf::Line(2), "line-2"));
        out.push(Ok(balance(store, &large)));
    }
    if let Ok(split) = &split {
        // Not before the provider's part is paid.
        out.push(refund(
            split.order.id,
            RefundOf::Amount(eur("1.00")),
            "early",
        ));
        let due = split.provider_payment().unwrap();
        for (key, action) in [
            (
                "auth",
                PaymentAction::Authorize {
                    amount: due.amount,
                    provider_ref: None,
                },
            ),
            ("capture", PaymentAction::Capture { amount: due.amount }),
        ] {
            out.push(
                store
                    .record_payment_event(due.id, event(key, action))
                    .map_err(d)
                    .map(|o| o.order_status.to_string()),
            );
        }
        // 10.00 back: all onto the card. Then 18.70: the card's other 10.00 and
        // the provider's 8.70; all refunded, so is the order. Then nothing is left.
        out.push(refund(split.order.id, RefundOf::Amount(eur("10.00")), "r1"));
        out.push(refund(split.order.id, RefundOf::Amount(eur("10.00")), "r1"));
        out.push(refund(split.order.id, RefundOf::Amount(eur("11.00")), "r1"));
        out.push(Ok(balance(store, &small)));
        // An amount in another currency than the order's is refused as such.
        let dollars = Money::parse("1.00", Currency::USD).unwrap();
        assert!(matches!(
            refund(split.order.id, RefundOf::Amount(dollars), "in-dollars"),
            Err(DomainError::Money(MoneyError::CurrencyMismatch { .. }))
        ));
        out.push(refund(split.order.id, RefundOf::Amount(eur("18.70")), "r2"));
        out.push(refund(split.order.id, RefundOf::Amount(eur("0.01")), "r3"));
        out.push(Ok(balance(store, &small)));
    }
    // A cancelled order gives the card back what it paid, once.
    let cancelled = checkout(2, &[&large]);
    out.push(cancelled.as_ref().map(text).map_err(Clone::clone));
    out.push(Ok(balance(store, &large)));
    if let Ok(cancelled) = &cancelled {
        for _ in 0..2 {
            out.push(
                store
                    .transition(cancelled.order.id, OrderEvent::Cancel, None)
                    .map_err(d)
                    .map(|o| o.status.to_string()),
            );
        }
    }
    out.push(Ok(balance(store, &large)));
    let ledger = store
        .gift_card_ledger(store.gift_card(&large.code).map_err(d).unwrap().id)
        .map_err(d)
        .unwrap();
    out.push(Ok(format!(
        "{:?}",
        ledger
            .iter()
            .map(|e| format!("{} {}", e.kind, e.amount.amount()))
            .collect::<Vec<_>>()
    )));
    out
}

#[test]
fn gift_cards_match_the_reference_store_and_the_hand_sums() {
    let db = TestDb::new();
    let pg = PgStore::with_rules(db.pool().clone(), rules());
    let memory = MemoryStore::with_rules(rules());
    let actual = scenario(&pg);
    // The stores agree on all but ids and the random codes' last letters.
    let anonymous = |outcomes: &[Result<String, DomainError>]| -> Vec<Result<String, String>> {
        outcomes
            .iter()
            .map(|o| {
                o.clone().map_err(|e| match e {
                    DomainError::GiftCard(GiftCardError::Empty { .. }) => "empty".into(),
                    DomainError::GiftCard(GiftCardError::WrongCurrency { card, cart, .. }) => {
                        format!("{card} card, {cart} cart")
                    }
                    DomainError::GiftCardPayment(_) => "a card's payment".into(),
                    DomainError::NoRefundableLine { line_no, .. } => format!("no line {line_no}"),
                    DomainError::OrderNotPayable { status, .. } => format!("{status}: no refund"),
                    other => format!("{other:?}"),
                })
            })
            .collect()
    };
    assert_eq!(anonymous(&actual), anonymous(&scenario(&memory)));
    let ok = |i: usize| actual[i].as_ref().unwrap().as_str();
    assert_eq!(
        ok(0),
        r#"28.70 pending_payment ["gift_card 20.00 20.00 0.00 captured", "test 8.70 0.00 0.00 pending"]"#
    );
    assert_eq!(ok(1), "0.00");
    assert_eq!(
        ok(2),
        r#"16.80 paid ["gift_card 16.80 16.80 0.00 captured"]"#
    );
    assert_eq!(ok(3), "83.20");
    let refused: Vec<_> = actual[4..9]
        .iter()
        .map(|r| r.clone().unwrap_err())
        .collect();
    assert!(matches!(
        refused[0],
        DomainError::GiftCard(GiftCardError::Empty { .. })
    ));
    assert!(matches!(
        refused[1],
        DomainError::GiftCard(GiftCardError::WrongCurrency { .. })
    ));
    assert_eq!(refused[2], DomainError::GiftCard(GiftCardError::Unknown));
    assert_eq!(refused[3], DomainError::GiftCard(GiftCardError::Repeated));
    // The large card would pay all of it, but the small one named after it is
    // empty: a card named must be spendable.
    assert!(matches!(
        refused[4],
        DomainError::GiftCard(GiftCardError::Empty { .. })
    ));
    assert_eq!(ok(9), "83.20");
    assert!(matches!(actual[10], Err(DomainError::GiftCardPayment(_))));
    // The shirt's line: 11.90 of the 16.80, the rest being shipping.
    assert_eq!(
        ok(11),
        r#"Changed paid ["gift_card 16.80 16.80 11.90 partially_refunded"]"#
    );
    assert_eq!(
        ok(12),
        r#"Duplicate paid ["gift_card 16.80 16.80 11.90 partially_refunded"]"#
    );
    assert!(matches!(
        actual[13],
        Err(DomainError::NoRefundableLine { line_no: 2, .. })
    ));
    assert_eq!(ok(14), "95.10");
    assert!(matches!(
        actual[15],
        Err(DomainError::OrderNotPayable { .. })
    ));
    assert_eq!((ok(16), ok(17)), ("pending_payment", "paid"));
    assert_eq!(
        ok(18),
        r#"Changed paid ["gift_card 20.00 20.00 10.00 partially_refunded", "test 8.70 8.70 0.00 captured"]"#
    );
    assert!(ok(19).starts_with("Duplicate paid"));
    assert!(matches!(
        actual[20],
        Err(DomainError::Payment(PaymentError::KeyReused(_)))
    ));
    assert_eq!(ok(21), "10.00");
    assert_eq!(
        ok(22),
        r#"Changed refunded ["gift_card 20.00 20.00 20.00 refunded", "test 8.70 8.70 8.70 refunded"]"#
    );
    assert!(matches!(
        actual[23],
        Err(DomainError::OrderNotPayable { .. })
    ));
    assert_eq!(ok(24), "20.00");
    assert_eq!(
        ok(25),
        r#"28.70 paid ["gift_card 28.70 28.70 0.00 captured"]"#
    );
    assert_eq!(ok(26), "66.40");
    assert_eq!(ok(27), "cancelled");
    assert!(matches!(actual[28], Err(DomainError::OrderTransition(_))));
    assert_eq!(ok(29), "95.10");
    assert_eq!(
        ok(30),
        r#"["issue 100.00", "redeem 16.80", "refund 11.90", "redeem 28.70", "refund 28.70"]"#
    );
}

/// One card of 50.00, eight checkouts of 28.70 each naming it at once: the card
/// pays 28.70 for one and the 21.30 left for another, and refuses the rest;
/// never more than it held.
#[test]
fn checkouts_racing_for_one_card_never_spend_more_than_it_holds() {
    const BUYERS: u32 = 8;
    let db = TestDb::new();
    let store = pg_store(&db);
    let (shirt, _) = shop(&store);
    let card = issue(&store, eur("50.00"));
    let requests: Vec<CheckoutRequest> = (0..BUYERS)
        .map(|n| {
            let cart = store.open_cart(&guest_owner(n), Currency::EUR).unwrap();
            store
                .add_item(cart.id, shirt, Quantity::new(2).unwrap())
                .unwrap();
            let mut req = request(cart.id, &format!("race-{n}"));
            req.shipping_method = Some(Slug::parse("standard").unwrap());
            req.gift_cards = vec![card.code.clone()];
            req
        })
        .collect();
    let outcomes = all_at_once(requests.len(), |i| store.checkout(&requests[i]));
    let placed: Vec<&Checkout> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    let empty = outcomes
        .iter()
        .filter(|o| {
            matches!(
                o,
                Err(StoreError::Domain(DomainError::GiftCard(
                    GiftCardError::Empty { .. }
                )))
            )
        })
        .count();
    assert_eq!((placed.len(), empty), (2, 6), "{outcomes:?}");
    let mut spent: Vec<Money> = placed
        .iter()
        .map(|done| done.gift_card_payments[0].amount)
        .collect();
    spent.sort_by_key(|m| m.amount());
    assert_eq!(spent, vec![eur("21.30"), eur("28.70")]);
    for done in &placed {
        let due = done.payment.as_ref().map_or(eur("0.00"), |p| p.amount);
        assert_eq!(
            done.gift_card_payments[0].amount.checked_add(due).unwrap(),
            done.order.totals.grand_total
        );
    }
    assert_eq!(store.gift_card(&card.code).unwrap().balance, eur("0.00"));
    let mut conn = db.connect();
    assert_eq!(
        scalar(
            &mut conn,
            "count(*) FROM gift_card_entries WHERE kind = 'redeem'"
        ),
        2
    );
}

/// An unpaid order that expires gives its card back what it paid, exactly once.
#[test]
fn an_expired_order_gives_its_card_back_once() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let (shirt, _) = shop(&store);
    let card = issue(&store, eur("10.00"));
    let cart = store.open_cart(&guest_owner(1), Currency::EUR).unwrap();
    store
        .add_item(cart.id, shirt, Quantity::new(1).unwrap())
        .unwrap();
    let mut req = request(cart.id, "expiring");
    req.shipping_method = Some(Slug::parse("standard").unwrap());
    req.gift_cards = vec![card.code.clone()];
    let done = store.checkout(&req).unwrap();
    assert_eq!(done.provider_payment().unwrap().amount, eur("6.80"));
    assert_eq!(store.gift_card(&card.code).unwrap().balance, eur("0.00"));
    let later = Utc::now() + Duration::days(1);
    assert_eq!(
        store.expire_unpaid_orders(later).unwrap(),
        vec![done.order.id]
    );
    assert_eq!(store.expire_unpaid_orders(later).unwrap(), vec![]);
    assert_eq!(store.gift_card(&card.code).unwrap().balance, eur("10.00"));
    let details = store.order(done.order.id).unwrap();
    assert_eq!(
        tenders(&details.payments),
        [
            "gift_card 10.00 10.00 10.00 refunded",
            "test 6.80 0.00 0.00 voided"
        ]
    );
}

/// The schema keeps the rules whatever client writes: no code in the clear, a
/// balance never below zero nor apart from its ledger, a ledger never rewritten.
#[test]
fn the_schema_keeps_gift_cards_honest() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let card = issue(&store, eur("25.00"));
    let mut conn = db.connect();
    let digest: String = card
        .code
        .digest()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        scalar(
            &mut conn,
            &format!(
                "count(*) FROM gift_cards WHERE code_digest = '\\x{digest}'::bytea AND last_four = '{}'",
                card.code.last_four()
            )
        ),
        1
    );
    let code = card.code.grouped().replace('-', "");
    assert_eq!(
        scalar(
            &mut conn,
            &format!("count(*) FROM gift_cards g WHERE strpos(g::text, '{code}') > 0")
        ),
        0,
        "the code itself is nowhere"
    );
    let id = card.card.id.get();
    let refused = |conn: &mut diesel::PgConnection, sql: &str, constraint: &str| {
        let err = exec(conn, sql).expect_err(sql).to_string();
        assert!(err.contains(constraint), "{sql}: {err}");
    };
    refused(
        &mut conn,
        &format!("UPDATE gift_cards SET balance = -1 WHERE id = {id}"),
        "gift_cards_balance_range",
    );
    refused(
        &mut conn,
        &format!("UPDATE gift_cards SET balance = 26 WHERE id = {id}"),
        "gift_cards_balance_range",
    );
    refused(
        &mut conn,
        &format!("UPDATE gift_cards SET balance = 5 WHERE id = {id}"),
        "gift_cards_balance_is_ledger",
    );
    refused(
        &mut conn,
        &format!("UPDATE gift_card_entries SET amount = 1 WHERE gift_card_id = {id}"),
        "not changed",
    );
    refused(
        &mut conn,
        &format!(
            "INSERT INTO gift_card_entries (gift_card_id, kind, amount, balance_after) \
             VALUES ({id}, 'issue', 1, 26)"
        ),
        "gift_card_entries_one_issue_idx",
    );
    refused(
        &mut conn,
        &format!(
            "INSERT INTO gift_card_entries (gift_card_id, kind, amount, balance_after) \
             VALUES ({id}, 'redeem', 1, 24)"
        ),
        "gift_card_entries_payment_unless_issue",
    );
    assert_eq!(store.gift_card(&card.code).unwrap().balance, eur("25.00"));

    // An order paid by card: a further card payment breaks its sum, at commit.
    let (shirt, _) = shop(&store);
    let cart = store.open_cart(&guest_owner(1), Currency::EUR).unwrap();
    store
        .add_item(cart.id, shirt, Quantity::new(1).unwrap())
        .unwrap();
    let mut req = request(cart.id, "paid-by-card");
    req.shipping_method = Some(Slug::parse("standard").unwrap());
    req.gift_cards = vec![card.code.clone()];
    let order = store.checkout(&req).unwrap().order.id.get();
    refused(
        &mut conn,
        &format!(
            "INSERT INTO payments (order_id, provider, gift_card_id, currency, amount, \
             authorized, captured, status) \
             VALUES ({order}, 'gift_card', {id}, 'EUR', 1, 1, 1, 'captured')"
        ),
        "payments_sum_to_the_order",
    );
    refused(
        &mut conn,
        &format!(
            "INSERT INTO payments (order_id, provider, gift_card_id, currency, amount) \
             VALUES ({order}, 'psp', {id}, 'EUR', 1)"
        ),
        "payments_gift_card_provider",
    );
}

/// A cancellation gives a card back its money while another checkout spends the
/// same card on the same product, round after round. Both take the card before the
/// product, so they queue and neither is ever a deadlock's victim (the store runs
/// each once here: its retry would hide one). The card ends with exactly what the
/// orders kept.
#[test]
fn a_cancellation_and_a_checkout_sharing_a_card_and_a_product_never_deadlock() {
    const ROUNDS: u32 = 100;
    let db = TestDb::new();
    // The store's isolation (READ COMMITTED), each transaction run once.
    let store = pg_store(&db).with_retry(RetryPolicy {
        max_attempts: 1,
        isolation: Isolation::ReadCommitted,
        ..RetryPolicy::default()
    });
    let (shirt, _) = shop(&store);
    let card = issue(&store, eur("5000.00"));
    let checkout = |n: u32| {
        let cart = store.open_cart(&guest_owner(n), Currency::EUR).unwrap();
        store
            .add_item(cart.id, shirt, Quantity::new(1).unwrap())
            .unwrap();
        let mut req = request(cart.id, &format!("both-{n}"));
        req.shipping_method = Some(Slug::parse("standard").unwrap());
        req.gift_cards = vec![card.code.clone()];
        req
    };
    let mut placed = store.checkout(&checkout(0)).unwrap();
    for round in 1..=ROUNDS {
        let next = checkout(round);
        let barrier = Barrier::new(2);
        let (cancelled, done) = std::thread::scope(|s| {
            let cancel = s.spawn(|| {
                barrier.wait();
                // Later and later into the checkout, in steps of 0.2 ms: at some
                // step the checkout holds the card while the cancellation holds
                // the product.
                std::thread::sleep(std::time::Duration::from_micros(
                    200 * u64::from(round % 20),
                ));
                store.transition(placed.order.id, OrderEvent::Cancel, None)
            });
            let buy = s.spawn(|| {
                barrier.wait();
                store.checkout(&next)
            });
            (cancel.join().unwrap(), buy.join().unwrap())
        });
        let status = cancelled
            .unwrap_or_else(|e| panic!("round {round}: {e}"))
            .status;
        assert_eq!(status, OrderStatus::Cancelled);
        placed = done.unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
    // Every round took 16.80 and all but the last gave it back.
    assert_eq!(store.gift_card(&card.code).unwrap().balance, eur("4983.20"));
}

/// With `RefundPriority::ProviderFirst` in the rules, a refund goes back to the
/// provider's payment first and only then to the card; in both stores alike.
#[test]
fn refunds_go_to_the_provider_first_when_the_rules_say_so() {
    fn refunded<S>(store: &S) -> Vec<String>
    where
        S: CatalogRepository
            + PriceBookRepository
            + CartRepository
            + CheckoutRepository
            + OrderRepository
            + PaymentRepository
            + GiftCardRepository,
        <S as CatalogReader>::Error: RepoError,
        <S as PriceBookRepository>::Error: RepoError,
        <S as CartRepository>::Error: RepoError,
        <S as CheckoutRepository>::Error: RepoError,
        <S as PaymentRepository>::Error: RepoError,
        <S as GiftCardRepository>::Error: RepoError,
    {
        let (shirt, _) = shop(store);
        let card = issue(store, eur("20.00"));
        let cart = store
            .open_cart(&guest_owner(1), Currency::EUR)
            .map_err(d)
            .unwrap();
        store
            .add_item(cart.id, shirt, Quantity::new(2).unwrap())
            .map_err(d)
            .unwrap();
        let mut req = request(cart.id, "provider-first");
        req.shipping_method = Some(Slug::parse("standard").unwrap());
        req.gift_cards = vec![card.code.clone()];
        let done = store.checkout(&req).map_err(d).unwrap();
        let due = done.provider_payment().unwrap();
        for (key, action) in [
            (
                "auth",
                PaymentAction::Authorize {
                    amount: due.amount,
                    provider_ref: None,
                },
            ),
            ("capture", PaymentAction::Capture { amount: due.amount }),
        ] {
            store
                .record_payment_event(due.id, event(key, action))
                .map_err(d)
                .unwrap();
        }
        let out = store
            .refund(
                done.order.id,
                OrderRefund {
                    of: RefundOf::Amount(eur("10.00")),
                    reason: None,
                    key: IdempotencyKey::parse("back").unwrap(),
                },
            )
            .map_err(d)
            .unwrap();
        let mut seen = tenders(&out.payments);
        seen.push(balance(store, &card));
        seen
    }
    let rules = || StoreRules {
        refund_priority: RefundPriority::ProviderFirst,
        ..rules()
    };
    let db = TestDb::new();
    let pg = PgStore::with_rules(db.pool().clone(), rules());
    let seen = refunded(&pg);
    assert_eq!(seen, refunded(&MemoryStore::with_rules(rules())));
    // 28.70: 20.00 by card, 8.70 by the provider; of 10.00 back the provider's
    // 8.70 first, then 1.30 onto the card.
    assert_eq!(
        seen,
        [
            "gift_card 20.00 20.00 1.30 partially_refunded",
            "test 8.70 8.70 8.70 refunded",
            "1.30",
        ]
    );
}

/// A card past its end date is refused at checkout with its own error, and
/// nothing is taken from it.
#[test]
fn an_expired_card_is_refused_at_checkout() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let (shirt, _) = shop(&store);
    let card = store
        .issue_gift_card(NewGiftCard {
            value: eur("50.00"),
            expires_at: Some(Utc::now() + Duration::milliseconds(500)),
        })
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(600));
    let cart = store.open_cart(&guest_owner(1), Currency::EUR).unwrap();
    store
        .add_item(cart.id, shirt, Quantity::new(1).unwrap())
        .unwrap();
    let mut req = request(cart.id, "too-late");
    req.shipping_method = Some(Slug::parse("standard").unwrap());
    req.gift_cards = vec![card.code.clone()];
    assert!(matches!(
        store.checkout(&req),
        Err(StoreError::Domain(DomainError::GiftCard(
            GiftCardError::Expired { .. }
        )))
    ));
    assert_eq!(store.gift_card(&card.code).unwrap().balance, eur("50.00"));
}
