//! What an operator sees: health probes, metrics, request ids, and a database that
//! goes away and comes back.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use ecom_examples::RunningService;
use ecom_examples::service::{App, Intervals, ServiceConfig};
use ecom_store::config::with_database;
use ecom_store::testing::TestDb;
use ecom_store::{StoreConfig, build_pool};
use serde_json::json;

use super::{fixture, shipping};
use crate::util::store_on;

/// GETs `url`: status, the `x-request-id` and `retry-after` headers, and the body.
fn get(agent: &ureq::Agent, url: &str, request_id: Option<&str>) -> (u16, Option<String>, String) {
    let mut request = agent.get(url);
    if let Some(id) = request_id {
        request = request.header("x-request-id", id);
    }
    let mut response = request.call().unwrap();
    let id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.body_mut().read_to_string().unwrap();
    (response.status().as_u16(), id, body)
}

/// The value of the sample `name{labels}` in a metrics text, if present.
pub(super) fn sample(metrics: &str, name_and_labels: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let (key, value) = line.rsplit_once(' ')?;
        (key == name_and_labels).then(|| value.parse().ok())?
    })
}

#[test]
fn probes_answer_and_every_answer_carries_a_request_id() {
    let shop = fixture();
    let (status, generated, body) = get(&shop.agent, &shop.url("/health/live"), None);
    assert_eq!((status, body.as_str()), (204, ""));
    let generated = generated.expect("a request id");
    assert_eq!(generated.len(), 36, "a UUID: {generated}");

    let (status, echoed, _) = get(&shop.agent, &shop.url("/health/ready"), Some("req-42"));
    assert_eq!(status, 204);
    assert_eq!(echoed.as_deref(), Some("req-42"), "the client's id is kept");

    // Errors carry it too.
    let (status, id, _) = get(&shop.agent, &shop.url("/nowhere"), None);
    assert_eq!(status, 404);
    assert!(id.is_some());
}

#[test]
fn metrics_count_requests_by_route_and_checkouts_by_outcome() {
    let shop = fixture();
    let cart = shop.guest_cart();
    for _ in 0..3 {
        assert_eq!(
            shop.call("GET", &format!("/carts/{cart}"), None, None).0,
            200
        );
    }
    assert_eq!(shop.call("GET", "/carts/999999", None, None).0, 404);
    let (status, _) = shop.post(
        &format!("/carts/{cart}/items"),
        None,
        json!({ "variant_id": shop.variants[0], "quantity": 1 }),
    );
    assert_eq!(status, 200);
    let checkout = json!({ "cart": cart, "shipping": shipping(), "email": "ada@example.com" });
    assert_eq!(shop.post("/checkout", Some("k-1"), checkout.clone()).0, 201);
    assert_eq!(shop.post("/checkout", Some("k-1"), checkout).0, 200);

    let (status, _, text) = get(&shop.agent, &shop.url("/metrics"), None);
    assert_eq!(status, 200);
    let count = |labels: &str| sample(&text, &format!("http_requests_total{{{labels}}}"));
    // By route template, never by raw path: ids would make every cart a new series.
    assert_eq!(
        count(r#"method="GET",route="/carts/{id}",status="200""#),
        Some(3.0)
    );
    assert_eq!(
        count(r#"method="GET",route="/carts/{id}",status="404""#),
        Some(1.0)
    );
    assert!(
        !text.contains("/carts/999999"),
        "no raw path in the metrics"
    );
    let outcome = |o: &str| {
        sample(
            &text,
            &format!("checkout_outcomes_total{{outcome=\"{o}\"}}"),
        )
    };
    assert_eq!(outcome("created"), Some(1.0));
    assert_eq!(outcome("replayed"), Some(1.0));
    assert_eq!(
        sample(
            &text,
            r#"http_request_duration_seconds_count{method="GET",route="/carts/{id}"}"#
        ),
        Some(4.0)
    );
    let idle = sample(&text, r#"db_pool_connections{state="idle"}"#).expect("pool gauge");
    let in_use = sample(&text, r#"db_pool_connections{state="in_use"}"#).expect("pool gauge");
    assert!(idle >= 1.0 && in_use >= 0.0, "idle {idle}, in use {in_use}");
    assert!(text.ends_with("# EOF\n"), "OpenMetrics text ends with EOF");
}

#[test]
fn a_database_that_goes_away_answers_503_and_comes_back_without_a_restart() {
    let db = TestDb::new();
    let pool = build_pool(&StoreConfig {
        pool_max_size: 4,
        pool_min_idle: 0,
        connection_timeout: Duration::from_millis(500),
        ..StoreConfig::new(db.url())
    })
    .unwrap();
    let store = store_on(pool);
    let config = ServiceConfig::for_store(&store);
    let service =
        RunningService::start_with(App::new(store, config), Intervals::default()).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let ready = service.base_url() + "/health/ready";
    assert_eq!(get(&agent, &ready, None).0, 204);

    // The database stops taking connections and ends the service's sessions (from
    // another database: none can turn away connections to itself).
    let mut owner = PgConnection::establish(&with_database(db.owner_url(), "postgres")).unwrap();
    let name = db.name().to_owned();
    diesel::sql_query(format!(
        "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false"
    ))
    .execute(&mut owner)
    .unwrap();
    diesel::sql_query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(&name)
        .execute(&mut owner)
        .unwrap();
    let (status, _, body) = get(&agent, &ready, None);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"unavailable\""), "{body}");
    let mut response = agent
        .post(&(service.base_url() + "/sessions/guest"))
        .send("")
        .unwrap();
    let body = response.body_mut().read_to_string().unwrap();
    assert_eq!(response.status().as_u16(), 503, "a store call, too: {body}");

    diesel::sql_query(format!(
        "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS true"
    ))
    .execute(&mut owner)
    .unwrap();
    // The pool opens new connections on its own; no restart.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, _, body) = get(&agent, &ready, None);
        if status == 204 {
            break;
        }
        assert!(Instant::now() < deadline, "still {status}: {body}");
        std::thread::yield_now();
    }
}
