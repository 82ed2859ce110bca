//! The outbox published to a webhook, over real HTTP to a real receiver: events
//! arrive signed and in order, a batch is marked published only once the receiver
//! answers 2xx, a receiver that fails or is down loses nothing and stops nothing,
//! and SIGTERM stops the service while a delivery hangs.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Utc;
use diesel::prelude::*;
use ecom_domain::prelude::*;
use ecom_domain::webhook::{WebhookSecret, WebhookVerifier};
use ecom_examples::service::{OutboxWebhook, SIGNATURE_HEADER};
use ecom_store::testing::TestDb;
use serde_json::{Value, json};

use super::operations::sample;
use super::{Fixture, fixture_with, shipping};
use crate::util::{self, Start, shop_service, store_on};

/// The secret the service signs its deliveries with.
const OUTBOX_SECRET: &str = "whsec_outbox-0123456789abcdef";

fn outbox_secret() -> WebhookSecret {
    WebhookSecret::parse(OUTBOX_SECRET).unwrap()
}

/// A delivery as the receiver got it.
#[derive(Clone, Debug)]
struct Delivery {
    signature: String,
    body: Bytes,
    /// The status the receiver answered.
    answered: u16,
}

impl Delivery {
    /// The ids of its events, in the order sent.
    fn ids(&self) -> Vec<i64> {
        let body: Value = serde_json::from_slice(&self.body).unwrap();
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
    }
}

#[derive(Default)]
struct Inbox {
    /// Answer 500 while true.
    failing: Mutex<bool>,
    deliveries: Mutex<Vec<Delivery>>,
}

/// A webhook receiver: an HTTP server of its own on 127.0.0.1 that keeps every
/// delivery and answers 500 while told to fail, else 200.
struct Receiver {
    url: String,
    inbox: Arc<Inbox>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn receive(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let failing = *inbox.failing.lock().unwrap();
    let status = if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    inbox.deliveries.lock().unwrap().push(Delivery {
        signature,
        body,
        answered: status.as_u16(),
    });
    status
}

impl Receiver {
    /// A receiver on a free port.
    fn start(failing: bool) -> Self {
        Self::start_on(TcpListener::bind(("127.0.0.1", 0)).unwrap(), failing)
    }

    fn start_on(listener: TcpListener, failing: bool) -> Self {
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let inbox = Arc::new(Inbox::default());
        *inbox.failing.lock().unwrap() = failing;
        let app = axum::Router::new()
            .route("/events", post(receive))
            .with_state(inbox.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Self {
            url: format!("http://{addr}/events"),
            inbox,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    fn fail(&self, failing: bool) {
        *self.inbox.failing.lock().unwrap() = failing;
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.inbox.deliveries.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The service's outbox webhook to `url`, retrying quickly.
fn hook(url: &str) -> OutboxWebhook {
    let mut hook = OutboxWebhook::new(url, outbox_secret()).unwrap();
    hook.timeout = Duration::from_secs(5);
    hook.backoff = Duration::from_millis(50);
    hook.max_backoff = Duration::from_millis(200);
    hook
}

/// A shop whose outbox goes to `url`.
fn shop_publishing_to(url: &str) -> Fixture {
    let hook = hook(url);
    fixture_with(move |config| {
        config.guarded_burst = 100_000;
        config.outbox_webhook = Some(hook);
    })
}

/// The fixture's guest buys one unit of the first variant: one `order.placed`.
fn place_order(shop: &Fixture, key: &str) {
    let cart = shop.guest_cart();
    let (status, body) = shop.post(
        &format!("/carts/{cart}/items"),
        None,
        json!({ "variant_id": shop.variants[0], "quantity": 1 }),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = shop.post(
        "/checkout",
        Some(key),
        json!({ "cart": cart, "shipping": shipping(), "email": "ada@example.com" }),
    );
    assert_eq!(status, 201, "{body}");
}

/// Polls `done` until it holds, for at most 30 s.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[derive(QueryableByName, Debug, PartialEq)]
struct EventRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    published: bool,
}

/// Every outbox event, by id, and whether it is marked published.
fn events(db: &TestDb) -> Vec<EventRow> {
    let mut conn = db.pool().get().unwrap();
    diesel::sql_query(
        "SELECT id, published_at IS NOT NULL AS published FROM outbox_events ORDER BY id",
    )
    .load(&mut conn)
    .unwrap()
}

/// The service's metrics text.
fn metrics(shop: &Fixture) -> String {
    let mut response = shop.agent.get(&shop.url("/metrics")).call().unwrap();
    response.body_mut().read_to_string().unwrap()
}

#[test]
fn events_arrive_signed_in_order_and_only_a_2xx_marks_them_published() {
    let receiver = Receiver::start(true);
    let shop = shop_publishing_to(&receiver.url);
    for key in ["o-1", "o-2", "o-3"] {
        place_order(&shop, key);
    }
    let written: Vec<i64> = events(&shop.db).iter().map(|e| e.id).collect();
    assert_eq!(written.len(), 3, "one order.placed per order");

    // A receiver answering 500 gets the batch again and again (growing while the
    // orders came in); nothing is marked.
    eventually("the failing receiver got the whole batch twice", || {
        let whole = receiver.deliveries();
        whole.iter().filter(|d| d.ids() == written).count() >= 2
    });
    let failed = receiver.deliveries();
    assert!(failed.iter().all(|d| d.answered == 500));
    for delivery in &failed {
        let ids = delivery.ids();
        assert!(
            !ids.is_empty() && written.starts_with(&ids),
            "oldest first, from the oldest unpublished: {ids:?} of {written:?}"
        );
    }
    assert!(
        events(&shop.db).iter().all(|e| !e.published),
        "nothing is marked published before a 2xx"
    );
    let text = metrics(&shop);
    let failures = sample(&text, "outbox_failures_total").unwrap_or(0.0);
    assert!(
        failures >= 2.0,
        "each failed delivery is counted: {failures}"
    );
    assert_eq!(sample(&text, "outbox_events_published_total"), Some(0.0));
    assert!(
        sample(&text, "outbox_lag_seconds").unwrap_or(0.0) > 0.0,
        "the lag shows events waiting"
    );

    // It recovers: the batch arrives once more and is marked.
    receiver.fail(false);
    eventually("every event is marked published", || {
        events(&shop.db).iter().all(|e| e.published)
    });
    let deliveries = receiver.deliveries();
    let acknowledged: Vec<&Delivery> = deliveries.iter().filter(|d| d.answered == 200).collect();
    assert_eq!(acknowledged.len(), 1, "{deliveries:?}");
    assert_eq!(acknowledged[0].ids(), written, "nothing lost, in order");

    // Every delivery verifies as the shop verifies its own webhooks, and only under
    // the shared secret.
    let verifier = WebhookVerifier::new(vec![outbox_secret()]).unwrap();
    let stranger = WebhookVerifier::new(vec![
        WebhookSecret::parse("whsec_someone-else-0123").unwrap(),
    ])
    .unwrap();
    for delivery in &deliveries {
        verifier
            .verify(&delivery.signature, &delivery.body, Utc::now())
            .unwrap_or_else(|e| panic!("{e}: {}", delivery.signature));
        assert!(
            stranger
                .verify(&delivery.signature, &delivery.body, Utc::now())
                .is_err()
        );
    }
    let body: Value = serde_json::from_slice(&acknowledged[0].body).unwrap();
    for event in body["events"].as_array().unwrap() {
        assert_eq!(event["type"], "order.placed");
        assert_eq!(event["aggregate_type"], "order");
        assert_eq!(event["payload"]["order_id"], event["aggregate_id"]);
        assert!(event["created_at"].is_string());
    }

    let text = metrics(&shop);
    assert_eq!(sample(&text, "outbox_events_published_total"), Some(3.0));
    eventually("the lag is back to zero", || {
        sample(&metrics(&shop), "outbox_lag_seconds") == Some(0.0)
    });
}

#[test]
fn a_receiver_that_is_down_stops_nothing_and_gets_every_event_once_it_is_up() {
    // A port nobody listens on, until the receiver comes up on it.
    let addr: SocketAddr = TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap();
    let shop = shop_publishing_to(&format!("http://{addr}/events"));
    place_order(&shop, "down-1");
    eventually("a delivery failed", || {
        sample(&metrics(&shop), "outbox_failures_total").unwrap_or(0.0) >= 2.0
    });
    // The service goes on serving while its publisher backs off.
    place_order(&shop, "down-2");
    let (status, _) = shop.call("GET", "/health/ready", None, None);
    assert_eq!(status, 204);
    let waiting = events(&shop.db);
    assert_eq!(waiting.len(), 2);
    assert!(waiting.iter().all(|e| !e.published));

    let receiver = Receiver::start_on(TcpListener::bind(addr).unwrap(), false);
    eventually("every event is marked published", || {
        events(&shop.db).iter().all(|e| e.published)
    });
    let delivered: Vec<i64> = receiver
        .deliveries()
        .iter()
        .filter(|d| d.answered == 200)
        .flat_map(Delivery::ids)
        .collect();
    let written: Vec<i64> = waiting.iter().map(|e| e.id).collect();
    assert_eq!(delivered, written);
}

#[test]
fn sigterm_stops_the_service_while_a_delivery_hangs_and_the_batch_waits() {
    let db = TestDb::new();
    let store = store_on(db.pool().clone());
    let category = store
        .create_category(NewCategory {
            parent_id: None,
            slug: Slug::parse("tea").unwrap(),
            name: CategoryName::parse("Tea").unwrap(),
        })
        .unwrap();
    let product = store
        .create_product(NewProduct::single(
            Slug::parse("sencha").unwrap(),
            ProductName::parse("Sencha").unwrap(),
            category.id,
            Sku::parse("SENCHA").unwrap(),
            Money::parse("8.50", Currency::EUR).unwrap(),
            5,
        ))
        .unwrap();
    let guest = store.start_guest_session().unwrap().token;
    let cart = store.my_cart(&guest, Currency::EUR).unwrap();
    store
        .add_to_cart(
            &guest,
            cart.reference,
            product.variants[0].id,
            Quantity::new(1).unwrap(),
        )
        .unwrap();
    let address = PostalAddress::parse(&RawAddress {
        recipient: "Ada Lovelace".into(),
        line1: "12 St James's Square".into(),
        city: "London".into(),
        postal_code: "SW1Y 4JH".into(),
        country: "GB".into(),
        ..RawAddress::default()
    })
    .unwrap();
    store
        .place_order(
            &guest,
            &PlaceOrder {
                cart: cart.reference,
                shipping: AddressChoice::Given(address.clone()),
                billing: AddressChoice::Given(address),
                guest_email: Some(Email::parse("ada@example.com").unwrap()),
                provider: ProviderName::parse("test").unwrap(),
                shipping_method: None,
                coupon_codes: vec![],
                gift_cards: vec![],
                idempotency_key: IdempotencyKey::parse("sigterm-1").unwrap(),
            },
        )
        .unwrap();

    // A receiver that takes the connection and never answers.
    let hanging = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let addr = hanging.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hanging.incoming().map_while(Result::ok) {
            held.push(stream);
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });

    let timeout = Duration::from_secs(3);
    let mut command = shop_service(&[], db.url(), None);
    command
        .env("OUTBOX_WEBHOOK_URL", format!("http://{addr}/events"))
        .env("OUTBOX_WEBHOOK_SECRET", OUTBOX_SECRET)
        .env("OUTBOX_WEBHOOK_TIMEOUT_MS", timeout.as_millis().to_string());
    let Start::Serving(mut service) = util::start(command) else {
        panic!("the service did not start")
    };
    eventually("a delivery is in flight", || {
        accepted.load(Ordering::SeqCst) >= 1
    });

    let told = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &service.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let exited = loop {
        if let Some(status) = service.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            told.elapsed() < timeout + Duration::from_secs(20),
            "still running {:?} after SIGTERM",
            told.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exited.success(), "a clean stop: {exited:?}");
    // Its stderr is closed now; the lines it wrote are all there.
    let log: Vec<String> = service.log.iter().collect();
    assert!(log.iter().any(|line| line.contains("stopping")), "{log:#?}");

    // The delivery was never acknowledged: its event waits for the next start.
    assert_eq!(store.outbox_backlog().unwrap(), 1);
}

#[test]
fn an_outbox_url_without_a_secret_refuses_to_start() {
    let db = TestDb::new();
    let mut command = shop_service(&[], db.url(), None);
    command
        .env("OUTBOX_WEBHOOK_URL", "http://127.0.0.1:9/events")
        .env_remove("OUTBOX_WEBHOOK_SECRET");
    match util::start(command) {
        Start::Refused(log) => assert!(log.contains("OUTBOX_WEBHOOK_SECRET"), "{log}"),
        Start::Serving(_) => panic!("served with an unsigned outbox webhook"),
    }
}
