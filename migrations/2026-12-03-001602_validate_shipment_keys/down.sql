-- Back to the state 2026-12-03-001600 left: the same check, NOT VALID.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- the constraint is put back as it was before the up migration

ALTER TABLE shipments
    DROP CONSTRAINT shipments_idempotency_key_length,
    ADD CONSTRAINT shipments_idempotency_key_length
        CHECK (char_length(idempotency_key) BETWEEN 1 AND 128) NOT VALID;
