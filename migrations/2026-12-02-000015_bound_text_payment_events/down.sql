SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- a down migration removes what its up migration added

ALTER TABLE payment_events
    DROP CONSTRAINT payment_events_idempotency_key_length,
    DROP CONSTRAINT payment_events_provider_event_id_length,
    DROP CONSTRAINT payment_events_reason_length;
