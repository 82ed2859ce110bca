-- Columns nothing reads. A checkout replay reloads its order, so the stored response
-- of an idempotency key was never written; the row versions of orders and payments
-- were bumped on every change, but no caller ever compared them. The store stopped
-- bumping them before this migration, so it can run under the code that precedes it.
-- DROP COLUMN only marks the column dropped in the catalog: no table rewrite, and the
-- ACCESS EXCLUSIVE lock is held for that catalog change alone.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- squawk-ignore ban-drop-column -- never written by any version of the store
ALTER TABLE idempotency_keys DROP COLUMN response;
-- squawk-ignore ban-drop-column -- no longer written by the store, never read
ALTER TABLE orders DROP COLUMN version;
-- squawk-ignore ban-drop-column -- no longer written by the store, never read
ALTER TABLE payments DROP COLUMN version;
