SET LOCAL lock_timeout = '5s';

DROP TRIGGER product_variants_changed ON product_variants;
DROP TRIGGER product_variants_removed ON product_variants;
DROP TRIGGER product_variants_added ON product_variants;
DROP TRIGGER products_derive_catalog_index ON products;
DROP FUNCTION product_variants_changed();
DROP FUNCTION product_variants_removed();
DROP FUNCTION product_variants_added();
DROP FUNCTION catalog_reindex_products(bigint[]);
DROP FUNCTION products_derive_catalog_index();
DROP FUNCTION catalog_search_document(bigint, text, text, jsonb);
DROP FUNCTION catalog_product_facets(bigint, jsonb);
DROP FUNCTION catalog_facet_key(text, text);
DROP FUNCTION catalog_array(jsonb);

DROP TABLE collection_products;
DROP TABLE collections;

-- squawk-ignore ban-drop-column -- undoing this migration's own columns
ALTER TABLE product_variants DROP COLUMN attributes;
-- squawk-ignore ban-drop-column -- undoing this migration's own columns
ALTER TABLE products
    DROP COLUMN search,
    DROP COLUMN facets,
    DROP COLUMN images,
    DROP COLUMN attributes;

DROP TABLE attribute_definitions;
DROP TABLE catalog_settings;
