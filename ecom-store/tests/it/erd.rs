//! The ER diagram in docs/schema.md is the one the migrations produce.

use ecom_store::erd;
use ecom_store::testing::TestDb;

#[test]
fn readme_er_diagram_matches_the_migrated_schema() {
    let db = TestDb::new();
    let generated = erd::mermaid(&mut db.connect()).unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/schema.md")).unwrap();
    let committed = erd::embedded(&readme).expect("docs/schema.md has er-diagram markers");
    assert!(
        committed == generated,
        "docs/schema.md's ER diagram is stale: run `cargo run -p ecom-store --features dev --bin ecom-erd -- --write`\n\
         --- generated ---\n{generated}"
    );
    for table in [
        "orders",
        "payments",
        "products",
        "product_variants",
        "users",
        "outbox_events",
    ] {
        assert!(
            generated.contains(&format!("    {table} {{")),
            "{table} is missing"
        );
    }
    assert!(generated.contains("orders ||--o{ order_lines"));
    assert!(generated.contains("products ||--o{ product_variants"));
}

#[test]
fn markers_are_found_and_replaced() {
    let doc = format!("a\n{}\nold\n{}\nb\n", erd::BEGIN_MARKER, erd::END_MARKER);
    assert_eq!(erd::embedded(&doc), Some("old\n"));
    let new = erd::replace_embedded(&doc, "new\n").unwrap();
    assert_eq!(erd::embedded(&new), Some("new\n"));
    assert!(new.starts_with("a\n") && new.ends_with("b\n"));
    assert_eq!(erd::embedded("no markers"), None);
}
