-- Text lengths of order_lines bounded by the database as by the domain;
-- the shape and why are in 2026-12-02-000006_bound_text_categories.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE order_lines
    -- Sku, values/code.rs (the format check of products.sku bounds it there)
    ADD CONSTRAINT order_lines_sku_length CHECK (char_length(sku) BETWEEN 1 AND 32) NOT VALID,
    -- ProductName, values/text.rs
    ADD CONSTRAINT order_lines_name_length CHECK (char_length(name) BETWEEN 1 AND 200) NOT VALID;
