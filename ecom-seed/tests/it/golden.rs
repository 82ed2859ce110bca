//! The committed checksums: what ecom-seed must generate, on any machine.

use ecom_seed::{Checksum, Table};

/// What the small preset writes under two seeds, per table in [`Table::ALL`] order
/// and in all, committed so that the promise holds across machines, toolchains and
/// releases, not only within one process. A change that alters generated data on
/// purpose updates these in the same commit, and says so: the failing
/// `the_small_preset_writes_the_committed_bytes` prints them.
pub const GOLDEN: [(u64, [&str; 16], &str); 2] = [
    (
        7,
        [
            "70b751da4b65d0c6bb6d207bcc52ba1ac4af63c263f89b4be6f21d288cbc0e35",
            "ad23f4c88701a3ed733e47ba5529400ec6d1348512a3ade7b82093bcb91ae9a5",
            "ea3d372ed191910fa55152e0d17c2df6da0b58942b9080d7d771e6e029a947f7",
            "f74edf25f1f94a9f512bea3e4dbe76d6058e23eca3d59aa1789b51212fb05723",
            "b7c5089b6db4913ba00de5c3e6dbe61bc1d07c88cf117e39f2cb9107ae1334c0",
            "09efc48f9a146fd9026f2af6ba42d7ed33b81d483cecef5242b8bb5a813c5c5d",
            "a37d4331cf8907a556f7c93f5ce25b5d498b334f22b62d5fd8fb188d2703d8f1",
            "a5e46b8444bd1b375cd7d8d7497b895e4605f7b60cc71e802d1039a948fa75fa",
            "a486d5a67bef5ee73037560e4b8b40c3ec23e8d83c660da9b7f732d3ac4009b6",
            "153b4221076932c2f5fc0144f987c012b9ac2242f129d226d81f8f00234e6b19",
            "5cb6867a1dcbb6e72e00f9dff75051c90b3e80b7600ce608f74c24657f8a33f5",
            "e495557d374275df12cc4ca589e4b9b5862eff83b7242d102e6def3bc7a91ad1",
            "21dd40addd86ddfa19248c75e8a310506dd4767cbad6d84d57b78209a688595c",
            "e0d31b1d867188213bac5bfcbeb6cccd31f69a05a8b7f00cb324b72546bed690",
            "316fcb9fa861f7de197a34c3ab11ab3c65c116f32f011a41393ac8361b7b0f0e",
            "2b5e48dfe762e92209edd9d0385b1ecb4d874be09f6ad0b736f3b9e995c03959",
        ],
        "05a54cadcadcaceb52dfdf6dc75d5f99dc3f023e27be249e708220f54e09afae",
    ),
    (
        11,
        [
            "70b751da4b65d0c6bb6d207bcc52ba1ac4af63c263f89b4be6f21d288cbc0e35",
            "ca174f128769ac6bbb2d1c725af075c257ebcb0f2da34e5914d393679d5f11f7",
            "5646bb70213fdd51674c098978b5db332abed11700337008aa5c50e75593949e",
            "dcd4c79b9ba1ca3e622dbec7ededd2bd22a2c65d2e855afe43d8f42c878e2cbc",
            "652fcc643ac922e0b35bd13e243a2120a11b856ff40c0a4ef0a760ba2d2b315f",
            "098d103618b005c022593c90d3618e01f4a7ff681b0d243b4d9c7446095b2d9b",
            "4e7ec7d231ba3c732362093c93ae07abe622b8c972bbccb6d964aac655812140",
            "c4d924a22ea0e03561edd398a4307a0ce0e5c15014868546cbbc302ca381ee3f",
            "9272c1adf6e4e048ee4c92e3208f10fe5668eda12a27dc2239f45fb2fee04433",
            "1f57bd6556d44d15f0b8f5becca9b52fc049ef3f29ffb4e18699ad4f99b98126",
            "3ec8a3ba23b7433085bf7f63c3035c022d3a698626a023bc016763edbc294359",
            "1a77a827a7a1ac8658f421a4117ed8bce029716ca3780d9930b6477fbf9ba1fd",
            "38597feaecd95a6f2161392a3d85f93b75616a038cc397d6050cf7786f23f157",
            "dc6ef6e0974460627b4e2d92dc6a22b584b4a907441c9078ee660adbf260c040",
            "672061caa768b977a3bf58cbf08c54e6d4abb23df56d754e09d07eda84b5637a",
            "e7dde89cbe322544d54d5a7bf0f17a5007a1db0ec829767e30c63caa3dc27a34",
        ],
        "7dd0264a2c6463c2a7db09c1f7dd34daecca0c71de60add3b382c1c589c54f64",
    ),
];

/// The committed checksum of the small preset under `seed`.
pub fn golden(seed: u64) -> Checksum {
    let (_, tables, total) = GOLDEN
        .iter()
        .find(|(s, _, _)| *s == seed)
        .unwrap_or_else(|| panic!("no golden checksum for seed {seed}"));
    Checksum {
        tables: Table::ALL
            .iter()
            .zip(tables)
            .map(|(table, digest)| (*table, (*digest).to_owned()))
            .collect(),
        total: (*total).to_owned(),
    }
}

/// [`GOLDEN`] as Rust source, for `checksums` (seed and checksum pairs).
pub fn golden_source(checksums: &[(u64, Checksum)]) -> String {
    let mut s = format!(
        "pub const GOLDEN: [(u64, [&str; {}], &str); {}] = [\n",
        Table::ALL.len(),
        checksums.len()
    );
    for (seed, checksum) in checksums {
        s.push_str(&format!("    (\n        {seed},\n        [\n"));
        for (_, digest) in &checksum.tables {
            s.push_str(&format!("            \"{digest}\",\n"));
        }
        s.push_str(&format!(
            "        ],\n        \"{}\",\n    ),\n",
            checksum.total
        ));
    }
    s.push_str("];\n");
    s
}

/// Panics naming every table whose digest differs, with its new digest (what a
/// deliberate change commits), then the totals.
pub fn assert_same_data(actual: &Checksum, expected: &Checksum, what: &str) {
    let differing: Vec<(&str, &str)> = actual
        .tables
        .iter()
        .zip(&expected.tables)
        .filter(|((_, a), (_, b))| a != b)
        .map(|((table, a), _)| (table.name(), a.as_str()))
        .collect();
    assert!(
        differing.is_empty() && actual.total == expected.total,
        "{what}: tables differ (name, new digest): {differing:?}; total {} instead of {}",
        actual.total,
        expected.total
    );
}
