SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

DO $$
DECLARE
    ro text := coalesce(nullif(current_setting('ecom.readonly_role', true), ''), 'ecom_readonly');
BEGIN
    EXECUTE format('REVOKE SELECT (id, email, name, created_at, updated_at) ON users FROM %I', ro);
    EXECUTE format(
        'REVOKE SELECT (id, user_id, currency, status, created_at, updated_at, public_id) '
        'ON carts FROM %I', ro);
    EXECUTE format('GRANT SELECT ON users, carts TO %I', ro);

    -- Back to what servers before 15 grant by default.
    IF current_setting('server_version_num')::int < 150000 THEN
        GRANT CREATE ON SCHEMA public TO PUBLIC;
    END IF;
END
$$;
