-- Fail fast rather than queue behind, and in front of, live traffic.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-column -- a down migration removes what its up migration added

-- Its check goes with it.
ALTER TABLE shipments DROP COLUMN idempotency_key;
