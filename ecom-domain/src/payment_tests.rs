use super::*;
use crate::money::Currency;
use proptest::prelude::*;

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

fn payment(due: i64) -> Payment {
    Payment::new(
        PaymentId::new(1),
        OrderId::new(1),
        ProviderName::parse("test").unwrap(),
        eur(due),
    )
}

fn ev(key: &str, action: PaymentAction) -> PaymentEvent {
    PaymentEvent {
        key: IdempotencyKey::parse(key).unwrap(),
        action,
    }
}

#[test]
fn capture_in_parts_then_refund_in_parts() {
    let mut p = payment(1000);
    p.apply(ev(
        "a",
        PaymentAction::Authorize {
            amount: eur(1000),
            provider_ref: None,
        },
    ))
    .unwrap();
    p.apply(ev("c1", PaymentAction::Capture { amount: eur(400) }))
        .unwrap();
    assert_eq!(p.order_event(OrderStatus::PendingPayment, &[]), None);
    p.apply(ev("c2", PaymentAction::Capture { amount: eur(600) }))
        .unwrap();
    assert_eq!(
        p.order_event(OrderStatus::PendingPayment, &[]),
        Some(OrderEvent::PaymentCaptured)
    );
    p.apply(ev(
        "r1",
        PaymentAction::Refund {
            amount: eur(100),
            reason: None,
        },
    ))
    .unwrap();
    assert_eq!(p.status, PaymentStatus::PartiallyRefunded);
    assert_eq!(p.order_event(OrderStatus::Paid, &[]), None);
    p.apply(ev(
        "r2",
        PaymentAction::Refund {
            amount: eur(900),
            reason: None,
        },
    ))
    .unwrap();
    assert_eq!(p.status, PaymentStatus::Refunded);
    assert_eq!(
        p.order_event(OrderStatus::Shipped, &[]),
        Some(OrderEvent::PaymentRefunded)
    );
}

#[test]
fn duplicates_change_nothing_and_reused_keys_are_refused() {
    let mut p = payment(1000);
    let auth = ev(
        "a",
        PaymentAction::Authorize {
            amount: eur(1000),
            provider_ref: None,
        },
    );
    assert_eq!(p.apply(auth.clone()).unwrap(), Applied::Changed);
    let cap = ev("c", PaymentAction::Capture { amount: eur(1000) });
    p.apply(cap.clone()).unwrap();
    let before = p.clone();
    assert_eq!(p.apply(cap).unwrap(), Applied::Duplicate);
    assert_eq!(p.apply(auth).unwrap(), Applied::Duplicate);
    assert_eq!(p, before);
    let err = p
        .apply(ev("c", PaymentAction::Capture { amount: eur(1) }))
        .unwrap_err();
    assert_eq!(err, PaymentError::KeyReused("c".into()));
}

#[test]
fn amount_invariants_are_enforced() {
    let mut p = payment(1000);
    assert!(matches!(
        p.apply(ev(
            "a",
            PaymentAction::Authorize {
                amount: eur(1001),
                provider_ref: None
            }
        )),
        Err(PaymentError::OverAuthorize { .. })
    ));
    p.apply(ev(
        "a",
        PaymentAction::Authorize {
            amount: eur(500),
            provider_ref: None,
        },
    ))
    .unwrap();
    assert!(matches!(
        p.apply(ev("c", PaymentAction::Capture { amount: eur(501) })),
        Err(PaymentError::OverCapture { .. })
    ));
    assert!(matches!(
        p.apply(ev("z", PaymentAction::Capture { amount: eur(0) })),
        Err(PaymentError::NonPositive(_))
    ));
    assert!(matches!(
        p.apply(ev(
            "u",
            PaymentAction::Capture {
                amount: Money::from_minor(1, Currency::USD)
            }
        )),
        Err(PaymentError::Money(MoneyError::CurrencyMismatch { .. }))
    ));
    p.apply(ev("c", PaymentAction::Capture { amount: eur(500) }))
        .unwrap();
    assert!(matches!(
        p.apply(ev(
            "r",
            PaymentAction::Refund {
                amount: eur(501),
                reason: None
            }
        )),
        Err(PaymentError::OverRefund { .. })
    ));
}

#[test]
fn void_only_before_capture_and_terminal_states_refuse_everything() {
    let mut p = payment(1000);
    p.apply(ev(
        "a",
        PaymentAction::Authorize {
            amount: eur(1000),
            provider_ref: None,
        },
    ))
    .unwrap();
    p.apply(ev("c", PaymentAction::Capture { amount: eur(10) }))
        .unwrap();
    let err = p.apply(ev("v", PaymentAction::Void)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a payment that is captured does not accept void; it accepts capture, refund, reduce"
    );
    let mut q = payment(1000);
    q.apply(ev("v", PaymentAction::Void)).unwrap();
    assert!(q.status.is_terminal());
    assert!(matches!(
        q.apply(ev(
            "a",
            PaymentAction::Authorize {
                amount: eur(1),
                provider_ref: None
            }
        )),
        Err(PaymentError::Transition { .. })
    ));
}

#[test]
fn cancellation_settles_by_void_or_refund() {
    let mut p = payment(1000);
    let void = p.settlement_on_cancel().unwrap();
    assert_eq!(void.action, PaymentAction::Void);
    assert_eq!(
        void.key.as_str(),
        format!("store:settle:{}:void", p.order_id)
    );
    assert!(void.key.is_reserved());
    assert!(
        IdempotencyKey::parse(void.key.as_str()).is_err(),
        "no client can send the store's key"
    );
    p.apply(ev(
        "a",
        PaymentAction::Authorize {
            amount: eur(1000),
            provider_ref: None,
        },
    ))
    .unwrap();
    p.apply(ev("c", PaymentAction::Capture { amount: eur(1000) }))
        .unwrap();
    p.apply(ev(
        "r",
        PaymentAction::Refund {
            amount: eur(300),
            reason: None,
        },
    ))
    .unwrap();
    assert_eq!(
        p.settlement_on_cancel().map(|e| e.action),
        Some(PaymentAction::Refund {
            amount: eur(700),
            reason: Some(Reason::parse("order cancelled").unwrap())
        })
    );
}

#[test]
fn orders_accept_payments_only_in_the_right_state() {
    assert!(order_accepts(
        OrderStatus::PendingPayment,
        PaymentActionKind::Capture
    ));
    assert!(!order_accepts(
        OrderStatus::Expired,
        PaymentActionKind::Authorize
    ));
    assert!(!order_accepts(
        OrderStatus::Expired,
        PaymentActionKind::Capture
    ));
    assert!(order_accepts(
        OrderStatus::Delivered,
        PaymentActionKind::Refund
    ));
    assert!(!order_accepts(
        OrderStatus::PendingPayment,
        PaymentActionKind::Refund
    ));
}

#[test]
fn a_reduction_lowers_what_is_due_and_an_authorization_above_it() {
    let mut p = payment(5000);
    p.apply(ev(
        "a",
        PaymentAction::Authorize {
            amount: eur(5000),
            provider_ref: None,
        },
    ))
    .unwrap();
    p.apply(ev("r", PaymentAction::Reduce { amount: eur(1190) }))
        .unwrap();
    assert_eq!(
        (p.amount, p.released, p.due(), p.authorized, p.status),
        (
            eur(5000),
            eur(1190),
            eur(3810),
            eur(3810),
            PaymentStatus::Authorized
        )
    );
    // The same reduction again is a replay; a capture of the old amount is refused.
    assert_eq!(
        p.apply(ev("r", PaymentAction::Reduce { amount: eur(1190) })),
        Ok(Applied::Duplicate)
    );
    assert!(matches!(
        p.apply(ev("c", PaymentAction::Capture { amount: eur(5000) })),
        Err(PaymentError::OverCapture { .. })
    ));
    p.apply(ev("c", PaymentAction::Capture { amount: eur(3810) }))
        .unwrap();
    assert!(p.is_fully_captured());
    assert_eq!(
        p.order_event(OrderStatus::PendingPayment, &[]),
        Some(OrderEvent::PaymentCaptured)
    );
}

#[test]
fn a_pending_payment_authorizes_only_what_is_due_after_a_reduction() {
    let mut p = payment(2000);
    p.apply(ev("r", PaymentAction::Reduce { amount: eur(500) }))
        .unwrap();
    assert_eq!(
        p.apply(ev(
            "a",
            PaymentAction::Authorize {
                amount: eur(2000),
                provider_ref: None,
            },
        )),
        Err(PaymentError::OverAuthorize {
            requested: eur(2000),
            due: eur(1500),
        })
    );
}

#[test]
fn a_reduction_down_to_what_was_captured_completes_the_payment() {
    let mut p = payment(3000);
    p.apply(ev(
        "a",
        PaymentAction::Authorize {
            amount: eur(3000),
            provider_ref: None,
        },
    ))
    .unwrap();
    p.apply(ev("c", PaymentAction::Capture { amount: eur(1000) }))
        .unwrap();
    assert_eq!(p.reducible(), Ok(eur(2000)));
    assert_eq!(
        p.apply(ev("big", PaymentAction::Reduce { amount: eur(2001) })),
        Err(PaymentError::OverReduce {
            requested: eur(2001),
            due: eur(3000),
            captured: eur(1000),
        })
    );
    p.apply(ev("r", PaymentAction::Reduce { amount: eur(2000) }))
        .unwrap();
    assert_eq!(
        p.order_event(OrderStatus::PendingPayment, &[]),
        Some(OrderEvent::PaymentCaptured)
    );
}

#[test]
fn something_stays_due_on_a_payment_nothing_was_captured_of() {
    let p = payment(1000);
    assert_eq!(p.reducible(), Ok(eur(999)));
    let mut q = p.clone();
    assert!(matches!(
        q.apply(ev("r", PaymentAction::Reduce { amount: eur(1000) })),
        Err(PaymentError::OverReduce { .. })
    ));
    assert_eq!(q, p);
}

#[test]
fn a_reduction_is_the_stores_alone() {
    assert_eq!(
        check_reported(&ev("r", PaymentAction::Reduce { amount: eur(1) })),
        Err(PaymentError::StoreOnly(PaymentActionKind::Reduce))
    );
    assert_eq!(
        check_reported(&ev("c", PaymentAction::Capture { amount: eur(1) })),
        Ok(())
    );
    assert!(!order_accepts(
        OrderStatus::PendingPayment,
        PaymentActionKind::Reduce
    ));
}

#[test]
fn a_reduction_is_planned_on_the_providers_payments_only() {
    let mut card = payment(1500);
    card.id = PaymentId::new(1);
    card.gift_card = Some(GiftCardId::new(9));
    for action in Payment::gift_card_actions(eur(1500)) {
        card.apply(ev(&format!("g{}", action.kind()), action))
            .unwrap();
    }
    let mut provider = payment(1000);
    provider.id = PaymentId::new(2);
    let both = [card, provider];
    assert_eq!(
        plan_reduction(&both, eur(400)),
        Ok(vec![(PaymentId::new(2), eur(400))])
    );
    // The card's 15.00 is not lowered: at most 9.99 of the provider's 10.00 can go.
    assert_eq!(
        plan_reduction(&both, eur(1000)),
        Err(PaymentError::OverReduce {
            requested: eur(1000),
            due: eur(1000),
            captured: eur(0),
        })
    );
    assert_eq!(
        plan_reduction(&both, eur(0)),
        Err(PaymentError::NonPositive(eur(0)))
    );
}

fn any_action() -> impl Strategy<Value = PaymentAction> {
    prop_oneof![
        (0i64..1500).prop_map(|m| PaymentAction::Authorize {
            amount: eur(m),
            provider_ref: None
        }),
        (0i64..1500).prop_map(|m| PaymentAction::Capture { amount: eur(m) }),
        Just(PaymentAction::Void),
        (0i64..1500).prop_map(|m| PaymentAction::Refund {
            amount: eur(m),
            reason: None
        }),
        Just(PaymentAction::Fail {
            reason: Reason::parse("declined").unwrap()
        }),
        (0i64..1500).prop_map(|m| PaymentAction::Reduce { amount: eur(m) }),
    ]
}

proptest! {
    #[test]
    fn random_reports_keep_every_invariant(
        due in 1i64..1500,
        reports in proptest::collection::vec((0u8..12, any_action()), 0..40),
    ) {
        let mut p = payment(due);
        for (key, action) in reports {
            let before = p.clone();
            let event = ev(&format!("k{key}"), action);
            match p.apply(event) {
                Ok(Applied::Duplicate) => prop_assert_eq!(&p, &before),
                Ok(Applied::Changed) => {
                    prop_assert!(before.status.allowed_actions().contains(&p.events.last().unwrap().action.kind()));
                }
                Err(_) => prop_assert_eq!(&p, &before),
            }
            prop_assert!(!p.captured.is_negative() && !p.refunded.is_negative());
            prop_assert!(p.authorized.try_cmp(&p.due())?.is_le());
            prop_assert!(!p.due().is_zero() && !p.due().is_negative());
            prop_assert_eq!(p.due().checked_add(p.released)?, p.amount);
            prop_assert!(p.captured.try_cmp(&p.authorized)?.is_le());
            prop_assert!(p.refunded.try_cmp(&p.captured)?.is_le());
            // The amounts are the sums of the applied events.
            let sum = |k: PaymentActionKind| Money::sum(Currency::EUR, p.events.iter().filter(|e| e.action.kind() == k).filter_map(|e| e.action.amount()).collect::<Vec<_>>().iter());
            prop_assert_eq!(sum(PaymentActionKind::Capture)?, p.captured);
            prop_assert_eq!(sum(PaymentActionKind::Refund)?, p.refunded);
            prop_assert_eq!(sum(PaymentActionKind::Reduce)?, p.released);
        }
    }
}
