//! The OpenAPI document: served, checked in, and true to the router. A route added
//! without its `#[utoipa::path]`, a route removed with its entry left behind, or a
//! change to a request or response type not regenerated into `docs/openapi.json`
//! fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use ecom_examples::service::openapi::openapi_json;
use ecom_examples::service::registered_routes;
use serde_json::Value;

use super::fixture;

/// The checked-in copy.
fn checked_in_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

/// The document the code generates, parsed.
fn document() -> Value {
    serde_json::from_str(&openapi_json()).expect("the document is JSON")
}

/// `(method, path)` of every operation in `doc`.
fn operations(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut found = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            found.insert((method.clone(), path.clone()), operation.clone());
        }
    }
    found
}

#[test]
fn the_served_document_is_the_checked_in_one() {
    let shop = fixture();
    let mut response = shop.agent.get(&shop.url("/openapi.json")).call().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let served = response.body_mut().read_to_string().unwrap();
    assert_eq!(
        served,
        openapi_json(),
        "the service serves what the code generates"
    );

    let parsed: Value = serde_json::from_str(&served).unwrap();
    let version = parsed["openapi"].as_str().unwrap_or_default();
    assert!(
        version.starts_with("3.1."),
        "an OpenAPI 3.1 document: {version}"
    );

    let path = checked_in_path();
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &served).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != served {
        let first = checked_in
            .lines()
            .zip(served.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| checked_in.lines().count().min(served.lines().count()));
        panic!(
            "docs/openapi.json differs from the document the code generates (first at line \
             {}). Regenerate it with\n  \
             cargo run -p ecom-examples --bin shop-service -- openapi > docs/openapi.json\n\
             or\n  UPDATE_OPENAPI=1 cargo nextest run -p ecom-examples openapi\n\
             and commit it with the change that made it differ.",
            first + 1
        );
    }
}

#[test]
fn every_route_of_the_router_is_in_the_document_and_nothing_else() {
    let registered = registered_routes();
    let routes: BTreeSet<(String, String)> = registered.iter().cloned().collect();
    assert_eq!(routes.len(), registered.len(), "a route registered twice");
    let documented: BTreeSet<(String, String)> = operations(&document()).into_keys().collect();
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes without an entry in the OpenAPI document (add #[utoipa::path] to the \
         handler and list it in service/openapi.rs): {undocumented:?}"
    );
    let stale: Vec<_> = documented.difference(&routes).collect();
    assert!(
        stale.is_empty(),
        "documented routes the router does not serve: {stale:?}"
    );
    // Every part of the service is there.
    for path in [
        "/products/search",
        "/sessions/guest",
        "/carts/{id}",
        "/checkout",
        "/webhooks/payments",
        "/admin/orders",
        "/health/ready",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(
            documented.iter().any(|(_, p)| p == path),
            "{path} is documented"
        );
    }
}

/// Every `$ref` in `value`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => refs(v, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

#[test]
fn every_operation_says_who_may_call_it_and_how_it_fails() {
    let doc = document();
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    assert_eq!(schemes["session"]["scheme"], "bearer");
    assert_eq!(schemes["admin"]["scheme"], "bearer");

    for ((method, path), operation) in operations(&doc) {
        let what = format!("{method} {path}");
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{what}: a success answer"
        );
        assert!(operation["summary"].is_string(), "{what}: a summary");
        assert!(operation["tags"].is_array(), "{what}: a tag");
        let security: Vec<String> = operation["security"]
            .as_array()
            .map(|reqs| {
                reqs.iter()
                    .filter_map(Value::as_object)
                    .flat_map(|req| req.keys().cloned())
                    .collect()
            })
            .unwrap_or_default();
        for scheme in &security {
            assert!(
                schemes.contains_key(scheme),
                "{what}: unknown scheme {scheme}"
            );
        }
        let admin = path.starts_with("/admin/");
        assert_eq!(
            security == ["admin"],
            admin,
            "{what}: the back office, and only it, takes the admin token"
        );
        if !security.is_empty() {
            assert!(responses.contains_key("401"), "{what}: 401 documented");
            assert!(responses.contains_key("503"), "{what}: 503 documented");
        }
        if operation.get("requestBody").is_some() {
            // 415 only where the body is read as JSON; a webhook's is read raw.
            for status in ["413", "422"] {
                assert!(
                    responses.contains_key(status),
                    "{what}: {status} documented"
                );
            }
        }
    }

    // What the limits refuse carries Retry-After.
    for name in ["RateLimited", "Unavailable"] {
        let response = &doc["components"]["responses"][name];
        assert!(
            response["headers"]["Retry-After"].is_object(),
            "{name}: {response}"
        );
    }

    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let pointer = target.strip_prefix('#').unwrap_or(&target);
        assert!(doc.pointer(pointer).is_some(), "{target} refers to nothing");
    }
}

/// `path` with each `{param}` replaced by a value of its kind.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{id}" if path.starts_with("/carts") || path.starts_with("/orders") => {
                "0b7d3f5e-6c1a-4f2e-9a55-3c8e1d2b4a60"
            }
            s if s.starts_with('{') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn every_documented_route_is_served_and_answers_a_documented_status() {
    let shop = fixture();
    for ((method, path), operation) in operations(&document()) {
        let url = shop.url(&concrete(&path));
        // No credentials: what an anonymous client gets, which must be documented.
        let request = match method.as_str() {
            "get" => shop.agent.get(&url).call(),
            "delete" => shop.agent.delete(&url).call(),
            "post" => shop
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send("{}"),
            "put" => shop
                .agent
                .put(&url)
                .header("Content-Type", "application/json")
                .send("{}"),
            other => panic!("{other} {path}: a method the test does not send"),
        };
        let mut response = request.unwrap();
        let status = response.status().as_u16().to_string();
        let body = response.body_mut().read_to_string().unwrap();
        let code = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_owned));
        assert!(
            !matches!(code.as_deref(), Some("no_route" | "method_not_allowed")),
            "{method} {path}: not served ({status} {body})"
        );
        assert!(
            operation["responses"].get(&status).is_some(),
            "{method} {path} answered {status}, which its entry does not list: {body}"
        );
    }
}
