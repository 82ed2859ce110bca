//! The payment provider's side of `POST /webhooks/payments`, for tests, the load
//! program and local runs: it signs its reports as a real provider does, with a
//! secret it shares with the shop. A shop never takes a payment outcome from its
//! customers; only what arrives signed here moves a payment.

use chrono::{DateTime, Utc};
use ecom_domain::webhook::WebhookSecret;
use serde_json::{Value, json};

/// The header that carries a report's signature (`t=...,v1=...`).
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// A provider that reports to one shop over HTTP.
pub struct TestProvider {
    url: String,
    secret: WebhookSecret,
    agent: ureq::Agent,
    next_event: std::sync::atomic::AtomicU64,
    prefix: String,
}

/// The shop's answer to a report.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
}

impl TestProvider {
    /// A provider reporting to the service at `base_url`, signing with `secret`;
    /// its event ids begin with `prefix` (one per run keeps runs apart).
    pub fn new(base_url: &str, secret: WebhookSecret, prefix: &str) -> Self {
        Self {
            url: format!("{base_url}/webhooks/payments"),
            secret,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
            next_event: std::sync::atomic::AtomicU64::new(1),
            prefix: prefix.to_owned(),
        }
    }

    /// A new event id.
    pub fn event_id(&self) -> String {
        let n = self
            .next_event
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("evt_{}_{n}", self.prefix)
    }

    /// Reports that `amount` of `payment` was authorized.
    pub fn authorize(&self, payment: i64, amount: &str) -> Result<Answer, ureq::Error> {
        self.report(
            &self.event_id(),
            payment,
            json!({ "type": "authorize", "amount": amount }),
        )
    }

    /// Reports that `amount` of `payment` was captured.
    pub fn capture(&self, payment: i64, amount: &str) -> Result<Answer, ureq::Error> {
        self.report(
            &self.event_id(),
            payment,
            json!({ "type": "capture", "amount": amount }),
        )
    }

    /// Sends report `event` (its `type`, `amount`...) about `payment` as event `id`,
    /// signed now.
    pub fn report(&self, id: &str, payment: i64, event: Value) -> Result<Answer, ureq::Error> {
        let mut body = json!({ "id": id, "payment_id": payment });
        if let (Some(body), Some(event)) = (body.as_object_mut(), event.as_object()) {
            body.extend(event.clone());
        }
        self.send(body.to_string().as_bytes(), &self.secret, Utc::now())
    }

    /// Sends `body` signed with `secret` at `at`: for tests of forged, stale and
    /// rotated signatures.
    pub fn send(
        &self,
        body: &[u8],
        secret: &WebhookSecret,
        at: DateTime<Utc>,
    ) -> Result<Answer, ureq::Error> {
        let signature = secret.sign(body, at);
        self.send_with(body, Some(&signature))
    }

    /// Sends `body` with the signature header `signature`, or none.
    pub fn send_with(&self, body: &[u8], signature: Option<&str>) -> Result<Answer, ureq::Error> {
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json");
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        let mut response = request.send(body)?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string()?;
        Ok(Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        })
    }
}
