//! Security posture as policy: the CloudFormation Guard rules in ecom-infra/guard/, run with
//! the cfn-guard crate against every preset, and each rule against a template broken on
//! purpose, so that a rule which can never fail is caught.

use std::collections::BTreeSet;

use ecom_infra::{Preset, template};
use serde_json::{Value, json};

use crate::support::{REGION, workspace_root};

/// Runs one rules file on a template: `(status, compliant rules, non-compliant rules)`.
fn guard(rules_file: &str, template: &Value) -> (String, BTreeSet<String>, BTreeSet<String>) {
    let rules = std::fs::read_to_string(workspace_root().join("ecom-infra/guard").join(rules_file))
        .unwrap();
    let data = template.to_string();
    let out = cfn_guard::run_checks(
        cfn_guard::ValidateInput {
            content: &data,
            file_name: "template.json",
        },
        cfn_guard::ValidateInput {
            content: &rules,
            file_name: rules_file,
        },
        false,
    )
    .unwrap_or_else(|e| panic!("{rules_file}: {e}"));
    let report: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{rules_file}: {e}: {out}"));
    let names = |key: &str| -> BTreeSet<String> {
        report[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let failed: BTreeSet<String> = report["not_compliant"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|clause| {
            clause
                .pointer("/Rule/name")
                .or_else(|| clause.pointer("/Clause/Unary/context"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    (
        report["status"].as_str().unwrap_or_default().to_owned(),
        names("compliant"),
        failed,
    )
}

fn rendered(preset: Preset) -> Value {
    template::render(&preset.spec(REGION)).unwrap()
}

fn instances(t: &mut Value) -> Vec<&mut Value> {
    t["Resources"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .filter(|r| r["Type"] == "AWS::RDS::DBInstance")
        .collect()
}

type Break = fn(&mut Value);
/// A rule's name, the preset it passes on, and how to break it.
type RuleCase = (&'static str, Preset, Break);

/// Each rules file: its rules, each with the preset it passes on and a way to break it.
fn rules() -> Vec<(&'static str, Vec<RuleCase>)> {
    vec![
        (
            "no_public_access.guard",
            vec![
                ("db_instances_not_publicly_accessible", Preset::Test, |t| {
                    instances(t)[0]["Properties"]["PubliclyAccessible"] = json!(true)
                }),
                ("no_open_ingress_or_egress", Preset::Test, |t| {
                    t["Resources"]["DbSecurityGroup"]["Properties"]["SecurityGroupIngress"][0]["CidrIp"] =
                        json!("0.0.0.0/0")
                }),
                ("private_subnets_only", Preset::Test, |t| {
                    t["Resources"]["Igw"] =
                        json!({"Type": "AWS::EC2::InternetGateway", "Properties": {}});
                }),
            ],
        ),
        (
            "encryption.guard",
            vec![
                ("stack_key_exists", Preset::Test, |t| {
                    t["Resources"]["DbKey"]["Properties"]["EnableKeyRotation"] = json!(false)
                }),
                ("storage_encrypted_with_stack_key", Preset::Test, |t| {
                    t["Resources"]["Primary"]["Properties"]["KmsKeyId"] = json!("alias/aws/rds")
                }),
            ],
        ),
        (
            "iam_auth.guard",
            vec![
                ("iam_authentication_on", Preset::Test, |t| {
                    t["Resources"]["Replica1"]["Properties"]["EnableIAMDatabaseAuthentication"] =
                        json!(false)
                }),
                ("master_password_managed_by_aws", Preset::Test, |t| {
                    t["Resources"]["Primary"]["Properties"]["MasterUserPassword"] =
                        json!("hunter2hunter2")
                }),
            ],
        ),
        (
            "force_ssl.guard",
            vec![
                ("force_ssl_on", Preset::Test, |t| {
                    t["Resources"]["DbParameterGroup"]["Properties"]["Parameters"]["rds.force_ssl"] =
                        json!("0")
                }),
                (
                    "instances_use_the_stack_parameter_group",
                    Preset::Test,
                    |t| {
                        t["Resources"]["Replica1"]["Properties"]["DBParameterGroupName"] =
                            json!("default.postgres17")
                    },
                ),
            ],
        ),
        (
            "backups.guard",
            vec![("backups_on", Preset::Production, |t| {
                t["Resources"]["Primary"]["Properties"]["BackupRetentionPeriod"] = json!(0)
            })],
        ),
        (
            "production.guard",
            vec![
                ("production_writer_is_multi_az", Preset::Production, |t| {
                    t["Resources"]["Primary"]["Properties"]["MultiAZ"] = json!(false)
                }),
                ("production_deletion_protection", Preset::Production, |t| {
                    t["Resources"]["Replica2"]["Properties"]["DeletionProtection"] = json!(false)
                }),
            ],
        ),
        (
            "alarms.guard",
            vec![
                ("alarm_on_each_metric", Preset::Test, |t| {
                    t["Resources"]
                        .as_object_mut()
                        .unwrap()
                        .remove("AlarmPrimaryFreeableMemory");
                }),
                ("replica_lag_alarm_per_replica", Preset::Test, |t| {
                    t["Resources"]
                        .as_object_mut()
                        .unwrap()
                        .remove("AlarmReplica1Lag");
                }),
                ("alarms_go_to_the_topic", Preset::Test, |t| {
                    t["Resources"]["AlarmPrimaryCpu"]["Properties"]["AlarmActions"] =
                        json!(["arn:aws:sns:eu-west-1:123456789012:elsewhere"])
                }),
            ],
        ),
        (
            "tags.guard",
            vec![
                ("only_known_taggable_types", Preset::Test, |t| {
                    t["Resources"]["Extra"] =
                        json!({"Type": "AWS::SQS::Queue", "Properties": {"Tags": []}});
                }),
                ("tags_on_every_resource", Preset::Production, |t| {
                    let tags = t["Resources"]["PrivateSubnet3"]["Properties"]["Tags"]
                        .as_array_mut()
                        .unwrap();
                    tags.retain(|tag| tag["Key"] != "Owner");
                }),
            ],
        ),
    ]
}

#[test]
fn every_rules_file_in_guard_is_exercised() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(workspace_root().join("ecom-infra/guard"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".guard"))
        .collect();
    let tested: BTreeSet<String> = rules().iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(on_disk, tested);
}

#[test]
fn every_preset_complies_with_every_rule() {
    for preset in Preset::ALL {
        let t = rendered(preset);
        for (file, _) in rules() {
            let (status, _, failed) = guard(file, &t);
            assert_ne!(
                status,
                "FAIL",
                "{file} on the {} preset: {failed:?}",
                preset.name()
            );
        }
    }
}

#[test]
fn each_rule_passes_on_a_preset_and_fails_on_a_broken_template() {
    for (file, file_rules) in rules() {
        for (rule, preset, break_it) in file_rules {
            let mut t = rendered(preset);
            let (status, compliant, _) = guard(file, &t);
            assert_eq!(status, "PASS", "{file} on the {} preset", preset.name());
            assert!(
                compliant.contains(rule),
                "{file}: {rule} was not evaluated as compliant on {}: {compliant:?}",
                preset.name()
            );
            break_it(&mut t);
            let (status, compliant, failed) = guard(file, &t);
            assert_eq!(status, "FAIL", "{file}: breaking {rule} went unnoticed");
            assert!(
                !compliant.contains(rule),
                "{file}: {rule} still compliant after breaking it ({failed:?})"
            );
        }
    }
}
