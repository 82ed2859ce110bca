//! Loading into empty tables as `pg_restore` does: rows first, then the secondary
//! indexes and the foreign keys.
//!
//! A row COPYd into a table with foreign keys runs one lookup per key (and locks the
//! parent row), and a row COPYd into a table with secondary indexes inserts into each
//! of them at a random place. At the large preset those indexes (`order_lines` by
//! variant, `orders` by user and by status, the catalog's GIN indexes...) outgrow the
//! shared buffers, and every batch touches all of them. Building an index once over
//! the loaded rows is a sort; validating a foreign key once is one join. The
//! PostgreSQL manual's "Populating a Database" recommends both.
//!
//! What is set aside: every foreign key *of* a seeded table (those that fire when its
//! rows arrive) and every index of a seeded table that is neither unique nor behind a
//! constraint, so no rule goes unchecked while rows arrive: primary keys, unique and
//! exclusion constraints, unique indexes, CHECK constraints and triggers stay in place.
//! A table with a deferred trigger (`orders`, `payments`, `gift_cards`: the rules
//! checked at commit) keeps its indexes and keys too: PostgreSQL refuses to build an
//! index on a table with trigger events pending, and firing them early, before the
//! indexes they read are back, would scan a table per event.
//! Both come back, from their own definitions as the catalog prints them, in the same
//! transaction: a key an orphan row breaks fails the load, which then leaves the
//! database as it was, indexes and keys included.

use diesel::PgConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Text};

use crate::SeedError;

/// The statements that take an object away and put it back.
#[derive(QueryableByName)]
struct DropAndCreate {
    #[diesel(sql_type = Text)]
    drop_sql: String,
    #[diesel(sql_type = Text)]
    create_sql: String,
}

/// The seeded tables' foreign keys: `ALTER TABLE ... DROP CONSTRAINT` and
/// `ALTER TABLE ... ADD CONSTRAINT` with the catalog's definition (which says
/// `NOT VALID` for a key that was never validated, and keeps `DEFERRABLE`).
const FOREIGN_KEYS: &str = "\
    SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS drop_sql, \
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, \
                  pg_get_constraintdef(c.oid)) \
           || CASE WHEN obj_description(c.oid, 'pg_constraint') IS NOT NULL \
                   THEN format('; COMMENT ON CONSTRAINT %I ON %s IS %L', c.conname, \
                               c.conrelid::regclass, obj_description(c.oid, 'pg_constraint')) \
                   ELSE '' END \
           AS create_sql \
    FROM pg_constraint c \
    WHERE c.contype = 'f' \
      AND c.conrelid IN (SELECT to_regclass(t) FROM unnest($1::text[]) AS t) \
      AND NOT EXISTS (SELECT 1 FROM pg_trigger g \
                      WHERE g.tgrelid = c.conrelid AND g.tgdeferrable AND NOT g.tgisinternal) \
    ORDER BY c.conrelid::regclass::text, c.conname";

/// The seeded tables' plain indexes: not unique, backing no constraint.
const PLAIN_INDEXES: &str = "\
    SELECT format('DROP INDEX %s', x.indexrelid::regclass) AS drop_sql, \
           pg_get_indexdef(x.indexrelid) \
           || CASE WHEN obj_description(x.indexrelid, 'pg_class') IS NOT NULL \
                   THEN format('; COMMENT ON INDEX %s IS %L', x.indexrelid::regclass, \
                               obj_description(x.indexrelid, 'pg_class')) \
                   ELSE '' END \
           AS create_sql \
    FROM pg_index x \
    WHERE x.indrelid IN (SELECT to_regclass(t) FROM unnest($1::text[]) AS t) \
      AND NOT EXISTS (SELECT 1 FROM pg_trigger g \
                      WHERE g.tgrelid = x.indrelid AND g.tgdeferrable AND NOT g.tgisinternal) \
      AND NOT x.indisunique \
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) \
    ORDER BY x.indexrelid::regclass::text";

/// Memory for each index build (a sort) while the set-aside objects come back; the
/// server's default of 64 MB spills the large preset's sorts to disk.
const BUILD_MEMORY: &str = "SET LOCAL maintenance_work_mem = '256MB'";

/// The foreign keys and indexes taken away for a load, to be put back after it.
#[derive(Debug)]
#[must_use = "the indexes and foreign keys are gone until `restore` puts them back"]
pub(super) struct SetAside {
    /// Indexes first, then foreign keys: building an index needs no key, and a key's
    /// validation may use an index.
    create: Vec<String>,
}

impl SetAside {
    /// Drops the foreign keys and plain indexes of `tables`, inside the caller's
    /// transaction (each drop takes the table's ACCESS EXCLUSIVE lock until it ends).
    pub(super) fn take(conn: &mut PgConnection, tables: &[&str]) -> Result<Self, SeedError> {
        let tables: Vec<String> = tables.iter().map(|t| (*t).to_owned()).collect();
        let keys: Vec<DropAndCreate> = diesel::sql_query(FOREIGN_KEYS)
            .bind::<Array<Text>, _>(&tables)
            .load(conn)
            .map_err(SeedError::db("reading the foreign keys"))?;
        let indexes: Vec<DropAndCreate> = diesel::sql_query(PLAIN_INDEXES)
            .bind::<Array<Text>, _>(&tables)
            .load(conn)
            .map_err(SeedError::db("reading the indexes"))?;
        for object in keys.iter().chain(&indexes) {
            conn.batch_execute(&object.drop_sql)
                .map_err(SeedError::db(format!("running `{}`", object.drop_sql)))?;
        }
        Ok(Self {
            create: indexes
                .into_iter()
                .chain(keys)
                .map(|object| object.create_sql)
                .collect(),
        })
    }

    /// Builds the indexes again and adds the foreign keys back, validating every
    /// loaded row against them.
    pub(super) fn restore(self, conn: &mut PgConnection) -> Result<(), SeedError> {
        conn.batch_execute(BUILD_MEMORY)
            .map_err(SeedError::db("raising maintenance_work_mem"))?;
        for create in &self.create {
            conn.batch_execute(create)
                .map_err(SeedError::db(format!("running `{create}`")))?;
        }
        Ok(())
    }
}
