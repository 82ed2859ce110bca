use ecom_store::StoreConfig;

#[test]
fn config_debug_redacts_the_password() {
    let config = StoreConfig::from_lookup(|key| {
        (key == "DATABASE_URL").then(|| "postgres://shop:correct-horse@db:5432/shop".to_owned())
    })
    .unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains("correct-horse"), "{shown}");
    assert!(
        shown.contains("postgres://shop:***@db:5432/shop"),
        "{shown}"
    );
    // The URL itself is intact for connecting.
    assert_eq!(
        config.database_url,
        "postgres://shop:correct-horse@db:5432/shop"
    );
}
