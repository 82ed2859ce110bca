//! The cost estimate from the price table in the repository.
//!
//! The expected figures are worked out by hand from `prices.toml` and written here as
//! literals, with the arithmetic beside them: a price typed wrong in the table, or an item
//! counted wrong in the estimate, changes a total and fails a test.

use ecom_infra::cost::{CostError, PriceTable};
use ecom_infra::spec::{AuroraSpec, AuroraStorage, EngineKind};
use ecom_infra::{DeploymentSpec, Preset};
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A preset on an engine in a region, and its totals: `(preset, engine, region, per month,
/// per hour)`.
type Total = (Preset, EngineKind, &'static str, &'static str, &'static str);

/// Every preset on every engine in every region of the table. A month is 730 hours. Every
/// preset creates its own KMS key (1.00) and has one master secret (0.40); alarms are 0.10
/// each. RDS: ten on the writer, eleven on a burstable one (CPU credits), three per
/// replica. Aurora: five on the writer's role, six on a burstable class, three on the
/// readers' role. Production has an RDS Proxy, billed per vCPU of what it fronts (every
/// class here has 2 vCPU): on RDS the writer, on Aurora every instance of the cluster.
const TOTALS: [Total; 8] = [
    // test on RDS: db.t4g.micro Multi-AZ writer (2 instances) + 1 replica = 3 instances.
    //   instances 0.018 × 3 × 730             = 39.42
    //   storage   20 GiB × 0.127 × 3          =  7.62
    //   fixed     1.00 + 0.40 + 14 × 0.10     =  2.80
    //   month     39.42 + 7.62 + 2.80         = 49.84
    //   hour      0.018 × 3 + (7.62 + 2.80) / 730 = 0.054 + 0.01427 = 0.0683
    (
        Preset::Test,
        EngineKind::Rds,
        "eu-west-1",
        "49.84",
        "0.0683",
    ),
    //   instances 0.016 × 3 × 730             = 35.04
    //   storage   20 GiB × 0.115 × 3          =  6.90
    //   fixed     1.00 + 0.40 + 14 × 0.10     =  2.80
    //   month     35.04 + 6.90 + 2.80         = 44.74
    //   hour      0.016 × 3 + (6.90 + 2.80) / 730 = 0.048 + 0.01329 = 0.0613
    (
        Preset::Test,
        EngineKind::Rds,
        "us-east-1",
        "44.74",
        "0.0613",
    ),
    // production on RDS: db.r6g.large Multi-AZ writer (2 instances) + 2 replicas = 4
    // instances, and a proxy in front of the writer (2 vCPU).
    //   instances 0.258 × 4 × 730             = 753.36
    //   storage   100 GiB × 0.127 × 4         =  50.80
    //   proxy     2 × 0.0165 × 730            =  24.09
    //   fixed     1.00 + 0.40 + 16 × 0.10     =   3.00
    //   month     753.36 + 50.80 + 24.09 + 3.00 = 831.25
    //   hour      0.258 × 4 + 0.033 + (50.80 + 3.00) / 730 = 1.065 + 0.07370 = 1.1387
    (
        Preset::Production,
        EngineKind::Rds,
        "eu-west-1",
        "831.25",
        "1.1387",
    ),
    //   instances 0.225 × 4 × 730             = 657.00
    //   storage   100 GiB × 0.115 × 4         =  46.00
    //   proxy     2 × 0.015 × 730             =  21.90
    //   fixed     1.00 + 0.40 + 16 × 0.10     =   3.00
    //   month     657.00 + 46.00 + 21.90 + 3.00 = 727.90
    //   hour      0.225 × 4 + 0.030 + (46.00 + 3.00) / 730 = 0.930 + 0.06712 = 0.9971
    (
        Preset::Production,
        EngineKind::Rds,
        "us-east-1",
        "727.90",
        "0.9971",
    ),
    // test on Aurora: db.t4g.medium writer + 1 reader, 20 GiB and 20 million I/O expected.
    //   instances 0.082 × 2 × 730             = 119.72
    //   storage   20 GiB × 0.11               =   2.20
    //   I/O       20 × 0.22                   =   4.40
    //   fixed     1.00 + 0.40 + 9 × 0.10      =   2.30
    //   month     119.72 + 2.20 + 4.40 + 2.30 = 128.62
    //   hour      0.164 + (2.20 + 4.40 + 2.30) / 730 = 0.164 + 0.01219 = 0.1762
    (
        Preset::Test,
        EngineKind::Aurora,
        "eu-west-1",
        "128.62",
        "0.1762",
    ),
    //   instances 0.073 × 2 × 730             = 106.58
    //   storage   20 GiB × 0.10               =   2.00
    //   I/O       20 × 0.20                   =   4.00
    //   fixed     1.00 + 0.40 + 9 × 0.10      =   2.30
    //   month     106.58 + 2.00 + 4.00 + 2.30 = 114.88
    //   hour      0.146 + (2.00 + 4.00 + 2.30) / 730 = 0.146 + 0.01137 = 0.1574
    (
        Preset::Test,
        EngineKind::Aurora,
        "us-east-1",
        "114.88",
        "0.1574",
    ),
    // production on Aurora: db.r6g.large writer + 2 readers, 100 GiB and 500 million I/O
    // expected, a proxy in front of the cluster's 3 instances (6 vCPU).
    //   instances 0.29 × 3 × 730              = 635.10
    //   storage   100 GiB × 0.11              =  11.00
    //   I/O       500 × 0.22                  = 110.00
    //   proxy     6 × 0.0165 × 730            =  72.27
    //   fixed     1.00 + 0.40 + 8 × 0.10      =   2.20
    //   month     635.10 + 11.00 + 110.00 + 72.27 + 2.20 = 830.57
    //   hour      0.87 + 0.099 + (11.00 + 110.00 + 2.20) / 730 = 0.969 + 0.16877 = 1.1378
    (
        Preset::Production,
        EngineKind::Aurora,
        "eu-west-1",
        "830.57",
        "1.1378",
    ),
    //   instances 0.26 × 3 × 730              = 569.40
    //   storage   100 GiB × 0.10              =  10.00
    //   I/O       500 × 0.20                  = 100.00
    //   proxy     6 × 0.015 × 730             =  65.70
    //   fixed     1.00 + 0.40 + 8 × 0.10      =   2.20
    //   month     569.40 + 10.00 + 100.00 + 65.70 + 2.20 = 747.30
    //   hour      0.78 + 0.09 + (10.00 + 100.00 + 2.20) / 730 = 0.87 + 0.15370 = 1.0237
    (
        Preset::Production,
        EngineKind::Aurora,
        "us-east-1",
        "747.30",
        "1.0237",
    ),
];

#[test]
fn each_preset_costs_its_hand_computed_total() {
    let table = PriceTable::bundled().unwrap();
    for preset in Preset::ALL {
        for engine in EngineKind::ALL {
            for region in table.regions.keys() {
                assert!(
                    TOTALS
                        .iter()
                        .any(|t| t.0 == preset && t.1 == engine && t.2 == region),
                    "no hand-computed total for {} on {} in {region}",
                    preset.name(),
                    engine.name()
                );
            }
        }
    }
    for (preset, engine, region, monthly, hourly) in TOTALS {
        let what = format!("{} on {} in {region}", preset.name(), engine.name());
        let estimate = table.estimate(&preset.spec_on(region, engine)).unwrap();
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

fn monthly_lines(spec: &DeploymentSpec) -> Vec<(String, Decimal)> {
    let table = PriceTable::bundled().unwrap();
    let estimate = table.estimate(spec).unwrap();
    estimate
        .lines
        .iter()
        .map(|l| (l.item.clone(), l.monthly))
        .collect()
}

fn lines(expected: &[(&str, &str)]) -> Vec<(String, Decimal)> {
    expected
        .iter()
        .map(|(item, monthly)| ((*item).to_owned(), d(monthly)))
        .collect()
}

#[test]
fn test_preset_is_itemised_line_by_line() {
    assert_eq!(
        monthly_lines(&DeploymentSpec::test("eu-west-1")),
        lines(&[
            // 0.018 × 2 × 730 = 26.28
            ("writer db.t4g.micro Multi-AZ (x2)", "26.28"),
            // 20 × 0.127 × 2 = 5.08
            ("writer storage 20 GiB gp3 (x2)", "5.08"),
            // 0.018 × 1 × 730 = 13.14
            ("1 read replica(s) db.t4g.micro", "13.14"),
            // 20 × 0.127 × 1 = 2.54
            ("replica storage 1 x 20 GiB", "2.54"),
            ("KMS key", "1.00"),
            ("master password secret", "0.40"),
            // 14 × 0.10 = 1.40
            ("14 CloudWatch alarms", "1.40"),
        ])
    );
    let estimate = PriceTable::bundled()
        .unwrap()
        .estimate(&DeploymentSpec::test("eu-west-1"))
        .unwrap();
    assert_eq!(estimate.as_of, "2026-12-02");
    let text = estimate.to_string();
    assert!(text.contains("prices as of 2026-12-02"), "{text}");
}

#[test]
fn the_production_presets_price_their_proxy_line_by_line() {
    let rds = monthly_lines(&DeploymentSpec::production("eu-west-1"));
    // 2 vCPU of the db.r6g.large writer × 0.0165 × 730 = 24.09
    assert!(
        rds.contains(&("RDS Proxy, 2 vCPU of the writer".to_owned(), d("24.09"))),
        "{rds:?}"
    );
    assert_eq!(
        monthly_lines(&Preset::Production.spec_on("eu-west-1", EngineKind::Aurora)),
        lines(&[
            // 0.29 × 730 = 211.70
            ("Aurora writer db.r6g.large", "211.70"),
            // 0.29 × 2 × 730 = 423.40
            ("2 Aurora reader(s) db.r6g.large", "423.40"),
            // 100 × 0.11 = 11.00
            ("Aurora storage 100 GiB (expected)", "11.00"),
            // 500 × 0.22 = 110.00
            ("Aurora I/O 500 million requests (expected)", "110.00"),
            // (2 + 2 × 2) vCPU × 0.0165 × 730 = 72.27
            ("RDS Proxy, 6 vCPU of the cluster's instances", "72.27"),
            ("KMS key", "1.00"),
            ("master password secret", "0.40"),
            // 8 × 0.10 = 0.80
            ("8 CloudWatch alarms", "0.80"),
        ])
    );
    // Without the proxy, the same estimate less its line.
    let mut unproxied = DeploymentSpec::production("eu-west-1");
    unproxied.proxy = None;
    let table = PriceTable::bundled().unwrap();
    // 831.25 - 24.09 = 807.16
    assert_eq!(table.estimate(&unproxied).unwrap().monthly(), d("807.16"));
}

#[test]
fn aurora_io_optimized_bills_no_io_dearer_instances_and_storage() {
    let spec = Preset::Production
        .spec_on("eu-west-1", EngineKind::Aurora)
        .on_aurora(AuroraSpec {
            storage: AuroraStorage::IoOptimized,
            estimated_data_gib: 100,
            estimated_io_millions_per_month: 500,
        });
    assert_eq!(
        monthly_lines(&spec),
        lines(&[
            // 0.29 × 1.3 × 730 = 275.21
            ("Aurora writer db.r6g.large, I/O-Optimized", "275.21"),
            // 0.29 × 1.3 × 2 × 730 = 550.42
            ("2 Aurora reader(s) db.r6g.large, I/O-Optimized", "550.42"),
            // 100 × 0.248 = 24.80
            ("Aurora storage 100 GiB (expected), I/O-Optimized", "24.80"),
            // The proxy is billed by vCPU, whatever the storage: 6 × 0.0165 × 730 = 72.27
            ("RDS Proxy, 6 vCPU of the cluster's instances", "72.27"),
            ("KMS key", "1.00"),
            ("master password secret", "0.40"),
            ("8 CloudWatch alarms", "0.80"),
        ])
    );
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
    // Aurora has prices of its own: an RDS class without an Aurora price is not guessed.
    let mut aurora = Preset::Test.spec_on("eu-west-1", EngineKind::Aurora);
    aurora.replicas.instance_class = Some("db.m6g.large".into());
    assert!(
        matches!(table.estimate(&aurora).unwrap_err(), CostError::UnknownItem { item, .. } if item == "db.m6g.large")
    );
    // A proxy in front of a class whose vCPUs the table does not know.
    let mut proxied = DeploymentSpec::production("eu-west-1");
    proxied.database.instance_class = "db.t4g.large".into();
    let mut with_price = table.clone();
    with_price
        .regions
        .get_mut("eu-west-1")
        .unwrap()
        .instance_hourly
        .insert("db.t4g.large".into(), "0.144".into());
    assert_eq!(
        with_price.estimate(&proxied).unwrap_err(),
        CostError::UnknownVcpus("db.t4g.large".into())
    );
}
