-- squawk-disable-assume-in-transaction
-- squawk-ignore require-timeout-settings -- one statement outside a transaction block, as the up migration
DROP INDEX CONCURRENTLY IF EXISTS shipments_order_id_idempotency_key_key;
