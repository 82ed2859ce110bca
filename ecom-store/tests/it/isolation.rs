use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use ecom_store::testing::TestDb;

use crate::util::setup;

fn count_categories(conn: &mut PgConnection) -> i64 {
    diesel::select(sql::<BigInt>("(SELECT count(*) FROM categories)"))
        .get_result(conn)
        .unwrap()
}

fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    diesel::select(
        sql::<Bool>("EXISTS (SELECT 1 FROM pg_database WHERE datname = ")
            .bind::<Text, _>(name.to_owned())
            .sql(")"),
    )
    .get_result(conn)
    .unwrap()
}

#[test]
fn test_databases_are_migrated_and_do_not_share_rows() {
    let one = TestDb::new();
    let two = TestDb::new();
    assert_ne!(one.name(), two.name());

    let mut conn_one = one.pool().get().unwrap();
    let mut conn_two = two.pool().get().unwrap();
    setup(
        &mut conn_one,
        "INSERT INTO categories (slug, name) VALUES ('tea', 'Tea')",
    );
    assert_eq!(count_categories(&mut conn_one), 1);
    assert_eq!(
        count_categories(&mut conn_two),
        0,
        "rows stay in their own database"
    );

    let versions = ecom_store::migrate::applied_versions(&mut two.connect()).unwrap();
    assert_eq!(
        versions.len(),
        diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(
            &ecom_store::migrate::MIGRATIONS
        )
        .unwrap()
        .len(),
        "cloned from a fully migrated template: {versions:?}"
    );

    let name = one.name().to_owned();
    drop(conn_one);
    drop(one);
    assert!(
        !database_exists(&mut conn_two, &name),
        "dropped with its TestDb"
    );
}
