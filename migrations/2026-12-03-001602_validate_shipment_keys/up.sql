-- Validates the check 2026-12-03-001600 added NOT VALID: a scan under a SHARE
-- UPDATE EXCLUSIVE lock, which lets reads and writes go on.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '0';

ALTER TABLE shipments VALIDATE CONSTRAINT shipments_idempotency_key_length;
