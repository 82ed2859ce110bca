SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $$
DECLARE
    app text := coalesce(nullif(current_setting('ecom.app_role', true), ''), 'ecom_app');
    ro  text := coalesce(nullif(current_setting('ecom.readonly_role', true), ''), 'ecom_readonly');
BEGIN
    EXECUTE format('REVOKE SELECT ON __diesel_schema_migrations FROM %I, %I', app, ro);
END
$$;
