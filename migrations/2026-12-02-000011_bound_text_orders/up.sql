-- Text lengths of orders bounded by the database as by the domain;
-- the shape and why are in 2026-12-02-000006_bound_text_categories.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE orders
    -- Email, values/email.rs
    ADD CONSTRAINT orders_guest_email_length CHECK (char_length(guest_email) BETWEEN 3 AND 254) NOT VALID;
