-- squawk-disable-assume-in-transaction
-- A guest's orders, newest first. Built as 2026-12-02-000101's index is.
-- squawk-ignore require-timeout-settings -- a SET would put this statement in a transaction block, where CONCURRENTLY cannot run; IF NOT EXISTS: a build that failed half-way leaves an invalid index, drop it and run again
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_guest_token_digest_created_at_idx ON orders (guest_token_digest, created_at DESC, id DESC) WHERE guest_token_digest IS NOT NULL;
