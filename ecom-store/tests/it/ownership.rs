//! Nobody reads or changes what is not theirs: every customer call, made by a
//! second guest, a second user, an ended or an expired session, finds nothing and
//! changes nothing.

use ecom_domain::prelude::*;
use ecom_store::PgStore;

use crate::util::{Shop, address, domain, setup};

fn order_of(cart: CartRef, key: &str, email: Option<&str>) -> PlaceOrder {
    PlaceOrder {
        cart,
        shipping: AddressChoice::Given(address("Berlin")),
        billing: AddressChoice::Given(address("Berlin")),
        guest_email: email.map(|e| Email::parse(e).unwrap()),
        provider: ProviderName::parse("test").unwrap(),
        shipping_method: None,
        coupon_codes: vec![],
        gift_cards: vec![],
        idempotency_key: IdempotencyKey::parse(key).unwrap(),
    }
}

fn user_session(store: &PgStore, email: &str) -> Session {
    let password = Password::new("correct horse battery").unwrap();
    store
        .register(NewUser {
            email: Email::parse(email).unwrap(),
            name: PersonName::parse("Ada").unwrap(),
            password: password.clone(),
        })
        .unwrap();
    store
        .login(&Email::parse(email).unwrap(), &password)
        .unwrap()
        .0
}

/// What the shop's tables hold, to show that a refused call changed nothing.
fn snapshot(shop: &Shop) -> Vec<i64> {
    [
        "SELECT count(*) AS n FROM carts",
        "SELECT coalesce(sum(quantity), 0)::bigint AS n FROM cart_lines",
        "SELECT count(*) AS n FROM orders",
        "SELECT count(*) AS n FROM idempotency_keys",
        "SELECT sum(stock_on_hand)::bigint AS n FROM product_variants",
        "SELECT count(*) AS n FROM returns",
    ]
    .iter()
    .map(|sql| shop.count(sql))
    .collect()
}

/// Every customer call on `cart` and `order` by `who` is refused with `expected`.
fn all_refused(
    shop: &Shop,
    who: &SessionToken,
    cart: CartRef,
    order: OrderRef,
    expected: impl Fn(&DomainError) -> bool,
) {
    let store = &shop.store;
    let product = shop.products[0];
    let one = Quantity::new(1).unwrap();
    let before = snapshot(shop);
    let outcomes: Vec<(&str, Result<(), ecom_store::StoreError>)> = vec![
        ("cart_of", store.cart_of(who, cart).map(drop)),
        (
            "add_to_cart",
            store.add_to_cart(who, cart, product, one).map(drop),
        ),
        (
            "set_cart_quantity",
            store.set_cart_quantity(who, cart, product, one).map(drop),
        ),
        (
            "remove_from_cart",
            store.remove_from_cart(who, cart, product).map(drop),
        ),
        (
            "place_order",
            store
                .place_order(who, &order_of(cart, "theirs", Some("x@example.com")))
                .map(drop),
        ),
        ("order_of", store.order_of(who, order).map(drop)),
        ("shipments_of", store.shipments_of(who, order).map(drop)),
        ("returns_of", store.returns_of(who, order).map(drop)),
        (
            "cancellations_of",
            store.cancellations_of(who, order).map(drop),
        ),
        (
            "request_return_of",
            store
                .request_return_of(
                    who,
                    order,
                    vec![ReturnLine {
                        line_no: 1,
                        quantity: one,
                    }],
                    ReturnReason::ChangedMind,
                    None,
                )
                .map(drop),
        ),
    ];
    for (call, outcome) in outcomes {
        match outcome {
            Err(err) => assert!(expected(&domain(&err)), "{call}: {err:?}"),
            Ok(()) => panic!("{call} was allowed"),
        }
    }
    assert_eq!(snapshot(shop), before, "a refused call changed nothing");
}

#[test]
fn a_second_guest_or_user_finds_nothing_of_the_first_ones_and_changes_nothing() {
    let shop = Shop::new(&[10]);
    let store = &shop.store;
    let first = store.start_guest_session().unwrap();
    let cart = store.my_cart(&first.token, Currency::EUR).unwrap();
    store
        .add_to_cart(
            &first.token,
            cart.reference,
            shop.products[0],
            Quantity::new(2).unwrap(),
        )
        .unwrap();
    // A second cart of the same guest, still open, for the cart calls.
    let placed = store
        .place_order(
            &first.token,
            &order_of(cart.reference, "k1", Some("a@example.com")),
        )
        .unwrap();
    let open = store.my_cart(&first.token, Currency::EUR).unwrap();
    store
        .add_to_cart(
            &first.token,
            open.reference,
            shop.products[0],
            Quantity::new(1).unwrap(),
        )
        .unwrap();
    assert_eq!(
        store
            .order_of(&first.token, placed.order.reference)
            .unwrap()
            .order
            .id,
        placed.order.id
    );

    let other_guest = store.start_guest_session().unwrap();
    let other_user = user_session(store, "grace@example.com");
    for who in [&other_guest.token, &other_user.token] {
        let not_found = |e: &DomainError| matches!(e, DomainError::NotFound { .. });
        all_refused(
            &shop,
            who,
            open.reference,
            placed.order.reference,
            not_found,
        );
        all_refused(
            &shop,
            who,
            cart.reference,
            placed.order.reference,
            not_found,
        );
        let theirs = store.orders_of(who, PageRequest::first(50)).unwrap();
        assert!(
            theirs.items.is_empty(),
            "no order of another customer is listed"
        );
    }
    let mine = store
        .orders_of(&first.token, PageRequest::first(50))
        .unwrap();
    assert_eq!(
        mine.items.iter().map(|o| o.reference).collect::<Vec<_>>(),
        [placed.order.reference]
    );
}

#[test]
fn ended_expired_and_unknown_sessions_are_unauthenticated() {
    let shop = Shop::new(&[10]);
    let store = &shop.store;
    let guest = store.start_guest_session().unwrap();
    let cart = store.my_cart(&guest.token, Currency::EUR).unwrap();
    store
        .add_to_cart(
            &guest.token,
            cart.reference,
            shop.products[0],
            Quantity::new(1).unwrap(),
        )
        .unwrap();
    let placed = store
        .place_order(
            &guest.token,
            &order_of(cart.reference, "k", Some("a@example.com")),
        )
        .unwrap();
    let open = store.my_cart(&guest.token, Currency::EUR).unwrap();
    let unauthenticated = |e: &DomainError| matches!(e, DomainError::Unauthenticated);

    let unknown = SessionToken::generate();
    all_refused(
        &shop,
        &unknown,
        open.reference,
        placed.order.reference,
        unauthenticated,
    );

    // Expired, by the database's clock.
    let user = user_session(store, "ada@example.com");
    let mut owner = shop.db.connect();
    setup(
        &mut owner,
        "UPDATE sessions SET created_at = now() - interval '2 days', \
         expires_at = now() - interval '1 second' WHERE user_id IS NOT NULL",
    );
    assert!(matches!(
        domain(store.caller(&user.token).unwrap_err()),
        DomainError::Unauthenticated
    ));

    // Ended: the owner's own calls are refused from then on.
    store.end_session(&guest.token).unwrap();
    store.end_session(&guest.token).unwrap();
    all_refused(
        &shop,
        &guest.token,
        open.reference,
        placed.order.reference,
        unauthenticated,
    );
    assert!(matches!(
        domain(store.my_cart(&guest.token, Currency::EUR).unwrap_err()),
        DomainError::Unauthenticated
    ));
}

#[test]
fn signing_out_everywhere_ends_every_session_of_the_user_only() {
    let shop = Shop::new(&[10]);
    let store = &shop.store;
    let first = user_session(store, "ada@example.com");
    let password = Password::new("correct horse battery").unwrap();
    let (second, user) = store
        .login(&Email::parse("ada@example.com").unwrap(), &password)
        .unwrap();
    let other = user_session(store, "grace@example.com");
    assert_eq!(store.caller(&first.token).unwrap(), Caller::User(user.id));
    assert_eq!(store.end_sessions_of(user.id).unwrap(), 2);
    for ended in [&first.token, &second.token] {
        assert!(matches!(
            domain(store.caller(ended).unwrap_err()),
            DomainError::Unauthenticated
        ));
    }
    assert!(store.caller(&other.token).is_ok());
    // The database keeps digests only.
    assert_eq!(
        shop.count(&format!(
            "SELECT count(*) AS n FROM sessions WHERE encode(token_digest, 'escape') LIKE '%{}%'",
            &first.token.as_str()[..20]
        )),
        0
    );
}

#[test]
fn two_customers_may_use_the_same_idempotency_key() {
    let shop = Shop::new(&[10]);
    let store = &shop.store;
    let mut orders = Vec::new();
    for email in ["a@example.com", "b@example.com"] {
        let guest = store.start_guest_session().unwrap();
        let cart = store.my_cart(&guest.token, Currency::EUR).unwrap();
        store
            .add_to_cart(
                &guest.token,
                cart.reference,
                shop.products[0],
                Quantity::new(1).unwrap(),
            )
            .unwrap();
        let placed = store
            .place_order(
                &guest.token,
                &order_of(cart.reference, "order-1", Some(email)),
            )
            .unwrap();
        assert!(!placed.replayed, "another customer's key is not a replay");
        // The same customer's retry replays.
        let again = store
            .place_order(
                &guest.token,
                &order_of(cart.reference, "order-1", Some(email)),
            )
            .unwrap();
        assert!(again.replayed);
        assert_eq!(again.order.id, placed.order.id);
        orders.push(placed.order.id);
    }
    assert_ne!(orders[0], orders[1]);
}

#[test]
fn a_guest_cart_goes_to_a_user_only_with_both_tokens() {
    let shop = Shop::new(&[10]);
    let store = &shop.store;
    let guest = store.start_guest_session().unwrap();
    let cart = store.my_cart(&guest.token, Currency::EUR).unwrap();
    store
        .add_to_cart(
            &guest.token,
            cart.reference,
            shop.products[0],
            Quantity::new(2).unwrap(),
        )
        .unwrap();
    let user = user_session(store, "ada@example.com");
    let stranger = store.start_guest_session().unwrap();

    // Another guest's token names another (empty) guest: nothing to claim.
    assert!(matches!(
        domain(
            store
                .claim_guest_cart(&user.token, &stranger.token)
                .unwrap_err()
        ),
        DomainError::NotFound { .. }
    ));
    // A guest cannot claim for a user, nor a user claim without the guest's token.
    assert!(matches!(
        domain(
            store
                .claim_guest_cart(&stranger.token, &guest.token)
                .unwrap_err()
        ),
        DomainError::Unauthenticated
    ));
    let claimed = store.claim_guest_cart(&user.token, &guest.token).unwrap();
    assert_eq!(claimed.lines.len(), 1);
    assert_eq!(
        store.my_cart(&user.token, Currency::EUR).unwrap().id,
        claimed.id
    );
    // The guest's cart is the user's now: the guest no longer finds it.
    assert!(matches!(
        domain(store.cart_of(&guest.token, claimed.reference).unwrap_err()),
        DomainError::NotFound { .. }
    ));
}

#[test]
fn a_guest_cart_opened_with_its_session_is_that_guests_alone() {
    let shop = Shop::new(&[10]);
    let store = &shop.store;
    let (session, cart) = store.open_guest_cart(Currency::EUR).unwrap();
    assert!(cart.lines.is_empty());
    assert_eq!(cart.owner, CartOwner::Guest(session.token.digest()));
    assert_eq!(
        store.caller(&session.token).unwrap(),
        Caller::Guest(session.token.digest())
    );
    // The same cart is the guest's open cart, and another guest cannot reach it.
    assert_eq!(
        store.my_cart(&session.token, Currency::EUR).unwrap().id,
        cart.id
    );
    let other = store.start_guest_session().unwrap();
    let err = store.cart_of(&other.token, cart.reference).unwrap_err();
    assert!(
        matches!(domain(&err), DomainError::NotFound { .. }),
        "{err:?}"
    );
    let added = store
        .add_to_cart(
            &session.token,
            cart.reference,
            shop.products[0],
            Quantity::new(1).unwrap(),
        )
        .unwrap();
    assert_eq!(added.lines.len(), 1);
}
