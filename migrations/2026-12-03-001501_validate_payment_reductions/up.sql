-- Validates the payment checks 2026-12-03-001500 added NOT VALID: a scan under a
-- SHARE UPDATE EXCLUSIVE lock, which lets reads and writes go on.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '0';

ALTER TABLE payments VALIDATE CONSTRAINT payments_released_range;
ALTER TABLE payment_events VALIDATE CONSTRAINT payment_events_kind_check;
