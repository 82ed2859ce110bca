-- squawk-disable-assume-in-transaction
-- Orders by public reference; becomes orders_public_id_key in 2026-12-02-000105. Built as 2026-12-02-000101's index is.
-- squawk-ignore require-timeout-settings -- a SET would put this statement in a transaction block, where CONCURRENTLY cannot run; IF NOT EXISTS: a build that failed half-way leaves an invalid index, drop it and run again
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_public_id_key ON orders (public_id);
