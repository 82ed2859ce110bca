-- squawk-disable-assume-in-transaction
-- squawk-ignore require-timeout-settings -- one statement outside a transaction block, as the up migration
DROP INDEX CONCURRENTLY IF EXISTS orders_guest_token_digest_created_at_idx;
