-- Applies one migration of migrations/ with psql, exactly as ecom_store::migrate
-- (diesel's runner) would, so that a later migrate() finds it applied:
--
--   psql -X -v ON_ERROR_STOP=1 --single-transaction -d "$DATABASE_MIGRATION_URL" \
--        -v version=20261125000001 \
--        -v up_file=migrations/2026-11-25-000001_catalog_accounts/up.sql \
--        -f scripts/psql/apply-migration.sql
--
-- `version` is the directory name's date and number without the dashes (what diesel
-- records). Optional: `-v app_role=...` and `-v readonly_role=...`, the roles the
-- migrations grant to (ECOM_APP_ROLE and ECOM_READONLY_ROLE; default ecom_app and
-- ecom_readonly). scripts/psql-migrate runs this for every pending migration.
--
-- Leave out --single-transaction only for a migration whose metadata.toml says
-- `run_in_transaction = false` (diesel runs those outside a transaction too).

\if :{?version}
\else
DO $$ BEGIN RAISE EXCEPTION 'apply-migration.sql needs -v version=... and -v up_file=...'; END $$;
\endif
\if :{?app_role}
\else
\set app_role ecom_app
\endif
\if :{?readonly_role}
\else
\set readonly_role ecom_readonly
\endif

-- The key ecom_store::migrate holds (MIGRATION_LOCK_KEY, "ecom-mig"): a service
-- migrating at the same moment waits for this session, and this one for it. Held
-- until psql exits.
SELECT pg_advisory_lock(7305805535229340007) AS migration_lock \gset

-- diesel's bookkeeping table, created with diesel's own statement
-- (diesel/src/migration/setup_migration_table.sql), as its runner does before it
-- reads which migrations were applied.
SET client_min_messages = warning;
CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (
       version VARCHAR(50) PRIMARY KEY NOT NULL,
       run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
RESET client_min_messages;

-- The role names the migrations read (ecom_store::migrate sets the same settings).
SELECT set_config('ecom.app_role', :'app_role', false) AS app_role_setting,
       set_config('ecom.readonly_role', :'readonly_role', false) AS readonly_role_setting \gset

-- Decided under the lock: a migration applied meanwhile is skipped, not run twice.
SELECT NOT EXISTS (SELECT FROM __diesel_schema_migrations WHERE version = :'version') AS pending \gset
\if :pending
\i :up_file
INSERT INTO __diesel_schema_migrations (version) VALUES (:'version');
\echo applied :version
\else
\echo already applied :version
\endif
