//! The same seed and sizes give byte-identical data on any machine; anything else
//! gives other data.

use std::path::PathBuf;

use ecom_seed::csv::header;
use ecom_seed::{Scale, Table, checksum, write_csv};

use crate::golden::{GOLDEN, assert_same_data, golden, golden_source};
use crate::{checksum_of, plan};

/// The rows of `dir/<table>.csv`, after its header line (which must be the table's).
fn rows_on_disk(dir: &std::path::Path, table: Table) -> Vec<u8> {
    let bytes = std::fs::read(dir.join(format!("{table}.csv"))).expect("the CSV file");
    let header = header(table.columns());
    assert!(bytes.starts_with(header.as_bytes()), "{table}.csv header");
    bytes[header.len()..].to_vec()
}

#[test]
fn the_small_preset_writes_the_committed_bytes() {
    // A deliberate change of the data fails here first, with what to commit.
    let now: Vec<(u64, ecom_seed::Checksum)> = GOLDEN
        .iter()
        .map(|(seed, _, _)| (*seed, checksum(&plan(Scale::Small, *seed)).unwrap()))
        .collect();
    assert!(
        now.iter().all(|(seed, c)| *c == golden(*seed)),
        "the generated data changed; if that is on purpose, replace GOLDEN in \
         tests/it/golden.rs with:\n{}",
        golden_source(&now)
    );
    for (seed, _, _) in GOLDEN {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("ecom-seed-golden-{seed}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let report = write_csv(&dir, &plan(Scale::Small, seed), &mut |_| {}).unwrap();
        // Hashed from the files, as another machine would read them.
        let written = checksum_of(|table| rows_on_disk(&dir, table));
        let _ = std::fs::remove_dir_all(&dir);
        assert_same_data(&written, &golden(seed), &format!("seed {seed} on disk"));
        // The checksum a run prints describes what it wrote.
        assert_eq!(report.checksum, written, "seed {seed}: printed checksum");
    }
}

#[test]
fn another_seed_gives_other_data_in_every_table_but_the_shop_s_own_setup() {
    let a = checksum(&plan(Scale::Small, 7)).unwrap();
    let b = checksum(&plan(Scale::Small, 8)).unwrap();
    assert_ne!(a.total, b.total);
    // The shop's attributes are one vocabulary, its market, tax rates and shipping
    // the real world's and its own, and so are its two warehouses; what a seed
    // draws is values, lists and prices.
    let fixed = [
        Table::AttributeDefinitions,
        Table::Markets,
        Table::TaxRates,
        Table::ShippingZones,
        Table::ShippingZoneAreas,
        Table::ShippingMethods,
        Table::StockLocations,
    ];
    for ((table, x), (_, y)) in a.tables.iter().zip(&b.tables) {
        if fixed.contains(table) {
            assert_eq!(x, y, "{table} depends on the seed");
        } else {
            assert_ne!(x, y, "{table} is the same under both seeds");
        }
    }
}

#[test]
fn other_sizes_give_other_data() {
    let mut bigger = plan(Scale::Small, 7);
    bigger.sizes.orders += 1;
    assert_ne!(checksum(&bigger).unwrap().total, golden(7).total);
}
