//! The example service driven over real HTTP: a whole guest purchase, a user's cart,
//! products with variants, staff taking them off sale and repricing them, and every
//! kind of bad request getting a typed JSON error; the shop front's listings and
//! staff describing what they list; prices, tax and shipping as data; promotions
//! and coupon codes; gift cards and refunds of orders.

mod admin;
mod bad_requests;
mod cancellations;
mod catalog_changes;
mod gift_cards;
mod hostile_values;
mod limits;
mod listings;
mod merchandise;
mod openapi;
mod operations;
mod outbox;
mod ownership;
mod price_book;
mod promotions;
mod purchases;
mod returns;
mod shipments;
mod variants;
mod webhooks;

use ecom_domain::prelude::*;
use ecom_domain::webhook::WebhookSecret;
use ecom_examples::RunningService;
use ecom_examples::service::{AdminToken, App, Intervals, ServiceConfig, TestProvider};
use ecom_store::testing::TestDb;
use serde_json::{Value, json};

use crate::util::store_on;

struct Fixture {
    db: TestDb,
    service: RunningService,
    provider: TestProvider,
    /// The session of the guest whose calls `call` and `post` make.
    guest: String,
    agent: ureq::Agent,
    category: i64,
    /// The variants of the two products of one variant each: Sencha, 8.50, five in
    /// stock, and Matcha, 24.00, one in stock.
    variants: Vec<i64>,
}

fn fixture() -> Fixture {
    // Tests of routes send more from one address than a client should; the rate
    // limit has tests of its own.
    fixture_with(|config| config.guarded_burst = 100_000)
}

/// A fixture whose service runs with the bounds `tune` sets.
fn fixture_with(tune: impl FnOnce(&mut ServiceConfig)) -> Fixture {
    let db = TestDb::new();
    let store = store_on(db.pool().clone());
    let category = store
        .create_category(NewCategory {
            parent_id: None,
            slug: Slug::parse("tea").unwrap(),
            name: CategoryName::parse("Tea").unwrap(),
        })
        .unwrap();
    let variants = [
        ("sencha", "SENCHA", "Sencha", "8.50", 5),
        ("matcha", "MATCHA", "Matcha", "24.00", 1),
    ]
    .into_iter()
    .map(|(slug, sku, name, price, stock)| {
        let product = store
            .create_product(NewProduct::single(
                Slug::parse(slug).unwrap(),
                ProductName::parse(name).unwrap(),
                category.id,
                Sku::parse(sku).unwrap(),
                Money::parse(price, Currency::EUR).unwrap(),
                stock,
            ))
            .unwrap();
        product.variants[0].id.get()
    })
    .collect();
    // A connection per request: the service may close one whose body it refused
    // unread (413, 429), and a pooled one would fail the next request.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .build()
        .into();
    let mut config = ServiceConfig::for_store(&store);
    config.webhook_secrets = vec![provider_secret()];
    config.admin_token = AdminToken::parse(ADMIN_TOKEN);
    tune(&mut config);
    let app = App::new(store, config);
    let service = RunningService::start_with(app, Intervals::default()).unwrap();
    let guest = guest_session(&agent, &service.base_url());
    Fixture {
        guest,
        db,
        provider: TestProvider::new(&service.base_url(), provider_secret(), "test"),
        service,
        agent,
        category: category.id.get(),
        variants,
    }
}

impl Fixture {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.service.base_url())
    }

    /// A call as the fixture's guest.
    fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value) {
        self.call_as(Some(&self.guest), method, path, key, body)
    }

    /// A call with the session `token`, or none.
    fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value) {
        let url = self.url(path);
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut response = match (method, body) {
            ("GET", _) => {
                let mut req = self.agent.get(&url);
                if let Some(bearer) = &bearer {
                    req = req.header("Authorization", bearer);
                }
                req.call()
            }
            ("DELETE", _) => {
                let mut req = self.agent.delete(&url);
                if let Some(bearer) = &bearer {
                    req = req.header("Authorization", bearer);
                }
                req.call()
            }
            (_, body) => {
                let mut req = if method == "PUT" {
                    self.agent.put(&url)
                } else {
                    self.agent.post(&url)
                };
                if let Some(key) = key {
                    req = req.header("Idempotency-Key", key);
                }
                if let Some(bearer) = &bearer {
                    req = req.header("Authorization", bearer);
                }
                req.header("Content-Type", "application/json")
                    .send(body.unwrap_or("{}"))
            }
        }
        .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        if status == 204 {
            return (status, Value::Null);
        }
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")),
        )
    }

    /// The provider reports `event` about `payment` as event `id`, signed.
    fn report(&self, id: &str, payment: i64, event: Value) -> (u16, Value) {
        let answer = self.provider.report(id, payment, event).unwrap();
        (answer.status, answer.body)
    }

    fn post(&self, path: &str, key: Option<&str>, body: Value) -> (u16, Value) {
        self.call("POST", path, key, Some(&body.to_string()))
    }

    /// A POST to the back office, with its token.
    fn admin_post(&self, path: &str, key: Option<&str>, body: Value) -> (u16, Value) {
        self.call_as(
            Some(ADMIN_TOKEN),
            "POST",
            path,
            key,
            Some(&body.to_string()),
        )
    }

    /// A PUT to the back office, with its token.
    fn admin_put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call_as(
            Some(ADMIN_TOKEN),
            "PUT",
            path,
            None,
            Some(&body.to_string()),
        )
    }

    /// Opens the fixture's guest's cart; returns its reference.
    fn guest_cart(&self) -> String {
        let (status, cart) = self.post("/carts", None, json!({}));
        assert_eq!(status, 200, "{cart}");
        cart["id"].as_str().unwrap().to_owned()
    }
}

/// The back office's token in the tests.
const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef-0123456789";

/// The secret the test provider and the service share.
fn provider_secret() -> WebhookSecret {
    WebhookSecret::parse("whsec_test-0123456789abcdef").unwrap()
}

/// A new guest session's token, as a browser would keep it.
fn guest_session(agent: &ureq::Agent, base: &str) -> String {
    let mut response = agent
        .post(&format!("{base}/sessions/guest"))
        .header("Content-Type", "application/json")
        .send("{}")
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let session: Value = response.body_mut().read_json().unwrap();
    session["token"].as_str().unwrap().to_owned()
}

fn shipping() -> Value {
    json!({ "recipient": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB" })
}

/// The status and error code of an answer.
fn code((status, body): (u16, Value)) -> (u16, String) {
    let code = body["error"]["code"].as_str().unwrap_or("<none>");
    (status, code.to_owned())
}

/// Creates a product through the back office; the product as answered.
fn create(f: &Fixture, product: Value) -> Value {
    let (status, created) = f.admin_post("/admin/products", None, product);
    assert_eq!(status, 201, "{created}");
    created
}

/// The product `id` as the category page lists it, if it does.
fn listed(f: &Fixture, id: &Value) -> Option<Value> {
    let (status, page) = f.call(
        "GET",
        &format!("/categories/{}/products", f.category),
        None,
        None,
    );
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| &p["id"] == id)
        .cloned()
}

/// A new guest's session token and the reference of its open cart.
fn new_guest(f: &Fixture) -> (String, String) {
    let token = guest_session(&f.agent, &f.service.base_url());
    let (status, cart) = f.call_as(Some(&token), "POST", "/carts", None, Some("{}"));
    assert_eq!(status, 200, "{cart}");
    (token, cart["id"].as_str().unwrap().to_owned())
}

/// `token` adds `quantity` of `variant` to its cart `cart`.
fn add(f: &Fixture, token: &str, cart: &str, variant: i64, quantity: u32) -> (u16, Value) {
    let body = json!({ "variant_id": variant, "quantity": quantity }).to_string();
    f.call_as(
        Some(token),
        "POST",
        &format!("/carts/{cart}/items"),
        None,
        Some(&body),
    )
}

/// `token` checks out its cart `cart` with the idempotency key `key`.
fn check_out(f: &Fixture, token: &str, cart: &str, key: &str) -> (u16, Value) {
    let body = json!({ "cart": cart, "email": "ada@example.com", "shipping": shipping() });
    f.call_as(
        Some(token),
        "POST",
        "/checkout",
        Some(key),
        Some(&body.to_string()),
    )
}

/// A GET to the back office, with its token.
fn admin_get(f: &Fixture, path: &str) -> (u16, Value) {
    f.call_as(Some(ADMIN_TOKEN), "GET", path, None, None)
}

/// A refusal to expect: what the case is, the body, the status and the code.
type Refusal = (&'static str, Value, u16, &'static str);

/// Sends each body of `cases` to `method path` with the admin token and checks
/// the status and code of the refusal.
fn refused(f: &Fixture, method: &str, path: &str, cases: Vec<Refusal>) {
    for (what, body, status, expected) in cases {
        let answer = f.call_as(
            Some(ADMIN_TOKEN),
            method,
            path,
            None,
            Some(&body.to_string()),
        );
        assert_eq!(
            code(answer),
            (status, expected.to_owned()),
            "{method} {path}: {what}"
        );
    }
}

/// The one variant id of a product as the back office answered it.
fn variant_of(product: &Value) -> i64 {
    product["variants"][0]["id"].as_i64().unwrap()
}

/// `token` adds `quantity` of `variant` to its cart `cart`, which must take it.
fn put_in(f: &Fixture, token: &str, cart: &str, variant: i64, quantity: u32) {
    let (status, body) = add(f, token, cart, variant, quantity);
    assert_eq!(status, 200, "{body}");
}

/// An address in Berlin.
fn berlin() -> Value {
    json!({ "recipient": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin",
            "postal_code": "10117", "country": "DE" })
}

/// The German shops' 19 % and 7 % rates (`DE standard`, `DE reduced`) as answers
/// show them.
fn standard_rate() -> Value {
    json!({ "name": "DE standard", "rate": "0.19", "country": "DE", "region": null, "class": "standard" })
}

fn reduced_rate() -> Value {
    json!({ "name": "DE reduced", "rate": "0.07", "country": "DE", "region": null, "class": "reduced" })
}

/// An amount in euros as answers show it.
fn eur(amount: &str) -> Value {
    json!({ "amount": amount, "currency": "EUR" })
}
