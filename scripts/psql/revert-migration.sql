-- Reverts one migration of migrations/ with psql, exactly as diesel's runner would:
--
--   psql -X -v ON_ERROR_STOP=1 --single-transaction -d "$DATABASE_MIGRATION_URL" \
--        -v version=20261125000001 \
--        -v down_file=migrations/2026-11-25-000001_catalog_accounts/down.sql \
--        -f scripts/psql/revert-migration.sql
--
-- The counterpart of apply-migration.sql (read it for the variables); revert the
-- newest applied migration first. scripts/psql-migrate down runs this.

\if :{?version}
\else
DO $$ BEGIN RAISE EXCEPTION 'revert-migration.sql needs -v version=... and -v down_file=...'; END $$;
\endif
\if :{?app_role}
\else
\set app_role ecom_app
\endif
\if :{?readonly_role}
\else
\set readonly_role ecom_readonly
\endif

SELECT pg_advisory_lock(7305805535229340007) AS migration_lock \gset

SET client_min_messages = warning;
CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
       version VARCHAR(50) PRIMARY KEY NOT NULL,
       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
RESET client_min_messages;

SELECT set_config('ecom.app_role', :'app_role', false) AS app_role_setting,
       set_config('ecom.readonly_role', :'readonly_role', false) AS readonly_role_setting \gset

SELECT EXISTS (SELECT FROM __diesel_schema_migrations WHERE version = :'version') AS applied \gset
\if :applied
\i :down_file
DELETE FROM __diesel_schema_migrations WHERE version = :'version';
\echo reverted :version
\else
\echo not applied :version
\endif
