//! The committed checksums: what ecom-seed must generate, on any machine.

use ecom_seed::{Checksum, Table};

/// What the small preset writes under two seeds, per table in [`Table::ALL`] order
/// and in all, committed so that the promise holds across machines, toolchains and
/// releases, not only within one process. A change that alters generated data on
/// purpose updates these in the same commit, and says so.
pub const GOLDEN: [(u64, [&str; 12], &str); 2] = [
    (
        7,
        [
            "9ee858f91210abb26fb1b25b6081fd6659ce25309d1155a34efa5eecbf7f22cf",
            "10e222d27f7ea8c65e4ff6ee647413e90a654284ea57814c67ec92248c6f730a",
            "a37d4331cf8907a556f7c93f5ce25b5d498b334f22b62d5fd8fb188d2703d8f1",
            "a5e46b8444bd1b375cd7d8d7497b895e4605f7b60cc71e802d1039a948fa75fa",
            "a486d5a67bef5ee73037560e4b8b40c3ec23e8d83c660da9b7f732d3ac4009b6",
            "b0ed3c9293f2d482cf963d8609e95bf75ef19bdc4aeb3a8c3df6c151fc0a6c05",
            "76be77589133b2e6e50ea329fa07b975287c36d5fc2d410d3ef3271e571d65f6",
            "e495557d374275df12cc4ca589e4b9b5862eff83b7242d102e6def3bc7a91ad1",
            "06652703e113a642468eb3a1d1716cd653352f1b78892461f3fdc122e970c8a8",
            "e0d31b1d867188213bac5bfcbeb6cccd31f69a05a8b7f00cb324b72546bed690",
            "edd352059d2c985bfa97cbc270da858a7020ca6e0e473c888d90578405189019",
            "b28252870a3d423d0568b0db913ba473b94f4abf1dd1fc3c765d9e8888c2c573",
        ],
        "e2b5f6480b0d9da1a34287a06b800f475345812c06d95f0df4e1be76935f3fb3",
    ),
    (
        11,
        [
            "11000758dba53d1e23d3407717ada8528640c189944727baed4eb537b185c638",
            "9f588879e60038de383a49b2759833c6a43cff58992385001571b8f47fd5296f",
            "4e7ec7d231ba3c732362093c93ae07abe622b8c972bbccb6d964aac655812140",
            "c4d924a22ea0e03561edd398a4307a0ce0e5c15014868546cbbc302ca381ee3f",
            "9272c1adf6e4e048ee4c92e3208f10fe5668eda12a27dc2239f45fb2fee04433",
            "46766c6bfaa5507d54120e9cd1a2229f51d8e832e167df150e81d4cab7c9c071",
            "7749b318fccf157a6bec878ad57bef32006cab31eb18f096e7dac9422928b237",
            "1a77a827a7a1ac8658f421a4117ed8bce029716ca3780d9930b6477fbf9ba1fd",
            "ea93f93729588f679a05392e6e4d6026466078f0a3b6f45ae38aa4d8db82b67a",
            "dc6ef6e0974460627b4e2d92dc6a22b584b4a907441c9078ee660adbf260c040",
            "7c9af7c2cefe0ccb1a4eb69054ff43ba1049b5daa17b3cc5fa4ef5e79b38099f",
            "803c86473aa05b17b0c7e159d396f5adedc433992726277a175243bc7b0b7f7e",
        ],
        "6acddae6e1bd70eddd2bef20ef22cc6de563b4d6ddc14972142a46cff11e6da9",
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
