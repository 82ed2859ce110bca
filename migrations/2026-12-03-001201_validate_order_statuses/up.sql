-- Validates the order status checks 2026-12-03-001200 replaced NOT VALID: a scan
-- under a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes go on.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '0';

ALTER TABLE orders VALIDATE CONSTRAINT orders_status_check;
ALTER TABLE order_status_history VALIDATE CONSTRAINT order_status_history_from_status_check;
ALTER TABLE order_status_history VALIDATE CONSTRAINT order_status_history_to_status_check;
