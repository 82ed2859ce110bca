//! Pure, deterministic generation: a [`Plan`] in, CSV-encoded rows out, in batches.
//!
//! Rows come in id order with explicit ids. A batch only ever holds whole entities
//! (an order with its cart, lines, addresses, history and payment), and its chunks
//! come parents first, so loading batches in order never breaks a foreign key.
//! Nothing here does I/O: the same plan always gives the same batches.

mod accounts;
mod carts;
mod catalog;
mod gift_cards;
mod orders;
mod price_book;
pub mod rng;
pub mod values;

use ecom_domain::values::PostalAddress;

use self::catalog::Catalog;
use crate::csv::RowWriter;
use crate::plan::Plan;
use crate::table::Table;
use crate::{SeedError, Sizes};

/// The argon2id hash (OWASP cost) of [`DEMO_PASSWORD`], given to every generated user.
/// Hashing a password per user would dominate the run; one precomputed hash keeps
/// the data deterministic and every account usable for a demo.
pub const DEMO_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$OWQyd9kvxpRARRFe5Y1IgQ$De3PaM2d3SBgoYzJi5DVjlXDg/NFt2dhR6sjxMv1WaE";

/// The password of every generated user.
pub const DEMO_PASSWORD: &str = "ecom-demo-password";

/// About how many bytes of rows a batch holds before it is handed over.
pub const BATCH_BYTES: usize = 1 << 20;

/// The encoded rows of one table in a batch.
#[derive(Debug)]
pub struct Chunk {
    /// The table.
    pub table: Table,
    /// CSV rows (see [`crate::csv`]).
    pub bytes: Vec<u8>,
    /// How many rows.
    pub rows: u64,
}

/// What the generator is working through; each phase has a known number of entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Attribute definitions.
    Attributes,
    /// Categories.
    Categories,
    /// Products with their variants.
    Products,
    /// Collections with their products.
    Collections,
    /// The shop's market, tax rates, shipping zones and price lists, then each
    /// product's list prices.
    PriceBook,
    /// Users with their addresses and customer groups.
    Users,
    /// Gift cards, with the first entry of each one's ledger.
    GiftCards,
    /// Orders with their carts, lines, addresses, history, payments.
    Orders,
    /// Carts that were not checked out.
    Carts,
}

impl Phase {
    /// Every phase, in generation order.
    pub const ALL: [Phase; 9] = [
        Phase::Attributes,
        Phase::Categories,
        Phase::Products,
        Phase::Collections,
        Phase::PriceBook,
        Phase::Users,
        Phase::GiftCards,
        Phase::Orders,
        Phase::Carts,
    ];

    /// Its name.
    pub const fn name(self) -> &'static str {
        match self {
            Phase::Attributes => "attributes",
            Phase::Categories => "categories",
            Phase::Products => "products",
            Phase::Collections => "collections",
            Phase::PriceBook => "price book",
            Phase::Users => "users",
            Phase::GiftCards => "gift cards",
            Phase::Orders => "orders",
            Phase::Carts => "carts",
        }
    }

    /// How many entities the phase generates (attribute definitions: as many as the
    /// vocabulary has, whether or not the database already had them; the price book:
    /// the shop's part, then one a product).
    pub const fn total(self, sizes: &Sizes) -> u64 {
        match self {
            Phase::Attributes => catalog::ATTRIBUTE_COUNT,
            Phase::Categories => sizes.categories,
            Phase::Products => sizes.products,
            Phase::Collections => sizes.collections,
            Phase::PriceBook => 1 + sizes.products,
            Phase::Users => sizes.users,
            Phase::GiftCards => gift_cards::count(sizes),
            Phase::Orders => sizes.orders,
            Phase::Carts => sizes.carts,
        }
    }
}

/// Whole entities' rows, parents first.
#[derive(Debug)]
pub struct Batch {
    /// The phase the entities belong to.
    pub phase: Phase,
    /// How many entities of the phase the batch completes.
    pub units: u64,
    /// Non-empty chunks in [`Table::ALL`] order.
    pub chunks: Vec<Chunk>,
}

/// Writes a postal address's seven columns, in the order `addresses` and
/// `order_addresses` both have them.
pub(crate) fn postal_columns(w: &mut RowWriter, a: &PostalAddress) {
    w.text(a.recipient().as_str());
    w.text(a.line1());
    w.opt_text(a.line2());
    w.text(a.city());
    w.opt_text(a.region());
    w.text(a.postal_code());
    w.text(a.country().as_str());
}

/// Collects rows per table and hands over batches of whole entities.
pub(crate) struct Out<'a> {
    writers: Vec<RowWriter>,
    phase: Phase,
    units: u64,
    emit: &'a mut dyn FnMut(Batch) -> bool,
    stopped: bool,
}

impl<'a> Out<'a> {
    fn new(emit: &'a mut dyn FnMut(Batch) -> bool) -> Self {
        Self {
            writers: Table::ALL
                .iter()
                .map(|_| RowWriter::with_capacity(0))
                .collect(),
            phase: Phase::Attributes,
            units: 0,
            emit,
            stopped: false,
        }
    }

    /// The writer of `table`'s rows.
    pub(crate) fn w(&mut self, table: Table) -> &mut RowWriter {
        &mut self.writers[table.index()]
    }

    /// Marks one entity complete; hands over a batch when enough bytes are buffered.
    /// Returns false once the consumer has stopped listening.
    pub(crate) fn done(&mut self) -> bool {
        self.units += 1;
        let buffered: usize = self.writers.iter().map(RowWriter::len).sum();
        if buffered >= BATCH_BYTES {
            self.flush();
        }
        !self.stopped
    }

    fn flush(&mut self) {
        if self.stopped || self.units == 0 {
            return;
        }
        let chunks = Table::ALL
            .iter()
            .zip(self.writers.iter_mut())
            .filter(|(_, w)| !w.is_empty())
            .map(|(table, w)| {
                let (bytes, rows) = w.take();
                Chunk {
                    table: *table,
                    bytes,
                    rows,
                }
            })
            .collect();
        let batch = Batch {
            phase: self.phase,
            units: std::mem::take(&mut self.units),
            chunks,
        };
        if !(self.emit)(batch) {
            self.stopped = true;
        }
    }

    fn start(&mut self, phase: Phase) {
        self.flush();
        self.phase = phase;
    }
}

/// Generates the whole plan, handing each batch to `emit` in order; stops early (with
/// `Ok`) when `emit` returns false.
pub fn generate(plan: &Plan, emit: &mut dyn FnMut(Batch) -> bool) -> Result<(), SeedError> {
    plan.validate()?;
    let mut out = Out::new(emit);
    let definitions = catalog::attribute_definitions(plan, &mut out)?;
    let categories = catalog::categories(plan, &mut out)?;
    let catalog = Catalog::draw(plan, &categories)?;
    // Sell first, then stock the shelves: replaying every order's basket against the
    // initial stock gives what is left, so stock_on_hand = initial - sold exactly,
    // variant by variant. The orders are drawn again, from the same initial stock,
    // when they are written. The same walk learns which gift card pays which
    // order, so each card is written with its balance before the orders.
    let cards = gift_cards::GiftCards::draw(plan)?;
    let walked = orders::walk(plan, &catalog, &cards)?;
    catalog::write_products(plan, &catalog, &definitions, &walked.stock_left, &mut out)?;
    catalog::write_collections(plan, &catalog, &mut out)?;
    price_book::write(plan, &catalog, &mut out)?;
    if out.stopped {
        return Ok(());
    }
    let groups = price_book::CustomerGroups::draw(plan)?;
    accounts::users(plan, &groups, &mut out)?;
    gift_cards::write(plan, &cards, &walked.tenders, &mut out)?;
    orders::orders(plan, &catalog, &cards, &walked.tenders, &mut out)?;
    carts::open_and_abandoned_carts(plan, &catalog, &mut out)?;
    out.flush();
    Ok(())
}

#[cfg(test)]
mod tests {
    use ecom_domain::password::{Password, PasswordHash};

    use super::*;
    use crate::Scale;

    #[test]
    fn the_demo_hash_is_the_demo_password() {
        let hash = PasswordHash::parse(DEMO_PASSWORD_HASH).unwrap();
        assert!(hash.verify(&Password::new(DEMO_PASSWORD).unwrap()));
    }

    #[test]
    fn batches_hold_parents_first_and_count_every_entity() {
        let plan = Plan::new(Scale::Small);
        let mut units = std::collections::HashMap::new();
        let mut emit = |batch: Batch| {
            let tables: Vec<Table> = batch.chunks.iter().map(|c| c.table).collect();
            let mut sorted = tables.clone();
            sorted.sort();
            assert_eq!(tables, sorted);
            *units.entry(batch.phase).or_insert(0) += batch.units;
            true
        };
        generate(&plan, &mut emit).unwrap();
        for phase in Phase::ALL {
            assert_eq!(
                units.get(&phase).copied().unwrap_or(0),
                phase.total(&plan.sizes)
            );
        }
    }

    /// The stock written is the stock drawn for the catalog less the units of the
    /// orders written (those not cancelled or expired), variant by variant.
    #[test]
    fn stock_on_hand_is_the_initial_stock_less_what_the_written_orders_took() {
        let mut plan = Plan::new(Scale::Small);
        // More orders than the shelves were stocked for at first sight: popular
        // variants sell out, and the draws move on to others.
        plan.sizes.orders = 3_000;
        let initial = {
            let mut ignore = |_| true;
            let mut out = Out::new(&mut ignore);
            let cats = catalog::categories(&plan, &mut out).unwrap();
            Catalog::draw(&plan, &cats).unwrap().initial_stock()
        };
        let mut rows: Vec<Vec<u8>> = vec![Vec::new(); Table::ALL.len()];
        generate(&plan, &mut |batch| {
            for chunk in batch.chunks {
                rows[chunk.table.index()].extend_from_slice(&chunk.bytes);
            }
            true
        })
        .unwrap();
        let lines = |table: Table| -> Vec<String> {
            String::from_utf8(rows[table.index()].clone())
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        };
        // No field before these contains a comma: ids, SKUs, names, amounts, codes.
        let restocked: std::collections::HashSet<String> = lines(Table::Orders)
            .iter()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| matches!(f[9], "cancelled" | "expired"))
            .map(|f| f[0].to_owned())
            .collect();
        let mut left = initial.clone();
        for line in lines(Table::OrderLines) {
            let f: Vec<&str> = line.split(',').collect();
            if !restocked.contains(f[0]) {
                let v = f[2].parse::<usize>().unwrap() - 1;
                left[v] -= f[6].parse::<u32>().unwrap();
            }
        }
        // The options before it and the attributes last may hold commas: without
        // the attributes (`[]`, or quoted JSON), stock is fifth from the end.
        let written: Vec<u32> = lines(Table::ProductVariants)
            .iter()
            .map(|l| {
                let head = match l.strip_suffix(",[]") {
                    Some(head) => head,
                    None => l.rsplit_once(",\"[").unwrap().0,
                };
                head.rsplit(',').nth(4).unwrap().parse().unwrap()
            })
            .collect();
        assert_eq!(written, left);
        assert!(written.contains(&0), "nothing sold out");
    }
}
