//! The second line of defence for sizes: the database bounds every text the domain
//! bounds, to the character, and the number of lines of a cart. Rows are written
//! directly with SQL as the application role (as any client could), and refused
//! exactly when the domain's type refuses the value.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use ecom_domain::prelude::*;
use ecom_store::StoreError;
use ecom_store::testing::TestDb;

use crate::util::{scalar, setup};

/// One bounded column: how to write a row with a value in it, and what the domain
/// says of that value.
struct Bound {
    /// `table.column`; the constraint that refuses is `table_column_length` unless
    /// `constraint` names another.
    column: &'static str,
    /// The longest value the domain accepts, in characters.
    max: usize,
    /// A value of that many characters, of the column's shape.
    value: fn(usize) -> String,
    /// Whether the domain's type accepts the value.
    domain: fn(&str) -> bool,
    /// One row with `$1` in the column.
    insert: &'static str,
    /// The refusing constraint, where it is not `table_column_length`.
    constraint: Option<&'static str>,
}

impl Bound {
    fn constraint(&self) -> String {
        self.constraint.map_or_else(
            || format!("{}_length", self.column.replace('.', "_")),
            str::to_owned,
        )
    }
}

/// Letters with two bytes each in UTF-8: lengths are characters, not bytes.
fn accented(len: usize) -> String {
    "é".repeat(len)
}

fn upper(len: usize) -> String {
    "A".repeat(len)
}

fn lower(len: usize) -> String {
    "a".repeat(len)
}

/// An e-mail address of `len` characters the domain's shape rules accept: a local part
/// of 64 and labels of at most 63 (for lengths 198 to 260).
fn email(len: usize) -> String {
    let middle = len
        .checked_sub(197)
        .filter(|n| (1..=63).contains(n))
        .unwrap_or_else(|| panic!("no test e-mail of {len} characters"));
    format!(
        "{}@{}.{}.{}.com",
        "a".repeat(64),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(middle)
    )
}

/// An address that is valid but for `field`, which is `value`.
fn address_with(field: &str, value: &str) -> bool {
    let mut raw = RawAddress {
        recipient: "Ada".into(),
        line1: "1 Main Street".into(),
        city: "Berlin".into(),
        postal_code: "10115".into(),
        country: "DE".into(),
        ..RawAddress::default()
    };
    match field {
        "recipient" => raw.recipient = value.into(),
        "line1" => raw.line1 = value.into(),
        "line2" => raw.line2 = value.into(),
        "city" => raw.city = value.into(),
        "region" => raw.region = value.into(),
        "postal_code" => raw.postal_code = value.into(),
        other => panic!("no address field {other}"),
    }
    PostalAddress::parse(&raw).is_ok()
}

/// Every bounded text column, with the domain's type that bounds it.
fn bounds() -> Vec<Bound> {
    macro_rules! address_bounds {
        ($table:literal, $prefix:expr) => {
            vec![
                Bound {
                    column: concat!($table, ".recipient"),
                    max: PersonName::MAX_LEN,
                    value: accented,
                    domain: |v| address_with("recipient", v),
                    insert: concat!($prefix, "$1, 'x', NULL, 'x', NULL, '1', 'DE'"),
                    constraint: None,
                },
                Bound {
                    column: concat!($table, ".line1"),
                    max: 200,
                    value: accented,
                    domain: |v| address_with("line1", v),
                    insert: concat!($prefix, "'x', $1, NULL, 'x', NULL, '1', 'DE'"),
                    constraint: None,
                },
                Bound {
                    column: concat!($table, ".line2"),
                    max: 200,
                    value: accented,
                    domain: |v| address_with("line2", v),
                    insert: concat!($prefix, "'x', 'x', $1, 'x', NULL, '1', 'DE'"),
                    constraint: None,
                },
                Bound {
                    column: concat!($table, ".city"),
                    max: 100,
                    value: accented,
                    domain: |v| address_with("city", v),
                    insert: concat!($prefix, "'x', 'x', NULL, $1, NULL, '1', 'DE'"),
                    constraint: None,
                },
                Bound {
                    column: concat!($table, ".region"),
                    max: 100,
                    value: accented,
                    domain: |v| address_with("region", v),
                    insert: concat!($prefix, "'x', 'x', NULL, 'x', $1, '1', 'DE'"),
                    constraint: None,
                },
                Bound {
                    column: concat!($table, ".postal_code"),
                    max: 16,
                    value: upper,
                    domain: |v| address_with("postal_code", v),
                    insert: concat!($prefix, "'x', 'x', NULL, 'x', NULL, $1, 'DE'"),
                    constraint: None,
                },
            ]
        };
    }
    let mut all = vec![
        Bound {
            column: "categories.slug",
            max: Slug::MAX_LEN,
            value: lower,
            domain: |v| Slug::parse(v).is_ok(),
            insert: "INSERT INTO categories (slug, name) VALUES ($1, 'Bounds')",
            constraint: None,
        },
        Bound {
            column: "categories.name",
            max: CategoryName::MAX_LEN,
            value: accented,
            domain: |v| CategoryName::parse(v).is_ok(),
            insert: "INSERT INTO categories (slug, name) VALUES ('bounds', $1)",
            constraint: None,
        },
        Bound {
            column: "product_variants.sku",
            max: Sku::MAX_LEN,
            value: upper,
            domain: |v| Sku::parse(v).is_ok(),
            insert: "INSERT INTO product_variants (product_id, sku, options, price, currency) \
                     SELECT min(id), $1, '[{\"option\": \"Size\", \"value\": \"XL\"}]', 1, 'EUR' \
                     FROM products",
            // Its format check bounds it already.
            constraint: Some("product_variants_sku_format"),
        },
        Bound {
            column: "products.slug",
            max: Slug::MAX_LEN,
            value: lower,
            domain: |v| Slug::parse(v).is_ok(),
            insert: "INSERT INTO products (slug, name, description, category_id) \
                     SELECT $1, 'x', '', min(id) FROM categories",
            // Its format check bounds it already.
            constraint: Some("products_slug_format"),
        },
        Bound {
            column: "products.name",
            max: ProductName::MAX_LEN,
            value: accented,
            domain: |v| ProductName::parse(v).is_ok(),
            insert: "INSERT INTO products (slug, name, description, category_id) \
                     SELECT 'bounds', $1, '', min(id) FROM categories",
            constraint: None,
        },
        Bound {
            column: "products.description",
            max: Description::MAX_LEN,
            value: accented,
            domain: |v| Description::parse(v).is_ok(),
            insert: "INSERT INTO products (slug, name, description, category_id) \
                     SELECT 'bounds', 'x', $1, min(id) FROM categories",
            constraint: None,
        },
        Bound {
            column: "users.email",
            max: Email::MAX_LEN,
            value: email,
            domain: |v| Email::parse(v).is_ok(),
            insert: "INSERT INTO users (email, name, password_hash) VALUES ($1, 'x', 'x')",
            constraint: None,
        },
        Bound {
            column: "users.name",
            max: PersonName::MAX_LEN,
            value: accented,
            domain: |v| PersonName::parse(v).is_ok(),
            insert: "INSERT INTO users (email, name, password_hash) VALUES ('b@example.com', $1, 'x')",
            constraint: None,
        },
        Bound {
            column: "orders.guest_email",
            max: Email::MAX_LEN,
            value: email,
            domain: |v| Email::parse(v).is_ok(),
            insert: "INSERT INTO orders (guest_email, currency, subtotal, grand_total, payment_deadline) \
                     VALUES ($1, 'EUR', 0, 0, now() + interval '1 hour')",
            constraint: None,
        },
        Bound {
            column: "order_lines.sku",
            max: Sku::MAX_LEN,
            value: upper,
            domain: |v| Sku::parse(v).is_ok(),
            insert: "INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, unit_price, quantity) \
                     SELECT (SELECT min(id) FROM orders), 1, min(id), $1, 'x', 1, 1 FROM product_variants",
            constraint: None,
        },
        Bound {
            column: "order_lines.name",
            max: ProductName::MAX_LEN,
            value: accented,
            domain: |v| ProductName::parse(v).is_ok(),
            insert: "INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, unit_price, quantity) \
                     SELECT (SELECT min(id) FROM orders), 1, min(id), 'X', $1, 1, 1 FROM product_variants",
            constraint: None,
        },
        Bound {
            column: "payments.provider",
            max: ProviderName::MAX_LEN,
            value: accented,
            domain: |v| ProviderName::parse(v).is_ok(),
            insert: "INSERT INTO payments (order_id, provider, currency, amount) \
                     SELECT min(id), $1, 'EUR', 1 FROM orders",
            constraint: None,
        },
        Bound {
            column: "payments.provider_ref",
            max: ProviderRef::MAX_LEN,
            value: accented,
            domain: |v| ProviderRef::parse(v).is_ok(),
            insert: "INSERT INTO payments (order_id, provider, provider_ref, currency, amount) \
                     SELECT min(id), 'test', $1, 'EUR', 1 FROM orders",
            constraint: None,
        },
        Bound {
            column: "payment_events.idempotency_key",
            max: IdempotencyKey::MAX_LEN,
            value: accented,
            domain: |v| IdempotencyKey::parse(v).is_ok(),
            insert: "INSERT INTO payment_events (payment_id, kind, amount, idempotency_key) \
                     SELECT min(id), 'authorize', 1, $1 FROM payments",
            constraint: None,
        },
        Bound {
            column: "payment_events.provider_event_id",
            max: ProviderRef::MAX_LEN,
            value: accented,
            domain: |v| ProviderRef::parse(v).is_ok(),
            insert: "INSERT INTO payment_events (payment_id, kind, amount, idempotency_key, provider_event_id) \
                     SELECT min(id), 'authorize', 1, 'k', $1 FROM payments",
            constraint: None,
        },
        Bound {
            column: "payment_events.reason",
            max: Reason::MAX_LEN,
            value: accented,
            domain: |v| Reason::parse(v).is_ok(),
            insert: "INSERT INTO payment_events (payment_id, kind, amount, idempotency_key, reason) \
                     SELECT min(id), 'fail', 0, 'k', $1 FROM payments",
            constraint: None,
        },
        Bound {
            column: "idempotency_keys.key",
            max: IdempotencyKey::MAX_LEN,
            value: accented,
            domain: |v| IdempotencyKey::parse(v).is_ok(),
            insert: "INSERT INTO idempotency_keys (scope, key, request_hash, expires_at) \
                     VALUES ('checkout', $1, '\\x00', now() + interval '1 day')",
            constraint: None,
        },
    ];
    all.extend(address_bounds!(
        "addresses",
        "INSERT INTO addresses (user_id, kind, recipient, line1, line2, city, region, postal_code, country) \
         SELECT (SELECT min(id) FROM users), 'shipping', "
    ));
    all.extend(address_bounds!(
        "order_addresses",
        "INSERT INTO order_addresses (order_id, kind, recipient, line1, line2, city, region, postal_code, country) \
         SELECT (SELECT min(id) FROM orders), 'shipping', "
    ));
    all
}

/// A category, a product, a user, a guest order and its payment, written by the owner:
/// what the rows under test refer to.
fn arranged() -> TestDb {
    let db = TestDb::new();
    let mut owner = db.connect();
    for statement in [
        "INSERT INTO categories (slug, name) VALUES ('lamps', 'Lamps')",
        "INSERT INTO products (slug, name, category_id) SELECT 'lamp', 'Lamp', id FROM categories",
        "INSERT INTO product_variants (product_id, sku, price, currency) \
         SELECT id, 'LAMP', 10, 'EUR' FROM products",
        "INSERT INTO users (email, name, password_hash) VALUES ('ada@example.com', 'Ada', 'x')",
        "INSERT INTO orders (guest_email, currency, subtotal, grand_total, payment_deadline) \
         VALUES ('guest@example.com', 'EUR', 10, 10, now() + interval '1 hour')",
        "INSERT INTO payments (order_id, provider, currency, amount) \
         SELECT id, 'test', 'EUR', 10 FROM orders",
    ] {
        setup(&mut owner, statement);
    }
    db
}

/// Writes `statement` with `value` as the application role, in a transaction that is
/// rolled back: the outcome, mapped as the store maps it.
fn write(app: &mut PgConnection, statement: &str, value: &str) -> Result<(), StoreError> {
    app.batch_execute("BEGIN").unwrap();
    let outcome = diesel::sql_query(statement)
        .bind::<Text, _>(value)
        .execute(app)
        .map(drop)
        .map_err(StoreError::from);
    app.batch_execute("ROLLBACK").unwrap();
    outcome
}

#[test]
fn every_bounded_text_is_refused_by_the_database_exactly_where_the_domain_refuses_it() {
    let db = arranged();
    let mut app = PgConnection::establish(db.url()).unwrap();
    let mut wrong = Vec::new();
    for bound in bounds() {
        let at_limit = (bound.value)(bound.max);
        let over = (bound.value)(bound.max + 1);
        assert_eq!(at_limit.chars().count(), bound.max, "{}", bound.column);
        assert!(
            (bound.domain)(&at_limit) && !(bound.domain)(&over),
            "{}: the domain's limit is not {}",
            bound.column,
            bound.max
        );
        if let Err(err) = write(&mut app, bound.insert, &at_limit) {
            wrong.push(format!(
                "{} refuses {} characters: {err}",
                bound.column, bound.max
            ));
        }
        match write(&mut app, bound.insert, &over) {
            Err(StoreError::Invalid {
                constraint: Some(name),
                ..
            }) if name == bound.constraint() => {}
            other => wrong.push(format!(
                "{} with {} characters: expected Invalid({}), got {other:?}",
                bound.column,
                bound.max + 1,
                bound.constraint()
            )),
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_guest_is_known_by_a_whole_digest_and_never_by_the_token() {
    let db = arranged();
    let mut app = PgConnection::establish(db.url()).unwrap();
    let insert =
        "INSERT INTO carts (guest_token_digest, currency) VALUES (decode($1, 'hex'), 'EUR')";
    let token = GuestToken::parse("guest-token-0000000001").unwrap();
    let digest = token.digest().to_hex();
    write(&mut app, insert, &digest).unwrap();
    let err = write(&mut app, insert, &digest[..62]).unwrap_err();
    assert_eq!(
        err.constraint(),
        Some("carts_guest_token_digest_length"),
        "{err:?}"
    );
    // No column of carts or orders can hold the token itself.
    let mut owner = db.connect();
    assert_eq!(
        scalar(
            &mut owner,
            "count(*) FROM information_schema.columns \
             WHERE table_name IN ('carts', 'orders') AND column_name = 'guest_token'"
        ),
        0
    );
}

/// A cart and `Cart::MAX_LINES + 1` variants to fill it with, written by the owner.
fn cart_and_products() -> (TestDb, i64) {
    let db = TestDb::new();
    let mut owner = db.connect();
    setup(
        &mut owner,
        "INSERT INTO categories (slug, name) VALUES ('lamps', 'Lamps')",
    );
    setup(
        &mut owner,
        &format!(
            "WITH p AS (INSERT INTO products (slug, name, category_id) \
                        SELECT 'lamp-' || n, 'Lamp ' || n, (SELECT id FROM categories) \
                        FROM generate_series(1, {}) AS n RETURNING id, slug) \
             INSERT INTO product_variants (product_id, sku, price, currency) \
             SELECT id, upper(slug), 10, 'EUR' FROM p",
            Cart::MAX_LINES + 1
        ),
    );
    setup(
        &mut owner,
        "INSERT INTO carts (guest_token_digest, currency) \
         VALUES (sha256('guest-token-0000000001'), 'EUR'), (sha256('guest-token-0000000002'), 'EUR')",
    );
    let cart = scalar(&mut owner, "min(id) FROM carts");
    (db, cart)
}

/// Adds the variants numbered `from..=to` (by id order) to `cart` in one statement.
fn add_lines(
    conn: &mut PgConnection,
    cart: i64,
    from: usize,
    to: usize,
) -> Result<usize, StoreError> {
    diesel::sql_query(
        "INSERT INTO cart_lines (cart_id, variant_id, quantity) \
         SELECT $1, id, 1 FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM product_variants) p \
         WHERE n BETWEEN $2 AND $3",
    )
    .bind::<diesel::sql_types::BigInt, _>(cart)
    .bind::<Integer, _>(i32::try_from(from).unwrap())
    .bind::<Integer, _>(i32::try_from(to).unwrap())
    .execute(conn)
    .map_err(StoreError::from)
}

#[track_caller]
fn assert_too_many_lines(outcome: Result<usize, StoreError>) {
    match outcome {
        Err(StoreError::Invalid {
            constraint: Some(name),
            ..
        }) if name == "cart_lines_per_cart_max" => {}
        other => panic!("expected Invalid(cart_lines_per_cart_max), got {other:?}"),
    }
}

#[test]
fn a_cart_holds_at_most_the_domains_line_limit_whoever_writes_it() {
    let (db, cart) = cart_and_products();
    let other = cart + 1;
    let max = Cart::MAX_LINES;
    let mut app = PgConnection::establish(db.url()).unwrap();

    // Too many in one statement, then exactly the limit.
    assert_too_many_lines(add_lines(&mut app, cart, 1, max + 1));
    assert_eq!(add_lines(&mut app, cart, 1, max).unwrap(), max);
    // One more, on its own.
    assert_too_many_lines(add_lines(&mut app, cart, max + 1, max + 1));
    // Changing quantities of a full cart stays allowed (the store upserts them).
    app.batch_execute(&format!(
        "INSERT INTO cart_lines (cart_id, variant_id, quantity) \
         SELECT cart_id, variant_id, 2 FROM cart_lines WHERE cart_id = {cart} \
         ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = excluded.quantity"
    ))
    .unwrap();
    // A line moved from another cart into the full one.
    assert_eq!(add_lines(&mut app, other, max + 1, max + 1).unwrap(), 1);
    let moved = diesel::sql_query(format!(
        "UPDATE cart_lines SET cart_id = {cart} WHERE cart_id = {other}"
    ))
    .execute(&mut app)
    .map_err(StoreError::from);
    assert_too_many_lines(moved);
    assert_eq!(
        scalar(
            &mut db.connect(),
            &format!("count(*) FROM cart_lines WHERE cart_id = {cart}")
        ),
        i64::try_from(max).unwrap()
    );
}

#[test]
fn two_writers_racing_for_a_carts_last_line_cannot_both_win() {
    let (db, cart) = cart_and_products();
    let max = Cart::MAX_LINES;
    let mut first = PgConnection::establish(db.url()).unwrap();
    add_lines(&mut first, cart, 1, max - 1).unwrap();

    // The first writer adds the last line the cart has room for and keeps its
    // transaction open; the second adds another meanwhile. Each alone would fit.
    first.batch_execute("BEGIN").unwrap();
    add_lines(&mut first, cart, max, max).unwrap();
    let url = db.url().to_owned();
    let (pid_tx, pid_rx) = mpsc::channel();
    let second = thread::spawn(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        pid_tx
            .send(scalar(&mut conn, "pg_backend_pid()::bigint"))
            .unwrap();
        conn.batch_execute("BEGIN").unwrap();
        let outcome = add_lines(&mut conn, cart, max + 1, max + 1);
        let _ = conn.batch_execute("ROLLBACK");
        outcome
    });
    // It waits for the first one's lock on the cart before it counts (or, were there
    // no lock, finishes at once, counting only the committed lines and its own).
    let pid = pid_rx.recv().unwrap();
    let mut watcher = db.connect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !second.is_finished()
        && scalar(
            &mut watcher,
            &format!(
                "count(*) FROM pg_stat_activity WHERE pid = {pid} AND wait_event_type = 'Lock'"
            ),
        ) == 0
    {
        assert!(
            Instant::now() < deadline,
            "the second writer neither waited nor finished"
        );
        thread::yield_now();
    }
    first.batch_execute("COMMIT").unwrap();
    assert_too_many_lines(second.join().unwrap());
    assert_eq!(
        scalar(
            &mut watcher,
            &format!("count(*) FROM cart_lines WHERE cart_id = {cart}")
        ),
        i64::try_from(max).unwrap()
    );
}
