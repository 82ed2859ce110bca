-- Text lengths of products bounded by the database as by the domain;
-- the shape and why are in 2026-12-02-000006_bound_text_categories.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE products
    -- ProductName, values/text.rs
    ADD CONSTRAINT products_name_length CHECK (char_length(name) BETWEEN 1 AND 200) NOT VALID,
    -- Description, values/text.rs
    ADD CONSTRAINT products_description_length CHECK (char_length(description) <= 5000) NOT VALID;
