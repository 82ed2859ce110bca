//! The documented deployment, with its two roles: `shop-service migrate` runs the
//! migrations as the owner of the schema (`DATABASE_MIGRATION_URL`), then
//! `shop-service` serves as the application role (`DATABASE_URL`), which never
//! migrates and may not.

use std::process::Output;

use diesel::prelude::*;
use ecom_store::migrate::Roles;
use ecom_store::testing::TestDb;
use ecom_store::{StoreConfig, StoreError, migrate_database};
use serde_json::{Value, json};

use crate::util::{self, Start, shop_service};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Starts `shop-service` as `database_url` and waits until it listens or exits.
fn start(database_url: &str) -> Start {
    util::start(shop_service(&[], database_url, None))
}

fn call(
    agent: &ureq::Agent,
    url: &str,
    session: Option<&str>,
    key: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut request = agent.post(url).header("Content-Type", "application/json");
    if let Some(session) = session {
        request = request.header("Authorization", &format!("Bearer {session}"));
    }
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let mut response = request.send(body.to_string()).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[test]
fn the_service_migrates_as_the_owner_and_serves_as_the_application_role() {
    let db = TestDb::unmigrated();
    let (owner, app) = (db.owner_url(), db.url());
    let app_role = Roles::default().app;
    assert!(app.contains(&format!("://{app_role}@")), "{app}");

    // Before the migrations, the service refuses to start, and says why.
    match start(app) {
        Start::Refused(log) => assert!(log.contains("schema is out of date"), "{log}"),
        Start::Serving(_) => panic!("the service started on an unmigrated database"),
    }

    // The application role may not migrate: a typed refusal before anything runs,
    // from the command and from the library, and for any DDL it tries itself.
    let refused = shop_service(&["migrate"], app, Some(app)).output().unwrap();
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("may not run migrations"),
        "{}",
        stderr(&refused)
    );
    let as_app = StoreConfig {
        migration_url: Some(app.to_owned()),
        ..StoreConfig::new(app)
    };
    match migrate_database(&as_app) {
        Err(StoreError::PermissionDenied { message }) => {
            assert!(message.contains(&app_role), "{message}");
            assert!(message.contains("DATABASE_MIGRATION_URL"), "{message}");
        }
        other => panic!("expected PermissionDenied, got {other:?}"),
    }
    let mut app_conn = PgConnection::establish(app).unwrap();
    let ddl = diesel::sql_query("CREATE TABLE sneaky (id int)")
        .execute(&mut app_conn)
        .map_err(StoreError::from);
    assert!(
        matches!(ddl, Err(StoreError::PermissionDenied { .. })),
        "{ddl:?}"
    );

    // The owner migrates; a second run finds nothing to do.
    let migrated = shop_service(&["migrate"], app, Some(owner))
        .output()
        .unwrap();
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    assert!(
        stderr(&migrated).contains("applied migration"),
        "{}",
        stderr(&migrated)
    );
    let again = shop_service(&["migrate"], app, Some(owner))
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("the schema is up to date"));

    // The shop's catalog, arranged by the owner.
    let mut owner_conn = PgConnection::establish(owner).unwrap();
    diesel::sql_query(
        "WITH tea AS (INSERT INTO categories (slug, name) VALUES ('tea', 'Tea') RETURNING id), \
         sencha AS (INSERT INTO products (slug, name, category_id) \
                    SELECT 'sencha', 'Sencha', id FROM tea RETURNING id) \
         INSERT INTO product_variants (product_id, sku, price, currency, stock_on_hand) \
         SELECT id, 'SENCHA', 8.50, 'EUR', 5 FROM sencha",
    )
    .execute(&mut owner_conn)
    .unwrap();
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let variant = diesel::sql_query("SELECT id FROM product_variants")
        .get_result::<Id>(&mut owner_conn)
        .unwrap()
        .id;

    // The application role serves a whole checkout.
    let Start::Serving(service) = start(app) else {
        panic!("the service refused a migrated database")
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = |path: &str| format!("{}{path}", service.base);
    let (status, session) = call(&agent, &url("/sessions/guest"), None, None, json!({}));
    assert_eq!(status, 201, "{session}");
    let guest = session["token"].as_str().unwrap().to_owned();
    let (status, cart) = call(&agent, &url("/carts"), Some(&guest), None, json!({}));
    assert_eq!(status, 200, "{cart}");
    let cart = cart["id"].as_str().unwrap().to_owned();
    let (status, lines) = call(
        &agent,
        &url(&format!("/carts/{cart}/items")),
        Some(&guest),
        None,
        json!({ "variant_id": variant, "quantity": 2 }),
    );
    assert_eq!(status, 200, "{lines}");
    let shipping = json!({ "recipient": "Ada Lovelace", "line1": "12 St James's Square",
        "city": "London", "postal_code": "SW1Y 4JH", "country": "GB" });
    let (status, order) = call(
        &agent,
        &url("/checkout"),
        Some(&guest),
        Some("order-1"),
        json!({ "cart": cart, "email": "ada@example.com", "shipping": shipping }),
    );
    assert_eq!(status, 201, "{order}");

    #[derive(QueryableByName)]
    struct Who {
        #[diesel(sql_type = diesel::sql_types::Text)]
        usename: String,
    }
    let connected: Vec<String> = diesel::sql_query(
        // Only client backends: an autovacuum worker on this database has
        // no user name, and it is not the service.
        "SELECT DISTINCT usename::text AS usename FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND backend_type = 'client backend'",
    )
    .load::<Who>(&mut owner_conn)
    .unwrap()
    .into_iter()
    .map(|who| who.usename)
    .collect();
    assert!(
        connected.iter().all(|user| user == &app_role),
        "the service connects as {app_role} only: {connected:?}"
    );
    let stored = diesel::sql_query("SELECT id FROM orders WHERE public_id = $1::uuid")
        .bind::<diesel::sql_types::Text, _>(order["id"].as_str().unwrap())
        .load::<Id>(&mut owner_conn)
        .unwrap();
    assert_eq!(stored.len(), 1);
}
