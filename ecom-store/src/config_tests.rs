use super::*;

fn config(vars: &[(&str, &str)]) -> Result<StoreConfig, StoreError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    StoreConfig::from_lookup(|key| vars.get(key).cloned())
}

#[test]
fn debug_output_never_shows_the_password() {
    let config = StoreConfig::new("postgres://shop:hunter2@db.internal:5432/shop?password=hunter2");
    let debug = format!("{config:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(
        debug.contains("postgres://shop:***@db.internal:5432/shop?password=***"),
        "{debug}"
    );
}

#[test]
fn migrations_use_their_own_url_when_given_one() {
    let app = "postgres://app:apppw@db/shop";
    let owner = "postgres://owner:ownerpw@db/shop";
    let both = config(&[("DATABASE_URL", app), ("DATABASE_MIGRATION_URL", owner)]).unwrap();
    assert_eq!(both.database_url, app);
    assert_eq!(both.url_for_migrations(), owner);
    let debug = format!("{both:?}");
    assert!(
        !debug.contains("ownerpw") && !debug.contains("apppw"),
        "{debug}"
    );
    assert!(debug.contains("postgres://owner:***@db/shop"), "{debug}");
    // One role for both: the migrations use DATABASE_URL.
    let one = config(&[("DATABASE_URL", app), ("DATABASE_MIGRATION_URL", " ")]).unwrap();
    assert_eq!(one.migration_url, None);
    assert_eq!(one.url_for_migrations(), app);
}

#[test]
fn redaction_keeps_urls_without_password_readable() {
    assert_eq!(
        redact_url("postgres://ecom@127.0.0.1:5/db"),
        "postgres://ecom@127.0.0.1:5/db"
    );
    assert_eq!(
        redact_url("postgres://u:p%40ss@h/db"),
        "postgres://u:***@h/db"
    );
    assert_eq!(redact_url("host=h password=secret"), "<redacted>");
}

#[test]
fn environment_values_override_defaults() {
    let config = config(&[
        ("DATABASE_URL", "postgres://u@h/db"),
        ("ECOM_POOL_SIZE", "3"),
        ("ECOM_POOL_MIN_IDLE", "7"),
        ("ECOM_POOL_TIMEOUT_MS", "250"),
        ("ECOM_STATEMENT_TIMEOUT_MS", "0"),
        ("ECOM_IDLE_IN_TRANSACTION_TIMEOUT_MS", "1500"),
        ("ECOM_APPLICATION_NAME", "ecom-api"),
    ])
    .unwrap();
    assert_eq!(config.pool_max_size, 3);
    assert_eq!(
        config.pool_min_idle, 3,
        "min idle is capped at the pool size"
    );
    assert_eq!(config.connection_timeout, Duration::from_millis(250));
    assert_eq!(config.statement_timeout, Duration::ZERO);
    assert_eq!(
        config.idle_in_transaction_timeout,
        Duration::from_millis(1500)
    );
    assert_eq!(config.application_name, "ecom-api");
}

#[test]
fn transaction_pooling_is_a_switch_off_by_default() {
    let url = ("DATABASE_URL", "postgres://u@proxy/db");
    assert!(!config(&[url]).unwrap().transaction_pooling);
    assert!(
        config(&[url, ("ECOM_TRANSACTION_POOLING", "1")])
            .unwrap()
            .transaction_pooling
    );
    assert!(
        !config(&[url, ("ECOM_TRANSACTION_POOLING", "0")])
            .unwrap()
            .transaction_pooling
    );
    let err = config(&[url, ("ECOM_TRANSACTION_POOLING", "transaction")]).unwrap_err();
    assert!(
        matches!(&err, StoreError::Config { key, .. } if key == "ECOM_TRANSACTION_POOLING"),
        "{err}"
    );
}

#[test]
fn read_replicas_and_their_policy_come_from_the_environment() {
    let replicas = config(&[
        (
            "DATABASE_URL",
            "postgres://u@a:5432,b:5432/db?target_session_attrs=read-write",
        ),
        (
            "DATABASE_READ_URLS",
            " postgres://r:pw@r1/db , ,postgres://r@r2/db",
        ),
        ("ECOM_READ_MAX_LAG_MS", "1500"),
        ("ECOM_READ_WAIT_MS", "0"),
        ("ECOM_REPLICA_RETRY_MS", "250"),
        ("ECOM_REPLICA_TIMEOUT_MS", "300"),
    ])
    .unwrap();
    assert_eq!(
        replicas.read_urls,
        ["postgres://r:pw@r1/db", "postgres://r@r2/db"]
    );
    assert_eq!(
        replicas.read_policy,
        ReadPolicy {
            max_lag: Duration::from_millis(1500),
            token_wait: Duration::ZERO,
            retry_after: Duration::from_millis(250),
            connect_timeout: Duration::from_millis(300),
        }
    );
    assert!(
        !format!("{replicas:?}").contains("pw"),
        "replica passwords are hidden"
    );
    assert_eq!(
        config(&[("DATABASE_URL", "x")]).unwrap().read_urls,
        Vec::<String>::new()
    );
    let err = config(&[("DATABASE_URL", "x"), ("ECOM_READ_MAX_LAG_MS", "soon")]).unwrap_err();
    assert!(
        matches!(&err, StoreError::Config { key, .. } if key == "ECOM_READ_MAX_LAG_MS"),
        "{err:?}"
    );
}

#[test]
fn missing_url_and_bad_numbers_are_config_errors() {
    let err = config(&[]).unwrap_err();
    assert!(matches!(&err, StoreError::Config { key, .. } if key == "DATABASE_URL"));
    let err = config(&[
        ("DATABASE_URL", "postgres://h/db"),
        ("ECOM_POOL_SIZE", "ten"),
    ])
    .unwrap_err();
    assert!(matches!(&err, StoreError::Config { key, .. } if key == "ECOM_POOL_SIZE"));
    let err = config(&[("DATABASE_URL", "postgres://h/db"), ("ECOM_POOL_SIZE", "0")]).unwrap_err();
    assert!(matches!(&err, StoreError::Config { key, .. } if key == "ECOM_POOL_SIZE"));
}

#[test]
fn env_file_syntax() {
    let vars = parse_env(
        "# comment\n\nexport DATABASE_URL=\"postgres://u:p@h/db\"\nECOM_POOL_SIZE=4 # four\nA='x # y'\n",
    )
    .unwrap();
    assert_eq!(vars["DATABASE_URL"], "postgres://u:p@h/db");
    assert_eq!(vars["ECOM_POOL_SIZE"], "4");
    assert_eq!(vars["A"], "x # y");
    assert_eq!(parse_env("NO_EQUALS\n").unwrap_err().0, 1);
    assert_eq!(parse_env("OK=1\nB=\"open\n").unwrap_err().0, 2);
}

#[test]
fn with_database_swaps_only_the_path() {
    assert_eq!(
        with_database("postgres://u:p@h:1/a", "b"),
        "postgres://u:p@h:1/b"
    );
    assert_eq!(with_database("postgres://u@h", "b"), "postgres://u@h/b");
    assert_eq!(
        with_database("postgres://h/a?x=1", "b"),
        "postgres://h/b?x=1"
    );
}
