-- Text lengths of payments bounded by the database as by the domain;
-- the shape and why are in 2026-12-02-000006_bound_text_categories.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE payments
    -- ProviderName, values/text.rs
    ADD CONSTRAINT payments_provider_length CHECK (char_length(provider) BETWEEN 1 AND 50) NOT VALID,
    -- ProviderRef, values/text.rs
    ADD CONSTRAINT payments_provider_ref_length CHECK (char_length(provider_ref) BETWEEN 1 AND 200) NOT VALID;
