//! `AccountRepository` on PostgreSQL behaves like the reference `MemoryStore`:
//! registration, credentials, profiles and address books with exactly one default
//! per kind, also under concurrent writes.

use std::sync::{Arc, Barrier};
use std::thread;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use ecom_domain::password::{Argon2Op, Argon2Run, argon2_runs};
use ecom_domain::prelude::*;
use ecom_store::PgStore;
use ecom_store::testing::TestDb;

use crate::util::{domain, pg_store};

fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

fn password(raw: &str) -> Password {
    Password::new(raw).unwrap()
}

fn register(store: &PgStore, address: &str, name: &str) -> User {
    store
        .register(NewUser {
            email: email(address),
            name: PersonName::parse(name).unwrap(),
            password: password("correct horse battery"),
        })
        .unwrap_or_else(|err| panic!("register {address}: {err}"))
}

fn postal(line1: &str) -> PostalAddress {
    PostalAddress::parse(&RawAddress {
        recipient: "Ada Lovelace".into(),
        line1: line1.into(),
        line2: "Flat 2".into(),
        city: "London".into(),
        region: "Greater London".into(),
        postal_code: "n1 1aa".into(),
        country: "gb".into(),
    })
    .unwrap()
}

fn new_address(kind: AddressKind, line1: &str, make_default: bool) -> NewAddress {
    NewAddress {
        kind,
        postal: postal(line1),
        make_default,
    }
}

fn add(
    store: &PgStore,
    user: UserId,
    kind: AddressKind,
    line1: &str,
    make_default: bool,
) -> Address {
    store
        .add_address(user, new_address(kind, line1, make_default))
        .unwrap_or_else(|err| panic!("add address {line1}: {err}"))
}

/// The ids of the user's defaults, by kind, as the store reports them.
fn defaults(store: &PgStore, user: UserId, kind: AddressKind) -> Vec<AddressId> {
    store
        .addresses(user)
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == kind && a.is_default)
        .map(|a| a.id)
        .collect()
}

#[test]
fn registered_users_authenticate_with_any_case_of_their_email() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let ada = register(&store, "Ada@Example.com", "Ada");
    assert_eq!(
        ada.email.as_str(),
        "Ada@Example.com",
        "the case given is kept"
    );
    assert_eq!(ada.name.as_str(), "Ada");
    assert!(
        ada.password_hash
            .as_str()
            .starts_with("$argon2id$v=19$m=64,t=1,p=1$")
    );
    assert!(ada.password_hash.verify(&password("correct horse battery")));
    assert_eq!(store.user(ada.id).unwrap(), ada);
    let right = password("correct horse battery");
    for spelling in ["Ada@Example.com", "ada@example.com", "ADA@EXAMPLE.COM"] {
        assert_eq!(
            store.authenticate(&email(spelling), &right).unwrap(),
            ada,
            "{spelling}"
        );
    }
    let missing = UserId::new(987_654);
    assert_eq!(
        domain(store.user(missing).unwrap_err()),
        DomainError::not_found("user", missing)
    );
}

/// The same error, and the same argon2 work (counted, not timed): one verification
/// at the store's cost, whether the e-mail is unknown or the password wrong.
#[test]
fn unknown_email_and_wrong_password_are_the_same_error_and_work() {
    let db = TestDb::new();
    let store = pg_store(&db);
    register(&store, "ada@example.com", "Ada");
    let (wrong, wrong_work) = argon2_runs(|| {
        store.authenticate(&email("ada@example.com"), &password("wrong horse battery"))
    });
    let (unknown, unknown_work) = argon2_runs(|| {
        store.authenticate(
            &email("bob@example.com"),
            &password("correct horse battery"),
        )
    });
    let (wrong, unknown) = (wrong.unwrap_err(), unknown.unwrap_err());
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert_eq!(domain(wrong), DomainError::InvalidCredentials);
    assert_eq!(domain(unknown), DomainError::InvalidCredentials);
    let one_verify = vec![Argon2Run {
        op: Argon2Op::Verify,
        cost: store.rules().hash_cost,
    }];
    assert_eq!(wrong_work, one_verify);
    assert_eq!(unknown_work, wrong_work);
}

#[test]
fn taken_email_is_refused_ignoring_case() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let ada = register(&store, "Ada@Example.com", "Ada");
    let err = store
        .register(NewUser {
            email: email("ada@EXAMPLE.com"),
            name: PersonName::parse("Impostor").unwrap(),
            password: password("another password"),
        })
        .unwrap_err();
    assert_eq!(
        domain(err),
        DomainError::AlreadyTaken {
            what: Taken::Email,
            value: "ada@EXAMPLE.com".into()
        }
    );
    let bob = register(&store, "bob@example.com", "Bob");
    let err = store
        .update_profile(
            bob.id,
            ProfileUpdate {
                email: Some(email("ADA@example.com")),
                ..ProfileUpdate::default()
            },
        )
        .unwrap_err();
    assert_eq!(
        domain(err),
        DomainError::AlreadyTaken {
            what: Taken::Email,
            value: "ADA@example.com".into()
        }
    );
    assert_eq!(store.user(ada.id).unwrap(), ada);
    assert_eq!(store.user(bob.id).unwrap(), bob, "nothing changed");
}

#[test]
fn profile_updates_change_only_what_is_given() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let ada = register(&store, "ada@example.com", "Ada");
    let renamed = store
        .update_profile(
            ada.id,
            ProfileUpdate {
                name: Some(PersonName::parse("Ada Lovelace").unwrap()),
                ..ProfileUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(
        (renamed.email.as_str(), renamed.name.as_str()),
        ("ada@example.com", "Ada Lovelace")
    );
    assert!(renamed.updated_at > ada.updated_at);
    assert_eq!(renamed.created_at, ada.created_at);
    // Her own address in another case is not "taken".
    let recased = store
        .update_profile(
            ada.id,
            ProfileUpdate {
                email: Some(email("ADA@example.com")),
                ..ProfileUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(recased.email.as_str(), "ADA@example.com");
    assert_eq!(recased.name.as_str(), "Ada Lovelace");
    let touched = store
        .update_profile(ada.id, ProfileUpdate::default())
        .unwrap();
    assert!(touched.updated_at > recased.updated_at);
    let missing = UserId::new(987_654);
    assert_eq!(
        domain(
            store
                .update_profile(missing, ProfileUpdate::default())
                .unwrap_err()
        ),
        DomainError::not_found("user", missing)
    );
}

#[test]
fn change_password_needs_the_current_one() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let ada = register(&store, "ada@example.com", "Ada");
    let old = password("correct horse battery");
    let new = password("tr0ub4dor&3 but longer");
    assert_eq!(
        domain(store.change_password(ada.id, &new, &new).unwrap_err()),
        DomainError::InvalidCredentials
    );
    assert!(
        store.authenticate(&ada.email, &old).is_ok(),
        "a refused change changes nothing"
    );
    store.change_password(ada.id, &old, &new).unwrap();
    assert_eq!(
        domain(store.authenticate(&ada.email, &old).unwrap_err()),
        DomainError::InvalidCredentials
    );
    let after = store.authenticate(&ada.email, &new).unwrap();
    assert!(after.updated_at > ada.updated_at);
    let missing = UserId::new(987_654);
    assert_eq!(
        domain(store.change_password(missing, &old, &new).unwrap_err()),
        DomainError::not_found("user", missing)
    );
}

#[test]
fn address_book_keeps_exactly_one_default_per_kind() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let ada = register(&store, "ada@example.com", "Ada");
    use AddressKind::{Billing, Shipping};

    let home = add(&store, ada.id, Shipping, "1 Home St", false);
    assert!(home.is_default, "the first of its kind becomes the default");
    assert_eq!(home.user_id, ada.id);
    assert_eq!(home.postal, postal("1 Home St"));
    let work = add(&store, ada.id, Shipping, "2 Work St", false);
    assert!(!work.is_default);
    let bill = add(&store, ada.id, Billing, "3 Bill St", false);
    assert!(bill.is_default, "kinds have their own default");
    let office = add(&store, ada.id, Shipping, "4 Office St", true);
    assert!(office.is_default);
    assert_eq!(defaults(&store, ada.id, Shipping), vec![office.id]);
    assert_eq!(defaults(&store, ada.id, Billing), vec![bill.id]);

    let work = store.set_default_address(ada.id, work.id).unwrap();
    assert!(work.is_default);
    assert_eq!(defaults(&store, ada.id, Shipping), vec![work.id]);
    let again = store.set_default_address(ada.id, work.id).unwrap();
    assert_eq!(again, work, "setting the default twice changes nothing");

    // Removing the default promotes the newest remaining address of its kind.
    store.remove_address(ada.id, work.id).unwrap();
    assert_eq!(defaults(&store, ada.id, Shipping), vec![office.id]);
    store.remove_address(ada.id, home.id).unwrap();
    assert_eq!(
        defaults(&store, ada.id, Shipping),
        vec![office.id],
        "a non-default leaves it alone"
    );
    store.remove_address(ada.id, office.id).unwrap();
    assert_eq!(defaults(&store, ada.id, Shipping), vec![]);
    assert_eq!(defaults(&store, ada.id, Billing), vec![bill.id]);
    let next = add(&store, ada.id, Shipping, "5 Next St", false);
    assert!(next.is_default, "the book for the kind was empty again");

    let book = store.addresses(ada.id).unwrap();
    assert_eq!(
        book.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![bill.id, next.id],
        "by id"
    );
}

#[test]
fn update_address_replaces_the_postal_fields() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let ada = register(&store, "ada@example.com", "Ada");
    let home = add(&store, ada.id, AddressKind::Shipping, "1 Home St", false);
    assert_eq!(home.postal.line2(), Some("Flat 2"));
    let plain = PostalAddress::parse(&RawAddress {
        recipient: "A. Lovelace".into(),
        line1: "9 New Rd".into(),
        city: "Leeds".into(),
        postal_code: "LS1 1AA".into(),
        country: "GB".into(),
        ..RawAddress::default()
    })
    .unwrap();
    let updated = store
        .update_address(ada.id, home.id, plain.clone())
        .unwrap();
    assert_eq!(updated.postal, plain);
    assert_eq!(
        (updated.postal.line2(), updated.postal.region()),
        (None, None),
        "cleared, not kept"
    );
    assert!(updated.is_default, "the default flag is not a postal field");
    assert_eq!(store.addresses(ada.id).unwrap(), vec![updated]);
}

#[test]
fn another_users_address_is_not_found() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let ada = register(&store, "ada@example.com", "Ada");
    let bob = register(&store, "bob@example.com", "Bob");
    let hers = add(&store, ada.id, AddressKind::Shipping, "1 Home St", false);
    let nf = DomainError::not_found("address", hers.id);
    assert_eq!(
        domain(store.set_default_address(bob.id, hers.id).unwrap_err()),
        nf
    );
    assert_eq!(
        domain(
            store
                .update_address(bob.id, hers.id, postal("x"))
                .unwrap_err()
        ),
        nf
    );
    assert_eq!(
        domain(store.remove_address(bob.id, hers.id).unwrap_err()),
        nf
    );
    let ghost = UserId::new(987_654);
    assert_eq!(
        domain(store.remove_address(ghost, hers.id).unwrap_err()),
        nf
    );
    let missing = AddressId::new(987_654);
    assert_eq!(
        domain(store.remove_address(ada.id, missing).unwrap_err()),
        DomainError::not_found("address", missing)
    );
    assert_eq!(
        domain(
            store
                .add_address(ghost, new_address(AddressKind::Billing, "x", false))
                .unwrap_err()
        ),
        DomainError::not_found("user", ghost)
    );
    assert_eq!(
        domain(store.addresses(ghost).unwrap_err()),
        DomainError::not_found("user", ghost)
    );
    assert_eq!(store.addresses(bob.id).unwrap(), vec![]);
    assert_eq!(store.addresses(ada.id).unwrap(), vec![hers]);
}

#[test]
fn concurrent_default_changes_leave_exactly_one_default() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let ada = register(&store, "ada@example.com", "Ada");
    let ids: Vec<AddressId> = (0..6)
        .map(|i| {
            add(
                &store,
                ada.id,
                AddressKind::Shipping,
                &format!("{i} Main St"),
                false,
            )
            .id
        })
        .collect();
    for round in 0..5 {
        let threads = 8;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (store, barrier, ids) = (store.clone(), Arc::clone(&barrier), ids.clone());
                thread::spawn(move || {
                    barrier.wait();
                    match t {
                        // Adding a default and removing one race the plain switches.
                        6 => store
                            .add_address(
                                ada.id,
                                new_address(AddressKind::Shipping, &format!("r{round}"), true),
                            )
                            .map(drop),
                        7 if round % 2 == 1 => store
                            .addresses(ada.id)
                            .and_then(|book| match book.iter().find(|a| a.is_default) {
                                Some(a) => store.remove_address(ada.id, a.id),
                                None => Ok(()),
                            })
                            .or_else(|err| match err.domain() {
                                // Someone removed it first: that is allowed to happen.
                                Some(DomainError::NotFound { .. }) => Ok(()),
                                _ => Err(err),
                            }),
                        _ => store
                            .set_default_address(ada.id, ids[t % ids.len()])
                            .map(drop)
                            .or_else(|err| match err.domain() {
                                Some(DomainError::NotFound { .. }) => Ok(()),
                                _ => Err(err),
                            }),
                    }
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .unwrap()
                .unwrap_or_else(|err| panic!("round {round}: {err}"));
        }
        let book = store.addresses(ada.id).unwrap();
        let shipping_defaults = book.iter().filter(|a| a.is_default).count();
        assert_eq!(shipping_defaults, 1, "round {round}: {book:#?}");
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[test]
fn hostile_and_unicode_account_text_is_stored_verbatim() {
    let db = TestDb::new();
    let store = pg_store(&db);
    let name = "Robert'); DROP TABLE users; --";
    let bobby = register(&store, "o'brien+tag@example.com", name);
    assert_eq!(store.user(bobby.id).unwrap().name.as_str(), name);
    assert_eq!(
        store.user(bobby.id).unwrap().email.as_str(),
        "o'brien+tag@example.com"
    );
    let unicode = register(&store, "zoë@bücher.example", "Zoë Ångström 李小龍 🚀");
    assert_eq!(
        store
            .authenticate(
                &email("zoë@bücher.example"),
                &password("correct horse battery")
            )
            .unwrap(),
        unicode
    );
    let long_local = "a".repeat(64);
    let long = register(
        &store,
        &format!("{long_local}@example.com"),
        &"N".repeat(PersonName::MAX_LEN),
    );
    assert_eq!(store.user(long.id).unwrap(), long);

    let tricky = PostalAddress::parse(&RawAddress {
        recipient: "Zoë \"Z\" O'Brien".into(),
        line1: format!("{} '; --", "Straße ".repeat(27)),
        line2: "\\x00 %s $1".into(),
        city: "Zürich".into(),
        region: "Zürich".into(),
        postal_code: "8001".into(),
        country: "CH".into(),
    })
    .unwrap();
    let address = store
        .add_address(
            unicode.id,
            NewAddress {
                kind: AddressKind::Billing,
                postal: tricky.clone(),
                make_default: false,
            },
        )
        .unwrap();
    assert_eq!(store.addresses(unicode.id).unwrap()[0].postal, tricky);
    assert_eq!(address.postal, tricky);

    // The table is still there, with both users in it.
    let mut conn = db.connect();
    let count = diesel::sql_query("SELECT count(*) AS n FROM users WHERE name = $1")
        .bind::<Text, _>(name)
        .get_result::<Count>(&mut conn)
        .unwrap();
    assert_eq!(count.n, 1);
}

#[test]
fn a_login_upgrades_a_hash_made_with_weaker_parameters() {
    use ecom_domain::rules::StoreRules;
    let weak = HashCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let current = HashCost {
        memory_kib: 128,
        iterations: 2,
        parallelism: 1,
    };
    let rules = |hash_cost| StoreRules {
        hash_cost,
        ..StoreRules::default()
    };
    let db = TestDb::new();
    let old = PgStore::with_rules(db.pool().clone(), rules(weak));
    let new = PgStore::with_rules(db.pool().clone(), rules(current));
    let user = register(&old, "ada@example.com", "Ada");
    assert!(user.password_hash.needs_rehash(current));

    // A wrong password changes nothing.
    assert!(matches!(
        domain(
            new.authenticate(&email("ada@example.com"), &password("wrong horse"))
                .unwrap_err()
        ),
        DomainError::InvalidCredentials
    ));
    assert!(
        new.user(user.id)
            .unwrap()
            .password_hash
            .needs_rehash(current)
    );

    let logged_in = new
        .authenticate(
            &email("ada@example.com"),
            &password("correct horse battery"),
        )
        .unwrap();
    assert!(!logged_in.password_hash.needs_rehash(current));
    let stored = new.user(user.id).unwrap();
    assert!(
        !stored.password_hash.needs_rehash(current),
        "upgraded in the database"
    );
    // The upgraded hash still verifies, under either setting.
    for store in [&old, &new] {
        store
            .authenticate(
                &email("ada@example.com"),
                &password("correct horse battery"),
            )
            .unwrap();
    }
}
