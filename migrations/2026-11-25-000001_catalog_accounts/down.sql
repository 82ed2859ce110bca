DROP TABLE addresses;
DROP TABLE users;
DROP TABLE products;
DROP TABLE categories;
-- No CASCADE: if something else now uses pg_trgm, keep it and fail (see up.sql).
DROP EXTENSION IF EXISTS pg_trgm;
