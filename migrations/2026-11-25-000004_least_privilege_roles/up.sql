-- Least privilege. Migrations run as the owner of the tables (the user of the URL
-- they are run with); services connect as a member of the application role, read
-- replicas and reports as a member of the read-only role. The names come from the
-- settings ecom.app_role and ecom.readonly_role, which ecom_store::migrate sets from
-- ECOM_APP_ROLE and ECOM_READONLY_ROLE; else ecom_app and ecom_readonly. Roles are
-- created NOLOGIN: log in as a member (GRANT ecom_app TO my_service), or
-- ALTER ROLE ecom_app LOGIN.
--
-- The application can read and write rows, never change the schema (it owns no
-- table, and PostgreSQL 15 lets nobody but the owner create in schema public), never
-- TRUNCATE, and never rewrite history: status history, payment events, order lines
-- and address snapshots are append-only, and the amounts of orders and payments are
-- written once (only their status and bookkeeping columns may change).
-- Grants only: no table is locked beyond the catalog rows the grants change.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $$
DECLARE
    app text := coalesce(nullif(current_setting('ecom.app_role', true), ''), 'ecom_app');
    ro  text := coalesce(nullif(current_setting('ecom.readonly_role', true), ''), 'ecom_readonly');
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', app);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ro) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', ro);
    END IF;

    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I, %I', app, ro);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I, %I', app, ro);
    EXECUTE format('REVOKE ALL ON __diesel_schema_migrations FROM %I, %I', app, ro);

    EXECUTE format(
        'GRANT INSERT ON categories, products, users, addresses, carts, cart_lines, orders, '
        'order_addresses, order_lines, order_status_history, payments, payment_events, '
        'idempotency_keys, outbox_events TO %I', app);
    EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %I', app);

    -- Rows the application changes as a whole.
    EXECUTE format(
        'GRANT UPDATE ON categories, products, users, addresses, carts, cart_lines, '
        'idempotency_keys TO %I', app);
    EXECUTE format('GRANT DELETE ON addresses, cart_lines, idempotency_keys TO %I', app);
    -- Orders and payments: status and bookkeeping only; their amounts stay as written.
    EXECUTE format('GRANT UPDATE (status, version, updated_at) ON orders TO %I', app);
    EXECUTE format(
        'GRANT UPDATE (authorized, captured, refunded, status, provider_ref, version, updated_at) '
        'ON payments TO %I', app);
    EXECUTE format('GRANT UPDATE (published_at) ON outbox_events TO %I', app);

    -- Tables of later migrations: readable by both, insertable by the application;
    -- anything more is granted by the migration that creates the table.
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO %I, %I', app, ro);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT ON TABLES TO %I', app);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO %I', app);
END
$$;
