-- Puts the columns back as they were, with the application role's right to update
-- the versions.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE idempotency_keys ADD COLUMN response jsonb;

-- squawk-ignore prefer-bigint-over-int -- a row version, as it was
ALTER TABLE orders ADD COLUMN version integer NOT NULL DEFAULT 0;
-- squawk-ignore constraint-missing-not-valid -- every row holds the default 0
ALTER TABLE orders ADD CONSTRAINT orders_version_non_negative CHECK (version >= 0);

-- squawk-ignore prefer-bigint-over-int -- a row version, as it was
ALTER TABLE payments ADD COLUMN version integer NOT NULL DEFAULT 0;
-- squawk-ignore constraint-missing-not-valid -- every row holds the default 0
ALTER TABLE payments ADD CONSTRAINT payments_version_non_negative CHECK (version >= 0);

DO $$
DECLARE
    app text := coalesce(nullif(current_setting('ecom.app_role', true), ''), 'ecom_app');
BEGIN
    EXECUTE format('GRANT UPDATE (version) ON orders, payments TO %I', app);
END
$$;
