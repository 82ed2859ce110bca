//! The reference store's behaviour, as a specification other stores must meet.

use chrono::{Duration, Utc};
use ecom_domain::memory::MemoryStore;
use ecom_domain::password::{Argon2Op, Argon2Run, argon2_runs};
use ecom_domain::prelude::*;
use ecom_domain::rules::StoreRules;
use proptest::prelude::*;

const CHEAP: HashCost = HashCost {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

fn store() -> MemoryStore {
    MemoryStore::with_rules(StoreRules {
        hash_cost: CHEAP,
        ..StoreRules::default()
    })
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

fn address(city: &str) -> PostalAddress {
    PostalAddress::parse(&RawAddress {
        recipient: "Grace Hopper".into(),
        line1: "1 Navy Way".into(),
        city: city.into(),
        postal_code: "10115".into(),
        country: "DE".into(),
        ..RawAddress::default()
    })
    .unwrap()
}

struct Shop {
    store: MemoryStore,
    category: Category,
    /// The one (default) variant of each product, in the order created.
    products: Vec<Variant>,
}

fn shop(stocks: &[u32]) -> Shop {
    let store = store();
    let root = store
        .create_category(NewCategory {
            parent_id: None,
            slug: Slug::parse("all").unwrap(),
            name: CategoryName::parse("All").unwrap(),
        })
        .unwrap();
    let category = store
        .create_category(NewCategory {
            parent_id: Some(root.id),
            slug: Slug::parse("tools").unwrap(),
            name: CategoryName::parse("Tools").unwrap(),
        })
        .unwrap();
    let products = stocks
        .iter()
        .enumerate()
        .map(|(i, stock)| {
            store
                .create_product(NewProduct::single(
                    Slug::parse(&format!("hammer-{i}")).unwrap(),
                    ProductName::parse(&format!("Hammer model {i}")).unwrap(),
                    category.id,
                    Sku::parse(&format!("TOOL-{i}")).unwrap(),
                    eur(1000 + i as i64 * 250),
                    *stock,
                ))
                .unwrap()
                .variants
                .remove(0)
        })
        .collect();
    Shop {
        store,
        category,
        products,
    }
}

fn guest(n: u32) -> CartOwner {
    CartOwner::guest(&GuestToken::parse(&format!("guest-token-{n:010}")).unwrap())
}

fn request(cart: CartId, key: &str) -> CheckoutRequest {
    CheckoutRequest {
        cart_id: cart,
        shipping: AddressChoice::Given(address("Berlin")),
        billing: AddressChoice::Given(address("Berlin")),
        guest_email: Some(Email::parse("guest@example.com").unwrap()),
        provider: ProviderName::parse("test").unwrap(),
        shipping_method: None,
        coupon_codes: vec![],
        gift_cards: vec![],
        idempotency_key: IdempotencyKey::parse(key).unwrap(),
    }
}

fn event(key: &str, action: PaymentAction) -> PaymentEvent {
    PaymentEvent {
        key: IdempotencyKey::parse(key).unwrap(),
        action,
    }
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

#[test]
fn checkout_reserves_stock_snapshots_and_converts_the_cart() {
    let Shop {
        store, products, ..
    } = shop(&[5, 5]);
    let cart = store.open_cart(&guest(1), Currency::EUR).unwrap();
    store.add_item(cart.id, products[0].id, q(2)).unwrap();
    store.add_item(cart.id, products[1].id, q(1)).unwrap();
    let done = store.checkout(&request(cart.id, "k1")).unwrap();
    assert!(!done.replayed);
    assert_eq!(done.order.lines.len(), 2);
    assert_eq!(done.order.lines[0].unit_price, eur(1000));
    assert_eq!(
        done.payment.as_ref().unwrap().amount,
        done.order.totals.grand_total
    );
    assert_eq!(
        done.payment.as_ref().unwrap().status,
        PaymentStatus::Pending
    );
    assert_eq!(
        store.variant(products[0].id).unwrap().variant.stock_on_hand,
        3
    );
    assert_eq!(store.cart(cart.id).unwrap().status, CartStatus::Converted);
    // A later price change does not touch the order's snapshot.
    store.set_price(products[0].id, eur(1)).unwrap();
    assert_eq!(
        store.order(done.order.id).unwrap().order.lines[0].unit_price,
        eur(1000)
    );
    assert!(matches!(
        store.add_item(cart.id, products[0].id, q(1)),
        Err(DomainError::CartNotOpen { .. })
    ));
}

#[test]
fn out_of_stock_names_each_short_product_and_writes_nothing() {
    let Shop {
        store, products, ..
    } = shop(&[1, 2, 9]);
    let cart = store.open_cart(&guest(1), Currency::EUR).unwrap();
    store.add_item(cart.id, products[0].id, q(2)).unwrap();
    store.add_item(cart.id, products[1].id, q(3)).unwrap();
    store.add_item(cart.id, products[2].id, q(1)).unwrap();
    let err = store.checkout(&request(cart.id, "k1")).unwrap_err();
    let DomainError::OutOfStock(short) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        short
            .iter()
            .map(|s| (s.requested, s.available))
            .collect::<Vec<_>>(),
        vec![(2, 1), (3, 2)]
    );
    assert_eq!(
        store.variant(products[2].id).unwrap().variant.stock_on_hand,
        9
    );
    assert_eq!(store.cart(cart.id).unwrap().status, CartStatus::Open);
    // The key was not consumed by the failure.
    store.set_quantity(cart.id, products[0].id, q(1)).unwrap();
    store.remove_item(cart.id, products[1].id).unwrap();
    assert!(store.checkout(&request(cart.id, "k1")).is_ok());
}

#[test]
fn the_same_key_replays_and_a_different_request_conflicts() {
    let Shop {
        store, products, ..
    } = shop(&[5]);
    let cart = store.open_cart(&guest(1), Currency::EUR).unwrap();
    store.add_item(cart.id, products[0].id, q(1)).unwrap();
    let first = store.checkout(&request(cart.id, "k1")).unwrap();
    let again = store.checkout(&request(cart.id, "k1")).unwrap();
    assert!(again.replayed);
    assert_eq!(again.order, first.order);
    assert_eq!(
        store.variant(products[0].id).unwrap().variant.stock_on_hand,
        4
    );
    let mut other = request(cart.id, "k1");
    other.shipping = AddressChoice::Given(address("Hamburg"));
    assert_eq!(
        store.checkout(&other).unwrap_err(),
        DomainError::IdempotencyConflict { key: "k1".into() }
    );
    // A key is kept for its retention, then forgotten.
    let retention = ecom_domain::rules::IDEMPOTENCY_RETENTION;
    let within = Utc::now() + retention - Duration::minutes(1);
    assert_eq!(store.purge_idempotency_keys(within).unwrap(), 0);
    let after = Utc::now() + retention + Duration::seconds(1);
    assert_eq!(store.purge_idempotency_keys(after).unwrap(), 1);
}

#[test]
fn payments_drive_the_order_and_duplicates_are_harmless() {
    let Shop {
        store, products, ..
    } = shop(&[5]);
    let cart = store.open_cart(&guest(1), Currency::EUR).unwrap();
    store.add_item(cart.id, products[0].id, q(1)).unwrap();
    let done = store.checkout(&request(cart.id, "k1")).unwrap();
    let total = done.payment.as_ref().unwrap().amount;
    let pay = done.payment.as_ref().unwrap().id;
    store
        .record_payment_event(
            pay,
            event(
                "a",
                PaymentAction::Authorize {
                    amount: total,
                    provider_ref: Some(ProviderRef::parse("ch_1").unwrap()),
                },
            ),
        )
        .unwrap();
    let out = store
        .record_payment_event(pay, event("c", PaymentAction::Capture { amount: total }))
        .unwrap();
    assert_eq!(out.order_status, OrderStatus::Paid);
    let dup = store
        .record_payment_event(pay, event("c", PaymentAction::Capture { amount: total }))
        .unwrap();
    assert_eq!(dup.applied, Applied::Duplicate);
    assert_eq!(dup.payment.captured, total);
    let found = store
        .payment_by_provider_ref(
            &ProviderName::parse("test").unwrap(),
            &ProviderRef::parse("ch_1").unwrap(),
        )
        .unwrap();
    assert_eq!(found.id, pay);
    store
        .transition(done.order.id, OrderEvent::Ship, Some("DHL 123".into()))
        .unwrap();
    let out = store
        .record_payment_event(
            pay,
            event(
                "r",
                PaymentAction::Refund {
                    amount: total,
                    reason: None,
                },
            ),
        )
        .unwrap();
    assert_eq!(out.order_status, OrderStatus::Refunded);
    let history: Vec<OrderStatus> = store
        .order(done.order.id)
        .unwrap()
        .order
        .history
        .iter()
        .map(|h| h.to)
        .collect();
    assert_eq!(
        history,
        [
            OrderStatus::PendingPayment,
            OrderStatus::Paid,
            OrderStatus::Shipped,
            OrderStatus::Refunded
        ]
    );
}

#[test]
fn cancelling_restocks_once_and_settles_the_payment() {
    let Shop {
        store, products, ..
    } = shop(&[5]);
    let cart = store.open_cart(&guest(1), Currency::EUR).unwrap();
    store.add_item(cart.id, products[0].id, q(3)).unwrap();
    let done = store.checkout(&request(cart.id, "k1")).unwrap();
    let total = done.payment.as_ref().unwrap().amount;
    store
        .record_payment_event(
            done.payment.as_ref().unwrap().id,
            event(
                "a",
                PaymentAction::Authorize {
                    amount: total,
                    provider_ref: None,
                },
            ),
        )
        .unwrap();
    store
        .record_payment_event(
            done.payment.as_ref().unwrap().id,
            event("c", PaymentAction::Capture { amount: total }),
        )
        .unwrap();
    store
        .transition(done.order.id, OrderEvent::Cancel, None)
        .unwrap();
    assert_eq!(
        store.variant(products[0].id).unwrap().variant.stock_on_hand,
        5
    );
    let details = store.order(done.order.id).unwrap();
    assert_eq!(details.payments[0].status, PaymentStatus::Refunded);
    let err = store
        .transition(done.order.id, OrderEvent::Cancel, None)
        .unwrap_err();
    assert!(matches!(
        err,
        DomainError::OrderTransition(OrderTransitionError {
            from: OrderStatus::Cancelled,
            ..
        })
    ));
    assert_eq!(
        store.variant(products[0].id).unwrap().variant.stock_on_hand,
        5
    );
    assert_eq!(
        store
            .transition(done.order.id, OrderEvent::PaymentCaptured, None)
            .unwrap_err(),
        DomainError::NotAManualEvent(OrderEvent::PaymentCaptured)
    );
}

#[test]
fn expiry_restocks_once_and_refuses_late_payments() {
    let Shop {
        store, products, ..
    } = shop(&[5]);
    let cart = store.open_cart(&guest(1), Currency::EUR).unwrap();
    store.add_item(cart.id, products[0].id, q(2)).unwrap();
    let done = store.checkout(&request(cart.id, "k1")).unwrap();
    assert!(store.expire_unpaid_orders(Utc::now()).unwrap().is_empty());
    let later = Utc::now() + Duration::hours(1);
    assert_eq!(
        store.expire_unpaid_orders(later).unwrap(),
        vec![done.order.id]
    );
    assert!(store.expire_unpaid_orders(later).unwrap().is_empty());
    assert_eq!(
        store.variant(products[0].id).unwrap().variant.stock_on_hand,
        5
    );
    let err = store
        .record_payment_event(
            done.payment.as_ref().unwrap().id,
            event(
                "a",
                PaymentAction::Authorize {
                    amount: done.payment.as_ref().unwrap().amount,
                    provider_ref: None,
                },
            ),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            DomainError::Payment(_) | DomainError::OrderNotPayable { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn accounts_register_authenticate_and_keep_one_default_address() {
    let store = store();
    let password = Password::new("s3cret password").unwrap();
    let user = store
        .register(NewUser {
            email: Email::parse("Ada@Example.com").unwrap(),
            name: PersonName::parse("Ada").unwrap(),
            password: password.clone(),
        })
        .unwrap();
    let again = store.register(NewUser {
        email: Email::parse("ada@example.COM").unwrap(),
        name: PersonName::parse("Other").unwrap(),
        password: password.clone(),
    });
    assert!(matches!(
        again,
        Err(DomainError::AlreadyTaken {
            what: Taken::Email,
            ..
        })
    ));
    assert_eq!(
        store
            .authenticate(&Email::parse("ADA@example.com").unwrap(), &password)
            .unwrap()
            .id,
        user.id
    );
    let wrong = Password::new("not the password").unwrap();
    assert_eq!(
        store.authenticate(&user.email, &wrong).unwrap_err(),
        DomainError::InvalidCredentials
    );
    assert_eq!(
        store
            .authenticate(&Email::parse("nobody@example.com").unwrap(), &password)
            .unwrap_err(),
        DomainError::InvalidCredentials
    );
    store.change_password(user.id, &password, &wrong).unwrap();
    assert!(store.authenticate(&user.email, &wrong).is_ok());

    let add = |city: &str, make_default| {
        store
            .add_address(
                user.id,
                NewAddress {
                    kind: AddressKind::Shipping,
                    postal: address(city),
                    make_default,
                },
            )
            .unwrap()
    };
    let first = add("Berlin", false);
    let second = add("Hamburg", false);
    let third = add("Munich", true);
    assert!(first.is_default && !second.is_default && third.is_default);
    let defaults = |store: &MemoryStore| {
        store
            .addresses(user.id)
            .unwrap()
            .iter()
            .filter(|a| a.is_default)
            .map(|a| a.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(defaults(&store), vec![third.id]);
    store.set_default_address(user.id, second.id).unwrap();
    assert_eq!(defaults(&store), vec![second.id]);
    store.remove_address(user.id, second.id).unwrap();
    assert_eq!(defaults(&store).len(), 1);
}

/// Logins are judged by their argon2 work, not their wall time: an unknown e-mail
/// runs one verification at the store's cost, exactly as a wrong password does.
#[test]
fn an_unknown_email_costs_the_argon2_work_of_a_wrong_password() {
    let stronger = HashCost {
        memory_kib: 128,
        iterations: 2,
        parallelism: 1,
    };
    for cost in [CHEAP, stronger] {
        let store = MemoryStore::with_rules(StoreRules {
            hash_cost: cost,
            ..StoreRules::default()
        });
        let email = Email::parse("ada@example.com").unwrap();
        store
            .register(NewUser {
                email: email.clone(),
                name: PersonName::parse("Ada").unwrap(),
                password: Password::new("s3cret password").unwrap(),
            })
            .unwrap();
        let typed = Password::new("not the password").unwrap();
        let nobody = Email::parse("nobody@example.com").unwrap();
        let (wrong, wrong_work) = argon2_runs(|| store.authenticate(&email, &typed));
        let (unknown, unknown_work) = argon2_runs(|| store.authenticate(&nobody, &typed));
        assert_eq!(wrong.unwrap_err(), DomainError::InvalidCredentials);
        assert_eq!(unknown.unwrap_err(), DomainError::InvalidCredentials);
        assert_eq!(
            wrong_work,
            vec![Argon2Run {
                op: Argon2Op::Verify,
                cost
            }]
        );
        assert_eq!(unknown_work, wrong_work, "at {cost:?}");
    }
}

#[test]
fn guest_carts_merge_into_a_users_cart() {
    let Shop {
        store, products, ..
    } = shop(&[5, 5]);
    let user = store
        .register(NewUser {
            email: Email::parse("u@example.com").unwrap(),
            name: PersonName::parse("U").unwrap(),
            password: Password::new("password1").unwrap(),
        })
        .unwrap();
    let mine = store
        .open_cart(&CartOwner::User(user.id), Currency::EUR)
        .unwrap();
    store.add_item(mine.id, products[0].id, q(1)).unwrap();
    let theirs = store.open_cart(&guest(7), Currency::EUR).unwrap();
    store.add_item(theirs.id, products[0].id, q(2)).unwrap();
    store.add_item(theirs.id, products[1].id, q(1)).unwrap();
    let merged = store.attach_cart(theirs.id, user.id).unwrap();
    assert_eq!(merged.id, mine.id);
    assert_eq!(merged.quantity_of(products[0].id), Some(q(3)));
    assert_eq!(store.cart(theirs.id).unwrap().status, CartStatus::Abandoned);
    assert_eq!(
        store
            .open_cart(&CartOwner::User(user.id), Currency::EUR)
            .unwrap()
            .id,
        mine.id
    );
}

#[test]
fn catalog_tree_listing_and_search() {
    let Shop {
        store,
        category,
        products,
    } = shop(&[1, 1, 1, 1, 1]);
    let root = store.category_path(category.id).unwrap()[0].clone();
    assert_eq!(store.category_path(category.id).unwrap().len(), 2);
    assert_eq!(
        store.move_category(root.id, Some(category.id)).unwrap_err(),
        DomainError::CategoryCycle {
            category: root.id,
            new_parent: category.id
        }
    );
    let page = store.list_products(root.id, PageRequest::first(2)).unwrap();
    assert_eq!(page.items.len(), 2);
    let rest = store
        .list_products(
            root.id,
            PageRequest {
                after: page.next,
                limit: 10,
            },
        )
        .unwrap();
    assert_eq!(rest.items.len(), 3);
    assert_eq!(rest.next, None);
    store
        .set_product_status(products[4].product_id, ProductStatus::Archived)
        .unwrap();
    assert_eq!(
        store
            .list_products(root.id, PageRequest::first(10))
            .unwrap()
            .items
            .len(),
        4
    );
    let hits = store.search_products("hammer model 3", 10).unwrap();
    assert_eq!(hits[0].id, products[3].product_id);
    assert!(store.search_products("zzzz", 10).unwrap().is_empty());
    assert!(matches!(
        store.set_price(products[0].id, eur(-1)),
        Err(DomainError::NegativePrice(_))
    ));
    assert!(matches!(
        store.set_price(products[0].id, Money::from_minor(1, Currency::USD)),
        Err(DomainError::Money(_))
    ));
}

/// One step of a random workload.
#[derive(Debug, Clone)]
enum Op {
    Add {
        buyer: u32,
        product: usize,
        quantity: i64,
    },
    Remove {
        buyer: u32,
        product: usize,
    },
    Checkout {
        buyer: u32,
        key: u8,
    },
    Pay {
        order: usize,
    },
    Refund {
        order: usize,
        minor: i64,
    },
    Cancel {
        order: usize,
    },
    Ship {
        order: usize,
    },
    Expire,
    Restock {
        product: usize,
        units: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..4, 0usize..4, 1i64..6).prop_map(|(buyer, product, quantity)| Op::Add { buyer, product, quantity }),
        1 => (0u32..4, 0usize..4).prop_map(|(buyer, product)| Op::Remove { buyer, product }),
        3 => (0u32..4, 0u8..6).prop_map(|(buyer, key)| Op::Checkout { buyer, key }),
        2 => (0usize..8).prop_map(|order| Op::Pay { order }),
        1 => (0usize..8, 1i64..5000).prop_map(|(order, minor)| Op::Refund { order, minor }),
        1 => (0usize..8).prop_map(|order| Op::Cancel { order }),
        1 => (0usize..8).prop_map(|order| Op::Ship { order }),
        1 => Just(Op::Expire),
        1 => (0usize..4, 0u32..4).prop_map(|(product, units)| Op::Restock { product, units }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever runs, stock never goes negative, every unit is either on the shelf or
    /// in a live order, payments stay within their bounds, and failures change nothing.
    #[test]
    fn stock_and_money_reconcile_after_any_sequence(initial in proptest::collection::vec(0u32..6, 4), ops in proptest::collection::vec(op(), 1..60)) {
        let Shop { store, products, .. } = shop(&initial);
        let mut restocked = vec![0u32; products.len()];
        let mut orders: Vec<(OrderId, PaymentId, Money)> = Vec::new();
        for (step, op) in ops.into_iter().enumerate() {
            let before = snapshot(&store, &products, &orders);
            let result: Result<(), DomainError> = (|| {
                match op {
                    Op::Add { buyer, product, quantity } => {
                        let cart = store.open_cart(&guest(buyer), Currency::EUR)?;
                        store.add_item(cart.id, products[product].id, Quantity::new(quantity)?)?;
                    }
                    Op::Remove { buyer, product } => {
                        let cart = store.open_cart(&guest(buyer), Currency::EUR)?;
                        store.remove_item(cart.id, products[product].id)?;
                    }
                    Op::Checkout { buyer, key } => {
                        let cart = store.open_cart(&guest(buyer), Currency::EUR)?;
                        let done = store.checkout(&request(cart.id, &format!("b{buyer}-k{key}")))?;
                        if !done.replayed {
                            orders.push((done.order.id, done.payment.as_ref().unwrap().id, done.payment.as_ref().unwrap().amount));
                        }
                    }
                    Op::Pay { order } => {
                        let &(_, payment, amount) = orders.get(order).ok_or(DomainError::not_found("order", order))?;
                        store.record_payment_event(payment, event(&format!("auth-{step}"), PaymentAction::Authorize { amount, provider_ref: None }))?;
                        store.record_payment_event(payment, event(&format!("cap-{step}"), PaymentAction::Capture { amount }))?;
                    }
                    Op::Refund { order, minor } => {
                        let &(_, payment, _) = orders.get(order).ok_or(DomainError::not_found("order", order))?;
                        store.record_payment_event(payment, event(&format!("ref-{step}"), PaymentAction::Refund { amount: eur(minor), reason: None }))?;
                    }
                    Op::Cancel { order } | Op::Ship { order } => {
                        let &(id, _, _) = orders.get(order).ok_or(DomainError::not_found("order", order))?;
                        let e = if matches!(op, Op::Cancel { .. }) { OrderEvent::Cancel } else { OrderEvent::Ship };
                        store.transition(id, e, None)?;
                    }
                    Op::Expire => {
                        store.expire_unpaid_orders(Utc::now() + Duration::hours(2))?;
                    }
                    Op::Restock { product, units } => {
                        store.restock(products[product].id, units)?;
                        restocked[product] += units;
                    }
                }
                Ok(())
            })();
            if result.is_err() {
                prop_assert_eq!(&snapshot(&store, &products, &orders), &before, "failed step {} changed the store", step);
            }
            // Conservation of units: shelf + live orders = initial + restocked.
            for (i, p) in products.iter().enumerate() {
                let shelf = store.variant(p.id)?.variant.stock_on_hand;
                let mut held = 0;
                for (id, _, _) in &orders {
                    let order = store.order(*id)?.order;
                    if !order.status.restocks() {
                        held += order.lines.iter().filter(|l| l.variant_id == p.id).map(|l| l.quantity.get()).sum::<u32>();
                    }
                }
                prop_assert_eq!(shelf + held, initial[i] + restocked[i]);
            }
            for (id, payment, _) in &orders {
                let p = store.payment(*payment)?;
                prop_assert!(p.captured.try_cmp(&p.authorized)?.is_le());
                prop_assert!(p.refunded.try_cmp(&p.captured)?.is_le());
                let order = store.order(*id)?.order;
                let t = order.totals;
                prop_assert_eq!(t.subtotal.checked_add(t.shipping)?.checked_add(t.tax)?, t.grand_total);
                if order.status == OrderStatus::Paid { prop_assert!(p.is_fully_captured()); }
            }
        }
    }
}

type Snapshot = (Vec<Sellable>, Vec<(Order, Vec<Payment>)>);

fn snapshot(
    store: &MemoryStore,
    products: &[Variant],
    orders: &[(OrderId, PaymentId, Money)],
) -> Snapshot {
    (
        products
            .iter()
            .map(|p| store.variant(p.id).unwrap())
            .collect(),
        orders
            .iter()
            .map(|(id, _, _)| {
                let d = store.order(*id).unwrap();
                (d.order, d.payments)
            })
            .collect(),
    )
}

/// A customer call, as the ownership property drives them.
#[derive(Debug, Clone)]
enum CustomerOp {
    Add { product: usize, quantity: i64 },
    Set { product: usize, quantity: i64 },
    Remove { product: usize },
    Checkout { key: u8 },
    ReadCart,
    ReadOrder,
}

fn customer_op() -> impl Strategy<Value = CustomerOp> {
    prop_oneof![
        (0..3usize, 1..4i64).prop_map(|(product, quantity)| CustomerOp::Add { product, quantity }),
        (0..3usize, 1..4i64).prop_map(|(product, quantity)| CustomerOp::Set { product, quantity }),
        (0..3usize).prop_map(|product| CustomerOp::Remove { product }),
        (0..3u8).prop_map(|key| CustomerOp::Checkout { key }),
        Just(CustomerOp::ReadCart),
        Just(CustomerOp::ReadOrder),
    ]
}

/// Runs `op` as `who` on `cart` and `order`.
fn run_op(
    shop: &Shop,
    who: &SessionToken,
    cart: CartRef,
    order: Option<OrderRef>,
    op: &CustomerOp,
) -> Result<(), DomainError> {
    let store = &shop.store;
    match op {
        CustomerOp::Add { product, quantity } => store
            .add_to_cart(who, cart, shop.products[*product].id, q(*quantity))
            .map(drop),
        CustomerOp::Set { product, quantity } => store
            .set_cart_quantity(who, cart, shop.products[*product].id, q(*quantity))
            .map(drop),
        CustomerOp::Remove { product } => store
            .remove_from_cart(who, cart, shop.products[*product].id)
            .map(drop),
        CustomerOp::Checkout { key } => store
            .place_order(
                who,
                &PlaceOrder {
                    cart,
                    shipping: AddressChoice::Given(address("Berlin")),
                    billing: AddressChoice::Given(address("Berlin")),
                    guest_email: Some(Email::parse("guest@example.com").unwrap()),
                    provider: ProviderName::parse("test").unwrap(),
                    shipping_method: None,
                    gift_cards: vec![],
                    coupon_codes: vec![],
                    idempotency_key: IdempotencyKey::parse(&format!("key-{key}")).unwrap(),
                },
            )
            .map(drop),
        CustomerOp::ReadCart => store.cart_of(who, cart).map(drop),
        CustomerOp::ReadOrder => match order {
            Some(order) => store.order_of(who, order).map(drop),
            None => Ok(()),
        },
    }
}

/// What the first customer can see of their own things.
fn seen_by(shop: &Shop, who: &SessionToken, cart: CartRef) -> (Cart, Vec<OrderSummary>, Vec<u32>) {
    let cart = shop.store.cart_of(who, cart).unwrap();
    let orders = shop
        .store
        .orders_of(who, PageRequest::first(50))
        .unwrap()
        .items;
    let stock = shop
        .products
        .iter()
        .map(|p| shop.store.variant(p.id).unwrap().variant.stock_on_hand)
        .collect();
    (cart, orders, stock)
}

proptest! {
    /// A second customer, guest or user, never sees nor changes the first one's
    /// carts and orders, whatever they try in whatever order, while the first goes
    /// on shopping.
    #[test]
    fn a_second_customer_never_sees_or_changes_the_first_ones(
        steps in proptest::collection::vec((any::<bool>(), customer_op()), 1..40),
        second_is_user in any::<bool>(),
    ) {
        let shop = shop(&[100, 100, 100]);
        let first = shop.store.start_guest_session().unwrap().token;
        let second = if second_is_user {
            let password = Password::new("correct horse battery").unwrap();
            shop.store
                .register(NewUser {
                    email: Email::parse("second@example.com").unwrap(),
                    name: PersonName::parse("Second").unwrap(),
                    password: password.clone(),
                })
                .unwrap();
            shop.store
                .login(&Email::parse("second@example.com").unwrap(), &password)
                .unwrap()
                .0
                .token
        } else {
            shop.store.start_guest_session().unwrap().token
        };
        let mut cart = shop.store.my_cart(&first, Currency::EUR).unwrap().reference;
        let mut order = None;
        for (by_first, op) in steps {
            if by_first {
                if let Ok(()) = run_op(&shop, &first, cart, order, &op)
                    && let CustomerOp::Checkout { .. } = op
                {
                    let mine = shop.store.orders_of(&first, PageRequest::first(1)).unwrap();
                    order = mine.items.first().map(|o| o.reference);
                    cart = shop.store.my_cart(&first, Currency::EUR).unwrap().reference;
                }
            } else {
                let before = seen_by(&shop, &first, cart);
                let outcome = run_op(&shop, &second, cart, order, &op);
                let found_nothing = matches!(outcome, Err(DomainError::NotFound { .. }))
                    || matches!((&op, order), (CustomerOp::ReadOrder, None));
                prop_assert!(found_nothing, "{op:?} by the second customer: {outcome:?}");
                prop_assert_eq!(seen_by(&shop, &first, cart), before);
            }
        }
        let theirs = shop.store.orders_of(&second, PageRequest::first(50)).unwrap();
        prop_assert!(theirs.items.is_empty());
    }
}

fn option(name: &str, values: &[&str]) -> OptionType {
    let values = values
        .iter()
        .map(|v| OptionValue::parse(v).unwrap())
        .collect();
    OptionType::new(OptionName::parse(name).unwrap(), values).unwrap()
}

fn pick(choices: &[(&str, &str)]) -> OptionSelection {
    OptionSelection::new(
        choices
            .iter()
            .map(|(option, value)| OptionChoice {
                option: OptionName::parse(option).unwrap(),
                value: OptionValue::parse(value).unwrap(),
            })
            .collect(),
    )
    .unwrap()
}

fn shirt_variant(sku: &str, colour: &str, size: &str, stock: u32) -> NewVariant {
    NewVariant {
        selection: pick(&[("colour", colour), ("size", size)]),
        ..NewVariant::default_of(Sku::parse(sku).unwrap(), eur(1990), stock)
    }
}

#[test]
fn variants_of_one_product_sell_and_keep_stock_independently() {
    let shop = shop(&[]);
    let store = &shop.store;
    let new = NewProduct {
        slug: Slug::parse("tee").unwrap(),
        name: ProductName::parse("Tee").unwrap(),
        description: Description::default(),
        category_id: shop.category.id,
        status: ProductStatus::Active,
        options: ProductOptions::new(vec![
            option("Colour", &["Red", "Blue"]),
            option("Size", &["M", "L"]),
        ])
        .unwrap(),
        variants: vec![
            shirt_variant("TEE-RED-M", "red", "m", 1),
            shirt_variant("TEE-BLUE-M", "Blue", "M", 5),
        ],
    };
    let tee = store.create_product(new.clone()).unwrap();
    assert_eq!(tee.variants.len(), 2);
    assert_eq!(
        tee.variants[0].selection,
        pick(&[("Colour", "Red"), ("Size", "M")]),
        "selections are stored in the product's spelling"
    );
    let (red, blue) = (tee.variants[0].id, tee.variants[1].id);

    // The same combination twice, a combination the options lack, a SKU taken.
    let twice = NewProduct {
        slug: Slug::parse("tee-2").unwrap(),
        variants: vec![
            shirt_variant("A-1", "Red", "M", 1),
            shirt_variant("A-2", "RED", "m", 1),
        ],
        ..new.clone()
    };
    assert!(matches!(
        store.create_product(twice),
        Err(DomainError::Options(OptionError::DuplicateVariant { .. }))
    ));
    assert!(matches!(
        store.add_variant(tee.id, shirt_variant("TEE-RED-M2", "Red", "M", 1)),
        Err(DomainError::Options(OptionError::DuplicateVariant { .. }))
    ));
    assert!(matches!(
        store.add_variant(tee.id, shirt_variant("TEE-GREEN", "Green", "M", 1)),
        Err(DomainError::Options(_))
    ));
    assert!(matches!(
        store.add_variant(tee.id, shirt_variant("TEE-BLUE-M", "Blue", "L", 1)),
        Err(DomainError::AlreadyTaken {
            what: Taken::Sku,
            ..
        })
    ));
    let large = store
        .add_variant(tee.id, shirt_variant("TEE-BLUE-L", "Blue", "L", 2))
        .unwrap();
    assert_eq!(store.product(tee.id).unwrap().variants.len(), 3);

    // The last red M sells; its blue sibling keeps its own stock.
    let cart = store.open_cart(&guest(1), Currency::EUR).unwrap();
    store.add_item(cart.id, red, q(1)).unwrap();
    store.add_item(cart.id, blue, q(2)).unwrap();
    let done = store.checkout(&request(cart.id, "tee-1")).unwrap();
    let lines: Vec<(VariantId, String)> = done
        .order
        .lines
        .iter()
        .map(|l| (l.variant_id, l.selection.to_string()))
        .collect();
    assert_eq!(
        lines,
        [
            (red, "Colour: Red, Size: M".to_owned()),
            (blue, "Colour: Blue, Size: M".to_owned())
        ]
    );
    let stock = |id| store.variant(id).unwrap().variant.stock_on_hand;
    assert_eq!((stock(red), stock(blue), stock(large.id)), (0, 3, 2));
    let again = store.open_cart(&guest(2), Currency::EUR).unwrap();
    store.add_item(again.id, red, q(1)).unwrap();
    assert!(matches!(
        store.checkout(&request(again.id, "tee-2")),
        Err(DomainError::OutOfStock(_))
    ));

    // A draft's variants are not sold.
    store
        .set_product_status(tee.id, ProductStatus::Draft)
        .unwrap();
    assert_eq!(
        store.add_item(again.id, large.id, q(1)),
        Err(DomainError::NotOnSale(large.id))
    );
}
