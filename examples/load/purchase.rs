//! One guest's purchase over HTTP, as a shop's front end would make it.

use std::cell::RefCell;
use std::error::Error;
use std::time::{Duration, Instant};

use ecom_examples::service::TestProvider;
use serde_json::{Value, json};

/// Which purchase each guest makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Start a guest session with its cart, add two items, check out, the provider's
    /// signed authorize and capture webhooks, read the order: seven requests.
    Full,
    /// The purchase the first version of the service measured, with what security
    /// adds to it: a guest session with its cart, one item, checkout, authorize and
    /// capture (signed), five requests as then.
    Basic,
}

impl Flow {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Flow::Full => "full",
            Flow::Basic => "basic",
        }
    }

    /// The products one purchase puts in its cart.
    pub(crate) fn items(self) -> usize {
        match self {
            Flow::Full => 2,
            Flow::Basic => 1,
        }
    }
}

/// What one guest needs to buy: the service, its HTTP client and the provider that
/// reports the guest's payments.
pub(crate) struct Buyer<'a> {
    pub(crate) agent: ureq::Agent,
    pub(crate) provider: TestProvider,
    pub(crate) base: &'a str,
    /// Time spent in each step, summed over this buyer's purchases.
    pub(crate) steps: RefCell<Steps>,
}

/// Total time and count per step of a purchase, in the order the steps first ran.
#[derive(Debug, Default)]
pub(crate) struct Steps(pub(crate) Vec<(&'static str, Duration, u32)>);

impl Steps {
    fn add(&mut self, step: &'static str, took: Duration) {
        self.add_many(step, took, 1);
    }

    fn add_many(&mut self, step: &'static str, took: Duration, times: u32) {
        match self.0.iter_mut().find(|(name, ..)| *name == step) {
            Some((_, total, count)) => {
                *total += took;
                *count += times;
            }
            None => self.0.push((step, took, times)),
        }
    }

    /// Adds `other`'s times to these.
    pub(crate) fn merge(&mut self, other: Steps) {
        for (step, total, count) in other.0 {
            self.add_many(step, total, count);
        }
    }
}

impl Buyer<'_> {
    /// A purchase of one unit of each of `products`, checked out with `key`; an error
    /// names the step that failed and what the service answered.
    pub(crate) fn purchase(&self, flow: Flow, key: &str, products: &[i64]) -> Result<(), String> {
        self.steps(flow, key, products).map_err(|e| e.to_string())
    }

    fn steps(&self, flow: Flow, key: &str, products: &[i64]) -> Result<(), Box<dyn Error>> {
        let base = self.base;
        // A guest's first request starts its session and opens its cart.
        let started = self.post(
            "guest cart",
            &format!("{base}/sessions/guest/cart"),
            None,
            None,
            json!({}),
        )?;
        let token = started["session"]["token"]
            .as_str()
            .ok_or("no session token")?;
        let cart = started["cart"]["id"].as_str().ok_or("no cart reference")?;
        for product in products {
            self.post(
                "add item",
                &format!("{base}/carts/{cart}/items"),
                Some(token),
                None,
                json!({ "variant_id": product, "quantity": 1 }),
            )?;
        }
        let order = self.post(
            "checkout",
            &format!("{base}/checkout"),
            Some(token),
            Some(key),
            json!({
                "cart": cart,
                "email": "load@example.com",
                "shipping": { "recipient": "Load Tester", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE" },
            }),
        )?;
        let payment = order["payments"][0]["id"].as_i64().ok_or("no payment id")?;
        let amount = order["totals"]["grand_total"]["amount"]
            .as_str()
            .ok_or("no total")?
            .to_owned();
        let started = Instant::now();
        let answer = self.provider.authorize(payment, &amount)?;
        self.steps.borrow_mut().add("authorize", started.elapsed());
        if answer.status != 200 {
            return Err(format!("authorize: {} {}", answer.status, answer.body).into());
        }
        let started = Instant::now();
        let paid = self.provider.capture(payment, &amount)?;
        self.steps.borrow_mut().add("capture", started.elapsed());
        if paid.status != 200 || paid.body["order_status"] != "paid" {
            return Err(format!("capture: {} {}", paid.status, paid.body).into());
        }
        if flow == Flow::Full {
            let reference = order["id"].as_str().ok_or("no order reference")?;
            let read = self.get("read order", &format!("{base}/orders/{reference}"), token)?;
            if read["status"] != "paid" {
                return Err(format!("read order: not paid: {read}").into());
            }
        }
        Ok(())
    }

    fn post(
        &self,
        step: &'static str,
        url: &str,
        session: Option<&str>,
        key: Option<&str>,
        body: Value,
    ) -> Result<Value, Box<dyn Error>> {
        let mut request = self.agent.post(url);
        if let Some(session) = session {
            request = request.header("Authorization", &format!("Bearer {session}"));
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let started = Instant::now();
        let mut response = request
            .send_json(body)
            .map_err(|e| format!("{step}: {e}"))?;
        let answer = answer(step, response.status().as_u16(), response.body_mut());
        self.steps.borrow_mut().add(step, started.elapsed());
        answer
    }

    fn get(&self, step: &'static str, url: &str, session: &str) -> Result<Value, Box<dyn Error>> {
        let started = Instant::now();
        let mut response = self
            .agent
            .get(url)
            .header("Authorization", &format!("Bearer {session}"))
            .call()
            .map_err(|e| format!("{step}: {e}"))?;
        let answer = answer(step, response.status().as_u16(), response.body_mut());
        self.steps.borrow_mut().add(step, started.elapsed());
        answer
    }
}

/// The JSON body of a 2xx answer; any other status is the step's error, with the body.
fn answer(step: &str, status: u16, body: &mut ureq::Body) -> Result<Value, Box<dyn Error>> {
    let text = body.read_to_string().map_err(|e| format!("{step}: {e}"))?;
    if !(200..300).contains(&status) {
        return Err(format!("{step}: {status} {text}").into());
    }
    Ok(serde_json::from_str(&text).map_err(|e| format!("{step}: {e}: {text}"))?)
}
