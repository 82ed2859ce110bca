-- Takes back every privilege the up migration granted in this database. The roles
-- are cluster-wide and may hold privileges in other databases, so they stay.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $$
DECLARE
    app text := coalesce(nullif(current_setting('ecom.app_role', true), ''), 'ecom_app');
    ro  text := coalesce(nullif(current_setting('ecom.readonly_role', true), ''), 'ecom_readonly');
BEGIN
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM %I, %I', app, ro);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM %I, %I', app, ro);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I, %I', app, ro);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I, %I', app, ro);
    EXECUTE format('REVOKE ALL ON SCHEMA public FROM %I, %I', app, ro);
END
$$;
