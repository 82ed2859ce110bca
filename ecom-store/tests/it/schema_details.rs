//! Schema rules that are easy to get wrong in SQL, checked against the catalog.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::Text;
use ecom_store::testing::TestDb;

#[derive(QueryableByName, Debug)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

/// Each foreign key and its intended ON DELETE rule; the reasons are beside each
/// constraint in the migrations. A new foreign key fails this test until it is added
/// here, which is the point: the rule is a decision, not a default.
const ON_DELETE: &[(&str, &str)] = &[
    ("addresses_user_id_fkey", "CASCADE"),
    ("cart_lines_cart_id_fkey", "CASCADE"),
    ("cart_lines_variant_id_fkey", "RESTRICT"),
    ("carts_user_id_fkey", "CASCADE"),
    ("categories_parent_id_fkey", "RESTRICT"),
    // A collection's list goes with it; a listed product is archived, not deleted.
    ("collection_products_collection_id_fkey", "CASCADE"),
    ("collection_products_product_id_fkey", "RESTRICT"),
    // A user's memberships go with the user.
    ("customer_groups_user_id_fkey", "CASCADE"),
    // A promotion with codes is not deleted; a used code is not deleted; a
    // redemption is part of its order's history.
    ("coupon_codes_promotion_id_fkey", "RESTRICT"),
    ("coupon_redemptions_code_fkey", "RESTRICT"),
    ("coupon_redemptions_order_id_fkey", "CASCADE"),
    // A gift card's ledger is append-only: its card and payments stay.
    ("gift_card_entries_gift_card_id_fkey", "RESTRICT"),
    ("gift_card_entries_payment_id_fkey", "RESTRICT"),
    ("idempotency_keys_order_id_fkey", "CASCADE"),
    // Stock levels and their ledger are history: their locations and variants stay.
    ("inventory_levels_location_id_fkey", "RESTRICT"),
    ("inventory_levels_variant_id_fkey", "RESTRICT"),
    ("inventory_moves_level_fkey", "RESTRICT"),
    ("order_addresses_order_id_fkey", "CASCADE"),
    // Cancelled units are part of the order's record; their lines go with their
    // cancellation.
    ("order_cancellation_lines_cancellation_fkey", "CASCADE"),
    ("order_cancellation_lines_line_fkey", "RESTRICT"),
    ("order_cancellation_lines_reservation_fkey", "RESTRICT"),
    ("order_cancellations_order_id_fkey", "RESTRICT"),
    ("order_lines_order_id_fkey", "CASCADE"),
    ("order_lines_variant_id_fkey", "RESTRICT"),
    // An order's promotions go with it, and outlive the promotion as they were.
    ("order_promotions_order_id_fkey", "CASCADE"),
    ("order_promotions_promotion_id_fkey", "SET NULL"),
    // Where an order's units were reserved goes with its line; the level stays.
    ("order_reservations_level_fkey", "RESTRICT"),
    ("order_reservations_line_fkey", "CASCADE"),
    ("return_lines_line_fkey", "RESTRICT"),
    ("return_lines_return_fkey", "CASCADE"),
    ("returns_location_id_fkey", "RESTRICT"),
    ("returns_order_id_fkey", "RESTRICT"),
    ("shipment_lines_line_fkey", "RESTRICT"),
    ("shipment_lines_shipment_fkey", "CASCADE"),
    ("shipments_location_id_fkey", "RESTRICT"),
    ("shipments_order_id_fkey", "RESTRICT"),
    ("order_status_history_order_id_fkey", "CASCADE"),
    // An order's tax lines go with it.
    ("order_tax_lines_order_id_fkey", "CASCADE"),
    ("orders_cart_id_fkey", "SET NULL"),
    ("orders_user_id_fkey", "RESTRICT"),
    ("payment_events_payment_id_fkey", "RESTRICT"),
    // A card that paid for an order stays.
    ("payments_gift_card_id_fkey", "RESTRICT"),
    ("payments_order_id_fkey", "RESTRICT"),
    // A list's prices go with it; a priced variant is archived, not deleted.
    ("price_list_entries_price_list_id_fkey", "CASCADE"),
    ("price_list_entries_variant_id_fkey", "RESTRICT"),
    ("product_variants_product_id_fkey", "RESTRICT"),
    ("products_category_id_fkey", "RESTRICT"),
    // A session is transient state of its user.
    ("sessions_user_id_fkey", "CASCADE"),
    // A zone is emptied of methods before it goes; its areas go with it.
    ("shipping_methods_zone_id_fkey", "RESTRICT"),
    ("shipping_zone_areas_zone_id_fkey", "CASCADE"),
];

#[test]
fn foreign_keys_have_the_intended_on_delete_rules() {
    let db = TestDb::new();
    let actual: BTreeMap<String, String> = diesel::sql_query(
        "SELECT conname::text AS name, \
                CASE confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' \
                     WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' \
                     WHEN 'd' THEN 'SET DEFAULT' END AS on_delete \
         FROM pg_constraint \
         WHERE contype = 'f' AND connamespace = 'public'::regnamespace",
    )
    .load::<ForeignKey>(&mut db.connect())
    .unwrap()
    .into_iter()
    .map(|fk| (fk.name, fk.on_delete))
    .collect();
    let expected: BTreeMap<String, String> = ON_DELETE
        .iter()
        .map(|(name, rule)| ((*name).to_owned(), (*rule).to_owned()))
        .collect();
    assert_eq!(actual, expected);
}

#[derive(QueryableByName, Debug)]
#[allow(dead_code)] // read through Debug in the failure message
struct Unindexed {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    constraint_name: String,
}

#[test]
fn every_foreign_key_has_an_index() {
    let db = TestDb::new();
    // An index serves a foreign key when its leading columns are the key's columns
    // (in any order) and it is not partial.
    let unindexed = diesel::sql_query(
        "SELECT c.conrelid::regclass::text AS table_name, c.conname::text AS constraint_name \
         FROM pg_constraint c \
         WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace \
           AND NOT EXISTS ( \
             SELECT 1 FROM pg_index i \
             WHERE i.indrelid = c.conrelid AND i.indpred IS NULL \
               AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] \
                   @> c.conkey \
               AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] \
                   <@ c.conkey) \
         ORDER BY 1, 2",
    )
    .load::<Unindexed>(&mut db.connect())
    .unwrap();
    assert!(
        unindexed.is_empty(),
        "foreign keys without an index: {unindexed:#?}"
    );
}

#[test]
fn every_table_has_a_primary_key() {
    let db = TestDb::new();
    let missing: Vec<String> = diesel::sql_query(
        "SELECT t.relname::text AS name FROM pg_class t \
         WHERE t.relkind = 'r' AND t.relnamespace = 'public'::regnamespace \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                           WHERE c.conrelid = t.oid AND c.contype = 'p')",
    )
    .load::<TableName>(&mut db.connect())
    .unwrap()
    .into_iter()
    .map(|row| row.name)
    .collect();
    assert_eq!(missing, Vec::<String>::new());
}

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    name: String,
}
