-- Fail fast rather than queue behind, and in front of, live traffic.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-extension, ban-drop-table -- a down migration removes what its up migration created
DROP TABLE addresses;
DROP TABLE users;
DROP TABLE products;
DROP TABLE categories;
-- No CASCADE: if something else now uses pg_trgm, keep it and fail (see up.sql).
DROP EXTENSION IF EXISTS pg_trgm;
