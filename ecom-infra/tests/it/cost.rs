//! The cost estimate from the price table in the repository.
//!
//! The expected figures are worked out by hand from `prices.toml` and written here as
//! literals, with the arithmetic beside them: a price typed wrong in the table, or an item
//! counted wrong in the estimate, changes a total and fails a test.

use ecom_infra::cost::{CostError, PriceTable};
use ecom_infra::{DeploymentSpec, Preset};
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A preset in a region, and its totals: `(preset, region, per month, per hour)`.
type Total = (Preset, &'static str, &'static str, &'static str);

/// Every preset in every region of the table. A month is 730 hours. Both presets create
/// their own KMS key (1.00) and have one master secret (0.40); alarms are 0.10 each: ten
/// on the writer, eleven on a burstable one (CPU credits), and three per replica.
const TOTALS: [Total; 4] = [
    // test: db.t4g.micro Multi-AZ writer (2 instances) + 1 replica = 3 instances.
    //   instances 0.018 × 3 × 730             = 39.42
    //   storage   20 GiB × 0.127 × 3          =  7.62
    //   fixed     1.00 + 0.40 + 14 × 0.10     =  2.80
    //   month     39.42 + 7.62 + 2.80         = 49.84
    //   hour      0.018 × 3 + (7.62 + 2.80) / 730 = 0.054 + 0.01427 = 0.0683
    (Preset::Test, "eu-west-1", "49.84", "0.0683"),
    //   instances 0.016 × 3 × 730             = 35.04
    //   storage   20 GiB × 0.115 × 3          =  6.90
    //   fixed     1.00 + 0.40 + 14 × 0.10     =  2.80
    //   month     35.04 + 6.90 + 2.80         = 44.74
    //   hour      0.016 × 3 + (6.90 + 2.80) / 730 = 0.048 + 0.01329 = 0.0613
    (Preset::Test, "us-east-1", "44.74", "0.0613"),
    // production: db.r6g.large Multi-AZ writer (2 instances) + 2 replicas = 4 instances.
    //   instances 0.258 × 4 × 730             = 753.36
    //   storage   100 GiB × 0.127 × 4         =  50.80
    //   fixed     1.00 + 0.40 + 16 × 0.10     =   3.00
    //   month     753.36 + 50.80 + 3.00       = 807.16
    //   hour      0.258 × 4 + (50.80 + 3.00) / 730 = 1.032 + 0.07370 = 1.1057
    (Preset::Production, "eu-west-1", "807.16", "1.1057"),
    //   instances 0.225 × 4 × 730             = 657.00
    //   storage   100 GiB × 0.115 × 4         =  46.00
    //   fixed     1.00 + 0.40 + 16 × 0.10     =   3.00
    //   month     657.00 + 46.00 + 3.00       = 706.00
    //   hour      0.225 × 4 + (46.00 + 3.00) / 730 = 0.900 + 0.06712 = 0.9671
    (Preset::Production, "us-east-1", "706.00", "0.9671"),
];

#[test]
fn each_preset_costs_its_hand_computed_total() {
    let table = PriceTable::bundled().unwrap();
    for preset in Preset::ALL {
        for region in table.regions.keys() {
            assert!(
                TOTALS.iter().any(|t| t.0 == preset && t.1 == region),
                "no hand-computed total for {} in {region}",
                preset.name()
            );
        }
    }
    for (preset, region, monthly, hourly) in TOTALS {
        let what = format!("{} in {region}", preset.name());
        let estimate = table.estimate(&preset.spec(region)).unwrap();
        assert_eq!(estimate.monthly(), d(monthly), "{what}: {estimate}");
        assert_eq!(
            estimate.hourly().round_dp(4),
            d(hourly),
            "{what}: {estimate}"
        );
        let text = estimate.to_string();
        assert!(
            text.contains(&format!("| **total** | **{hourly}** | **{monthly}** |")),
            "{what}: {text}"
        );
    }
}

#[test]
fn test_preset_is_itemised_line_by_line() {
    let table = PriceTable::bundled().unwrap();
    let estimate = table.estimate(&DeploymentSpec::test("eu-west-1")).unwrap();
    let lines: Vec<(&str, Decimal)> = estimate
        .lines
        .iter()
        .map(|l| (l.item.as_str(), l.monthly))
        .collect();
    assert_eq!(
        lines,
        [
            // 0.018 × 2 × 730 = 26.28
            ("writer db.t4g.micro Multi-AZ (x2)", d("26.28")),
            // 20 × 0.127 × 2 = 5.08
            ("writer storage 20 GiB gp3 (x2)", d("5.08")),
            // 0.018 × 1 × 730 = 13.14
            ("1 read replica(s) db.t4g.micro", d("13.14")),
            // 20 × 0.127 × 1 = 2.54
            ("replica storage 1 x 20 GiB", d("2.54")),
            ("KMS key", d("1.00")),
            ("master password secret", d("0.40")),
            // 14 × 0.10 = 1.40
            ("14 CloudWatch alarms", d("1.40")),
        ]
    );
    assert_eq!(estimate.as_of, "2026-11-25");
    let text = estimate.to_string();
    assert!(text.contains("prices as of 2026-11-25"), "{text}");
}

#[test]
fn unknown_region_or_class_is_an_error_not_a_guess() {
    let table = PriceTable::bundled().unwrap();
    assert_eq!(
        table
            .estimate(&DeploymentSpec::test("ap-south-2"))
            .unwrap_err(),
        CostError::UnknownRegion("ap-south-2".into())
    );
    let mut spec = DeploymentSpec::test("eu-west-1");
    spec.database.instance_class = "db.x2g.16xlarge".into();
    assert!(
        matches!(table.estimate(&spec).unwrap_err(), CostError::UnknownItem { item, .. } if item == "db.x2g.16xlarge")
    );
}
