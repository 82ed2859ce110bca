-- A service connects as the application role and, at start-up, checks that every
-- migration it was built with is applied (ecom_store::check_schema); it never
-- migrates, the owner does. The least-privilege migration revoked everything on
-- diesel's bookkeeping from the roles; knowing which versions are applied tells
-- them nothing secret, so they may read it. Writing it stays the owner's.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $$
DECLARE
    app text := coalesce(nullif(current_setting('ecom.app_role', true), ''), 'ecom_app');
    ro  text := coalesce(nullif(current_setting('ecom.readonly_role', true), ''), 'ecom_readonly');
BEGIN
    EXECUTE format('GRANT SELECT ON __diesel_schema_migrations TO %I, %I', app, ro);
END
$$;
