//! Least privilege: the application role reads and writes rows but cannot change the
//! schema, truncate, or rewrite history and amounts; the read-only role only reads.
//! (Every other test of this suite runs its store as the application role too:
//! `TestDb::url` connects as it.)

use diesel::connection::SimpleConnection;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use ecom_domain::prelude::*;
use ecom_store::migrate::{Roles, migrate_with_roles};
use ecom_store::testing::TestDb;

use crate::util::{Shop, event, request};

/// Runs `statement` and returns the database's refusal.
#[track_caller]
fn refused(conn: &mut PgConnection, statement: &str) -> String {
    match conn.batch_execute(statement) {
        Ok(()) => panic!("allowed, but must be refused: {statement}"),
        Err(err) => err.to_string(),
    }
}

#[track_caller]
fn assert_refused(conn: &mut PgConnection, statement: &str) {
    let message = refused(conn, statement);
    assert!(
        message.contains("permission denied") || message.contains("must be owner"),
        "{statement}: {message}"
    );
}

fn current_user(conn: &mut PgConnection) -> String {
    diesel::select(sql::<Text>("current_user::text"))
        .get_result(conn)
        .unwrap()
}

#[test]
fn the_application_role_writes_rows_but_never_the_schema() {
    let db = TestDb::new();
    let mut app = PgConnection::establish(db.url()).unwrap();
    assert_eq!(current_user(&mut app), Roles::default().app);
    assert_ne!(current_user(&mut db.connect()), Roles::default().app);

    app.batch_execute("INSERT INTO categories (slug, name) VALUES ('tea', 'Tea')")
        .unwrap();
    app.batch_execute("UPDATE categories SET name = 'Teas' WHERE slug = 'tea'")
        .unwrap();
    for statement in [
        "CREATE TABLE sneaky (id int)",
        "CREATE INDEX sneaky_idx ON products (name)",
        "ALTER TABLE products ADD COLUMN sneaky int",
        "ALTER TABLE orders DROP CONSTRAINT orders_pkey",
        "DROP TABLE cart_lines",
        "TRUNCATE products CASCADE",
        "TRUNCATE order_status_history",
        "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "DELETE FROM __diesel_schema_migrations",
    ] {
        assert_refused(&mut app, statement);
    }
}

#[test]
fn history_and_amounts_are_append_only_for_the_application() {
    let shop = Shop::new(&[5]);
    let cart = shop.cart(1, &[(0, 2)]);
    let placed = shop.store.checkout(&request(cart, "roles-1")).unwrap();
    let payment = placed.payment.as_ref().unwrap().id;
    let amount = placed.order.totals.grand_total;
    shop.store
        .record_payment_event(
            payment,
            event(
                "auth-1",
                PaymentAction::Authorize {
                    amount,
                    provider_ref: None,
                },
            ),
        )
        .unwrap();
    // The store, as the application, moves the order and payment on: allowed.
    shop.store
        .record_payment_event(payment, event("cap-1", PaymentAction::Capture { amount }))
        .unwrap();

    let mut app = PgConnection::establish(shop.db.url()).unwrap();
    for statement in [
        "UPDATE order_status_history SET note = 'rewritten'",
        "DELETE FROM order_status_history",
        "UPDATE payment_events SET amount = 0",
        "DELETE FROM payment_events",
        "UPDATE order_lines SET unit_price = 0",
        "DELETE FROM order_lines",
        "UPDATE order_addresses SET city = 'Elsewhere'",
        "UPDATE orders SET grand_total = 0",
        "UPDATE orders SET subtotal = 0, tax = 0",
        "UPDATE orders SET currency = 'USD'",
        "DELETE FROM orders",
        "UPDATE payments SET amount = 1",
        "DELETE FROM payments",
    ] {
        assert_refused(&mut app, statement);
    }
    // What the domain does change stays allowed.
    app.batch_execute("UPDATE orders SET updated_at = now()")
        .unwrap();
    // Nothing was rewritten.
    let order = shop.store.order(placed.order.id).unwrap();
    assert_eq!(order.order.totals.grand_total, amount);
    assert_eq!(order.payments[0].captured, amount);
}

#[test]
fn the_read_only_role_only_reads() {
    let shop = Shop::new(&[5]);
    let cart = shop.cart(1, &[(0, 1)]);
    shop.store.checkout(&request(cart, "roles-ro")).unwrap();
    let readonly = Roles::default().readonly;
    shop.db
        .connect()
        .batch_execute(&format!("ALTER ROLE {readonly} LOGIN"))
        .unwrap();
    let url = shop.db.url().replacen(
        &format!("{}@", Roles::default().app),
        &format!("{readonly}@"),
        1,
    );
    let mut ro = PgConnection::establish(&url).unwrap();
    assert_eq!(current_user(&mut ro), readonly);
    let orders: i64 = diesel::select(sql::<diesel::sql_types::BigInt>("count(*) FROM orders"))
        .get_result(&mut ro)
        .unwrap();
    assert_eq!(orders, 1);
    // Every column of users and carts but the secrets: password hashes, guest token digests.
    let emails: i64 = diesel::select(sql::<diesel::sql_types::BigInt>("count(email) FROM users"))
        .get_result(&mut ro)
        .unwrap();
    assert!(emails >= 0);
    for statement in [
        "SELECT password_hash FROM users",
        "SELECT guest_token_digest FROM carts",
        "SELECT * FROM users",
    ] {
        assert_refused(&mut ro, statement);
    }
    for statement in [
        "INSERT INTO categories (slug, name) VALUES ('x', 'X')",
        "UPDATE product_variants SET stock_on_hand = 0",
        "DELETE FROM cart_lines",
        "SELECT id FROM product_variants FOR UPDATE",
        "TRUNCATE outbox_events",
        "CREATE TABLE sneaky (id int)",
    ] {
        assert_refused(&mut ro, statement);
    }
}

#[test]
fn role_names_are_configurable() {
    let db = TestDb::unmigrated();
    let mut owner = db.connect();
    let roles = Roles {
        app: "shop_writer".into(),
        readonly: "shop_reader".into(),
    };
    migrate_with_roles(&mut owner, &roles).unwrap();
    let may = |role: &str, table: &str, privilege: &str| -> bool {
        diesel::select(
            sql::<Bool>("has_table_privilege(")
                .bind::<Text, _>(role)
                .sql(", ")
                .bind::<Text, _>(table)
                .sql(", ")
                .bind::<Text, _>(privilege)
                .sql(")"),
        )
        .get_result(&mut db.connect())
        .unwrap()
    };
    assert!(may("shop_writer", "orders", "INSERT"));
    assert!(!may("shop_writer", "orders", "DELETE"));
    assert!(!may("shop_writer", "payment_events", "UPDATE"));
    assert!(may("shop_reader", "orders", "SELECT"));
    assert!(!may("shop_reader", "orders", "INSERT"));
    assert!(
        !may("ecom_app", "orders", "INSERT"),
        "the default role got nothing in this database"
    );
}
