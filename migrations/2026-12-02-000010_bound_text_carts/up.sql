-- Text lengths of carts bounded by the database as by the domain;
-- the shape and why are in 2026-12-02-000006_bound_text_categories.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE carts
    -- GuestToken, values/text.rs
    ADD CONSTRAINT carts_guest_token_length CHECK (char_length(guest_token) BETWEEN 16 AND 64) NOT VALID;
