-- Text lengths of idempotency_keys bounded by the database as by the domain;
-- the shape and why are in 2026-12-02-000006_bound_text_categories.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE idempotency_keys
    -- IdempotencyKey, values/text.rs
    ADD CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 128) NOT VALID;
