-- Fail fast rather than queue behind, and in front of, live traffic.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-table, ban-drop-column, ban-drop-extension -- a down migration removes what its up migration created

DROP TABLE shipping_methods;
DROP TABLE shipping_zone_areas;
DROP TABLE shipping_zones;
DROP TABLE tax_rates;
ALTER TABLE products DROP COLUMN tax_class;
DROP TABLE customer_groups;
DROP TABLE price_list_entries;
DROP TABLE price_lists;
DROP TABLE markets;
DROP EXTENSION btree_gist;
