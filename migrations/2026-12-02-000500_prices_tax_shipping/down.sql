SET LOCAL lock_timeout = '5s';

DROP TABLE shipping_methods;
DROP TABLE shipping_zone_areas;
DROP TABLE shipping_zones;
DROP TABLE tax_rates;
-- squawk-ignore ban-drop-column -- undoing this migration's own column
ALTER TABLE products DROP COLUMN tax_class;
DROP TABLE customer_groups;
DROP TABLE price_list_entries;
DROP TABLE price_lists;
DROP TABLE markets;
DROP EXTENSION btree_gist;
