-- squawk-disable-assume-in-transaction
-- Listings filter by facet values and search matches documents with these (2026-12-02-000400).
-- squawk-ignore require-timeout-settings -- a SET would put this statement in a transaction block, where CONCURRENTLY cannot run; IF NOT EXISTS: a build that failed half-way leaves an invalid index, drop it and run again
CREATE INDEX CONCURRENTLY IF NOT EXISTS products_search_idx ON products USING gin (search);
