-- Validates the constraints 2026-12-02-000900 added NOT VALID to payments: a scan
-- under a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes go on.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '0';

ALTER TABLE payments VALIDATE CONSTRAINT payments_gift_card_id_fkey;
ALTER TABLE payments VALIDATE CONSTRAINT payments_gift_card_provider;
