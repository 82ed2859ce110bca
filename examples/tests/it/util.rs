//! What every test here shares: a store with cheap password hashes, on a database of
//! the test's own, and `shop-service` run as a process.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ecom_domain::prelude::*;
use ecom_domain::rules::StoreRules;
use ecom_store::testing::TestDb;
use ecom_store::{PgPool, PgStore, StoreConfig, build_pool};

/// The flows put this in their names; any number will do on a fresh database.
pub const RUN: i64 = 1;

/// A store on `pool` whose password hashes cost next to nothing: registration is not
/// what these tests are about.
pub fn store_on(pool: PgPool) -> PgStore {
    let cheap = HashCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    PgStore::with_rules(
        pool,
        StoreRules {
            hash_cost: cheap,
            ..StoreRules::default()
        },
    )
}

/// A store on `db` with a pool of `connections`, for flows that need more than
/// [`TestDb::pool`]'s few.
pub fn store_with_pool(db: &TestDb, connections: u32) -> PgStore {
    let pool = build_pool(&StoreConfig {
        pool_max_size: connections,
        pool_min_idle: 0,
        ..StoreConfig::new(db.url())
    })
    .expect("a pool on the test database");
    store_on(pool)
}

/// `amount` euros, from a literal such as `"53.88"`.
pub fn eur(amount: &str) -> Money {
    Money::parse(amount, Currency::EUR).expect("a valid amount")
}

/// `shop-service` with `args`, connecting as `database_url` and migrating as
/// `migration_url` (unset when `None`), nothing else from the environment's database
/// settings.
pub fn shop_service(args: &[&str], database_url: &str, migration_url: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shop-service"));
    command
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("DATABASE_MIGRATION_URL")
        .env_remove("DATABASE_READ_URLS")
        .env_remove("OUTBOX_WEBHOOK_URL")
        .stdin(Stdio::null());
    if let Some(url) = migration_url {
        command.env("DATABASE_MIGRATION_URL", url);
    }
    command
}

/// A service process that is killed when the test ends, however it ends.
pub struct Running {
    /// The process.
    pub child: Child,
    /// `http://ADDR` it listens on.
    pub base: String,
    /// Its log lines after the one that says it listens.
    pub log: mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `shop-service` did when started.
pub enum Start {
    /// It listens.
    Serving(Running),
    /// It exited first, with this log.
    Refused(String),
}

/// What shop-service logs once it listens; its address follows.
const LISTENING: &str = "listening on http://";

/// `http://ADDR` from the line that says the service listens on ADDR.
fn listening_url(line: &str) -> String {
    let rest = &line[line.find(LISTENING).map_or(0, |at| at + LISTENING.len())..];
    let addr: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    let addr: std::net::SocketAddr = addr
        .parse()
        .unwrap_or_else(|err| panic!("no address in {line:?}: {err}"));
    assert_ne!(addr.port(), 0, "{line}");
    format!("http://{addr}")
}

/// Starts `command` (a [`shop_service`]) on a free port and waits until it listens
/// or exits. It binds port 0 and logs the port it got: no port is found free here
/// and then raced for.
pub fn start(mut command: Command) -> Start {
    let mut child = command
        .env("PORT", "0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        // Drained for the child's whole life, even once nobody reads the lines: a
        // closed pipe would fail the service's next log line (tracing-subscriber
        // then reports the failure with eprintln!, which panics on a broken pipe).
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut log = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains(LISTENING) => {
                let base = listening_url(&line);
                return Start::Serving(Running {
                    child,
                    base,
                    log: lines,
                });
            }
            Ok(line) => log.push(line),
            // Its stderr closed: it exited.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().unwrap();
                assert!(!status.success(), "exited without serving: {log:?}");
                return Start::Refused(log.join("\n"));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "shop-service neither served nor exited:\n{}",
                    log.join("\n")
                )
            }
        }
    }
}
