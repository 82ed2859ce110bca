-- Back to one SKU per product, keeping every variant, line and unit of stock. A
-- product's first variant (lowest id) puts its SKU, price and stock back on the
-- product; each further variant becomes a product of its own, named after its
-- product and its option values ("Tee (Red / M)"), in the same category and status.
-- Cart and order lines follow their variant. Drafts become archived (the old model
-- had no drafts: neither listed nor sold). Like up, with the shop stopped.

-- What squawk warns of below is what this migration is for: columns move, are renamed
-- and dropped, and constraints are added validated, all inside the pause.
-- squawk-ignore-file adding-foreign-key-constraint, adding-not-nullable-field, renaming-column, ban-char-field, ban-drop-column, ban-drop-constraint, ban-drop-table, constraint-missing-not-valid, disallowed-unique-constraint, prefer-bigint-over-int, renaming-object

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30min';

-- Which product each variant becomes.
CREATE TEMPORARY TABLE variant_products ON COMMIT DROP AS
SELECT id AS variant_id,
       product_id,
       row_number() OVER (PARTITION BY product_id ORDER BY id) AS n
FROM product_variants;
ALTER TABLE variant_products ADD COLUMN new_product_id bigint;
UPDATE variant_products
SET new_product_id = CASE WHEN n = 1 THEN product_id
                          ELSE nextval(pg_get_serial_sequence('products', 'id')) END;

ALTER TABLE products
    ADD COLUMN sku text,
    ADD COLUMN price numeric(19,4),
    ADD COLUMN currency char(3),
    ADD COLUMN stock_on_hand integer NOT NULL DEFAULT 0;
UPDATE products p
SET sku = v.sku, price = v.price, currency = v.currency, stock_on_hand = v.stock_on_hand
FROM product_variants v
JOIN variant_products m ON m.variant_id = v.id AND m.n = 1
WHERE p.id = v.product_id;
UPDATE products SET status = 'archived' WHERE status = 'draft';
INSERT INTO products (id, sku, name, description, category_id, price, currency, status,
                      stock_on_hand, created_at, updated_at, slug)
SELECT m.new_product_id,
       v.sku,
       left(p.name || ' (' || (SELECT string_agg(e ->> 'value', ' / ' ORDER BY i)
                               FROM jsonb_array_elements(v.options) WITH ORDINALITY AS o(e, i))
            || ')', 200),
       p.description, p.category_id, v.price, v.currency, p.status,
       v.stock_on_hand, v.created_at, v.updated_at,
       'variant-' || v.id
FROM variant_products m
JOIN product_variants v ON v.id = m.variant_id
JOIN products p ON p.id = m.product_id
WHERE m.n > 1;

-- Lines: in place, through negative ids so that no two lines of one cart meet on
-- the way (the primary key is checked row by row).
ALTER TABLE cart_lines DROP CONSTRAINT cart_lines_variant_id_fkey;
UPDATE cart_lines SET variant_id = -variant_id;
UPDATE cart_lines c SET variant_id = m.new_product_id
FROM variant_products m WHERE m.variant_id = -c.variant_id;
ALTER TABLE cart_lines RENAME COLUMN variant_id TO product_id;
ALTER INDEX cart_lines_variant_id_idx RENAME TO cart_lines_product_id_idx;
ALTER TABLE cart_lines ADD CONSTRAINT cart_lines_product_id_fkey FOREIGN KEY (product_id)
    REFERENCES products (id) ON DELETE RESTRICT;
COMMENT ON TABLE cart_lines IS 'One product and its quantity in a cart.';

ALTER TABLE order_lines DROP CONSTRAINT order_lines_variant_id_fkey;
UPDATE order_lines o SET variant_id = m.new_product_id
FROM variant_products m WHERE m.variant_id = o.variant_id;
ALTER TABLE order_lines RENAME COLUMN variant_id TO product_id;
ALTER INDEX order_lines_variant_id_idx RENAME TO order_lines_product_id_idx;
ALTER TABLE order_lines
    DROP COLUMN options,
    ADD CONSTRAINT order_lines_product_id_fkey FOREIGN KEY (product_id)
        REFERENCES products (id) ON DELETE RESTRICT;
COMMENT ON TABLE order_lines IS 'Ordered products with sku, name and price as they were at checkout.';

DROP TABLE product_variants;

ALTER TABLE products
    ALTER COLUMN sku SET NOT NULL,
    ALTER COLUMN price SET NOT NULL,
    ALTER COLUMN currency SET NOT NULL,
    ADD CONSTRAINT products_sku_key UNIQUE (sku),
    ADD CONSTRAINT products_sku_format CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]{0,31}$'),
    ADD CONSTRAINT products_price_non_negative CHECK (price >= 0),
    ADD CONSTRAINT products_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
    ADD CONSTRAINT products_stock_non_negative CHECK (stock_on_hand >= 0),
    DROP CONSTRAINT products_status_check,
    ADD CONSTRAINT products_status_check CHECK (status IN ('active', 'archived')),
    DROP COLUMN slug,
    DROP COLUMN options;
