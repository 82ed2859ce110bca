-- Text lengths of payment_events bounded by the database as by the domain;
-- the shape and why are in 2026-12-02-000006_bound_text_categories.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE payment_events
    -- IdempotencyKey, values/text.rs
    ADD CONSTRAINT payment_events_idempotency_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 128) NOT VALID,
    -- ProviderRef, values/text.rs (an authorization's reference)
    ADD CONSTRAINT payment_events_provider_event_id_length CHECK (char_length(provider_event_id) BETWEEN 1 AND 200) NOT VALID,
    -- Reason, values/text.rs
    ADD CONSTRAINT payment_events_reason_length CHECK (char_length(reason) <= 500) NOT VALID;
