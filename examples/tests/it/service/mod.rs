//! The example service driven over real HTTP: a whole guest purchase, a user's cart,
//! and every kind of bad request getting a typed JSON error.

mod bad_requests;
mod hostile_values;
mod limits;
mod operations;
mod purchases;
mod webhooks;

use ecom_domain::prelude::*;
use ecom_domain::webhook::WebhookSecret;
use ecom_examples::RunningService;
use ecom_examples::service::{App, Intervals, ServiceConfig, TestProvider};
use ecom_store::testing::TestDb;
use serde_json::{Value, json};

use crate::util::store_on;

struct Fixture {
    db: TestDb,
    service: RunningService,
    provider: TestProvider,
    agent: ureq::Agent,
    category: i64,
    products: Vec<i64>,
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
    let products = [
        ("SENCHA", "Sencha", "8.50", 5),
        ("MATCHA", "Matcha", "24.00", 1),
    ]
    .into_iter()
    .map(|(sku, name, price, stock)| {
        store
            .create_product(NewProduct {
                sku: Sku::parse(sku).unwrap(),
                name: ProductName::parse(name).unwrap(),
                description: Description::default(),
                category_id: category.id,
                price: Money::parse(price, Currency::EUR).unwrap(),
                stock_on_hand: stock,
            })
            .unwrap()
            .id
            .get()
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
    tune(&mut config);
    let app = App::new(store, config);
    let service = RunningService::start_with(app, Intervals::default()).unwrap();
    Fixture {
        db,
        provider: TestProvider::new(&service.base_url(), provider_secret(), "test"),
        service,
        agent,
        category: category.id.get(),
        products,
    }
}

impl Fixture {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.service.base_url())
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value) {
        let url = self.url(path);
        let mut response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => {
                let mut req = if method == "PUT" {
                    self.agent.put(&url)
                } else {
                    self.agent.post(&url)
                };
                if let Some(key) = key {
                    req = req.header("Idempotency-Key", key);
                }
                req.header("Content-Type", "application/json")
                    .send(body.unwrap_or("{}"))
            }
        }
        .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
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

    /// Opens the cart of a guest holding `GUEST_TOKEN`; returns its id.
    fn guest_cart(&self) -> i64 {
        let (status, cart) = self.post("/carts", None, json!({ "guest_token": GUEST_TOKEN }));
        assert_eq!(status, 200, "{cart}");
        cart["id"].as_i64().unwrap()
    }
}

/// The secret the test provider and the service share.
fn provider_secret() -> WebhookSecret {
    WebhookSecret::parse("whsec_test-0123456789abcdef").unwrap()
}

/// A guest's cart token, as a cookie would hold it.
const GUEST_TOKEN: &str = "guest-cookie-0123456789";

fn shipping() -> Value {
    json!({ "recipient": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB" })
}
