//! The committed checksums: what ecom-seed must generate, on any machine.

use ecom_seed::{Checksum, Table};

/// What the small preset writes under two seeds, per table in [`Table::ALL`] order
/// and in all, committed so that the promise holds across machines, toolchains and
/// releases, not only within one process. A change that alters generated data on
/// purpose updates these in the same commit, and says so: the failing
/// `the_small_preset_writes_the_committed_bytes` prints them.
pub const GOLDEN: [(u64, [&str; 31], &str); 2] = [
    (
        7,
        [
            "70b751da4b65d0c6bb6d207bcc52ba1ac4af63c263f89b4be6f21d288cbc0e35",
            "ad23f4c88701a3ed733e47ba5529400ec6d1348512a3ade7b82093bcb91ae9a5",
            "370a19e3ff821ea4109f06089118444e846995f02c494da55be2b62c181bbc86",
            "f74edf25f1f94a9f512bea3e4dbe76d6058e23eca3d59aa1789b51212fb05723",
            "b7c5089b6db4913ba00de5c3e6dbe61bc1d07c88cf117e39f2cb9107ae1334c0",
            "09efc48f9a146fd9026f2af6ba42d7ed33b81d483cecef5242b8bb5a813c5c5d",
            "e922e917ca15368f613b67862ea65210e3cd9223c3e01f3d22cfaf47138e6136",
            "9af3431a4d390991aadca352c5ed6fedd053183c1939069b1f00b36f35ec4e75",
            "094f651c92a7620cbd49285d3b9a5c0e545634c9af2f126cb91d6b89059b47fe",
            "4027498ee5a510cf9aa51948aba4b28fc85eb9c6e9b29f84ea010574ebce8096",
            "2060750e84d4ba92b00d13751df5e3afda80729f044a68035b8ecb9c0950d627",
            "f8c379d5ac310bb66bf656813de0be37620e9f867e51af5c534127a1d6a34a29",
            "86801c07650d43b63f96792d4b48e7152f359f0a4d785d7bf46c49d4028805af",
            "a37d4331cf8907a556f7c93f5ce25b5d498b334f22b62d5fd8fb188d2703d8f1",
            "a5e46b8444bd1b375cd7d8d7497b895e4605f7b60cc71e802d1039a948fa75fa",
            "a9411dc40cfe3d865f294fc95a33712f7ae96e42ebbe41df6f6a73a8659d5548",
            "9a8124118f37adba593e32f8695da29f0f20023bf14584adb93b95f43db924c8",
            "658e8cc893314b26b3c82d14a5471d4f27bb7ffdd7748f1ca291025bf4bf00d9",
            "857eadf72467000bd75769f931e752af125c6e375677dffd9c921324f737cc82",
            "f610542fd739af579a616e841fec8dc41ab548785590962ff71f0f664bf18c70",
            "e3a1a090eef1f6245ac24235d1270adfd47636f46cd4d46f13cfee0fecdd8e09",
            "e495557d374275df12cc4ca589e4b9b5862eff83b7242d102e6def3bc7a91ad1",
            "21dd40addd86ddfa19248c75e8a310506dd4767cbad6d84d57b78209a688595c",
            "a6964f95f19d3db789450f5017d465018ca4473d9e941252301922fe9694da6e",
            "4e46c91de3834c37811bf7eb8c835c3cf2d93d85101d1c03591af200e58f3cad",
            "5ddae91a08930e826f192b73f4a582319ee5ab4573512a4ec7393a22d8ee608d",
            "914b60439eff322536bdd8da29a2d6ef2cf2f890a269af81e51d67f281ffb0ed",
            "2fad0fd0777c5b6807158c583b2a69b80f488c5248465577ab669f50bf75ae36",
            "856d9a5be33d946894f49cccc4ffa749f4e183e8c7106ebcec416ce3bde477c2",
            "2dd1696bb213f3f15645c18749063061b9616240e6c92adf32c9a816b3839a71",
            "7a28af3bb4135959b373996f6fe5b1ea3628c257c124ed0f72734aa8716efb6f",
        ],
        "44ab08714cbdfb0d7b31c13dbce8de8a3167450bf127efe052094e8f50852c72",
    ),
    (
        11,
        [
            "70b751da4b65d0c6bb6d207bcc52ba1ac4af63c263f89b4be6f21d288cbc0e35",
            "ca174f128769ac6bbb2d1c725af075c257ebcb0f2da34e5914d393679d5f11f7",
            "f910dd77301f51f1b1fc4ff463372a2e23b5cec4715742eb677429cd7c1e073b",
            "dcd4c79b9ba1ca3e622dbec7ededd2bd22a2c65d2e855afe43d8f42c878e2cbc",
            "652fcc643ac922e0b35bd13e243a2120a11b856ff40c0a4ef0a760ba2d2b315f",
            "098d103618b005c022593c90d3618e01f4a7ff681b0d243b4d9c7446095b2d9b",
            "e922e917ca15368f613b67862ea65210e3cd9223c3e01f3d22cfaf47138e6136",
            "9af3431a4d390991aadca352c5ed6fedd053183c1939069b1f00b36f35ec4e75",
            "094f651c92a7620cbd49285d3b9a5c0e545634c9af2f126cb91d6b89059b47fe",
            "4027498ee5a510cf9aa51948aba4b28fc85eb9c6e9b29f84ea010574ebce8096",
            "2060750e84d4ba92b00d13751df5e3afda80729f044a68035b8ecb9c0950d627",
            "b0a068f0c0e07202e258ea3416d1c4f6b44f3085824b91f2baec0eb19fa91c26",
            "783c7984f3fa2897a3fd9349d61d0156aaee0a6403a50378df6d8097e0060e6c",
            "4e7ec7d231ba3c732362093c93ae07abe622b8c972bbccb6d964aac655812140",
            "c4d924a22ea0e03561edd398a4307a0ce0e5c15014868546cbbc302ca381ee3f",
            "734ff585e78852b72280657bf96be4afb41b7d0f4526e44f8b759939e21fa232",
            "328c05de9c30b29ea202b0cb6490b298e903cbf9194657c1a070a90db070a1ab",
            "658e8cc893314b26b3c82d14a5471d4f27bb7ffdd7748f1ca291025bf4bf00d9",
            "c5a806adcc3bd34fe3e3cad0fe9df87de2af59f56a5168fc424aad6382bca5e5",
            "e6c0db6b9ac7fffb0fb1cb2ccce4a89914dbb56b0b733bcffdd078be6e12ee02",
            "8ea987f6c6eebc227044d7773f35c5a73ae5ce16f4a9ea76ac65c794fc2377d0",
            "1a77a827a7a1ac8658f421a4117ed8bce029716ca3780d9930b6477fbf9ba1fd",
            "38597feaecd95a6f2161392a3d85f93b75616a038cc397d6050cf7786f23f157",
            "5e2d60b0f5694547e465b09e8d35d47c149096c07b798704d2a93a49b7633503",
            "92f4bce11ee5fce4ca92cb02bf9453a2cf3009024de97da77464d420845f2c1d",
            "6030fe07371389bfe6126afbf5f22a223583ddb9fa8e22e514648ffcb4bc1938",
            "fbc27ba320eda9abeb9ad6822add59f6791c7e997a37cdb79b40534ff13623cb",
            "c62e313d0b50385ff7d72061ded0f9e75b50de5acfd8a3c5f69aeb01a4ab207c",
            "dac95248f14b49d3c329504eedb9711ec4baae42e9906737544d0f11034c1c32",
            "831d9de73faacb164194fe9518e37986c934ffac0c466e2c53776fee66f24709",
            "4ba3fc031e4f0b02e7d30660cea2e81971bcfebec2b11787ceac842f9681e7fd",
        ],
        "7509d441b8b4b1c8d95c16fa00316a899a6c5fb81bcd39d53d773ca1db796190",
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
