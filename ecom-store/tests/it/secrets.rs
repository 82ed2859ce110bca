//! Secrets never leak: a whole flow with known secrets, logged at the most verbose
//! level, and every log line and error text searched for them.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ecom_domain::prelude::*;
use ecom_domain::rules::StoreRules;
use ecom_store::config::with_password;
use ecom_store::testing::TestDb;
use ecom_store::{PasswordSource, PgStore, StoreConfig, build_pool, build_pool_with, get_conn};

use crate::util::{event, guest_owner, request};

const PASSWORD: &str = "Correct-Horse-Secret-9431";
const NEW_PASSWORD: &str = "Battery-Staple-Secret-2207";
const URL_PASSWORD: &str = "url-Secret-5521";
/// Shaped like an RDS IAM auth token: a presigned query string.
const IAM_TOKEN: &str = "db.example:5432/?Action=connect&DBUser=app&X-Amz-Signature=5ecret7f3a9c";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug)]
struct Token;

impl PasswordSource for Token {
    fn password(&self) -> Result<String, String> {
        Ok(IAM_TOKEN.into())
    }
}

#[derive(Debug)]
struct Expired;

impl PasswordSource for Expired {
    fn password(&self) -> Result<String, String> {
        Err("the credentials have expired".into())
    }
}

#[test]
fn no_secret_reaches_a_log_line_or_an_error_text() {
    let logs = Captured::default();
    let writer = logs.clone();
    // The process's subscriber, so that the pool's own threads (which open the
    // connections) log here too. No other test of this binary installs one, and
    // nextest runs each test in a process of its own.
    let installed = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init();
    assert!(
        installed.is_ok(),
        "the log capture must be the process's subscriber, or the search below \
         searches nothing: {installed:?}"
    );

    let mut texts: Vec<String> = Vec::new();
    let mut keep = |what: &dyn std::fmt::Debug, display: String| {
        texts.push(display);
        texts.push(format!("{what:?}"));
    };

    let db = TestDb::new();
    let rules = StoreRules {
        hash_cost: HashCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        ..StoreRules::default()
    };
    // A URL with a password (the private cluster trusts local users and ignores it).
    let config = StoreConfig {
        pool_max_size: 3,
        pool_min_idle: 1,
        ..StoreConfig::new(with_password(db.url(), URL_PASSWORD))
    };
    keep(&config, String::new());
    let store = PgStore::with_rules(build_pool(&config).unwrap(), rules.clone());
    keep(&store, String::new());

    let email = Email::parse("ada@example.com").unwrap();
    let user = store
        .register(NewUser {
            email: email.clone(),
            name: PersonName::parse("Ada").unwrap(),
            password: Password::new(PASSWORD).unwrap(),
        })
        .unwrap();
    keep(&user, String::new());
    let wrong = store
        .authenticate(&email, &Password::new("not-the-password").unwrap())
        .unwrap_err();
    keep(&wrong, wrong.to_string());
    store
        .authenticate(&email, &Password::new(PASSWORD).unwrap())
        .unwrap();
    store
        .change_password(
            user.id,
            &Password::new(PASSWORD).unwrap(),
            &Password::new(NEW_PASSWORD).unwrap(),
        )
        .unwrap();
    let stale = store
        .change_password(
            user.id,
            &Password::new(PASSWORD).unwrap(),
            &Password::new(NEW_PASSWORD).unwrap(),
        )
        .unwrap_err();
    keep(&stale, stale.to_string());
    let taken = store
        .register(NewUser {
            email: email.clone(),
            name: PersonName::parse("Ada").unwrap(),
            password: Password::new(PASSWORD).unwrap(),
        })
        .unwrap_err();
    keep(&taken, taken.to_string());
    let hash = store.user(user.id).unwrap().password_hash;

    // A checkout and its payment.
    let category = crate::util::category(&store, "tea");
    let product = crate::util::product(&store, category.id, "TEA-1", 3);
    let cart = store.open_cart(&guest_owner(7), Currency::EUR).unwrap();
    store
        .add_item(
            cart.id,
            crate::util::only(&product),
            Quantity::new(1).unwrap(),
        )
        .unwrap();
    let placed = store.checkout(&request(cart.id, "secret-flow")).unwrap();
    let amount = placed.order.totals.grand_total;
    store
        .record_payment_event(
            placed.payment.as_ref().unwrap().id,
            event(
                "auth",
                PaymentAction::Authorize {
                    amount,
                    provider_ref: None,
                },
            ),
        )
        .unwrap();

    // IAM-token connections: a fresh token per connection, and a failing source.
    let token_pool = build_pool_with(
        &StoreConfig {
            pool_max_size: 2,
            pool_min_idle: 1,
            ..StoreConfig::new(db.url())
        },
        Some(Arc::new(Token)),
    )
    .unwrap();
    keep(&token_pool, String::new());
    drop(get_conn(&token_pool).unwrap());
    let expired = build_pool_with(
        &StoreConfig {
            pool_max_size: 1,
            pool_min_idle: 1,
            connection_timeout: Duration::from_millis(300),
            ..StoreConfig::new(db.url())
        },
        Some(Arc::new(Expired)),
    )
    .unwrap_err();
    keep(&expired, expired.to_string());

    // A server that is not there, with a password in the URL and with a token.
    let nowhere = with_password("postgres://app@127.0.0.1:1/shop", URL_PASSWORD);
    let unreachable = build_pool(&StoreConfig {
        pool_min_idle: 1,
        connection_timeout: Duration::from_millis(300),
        ..StoreConfig::new(&nowhere)
    })
    .unwrap_err();
    keep(&unreachable, unreachable.to_string());
    let unreachable = build_pool_with(
        &StoreConfig {
            pool_min_idle: 1,
            connection_timeout: Duration::from_millis(300),
            ..StoreConfig::new("postgres://app@127.0.0.1:1/shop")
        },
        Some(Arc::new(Token)),
    )
    .unwrap_err();
    keep(&unreachable, unreachable.to_string());

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // The search below means something only if the flow was logged.
    for expected in [
        "opening a database connection",
        // The URL with the password, shown with it hidden.
        ":***@",
        "BEGIN",
        "COMMIT",
        // The taken e-mail's insert.
        "statement failed",
        "ROLLBACK",
        "could not open a database connection",
        "127.0.0.1:1/shop",
    ] {
        assert!(
            logs.contains(expected),
            "the captured log has no {expected:?}:\n{logs}"
        );
    }
    let encoded = |secret: &str| {
        let url = with_password("postgres://u@h/d", secret);
        url["postgres://u:".len()..url.len() - "@h/d".len()].to_owned()
    };
    let secrets = [
        PASSWORD.to_owned(),
        NEW_PASSWORD.to_owned(),
        URL_PASSWORD.to_owned(),
        IAM_TOKEN.to_owned(),
        encoded(IAM_TOKEN),
        "5ecret7f3a9c".to_owned(),
        hash.as_str().to_owned(),
    ];
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "the logs show {secret:?}");
        for text in &texts {
            assert!(!text.contains(secret.as_str()), "{text:?} shows {secret:?}");
        }
    }
    println!(
        "{} log lines and {} error and debug texts, no secret in any",
        logs.lines().count(),
        texts.len()
    );
}
