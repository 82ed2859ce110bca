-- Text lengths bounded by the database as by the domain, the second line of defence:
-- a client writing rows directly, or COPY, can no longer store what the domain's
-- types refuse. char_length counts characters, as the domain does. Each check names
-- the domain type (in ecom-domain/src/) that sets its limit. Migrations 000006 to
-- 000016 do the same for one table each, in the same shape:
-- * NOT VALID: ADD CONSTRAINT holds its brief ACCESS EXCLUSIVE lock without a scan
--   and checks only rows written from now on; 2026-12-02-000018_validate_text_bounds
--   checks the rows already there, without blocking reads or writes.
-- * One table per migration: a migration never holds one table's lock while it
--   queues for another's. Checkouts lock many tables in an order of their own; a
--   migration that locked two could deadlock with them.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE categories
    -- Slug, values/code.rs
    ADD CONSTRAINT categories_slug_length CHECK (char_length(slug) BETWEEN 1 AND 64) NOT VALID,
    -- CategoryName, values/text.rs
    ADD CONSTRAINT categories_name_length CHECK (char_length(name) BETWEEN 1 AND 100) NOT VALID;
