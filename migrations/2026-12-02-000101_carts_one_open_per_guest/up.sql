-- squawk-disable-assume-in-transaction
-- A guest token names one open cart at a time (the digest's index; see 2026-12-02-000100). Built without blocking writes: outside a transaction, and alone in its migration, since several statements in one query are a transaction block too.
-- squawk-ignore require-timeout-settings -- a SET would put this statement in a transaction block, where CONCURRENTLY cannot run; IF NOT EXISTS: a build that failed half-way leaves an invalid index, drop it and run again
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS carts_one_open_per_guest ON carts (guest_token_digest) WHERE status = 'open';
