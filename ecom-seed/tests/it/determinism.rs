//! The same seed and sizes give byte-identical data; anything else gives other data.

use ecom_seed::{Scale, checksum};

use crate::plan;

#[test]
fn the_same_seed_gives_the_same_checksum() {
    let first = checksum(&plan(Scale::Small, 7)).unwrap();
    let second = checksum(&plan(Scale::Small, 7)).unwrap();
    assert_eq!(first, second);
    assert_eq!(first.tables, second.tables);
}

#[test]
fn another_seed_gives_other_data_in_every_table() {
    let a = checksum(&plan(Scale::Small, 7)).unwrap();
    let b = checksum(&plan(Scale::Small, 8)).unwrap();
    assert_ne!(a.total, b.total);
    for ((table, x), (_, y)) in a.tables.iter().zip(&b.tables) {
        assert_ne!(x, y, "{table} is the same under both seeds");
    }
}

#[test]
fn other_sizes_give_other_data() {
    let a = checksum(&plan(Scale::Small, 7)).unwrap();
    let mut bigger = plan(Scale::Small, 7);
    bigger.sizes.orders += 1;
    assert_ne!(a, checksum(&bigger).unwrap());
}
