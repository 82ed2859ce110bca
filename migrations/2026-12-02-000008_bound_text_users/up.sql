-- Text lengths of users bounded by the database as by the domain;
-- the shape and why are in 2026-12-02-000006_bound_text_categories.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE users
    -- Email, values/email.rs
    ADD CONSTRAINT users_email_length CHECK (char_length(email) BETWEEN 3 AND 254) NOT VALID,
    -- PersonName, values/text.rs
    ADD CONSTRAINT users_name_length CHECK (char_length(name) BETWEEN 1 AND 100) NOT VALID;
