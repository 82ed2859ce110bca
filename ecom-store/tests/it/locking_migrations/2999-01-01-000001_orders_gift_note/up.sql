SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
ALTER TABLE orders ADD COLUMN gift_note text NOT NULL DEFAULT '';
