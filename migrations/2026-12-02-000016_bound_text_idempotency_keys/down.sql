SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- a down migration removes what its up migration added

ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_key_length;
