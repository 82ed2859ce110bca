-- squawk-disable-assume-in-transaction
-- squawk-ignore require-timeout-settings -- one statement outside a transaction block, as the up migration
DROP INDEX CONCURRENTLY IF EXISTS products_facets_idx;
