-- Two gaps of the least-privilege roles.
--
-- Before PostgreSQL 15 every role may CREATE in schema public (15 made it the owner's
-- alone), so on older servers, RDS's included, the application role could create
-- tables and functions there. Taken away from PUBLIC where it is still open.
--
-- The read-only role (reports, analysts, read replicas) read every column, password
-- hashes and the digests of guest tokens included. It now reads every column of users
-- and carts but those. orders.guest_token_digest stays readable: replica reads load
-- whole orders (PgReader's OrderReader), and a digest does not give the token back.
-- Grants only: no table is locked beyond the catalog rows changed.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $$
DECLARE
    ro text := coalesce(nullif(current_setting('ecom.readonly_role', true), ''), 'ecom_readonly');
BEGIN
    IF current_setting('server_version_num')::int < 150000 THEN
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    END IF;

    EXECUTE format('REVOKE SELECT ON users, carts FROM %I', ro);
    EXECUTE format('GRANT SELECT (id, email, name, created_at, updated_at) ON users TO %I', ro);
    EXECUTE format(
        'GRANT SELECT (id, user_id, currency, status, created_at, updated_at, public_id) '
        'ON carts TO %I', ro);
END
$$;
