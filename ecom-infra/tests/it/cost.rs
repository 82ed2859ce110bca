//! The cost estimate from the price table in the repository.

use ecom_infra::cost::{CostError, PriceTable};
use ecom_infra::{DeploymentSpec, Preset};
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn test_preset_costs_what_the_table_says() {
    let table = PriceTable::bundled().unwrap();
    let estimate = table.estimate(&DeploymentSpec::test("eu-west-1")).unwrap();
    // Multi-AZ writer (x2) + one replica, db.t4g.micro at 0.018/h; 20 GiB gp3 at 0.127
    // three times (writer, standby, replica); key 1.00, secret 0.40, 7 alarms at 0.10.
    let monthly = d("0.018") * d("3") * d("730")
        + d("0.127") * d("20") * d("3")
        + d("1.00")
        + d("0.40")
        + d("0.70");
    assert_eq!(estimate.monthly(), monthly);
    assert_eq!(estimate.as_of, "2026-11-25");
    let text = estimate.to_string();
    assert!(text.contains("prices as of 2026-11-25"), "{text}");
    assert!(
        text.contains(&format!("**{}**", monthly.round_dp(2))),
        "{text}"
    );
}

#[test]
fn production_costs_more_than_test_and_every_preset_is_priced() {
    let table = PriceTable::bundled().unwrap();
    for region in ["eu-west-1", "us-east-1"] {
        let test = table.estimate(&Preset::Test.spec(region)).unwrap();
        let production = table.estimate(&Preset::Production.spec(region)).unwrap();
        assert!(production.monthly() > test.monthly() * d("10"), "{region}");
    }
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
