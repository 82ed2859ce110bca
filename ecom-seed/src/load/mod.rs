//! Loading: COPY into PostgreSQL in one transaction, or CSV files for `psql \copy`.

mod csv_dir;
mod deferred;

use diesel::pg::CopyFormat;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use diesel::{ExecuteCopyFromDsl, PgConnection};
use ecom_store::schema;

pub use csv_dir::{CsvDirSink, write_csv};

use crate::SeedError;
use crate::generate::{Batch, Chunk};
use crate::plan::{IdBase, Plan};
use crate::run::{self, Report, Sink};
use crate::table::Table;

use deferred::SetAside;

/// What to do with a database that already holds data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Existing {
    /// Refuse to load (the default: nobody loses data by running the seeder twice).
    #[default]
    Refuse,
    /// Add the generated rows after the existing ones (ids continue from the largest).
    Append,
    /// Empty every table first, in the same transaction.
    Truncate,
}

/// How to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// What to do with existing data.
    pub existing: Existing,
    /// Do not run the embedded migrations (the schema must already be there).
    pub no_migrate: bool,
    /// Test hook: fail after this many batches have been copied, to prove that a
    /// failed load leaves nothing behind.
    #[doc(hidden)]
    pub fail_after_batches: Option<u64>,
}

/// Every table the seeder can touch, for the emptiness check and `--truncate`:
/// its own, plus those that refer to its rows (variants, orders, users).
const ALL_TABLES: &str = "attribute_definitions, categories, products, product_variants, collections, \
    collection_products, markets, tax_rates, shipping_zones, shipping_zone_areas, \
    shipping_methods, price_lists, price_list_entries, users, addresses, customer_groups, \
    carts, cart_lines, orders, order_addresses, order_lines, order_status_history, \
    payments, payment_events, idempotency_keys, outbox_events, sessions, order_tax_lines, \
    order_promotions, coupon_redemptions, coupon_codes, promotions, gift_cards, gift_card_entries, \
    stock_locations, inventory_levels, inventory_moves, order_reservations, shipments, \
    shipment_lines, returns, return_lines, order_cancellations, order_cancellation_lines";

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Bool)]
    found: bool,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

#[derive(QueryableByName)]
struct MaxId {
    #[diesel(sql_type = BigInt)]
    max_id: i64,
}

/// True when any of the shop's market, tax rates and shipping zones is in the
/// database: appending writes none of them again.
fn tax_and_shipping_defined(conn: &mut PgConnection) -> Result<bool, SeedError> {
    let row: Found = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM markets) OR EXISTS (SELECT 1 FROM tax_rates) \
         OR EXISTS (SELECT 1 FROM shipping_zones) AS found",
    )
    .get_result(conn)
    .map_err(SeedError::db("looking for the tax and shipping set-up"))?;
    Ok(row.found)
}

fn table_exists(conn: &mut PgConnection, table: &str) -> Result<bool, SeedError> {
    let row: Found = diesel::sql_query(format!(
        "SELECT to_regclass('public.{table}') IS NOT NULL AS found"
    ))
    .get_result(conn)
    .map_err(SeedError::db("looking for the schema"))?;
    Ok(row.found)
}

/// The first of the seeder's tables that holds a row, if any.
pub fn first_non_empty(conn: &mut PgConnection) -> Result<Option<&'static str>, SeedError> {
    for name in ALL_TABLES.split(", ").map(str::trim) {
        let row: Found =
            diesel::sql_query(format!("SELECT EXISTS (SELECT 1 FROM {name}) AS found"))
                .get_result(conn)
                .map_err(SeedError::db(format!("checking whether {name} is empty")))?;
        if row.found {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

fn max_id(conn: &mut PgConnection, table: Table) -> Result<i64, SeedError> {
    let row: MaxId = diesel::sql_query(format!(
        "SELECT COALESCE(max(id), 0)::bigint AS max_id FROM {}",
        table.name()
    ))
    .get_result(conn)
    .map_err(SeedError::db(format!("reading the largest id of {table}")))?;
    Ok(row.max_id)
}

/// The attribute names the database defines, in lower case.
fn defined_attributes(conn: &mut PgConnection) -> Result<Vec<String>, SeedError> {
    let rows: Vec<Name> =
        diesel::sql_query("SELECT lower(name) AS name FROM attribute_definitions ORDER BY id")
            .load(conn)
            .map_err(SeedError::db("reading the attribute definitions"))?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

fn id_base(conn: &mut PgConnection) -> Result<IdBase, SeedError> {
    Ok(IdBase {
        attribute_definitions: max_id(conn, Table::AttributeDefinitions)?,
        categories: max_id(conn, Table::Categories)?,
        products: max_id(conn, Table::Products)?,
        variants: max_id(conn, Table::ProductVariants)?,
        collections: max_id(conn, Table::Collections)?,
        tax_rates: max_id(conn, Table::TaxRates)?,
        shipping_zones: max_id(conn, Table::ShippingZones)?,
        shipping_zone_areas: max_id(conn, Table::ShippingZoneAreas)?,
        shipping_methods: max_id(conn, Table::ShippingMethods)?,
        price_lists: max_id(conn, Table::PriceLists)?,
        users: max_id(conn, Table::Users)?,
        gift_cards: max_id(conn, Table::GiftCards)?,
        gift_card_entries: max_id(conn, Table::GiftCardEntries)?,
        addresses: max_id(conn, Table::Addresses)?,
        carts: max_id(conn, Table::Carts)?,
        orders: max_id(conn, Table::Orders)?,
        history: max_id(conn, Table::OrderStatusHistory)?,
        payments: max_id(conn, Table::Payments)?,
        payment_events: max_id(conn, Table::PaymentEvents)?,
        stock_locations: max_id(conn, Table::StockLocations)?,
        shipments: max_id(conn, Table::Shipments)?,
        returns: max_id(conn, Table::Returns)?,
    })
}

/// COPYs each chunk into its table over one connection, inside the caller's transaction.
pub struct PgSink<'c> {
    conn: &'c mut PgConnection,
    batches: u64,
    fail_after_batches: Option<u64>,
}

impl<'c> PgSink<'c> {
    /// A sink on `conn`; the caller owns the transaction.
    pub fn new(conn: &'c mut PgConnection) -> Self {
        Self {
            conn,
            batches: 0,
            fail_after_batches: None,
        }
    }
}

/// `COPY table FROM STDIN (FORMAT csv)` with the chunk's bytes.
fn copy_chunk(conn: &mut PgConnection, chunk: &Chunk) -> Result<usize, diesel::result::Error> {
    let bytes = chunk.bytes.as_slice();
    let feed = |w: &mut dyn std::io::Write| -> Result<(), diesel::result::Error> {
        w.write_all(bytes)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
    };
    // Into the columns `Table::columns` names, in its order: all but the derived ones.
    macro_rules! copy {
        ($table:ident) => {
            copy!($table, schema::$table::table)
        };
        ($table:ident, $columns:expr) => {
            diesel::copy_from(schema::$table::table)
                .from_raw_data($columns, feed)
                .with_format(CopyFormat::Csv)
                .execute(conn)
        };
    }
    match chunk.table {
        Table::AttributeDefinitions => copy!(attribute_definitions),
        Table::Categories => copy!(categories),
        Table::Products => {
            use schema::products::*;
            // Not facets and search: triggers derive them.
            copy!(
                products,
                (
                    id,
                    name,
                    description,
                    category_id,
                    status,
                    created_at,
                    updated_at,
                    slug,
                    options,
                    attributes,
                    images,
                    tax_class,
                )
            )
        }
        Table::ProductVariants => copy!(product_variants),
        Table::Collections => copy!(collections),
        Table::CollectionProducts => copy!(collection_products),
        Table::Markets => copy!(markets),
        Table::TaxRates => copy!(tax_rates),
        Table::ShippingZones => copy!(shipping_zones),
        Table::ShippingZoneAreas => copy!(shipping_zone_areas),
        Table::ShippingMethods => copy!(shipping_methods),
        Table::PriceLists => copy!(price_lists),
        Table::PriceListEntries => copy!(price_list_entries),
        Table::Users => copy!(users),
        Table::Addresses => copy!(addresses),
        Table::CustomerGroups => copy!(customer_groups),
        Table::GiftCards => copy!(gift_cards),
        Table::Carts => copy!(carts),
        Table::CartLines => copy!(cart_lines),
        Table::Orders => {
            use schema::orders::*;
            // Not the invoice's columns: seeded orders are priced by the flat rules
            // (no shipping method, net prices), which their defaults say.
            copy!(
                orders,
                (
                    id,
                    user_id,
                    guest_email,
                    cart_id,
                    currency,
                    subtotal,
                    shipping,
                    tax,
                    grand_total,
                    status,
                    payment_deadline,
                    created_at,
                    updated_at,
                    public_id,
                    guest_token_digest,
                )
            )
        }
        Table::OrderAddresses => copy!(order_addresses),
        Table::OrderLines => {
            use schema::order_lines::*;
            // Not net, tax and tax_rate_no: a line of an order without an invoice.
            copy!(
                order_lines,
                (
                    order_id, line_no, variant_id, sku, name, unit_price, quantity, options,
                )
            )
        }
        Table::OrderStatusHistory => copy!(order_status_history),
        Table::Payments => copy!(payments),
        Table::PaymentEvents => copy!(payment_events),
        Table::GiftCardEntries => copy!(gift_card_entries),
        Table::StockLocations => copy!(stock_locations),
        Table::Shipments => copy!(shipments),
        Table::ShipmentLines => copy!(shipment_lines),
        Table::Returns => copy!(returns),
        Table::ReturnLines => copy!(return_lines),
    }
}

impl Sink for PgSink<'_> {
    fn write(&mut self, chunk: &Chunk) -> Result<(), SeedError> {
        copy_chunk(self.conn, chunk).map_err(|source| SeedError::Copy {
            table: chunk.table,
            source,
        })?;
        Ok(())
    }

    fn batch_done(&mut self) -> Result<(), SeedError> {
        self.batches += 1;
        match self.fail_after_batches {
            Some(limit) if self.batches >= limit => Err(SeedError::Injected(self.batches)),
            _ => Ok(()),
        }
    }
}

/// Moves each identity sequence past the largest id, so the application's own
/// inserts continue after the generated rows.
fn move_sequences(conn: &mut PgConnection) -> Result<(), SeedError> {
    for table in Table::ALL.iter().filter(|t| t.has_identity()) {
        let name = table.name();
        diesel::sql_query(format!(
            "SELECT setval(pg_get_serial_sequence('{name}', 'id'), \
             COALESCE((SELECT max(id) FROM {name}), 1), \
             (SELECT max(id) FROM {name}) IS NOT NULL)"
        ))
        .execute(conn)
        .map_err(SeedError::db(format!("moving the id sequence of {name}")))?;
    }
    Ok(())
}

/// Loads `plan` into the database of `conn`: migrations first (unless turned off),
/// then everything in one transaction, so a failure leaves the database as it was.
/// Into empty tables (a fresh database, or `--truncate`) the rows go first and the
/// plain indexes and foreign keys are built and validated after them, as `pg_restore`
/// does; readers of those tables wait for the load to commit. Returns what was loaded; the plan's id bases are taken from the database when
/// appending.
pub fn load(
    conn: &mut PgConnection,
    plan: &Plan,
    options: &LoadOptions,
    progress: &mut dyn FnMut(&Batch),
) -> Result<Report, SeedError> {
    plan.validate()?;
    if options.no_migrate {
        for table in Table::ALL {
            if !table_exists(conn, table.name())? {
                return Err(SeedError::SchemaMissing(table.name()));
            }
        }
    } else {
        ecom_store::migrate(conn)?;
    }
    conn.transaction(|conn| {
        // No other writer may slip rows in between the emptiness check (or the
        // largest ids) and the load.
        diesel::sql_query(format!(
            "LOCK TABLE {ALL_TABLES} IN SHARE ROW EXCLUSIVE MODE"
        ))
        .execute(conn)
        .map_err(SeedError::db("locking the tables"))?;
        let mut plan = plan.clone();
        let empty = match options.existing {
            Existing::Refuse => {
                if let Some(table) = first_non_empty(conn)? {
                    return Err(SeedError::NotEmpty { table });
                }
                true
            }
            Existing::Truncate => {
                diesel::sql_query(format!("TRUNCATE {ALL_TABLES} RESTART IDENTITY"))
                    .execute(conn)
                    .map_err(SeedError::db("truncating"))?;
                true
            }
            Existing::Append => {
                plan.ids = id_base(conn)?;
                plan.defined_attributes = defined_attributes(conn)?;
                plan.tax_and_shipping_defined = tax_and_shipping_defined(conn)?;
                first_non_empty(conn)?.is_none()
            }
        };
        // Into empty tables, rows first and then their plain indexes and foreign
        // keys; tables that hold rows keep theirs (rebuilding would cost more).
        let set_aside = if empty {
            let tables: Vec<&str> = ALL_TABLES.split(", ").map(str::trim).collect();
            Some(SetAside::take(conn, &tables)?)
        } else {
            None
        };
        let mut sink = PgSink {
            conn: &mut *conn,
            batches: 0,
            fail_after_batches: options.fail_after_batches,
        };
        let report = run::run(&plan, &mut sink, progress)?;
        if let Some(set_aside) = set_aside {
            set_aside.restore(conn)?;
        }
        move_sequences(conn)?;
        Ok(report)
    })
}
