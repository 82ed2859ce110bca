//! Security posture as policy: the CloudFormation Guard rules in ecom-infra/guard/, run with
//! the cfn-guard crate against every preset, and every clause of every rule against a
//! template broken on purpose, so that a rule or a clause which can never fail is caught.
//!
//! The rules files are read, not listed here: each rule name and each clause found in them
//! must have a [`Case`], so a rule or clause added without a failing example fails
//! [`every_rule_and_every_clause_has_a_failing_case`].

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::ops::Range;
use std::path::PathBuf;

use cfn_guard::commands::Executable;
use cfn_guard::commands::validate::{OutputFormatType, ShowSummaryType};
use cfn_guard::utils::reader::{ReadBuffer, Reader};
use cfn_guard::utils::writer::{WriteBuffer, Writer};
use cfn_guard::{CommandBuilder, ValidateBuilder};
use ecom_infra::spec::{EngineKind, ProxySpec};
use ecom_infra::{DeploymentSpec, Preset, template};
use serde_json::{Value, json};

use crate::support::{REGION, workspace_root};

fn guard_dir() -> PathBuf {
    workspace_root().join("ecom-infra/guard")
}

/// Every `.guard` file, by file name, with its text.
fn rules_files() -> BTreeMap<String, String> {
    std::fs::read_dir(guard_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "guard"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// What cfn-guard said about one template.
struct Report {
    /// `PASS`, `FAIL` or `SKIP`.
    status: String,
    /// Rules that passed.
    compliant: BTreeSet<String>,
    /// Rules that failed, with how many checks of each failed.
    failed: BTreeMap<String, usize>,
}

impl Report {
    fn failed_checks(&self, rule: &str) -> usize {
        self.failed.get(rule).copied().unwrap_or(0)
    }
}

/// Runs the rules in `rules` (the text of `file_name`) on a template.
///
/// Through the `validate` command on a payload rather than `cfn_guard::run_checks`: that
/// returns only the last 8 KiB of a longer report (it reads what is left in a `BufWriter`),
/// and a failure that quotes a whole resource makes a longer one.
fn guard(file_name: &str, rules: &str, template: &Value) -> Report {
    let payload = json!({"rules": [rules], "data": [template.to_string()]}).to_string();
    let mut reader = Reader::new(ReadBuffer::Cursor(Cursor::new(payload.into_bytes())));
    let mut writer = Writer::new(WriteBuffer::Vec(Vec::new())).unwrap();
    ValidateBuilder::default()
        .payload(true)
        .structured(true)
        .output_format(OutputFormatType::JSON)
        .show_summary(vec![ShowSummaryType::None])
        .try_build()
        .unwrap()
        .execute(&mut writer, &mut reader)
        .unwrap_or_else(|e| panic!("{file_name}: {e}\n{rules}"));
    let out = writer.stripped().unwrap();
    let reports: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{file_name}: {e}: {out}"));
    // One report per data file; there is one.
    let report = &reports[0];
    let compliant = report["compliant"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    // Each failed rule lists every check that failed in it, one entry per clause and value.
    let failed = report["not_compliant"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let name = entry.pointer("/Rule/name")?.as_str()?.to_owned();
            let checks = entry
                .pointer("/Rule/checks")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            Some((name, checks))
        })
        .collect();
    Report {
        status: report["status"].as_str().unwrap_or_default().to_owned(),
        compliant,
        failed,
    }
}

/// One rule of a rules file, with its clauses.
#[derive(Debug)]
struct RuleDef {
    name: String,
    clauses: Vec<ClauseDef>,
}

/// One clause of a rule as the rules file writes it.
#[derive(Debug)]
struct ClauseDef {
    /// Its text with whitespace collapsed; inside a block, wrapped as `header { clause }`,
    /// which tells apart the same clause in two blocks (ingress and egress).
    text: String,
    /// Its lines in the file, 0-based.
    lines: Range<usize>,
    /// Whether it sits in a block (`%resources { ... }`) rather than in the rule's body.
    nested: bool,
}

/// The rules of a rules file and their clauses. Knows the shapes our rules files use: a
/// rule's header on one line ending in `{`, blocks opened by a line ending in `{` and
/// closed by a line `}`, and one clause a line unless a `[` is left open.
fn parse_rules(text: &str) -> Vec<RuleDef> {
    let lines: Vec<&str> = text.lines().collect();
    let open_brackets = |s: &str| s.matches('[').count() > s.matches(']').count();
    let (mut rules, mut blocks, mut current) = (Vec::new(), Vec::<String>::new(), None);
    let mut i = 0;
    while i < lines.len() {
        let start = i;
        let mut statement = lines[i].trim().to_owned();
        while open_brackets(&statement) && i + 1 < lines.len() {
            i += 1;
            statement = format!("{statement} {}", lines[i].trim());
        }
        i += 1;
        let statement = statement.split_whitespace().collect::<Vec<_>>().join(" ");
        if statement.is_empty() || statement.starts_with('#') {
            continue;
        }
        match &mut current {
            None => {
                if let Some(rest) = statement.strip_prefix("rule ") {
                    let name = rest.split_whitespace().next().unwrap();
                    current = Some(RuleDef {
                        name: name.trim_end_matches('{').to_owned(),
                        clauses: Vec::new(),
                    });
                }
            }
            Some(_) if statement == "}" => {
                if blocks.pop().is_none() {
                    rules.extend(current.take());
                }
            }
            Some(_) if statement.ends_with('{') => {
                blocks.push(statement.trim_end_matches('{').trim_end().to_owned());
            }
            Some(rule) => {
                let text = blocks
                    .iter()
                    .rev()
                    .fold(statement, |inner, header| format!("{header} {{ {inner} }}"));
                rule.clauses.push(ClauseDef {
                    text,
                    lines: start..i,
                    nested: !blocks.is_empty(),
                });
            }
        }
    }
    assert!(current.is_none(), "a rule is not closed:\n{text}");
    rules
}

/// The rules file with one clause taken out: in a rule's body it becomes `Resources
/// exists`, true of every template, so the rule keeps a clause and still parses; in a
/// block it is dropped, the block's other clauses staying.
fn without_clause(text: &str, clause: &ClauseDef) -> String {
    let mut out = String::new();
    for (n, line) in text.lines().enumerate() {
        if !clause.lines.contains(&n) {
            out.push_str(line);
        } else if n == clause.lines.start && !clause.nested {
            out.push_str("    Resources exists");
        } else {
            continue;
        }
        out.push('\n');
    }
    out
}

/// One clause of one rule, the preset and engine it passes on, and a way to make it fail.
struct Case {
    file: &'static str,
    rule: &'static str,
    /// As [`ClauseDef::text`] writes it.
    clause: &'static str,
    preset: Preset,
    engine: EngineKind,
    /// Applied to the preset's spec before rendering (a part no preset has, such as a
    /// proxy).
    adjust: fn(&mut DeploymentSpec),
    break_it: fn(&mut Value),
}

/// Like [`case`], on the preset's spec changed by `adjust`.
fn case_with(
    file: &'static str,
    rule: &'static str,
    clause: &'static str,
    preset: Preset,
    adjust: fn(&mut DeploymentSpec),
    break_it: fn(&mut Value),
) -> Case {
    Case {
        file,
        rule,
        clause,
        preset,
        engine: EngineKind::Rds,
        adjust,
        break_it,
    }
}

fn case(
    file: &'static str,
    rule: &'static str,
    clause: &'static str,
    preset: Preset,
    break_it: fn(&mut Value),
) -> Case {
    case_with(file, rule, clause, preset, |_| {}, break_it)
}

/// Like [`case`], on the preset moved to an Aurora cluster.
fn aurora_case(
    file: &'static str,
    rule: &'static str,
    clause: &'static str,
    preset: Preset,
    break_it: fn(&mut Value),
) -> Case {
    aurora_case_with(file, rule, clause, preset, |_| {}, break_it)
}

/// Like [`case_with`], on the preset moved to an Aurora cluster.
fn aurora_case_with(
    file: &'static str,
    rule: &'static str,
    clause: &'static str,
    preset: Preset,
    adjust: fn(&mut DeploymentSpec),
    break_it: fn(&mut Value),
) -> Case {
    Case {
        engine: EngineKind::Aurora,
        ..case_with(file, rule, clause, preset, adjust, break_it)
    }
}

fn rendered_with(preset: Preset, engine: EngineKind, adjust: fn(&mut DeploymentSpec)) -> Value {
    let mut spec = preset.spec_on(REGION, engine);
    adjust(&mut spec);
    template::render(&spec).unwrap()
}

/// Every template the rules must pass: each preset on each engine, with and without a
/// proxy.
fn every_template() -> Vec<(String, EngineKind, Value)> {
    let mut out = Vec::new();
    for preset in Preset::ALL {
        for engine in EngineKind::ALL {
            for proxy in [None, Some(ProxySpec::default())] {
                let mut spec = preset.spec_on(REGION, engine);
                spec.proxy = proxy;
                let name = format!(
                    "{} on {} {}",
                    preset.name(),
                    engine.name(),
                    if spec.proxy.is_some() {
                        "with a proxy"
                    } else {
                        "without a proxy"
                    }
                );
                out.push((name, engine, template::render(&spec).unwrap()));
            }
        }
    }
    out
}

fn with_proxy(spec: &mut DeploymentSpec) {
    spec.proxy = Some(ProxySpec::default());
}

fn proxy_cases() -> Vec<Case> {
    let (f, rule) = ("proxy.guard", "proxy_tls_and_iam_only");
    vec![
        case_with(
            f,
            rule,
            "%proxies.Properties.RequireTLS == true",
            Preset::Test,
            with_proxy,
            |t| properties(t, "Proxy")["RequireTLS"] = json!(false),
        ),
        case_with(
            f,
            rule,
            "%proxies.Properties.DefaultAuthScheme == 'IAM_AUTH'",
            Preset::Test,
            with_proxy,
            |t| properties(t, "Proxy")["DefaultAuthScheme"] = json!("NONE"),
        ),
        case_with(
            f,
            rule,
            "%proxies.Properties.Auth !exists",
            Preset::Test,
            with_proxy,
            |t| {
                properties(t, "Proxy")["Auth"] = json!([{"AuthScheme": "SECRETS",
                    "SecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x", "IAMAuth": "DISABLED"}])
            },
        ),
        case_with(
            f,
            rule,
            "%proxies.Properties.VpcSecurityGroupIds[*].'Fn::GetAtt'[0] == 'ProxySecurityGroup'",
            Preset::Test,
            with_proxy,
            |t| {
                properties(t, "Proxy")["VpcSecurityGroupIds"] =
                    json!([{"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}])
            },
        ),
    ]
}

fn resources(t: &mut Value) -> &mut serde_json::Map<String, Value> {
    t["Resources"].as_object_mut().unwrap()
}

fn properties<'a>(t: &'a mut Value, logical_id: &str) -> &'a mut Value {
    &mut t["Resources"][logical_id]["Properties"]
}

fn remove_property(t: &mut Value, logical_id: &str, property: &str) {
    properties(t, logical_id)
        .as_object_mut()
        .unwrap()
        .remove(property)
        .unwrap_or_else(|| panic!("{logical_id} has no {property}"));
}

fn remove_tag(t: &mut Value, logical_id: &str, key: &str) {
    let tags = properties(t, logical_id)["Tags"].as_array_mut().unwrap();
    let before = tags.len();
    tags.retain(|tag| tag["Key"] != key);
    assert_eq!(tags.len() + 1, before, "{logical_id} had no tag {key}");
}

fn remove_resource(t: &mut Value, logical_id: &str) {
    resources(t)
        .remove(logical_id)
        .unwrap_or_else(|| panic!("no {logical_id}"));
}

fn no_public_access_cases() -> Vec<Case> {
    let f = "no_public_access.guard";
    let (public, open) = (
        "db_instances_not_publicly_accessible",
        "no_open_ingress_or_egress",
    );
    let private = "private_subnets_only";
    vec![
        case(
            f,
            public,
            "%db_instances.Properties.PubliclyAccessible exists",
            Preset::Test,
            |t| remove_property(t, "Primary", "PubliclyAccessible"),
        ),
        case(
            f,
            public,
            "%db_instances.Properties.PubliclyAccessible == false",
            Preset::Test,
            |t| properties(t, "Replica1")["PubliclyAccessible"] = json!(true),
        ),
        case(
            f,
            open,
            "%security_groups.Properties.SecurityGroupIngress[*] { when CidrIp exists { CidrIp != '0.0.0.0/0' } }",
            Preset::Test,
            |t| {
                properties(t, "DbSecurityGroup")["SecurityGroupIngress"][0]["CidrIp"] =
                    json!("0.0.0.0/0")
            },
        ),
        case(
            f,
            open,
            "%security_groups.Properties.SecurityGroupIngress[*] { when CidrIpv6 exists { CidrIpv6 != '::/0' } }",
            Preset::Test,
            |t| {
                properties(t, "DbSecurityGroup")["SecurityGroupIngress"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"CidrIpv6": "::/0", "FromPort": 5432, "IpProtocol": "tcp", "ToPort": 5432}))
            },
        ),
        case(
            f,
            open,
            "%security_groups.Properties.SecurityGroupEgress exists",
            Preset::Test,
            |t| {
                // Without it AWS allows all egress.
                remove_property(t, "DbSecurityGroup", "SecurityGroupEgress")
            },
        ),
        case(
            f,
            open,
            "%security_groups.Properties.SecurityGroupEgress[*] { when CidrIp exists { CidrIp != '0.0.0.0/0' } }",
            Preset::Test,
            |t| {
                properties(t, "DbSecurityGroup")["SecurityGroupEgress"][0]["CidrIp"] =
                    json!("0.0.0.0/0")
            },
        ),
        case(
            f,
            open,
            "%security_groups.Properties.SecurityGroupEgress[*] { when CidrIpv6 exists { CidrIpv6 != '::/0' } }",
            Preset::Test,
            |t| {
                properties(t, "DbSecurityGroup")["SecurityGroupEgress"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"CidrIpv6": "::/0", "IpProtocol": "-1"}))
            },
        ),
        case(
            f,
            private,
            "%subnets.Properties.MapPublicIpOnLaunch == false",
            Preset::Test,
            |t| properties(t, "PrivateSubnet2")["MapPublicIpOnLaunch"] = json!(true),
        ),
        case(
            f,
            private,
            "Resources.*[ Type == 'AWS::EC2::InternetGateway' ] empty",
            Preset::Test,
            |t| {
                resources(t).insert(
                    "Igw".into(),
                    json!({"Type": "AWS::EC2::InternetGateway", "Properties": {}}),
                );
            },
        ),
        case(
            f,
            private,
            "Resources.*[ Type == 'AWS::EC2::VPCGatewayAttachment' ] empty",
            Preset::Test,
            |t| {
                resources(t).insert(
                    "IgwAttachment".into(),
                    json!({"Type": "AWS::EC2::VPCGatewayAttachment",
                           "Properties": {"InternetGatewayId": "igw-0123456789abcdef0", "VpcId": {"Ref": "Vpc"}}}),
                );
            },
        ),
    ]
}

fn encryption_cases() -> Vec<Case> {
    let f = "encryption.guard";
    let (key, storage) = ("stack_key_exists", "storage_encrypted_with_stack_key");
    vec![
        case(
            f,
            key,
            "Resources.DbKey.Type == 'AWS::KMS::Key'",
            Preset::Test,
            |t| t["Resources"]["DbKey"]["Type"] = json!("AWS::KMS::ReplicaKey"),
        ),
        case(
            f,
            key,
            "Resources.DbKey.Properties.EnableKeyRotation == true",
            Preset::Test,
            |t| properties(t, "DbKey")["EnableKeyRotation"] = json!(false),
        ),
        case(
            f,
            storage,
            "%writers.Properties.StorageEncrypted == true",
            Preset::Test,
            |t| properties(t, "Primary")["StorageEncrypted"] = json!(false),
        ),
        case(
            f,
            storage,
            "%writers.Properties.KmsKeyId.'Fn::GetAtt'[0] == 'DbKey'",
            Preset::Test,
            |t| properties(t, "Primary")["KmsKeyId"] = json!("alias/aws/rds"),
        ),
        case(
            f,
            storage,
            "%writers.Properties.MasterUserSecret.KmsKeyId.'Fn::GetAtt'[0] == 'DbKey'",
            Preset::Test,
            |t| {
                properties(t, "Primary")["MasterUserSecret"]["KmsKeyId"] =
                    json!("alias/aws/secretsmanager")
            },
        ),
    ]
}

fn iam_auth_cases() -> Vec<Case> {
    let f = "iam_auth.guard";
    let (iam, managed) = ("iam_authentication_on", "master_password_managed_by_aws");
    vec![
        case(
            f,
            iam,
            "%db_instances.Properties.EnableIAMDatabaseAuthentication == true",
            Preset::Test,
            |t| properties(t, "Replica1")["EnableIAMDatabaseAuthentication"] = json!(false),
        ),
        case(
            f,
            managed,
            "%writers.Properties.ManageMasterUserPassword == true",
            Preset::Test,
            |t| properties(t, "Primary")["ManageMasterUserPassword"] = json!(false),
        ),
        case(
            f,
            managed,
            "%writers.Properties.MasterUserPassword !exists",
            Preset::Test,
            |t| properties(t, "Primary")["MasterUserPassword"] = json!("hunter2hunter2"),
        ),
    ]
}

fn force_ssl_cases() -> Vec<Case> {
    let f = "force_ssl.guard";
    let (ssl, group) = ("force_ssl_on", "instances_use_the_stack_parameter_group");
    vec![
        case(f, ssl, "%parameter_groups !empty", Preset::Test, |t| {
            remove_resource(t, "DbParameterGroup")
        }),
        case(
            f,
            ssl,
            "%parameter_groups.Properties.Parameters.'rds.force_ssl' == '1'",
            Preset::Test,
            |t| properties(t, "DbParameterGroup")["Parameters"]["rds.force_ssl"] = json!("0"),
        ),
        case(
            f,
            group,
            "%db_instances.Properties.DBParameterGroupName.Ref == 'DbParameterGroup'",
            Preset::Test,
            |t| properties(t, "Replica1")["DBParameterGroupName"] = json!("default.postgres17"),
        ),
        case(
            f,
            group,
            "Resources.DbParameterGroup.Type == 'AWS::RDS::DBParameterGroup'",
            Preset::Test,
            |t| {
                t["Resources"]["DbParameterGroup"]["Type"] =
                    json!("AWS::RDS::DBClusterParameterGroup")
            },
        ),
    ]
}

fn backups_cases() -> Vec<Case> {
    let (f, rule) = ("backups.guard", "backups_on");
    vec![
        case(
            f,
            rule,
            "%writers.Properties.BackupRetentionPeriod >= 1",
            Preset::Production,
            |t| properties(t, "Primary")["BackupRetentionPeriod"] = json!(0),
        ),
        case(
            f,
            rule,
            "%writers.Properties.CopyTagsToSnapshot == true",
            Preset::Production,
            |t| properties(t, "Primary")["CopyTagsToSnapshot"] = json!(false),
        ),
    ]
}

fn production_cases() -> Vec<Case> {
    let f = "production.guard";
    let (writer, protection) = (
        "production_writer_is_multi_az",
        "production_deletion_protection",
    );
    vec![
        case(
            f,
            writer,
            "%production_writers.Properties.MultiAZ == true",
            Preset::Production,
            |t| properties(t, "Primary")["MultiAZ"] = json!(false),
        ),
        case(
            f,
            writer,
            "%production_writers.DeletionPolicy == 'Snapshot'",
            Preset::Production,
            |t| t["Resources"]["Primary"]["DeletionPolicy"] = json!("Delete"),
        ),
        case(
            f,
            protection,
            "%production_instances.Properties.DeletionProtection == true",
            Preset::Production,
            |t| properties(t, "Replica2")["DeletionProtection"] = json!(false),
        ),
    ]
}

fn key_retention_cases() -> Vec<Case> {
    let f = "key_retention.guard";
    let (snapshot, backups) = (
        "key_outlives_final_snapshots",
        "key_outlives_retained_backups",
    );
    let deletion = "Resources.DbKey.DeletionPolicy == 'Retain'";
    let replacement = "Resources.DbKey.UpdateReplacePolicy == 'Retain'";
    vec![
        case(f, snapshot, deletion, Preset::Production, |t| {
            t["Resources"]["DbKey"]["DeletionPolicy"] = json!("Delete")
        }),
        case(f, snapshot, replacement, Preset::Production, |t| {
            t["Resources"]["DbKey"]["UpdateReplacePolicy"] = json!("Delete")
        }),
        case(f, backups, deletion, Preset::Production, |t| {
            // The final snapshot alone would also need the key: only backups are left.
            t["Resources"]["Primary"]["DeletionPolicy"] = json!("Delete");
            t["Resources"]["DbKey"]["DeletionPolicy"] = json!("Delete")
        }),
        case(f, backups, replacement, Preset::Production, |t| {
            t["Resources"]["DbKey"]["UpdateReplacePolicy"] = json!("Delete")
        }),
    ]
}

fn alarms_cases() -> Vec<Case> {
    let f = "alarms.guard";
    let (each, replica) = ("alarm_on_each_metric", "alarms_on_each_replica");
    let (topic, credit) = (
        "alarms_go_to_the_topic",
        "cpu_credit_alarm_on_burstable_writers",
    );
    let writer_metric = |metric: &str| -> &'static str {
        format!("some %writer_alarms.Properties.MetricName == '{metric}'").leak()
    };
    let replica_metric = |metric: &str| -> &'static str {
        format!("some %replica_alarms.Properties.MetricName == '{metric}'").leak()
    };
    vec![
        case(f, each, "%alarms !empty", Preset::Test, |t| {
            resources(t).retain(|_, r| r["Type"] != "AWS::CloudWatch::Alarm")
        }),
        case(
            f,
            each,
            writer_metric("CPUUtilization"),
            Preset::Test,
            |t| remove_resource(t, "AlarmPrimaryCpu"),
        ),
        case(
            f,
            each,
            writer_metric("FreeStorageSpace"),
            Preset::Test,
            |t| remove_resource(t, "AlarmPrimaryFreeStorage"),
        ),
        case(
            f,
            each,
            writer_metric("FreeableMemory"),
            Preset::Test,
            |t| remove_resource(t, "AlarmPrimaryFreeableMemory"),
        ),
        case(
            f,
            each,
            writer_metric("DatabaseConnections"),
            Preset::Test,
            |t| remove_resource(t, "AlarmPrimaryConnections"),
        ),
        case(f, each, writer_metric("ReadLatency"), Preset::Test, |t| {
            remove_resource(t, "AlarmPrimaryReadLatency")
        }),
        case(f, each, writer_metric("WriteLatency"), Preset::Test, |t| {
            remove_resource(t, "AlarmPrimaryWriteLatency")
        }),
        case(
            f,
            each,
            writer_metric("MaximumUsedTransactionIDs"),
            Preset::Test,
            |t| remove_resource(t, "AlarmPrimaryMaxUsedTransactionIds"),
        ),
        case(
            f,
            each,
            writer_metric("DiskQueueDepth"),
            Preset::Test,
            |t| remove_resource(t, "AlarmPrimaryDiskQueueDepth"),
        ),
        case(f, each, writer_metric("SwapUsage"), Preset::Test, |t| {
            remove_resource(t, "AlarmPrimarySwapUsage")
        }),
        case(
            f,
            each,
            writer_metric("TransactionLogsDiskUsage"),
            Preset::Test,
            |t| remove_resource(t, "AlarmPrimaryTransactionLogsDiskUsage"),
        ),
        case(
            f,
            credit,
            writer_metric("CPUCreditBalance"),
            Preset::Test,
            |t| remove_resource(t, "AlarmPrimaryCpuCreditBalance"),
        ),
        case(
            f,
            replica,
            replica_metric("ReplicaLag"),
            Preset::Test,
            |t| remove_resource(t, "AlarmReplica1Lag"),
        ),
        case(
            f,
            replica,
            replica_metric("CPUUtilization"),
            Preset::Test,
            |t| remove_resource(t, "AlarmReplica1Cpu"),
        ),
        case(
            f,
            replica,
            replica_metric("FreeStorageSpace"),
            Preset::Test,
            |t| remove_resource(t, "AlarmReplica1FreeStorage"),
        ),
        case(
            f,
            topic,
            "Resources.AlarmTopic.Type == 'AWS::SNS::Topic'",
            Preset::Test,
            |t| t["Resources"]["AlarmTopic"]["Type"] = json!("AWS::SQS::Queue"),
        ),
        case(
            f,
            topic,
            "%alarms.Properties.Namespace == 'AWS/RDS'",
            Preset::Test,
            |t| properties(t, "AlarmPrimaryCpu")["Namespace"] = json!("AWS/EC2"),
        ),
        case(
            f,
            topic,
            "%alarms.Properties.AlarmActions[*].Ref == 'AlarmTopic'",
            Preset::Test,
            |t| {
                properties(t, "AlarmPrimaryCpu")["AlarmActions"] =
                    json!(["arn:aws:sns:eu-west-1:123456789012:elsewhere"])
            },
        ),
        case(
            f,
            topic,
            "%alarms.Properties.OKActions[*].Ref == 'AlarmTopic'",
            Preset::Test,
            |t| properties(t, "AlarmReplica1Lag")["OKActions"] = json!([{"Ref": "OtherTopic"}]),
        ),
    ]
}

fn observability_cases() -> Vec<Case> {
    let f = "observability.guard";
    let (pi, em, logs) = (
        "performance_insights_encrypted",
        "enhanced_monitoring",
        "logs_exported_and_kept_encrypted",
    );
    let (params, events, dash) = (
        "logging_parameters",
        "events_and_alarms_to_an_encrypted_topic",
        "dashboard_exists",
    );
    vec![
        case(
            f,
            pi,
            "%db_instances.Properties.EnablePerformanceInsights == true",
            Preset::Test,
            |t| properties(t, "Replica1")["EnablePerformanceInsights"] = json!(false),
        ),
        case(
            f,
            pi,
            "%db_instances.Properties.PerformanceInsightsKMSKeyId.'Fn::GetAtt'[0] == 'DbKey'",
            Preset::Test,
            |t| remove_property(t, "Primary", "PerformanceInsightsKMSKeyId"),
        ),
        case(
            f,
            em,
            "%db_instances.Properties.MonitoringInterval > 0",
            Preset::Test,
            |t| properties(t, "Primary")["MonitoringInterval"] = json!(0),
        ),
        case(
            f,
            em,
            "%db_instances.Properties.MonitoringRoleArn.'Fn::GetAtt'[0] == 'MonitoringRole'",
            Preset::Test,
            |t| {
                properties(t, "Replica1")["MonitoringRoleArn"] =
                    json!("arn:aws:iam::123456789012:role/anything")
            },
        ),
        case(
            f,
            em,
            "Resources.MonitoringRole.Properties.AssumeRolePolicyDocument.Statement[*].Principal.Service == 'monitoring.rds.amazonaws.com'",
            Preset::Test,
            |t| {
                properties(t, "MonitoringRole")["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
                    ["Service"] = json!("ec2.amazonaws.com")
            },
        ),
        case(
            f,
            logs,
            "%rds_instances.Properties.EnableCloudwatchLogsExports[*] in ['postgresql', 'upgrade']",
            Preset::Test,
            |t| {
                properties(t, "Primary")["EnableCloudwatchLogsExports"] =
                    json!(["postgresql", "iam-db-auth-error"])
            },
        ),
        case(
            f,
            logs,
            "%rds_instances { Properties.EnableCloudwatchLogsExports exists }",
            Preset::Test,
            |t| remove_property(t, "Replica1", "EnableCloudwatchLogsExports"),
        ),
        case(
            f,
            logs,
            "%rds_instances { some Properties.EnableCloudwatchLogsExports[*] == 'postgresql' }",
            Preset::Test,
            |t| properties(t, "Replica1")["EnableCloudwatchLogsExports"] = json!(["upgrade"]),
        ),
        case(f, logs, "%log_groups !empty", Preset::Test, |t| {
            resources(t).retain(|_, r| r["Type"] != "AWS::Logs::LogGroup");
        }),
        case(
            f,
            logs,
            "%log_groups.Properties.RetentionInDays exists",
            Preset::Test,
            |t| remove_property(t, "LogsPrimaryPostgresql", "RetentionInDays"),
        ),
        case(
            f,
            logs,
            "%log_groups.Properties.KmsKeyId.'Fn::GetAtt'[0] == 'DbKey'",
            Preset::Test,
            |t| remove_property(t, "LogsReplica1Upgrade", "KmsKeyId"),
        ),
        case(
            f,
            params,
            "Resources.DbParameterGroup.Properties.Parameters.log_min_duration_statement exists",
            Preset::Test,
            |t| {
                properties(t, "DbParameterGroup")["Parameters"]
                    .as_object_mut()
                    .unwrap()
                    .remove("log_min_duration_statement");
            },
        ),
        case(
            f,
            params,
            "Resources.DbParameterGroup.Properties.Parameters.log_lock_waits == '1'",
            Preset::Test,
            |t| properties(t, "DbParameterGroup")["Parameters"]["log_lock_waits"] = json!("0"),
        ),
        case(
            f,
            params,
            "Resources.DbParameterGroup.Properties.Parameters.log_connections == '1'",
            Preset::Test,
            |t| properties(t, "DbParameterGroup")["Parameters"]["log_connections"] = json!("0"),
        ),
        case(f, events, "%subscriptions !empty", Preset::Test, |t| {
            remove_resource(t, "DbEvents")
        }),
        case(
            f,
            events,
            "%subscriptions.Properties.SnsTopicArn.Ref == 'AlarmTopic'",
            Preset::Test,
            |t| {
                properties(t, "DbEvents")["SnsTopicArn"] =
                    json!("arn:aws:sns:eu-west-1:123456789012:elsewhere")
            },
        ),
        case(
            f,
            events,
            "%subscriptions.Properties.Enabled == true",
            Preset::Test,
            |t| properties(t, "DbEvents")["Enabled"] = json!(false),
        ),
        case(
            f,
            events,
            "Resources.AlarmTopic.Properties.KmsMasterKeyId.'Fn::GetAtt'[0] == 'DbKey'",
            Preset::Test,
            |t| remove_property(t, "AlarmTopic", "KmsMasterKeyId"),
        ),
        case(
            f,
            dash,
            "Resources.Dashboard.Type == 'AWS::CloudWatch::Dashboard'",
            Preset::Production,
            |t| remove_resource(t, "Dashboard"),
        ),
    ]
}

fn tags_cases() -> Vec<Case> {
    let f = "tags.guard";
    let (known, tagged) = ("only_known_types", "tags_on_every_resource");
    vec![
        case(
            f,
            known,
            "%resources.Type in ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::SecurityGroup', \
             'AWS::RDS::DBSubnetGroup', 'AWS::RDS::DBParameterGroup', 'AWS::RDS::DBInstance', \
             'AWS::KMS::Key', 'AWS::SNS::Topic', 'AWS::CloudWatch::Alarm', 'AWS::IAM::Role', \
             'AWS::Logs::LogGroup', 'AWS::RDS::EventSubscription', 'AWS::CloudWatch::Dashboard', \
             'AWS::RDS::DBProxy', 'AWS::RDS::DBProxyTargetGroup', 'AWS::RDS::DBCluster', \
             'AWS::RDS::DBClusterParameterGroup']",
            Preset::Test,
            |t| {
                resources(t).insert(
                    "Extra".into(),
                    json!({"Type": "AWS::SQS::Queue", "Properties": {"Tags": []}}),
                );
            },
        ),
        case(
            f,
            tagged,
            "%taggable { Properties.Tags exists }",
            Preset::Test,
            |t| remove_property(t, "Vpc", "Tags"),
        ),
        case(
            f,
            tagged,
            "%taggable { some Properties.Tags[*].Key == 'Environment' }",
            Preset::Production,
            |t| remove_tag(t, "AlarmTopic", "Environment"),
        ),
        case(
            f,
            tagged,
            "%taggable { some Properties.Tags[*].Key == 'Project' }",
            Preset::Production,
            |t| remove_tag(t, "DbKey", "Project"),
        ),
        case(
            f,
            tagged,
            "%taggable { some Properties.Tags[*].Key == 'ManagedBy' }",
            Preset::Production,
            |t| remove_tag(t, "Replica2", "ManagedBy"),
        ),
        case(
            f,
            tagged,
            "%taggable { some Properties.Tags[*].Key == 'Owner' }",
            Preset::Production,
            |t| remove_tag(t, "PrivateSubnet3", "Owner"),
        ),
    ]
}

/// A way to break a template.
type Break = fn(&mut Value);

/// The same policies on an Aurora cluster: the rules written for clusters, and a break
/// on Aurora of each rule that checks both engines.
fn aurora_cases() -> Vec<Case> {
    let (t, p) = (Preset::Test, Preset::Production);
    let mut out = vec![
        aurora_case(
            "backups.guard",
            "cluster_backups_on",
            "%clusters.Properties.BackupRetentionPeriod >= 1",
            p,
            |t| properties(t, "Cluster")["BackupRetentionPeriod"] = json!(0),
        ),
        aurora_case(
            "backups.guard",
            "cluster_backups_on",
            "%clusters.Properties.CopyTagsToSnapshot == true",
            p,
            |t| properties(t, "Cluster")["CopyTagsToSnapshot"] = json!(false),
        ),
        aurora_case(
            "encryption.guard",
            "stack_key_exists",
            "Resources.DbKey.Properties.EnableKeyRotation == true",
            t,
            |t| properties(t, "DbKey")["EnableKeyRotation"] = json!(false),
        ),
        aurora_case(
            "encryption.guard",
            "cluster_encrypted_with_stack_key",
            "%clusters.Properties.StorageEncrypted == true",
            t,
            |t| properties(t, "Cluster")["StorageEncrypted"] = json!(false),
        ),
        aurora_case(
            "encryption.guard",
            "cluster_encrypted_with_stack_key",
            "%clusters.Properties.KmsKeyId.'Fn::GetAtt'[0] == 'DbKey'",
            t,
            |t| properties(t, "Cluster")["KmsKeyId"] = json!("alias/aws/rds"),
        ),
        aurora_case(
            "encryption.guard",
            "cluster_encrypted_with_stack_key",
            "%clusters.Properties.MasterUserSecret.KmsKeyId.'Fn::GetAtt'[0] == 'DbKey'",
            t,
            |t| {
                properties(t, "Cluster")["MasterUserSecret"]["KmsKeyId"] =
                    json!("alias/aws/secretsmanager")
            },
        ),
        aurora_case(
            "force_ssl.guard",
            "cluster_force_ssl_on",
            "%cluster_parameter_groups !empty",
            t,
            |t| remove_resource(t, "DbClusterParameterGroup"),
        ),
        aurora_case(
            "force_ssl.guard",
            "cluster_force_ssl_on",
            "%cluster_parameter_groups.Properties.Parameters.'rds.force_ssl' == '1'",
            t,
            |t| {
                properties(t, "DbClusterParameterGroup")["Parameters"]["rds.force_ssl"] = json!("0")
            },
        ),
        aurora_case(
            "force_ssl.guard",
            "cluster_force_ssl_on",
            "%clusters.Properties.DBClusterParameterGroupName.Ref == 'DbClusterParameterGroup'",
            t,
            |t| {
                properties(t, "Cluster")["DBClusterParameterGroupName"] =
                    json!("default.aurora-postgresql17")
            },
        ),
        aurora_case(
            "force_ssl.guard",
            "cluster_force_ssl_on",
            "Resources.DbClusterParameterGroup.Type == 'AWS::RDS::DBClusterParameterGroup'",
            t,
            |t| {
                t["Resources"]["DbClusterParameterGroup"]["Type"] =
                    json!("AWS::RDS::DBParameterGroup")
            },
        ),
        aurora_case(
            "iam_auth.guard",
            "cluster_iam_authentication_and_managed_password",
            "%clusters.Properties.EnableIAMDatabaseAuthentication == true",
            t,
            |t| properties(t, "Cluster")["EnableIAMDatabaseAuthentication"] = json!(false),
        ),
        aurora_case(
            "iam_auth.guard",
            "cluster_iam_authentication_and_managed_password",
            "%clusters.Properties.ManageMasterUserPassword == true",
            t,
            |t| properties(t, "Cluster")["ManageMasterUserPassword"] = json!(false),
        ),
        aurora_case(
            "iam_auth.guard",
            "cluster_iam_authentication_and_managed_password",
            "%clusters.Properties.MasterUserPassword !exists",
            t,
            |t| properties(t, "Cluster")["MasterUserPassword"] = json!("hunter2hunter2"),
        ),
        aurora_case(
            "key_retention.guard",
            "key_outlives_final_cluster_snapshots",
            "Resources.DbKey.DeletionPolicy == 'Retain'",
            p,
            |t| t["Resources"]["DbKey"]["DeletionPolicy"] = json!("Delete"),
        ),
        aurora_case(
            "key_retention.guard",
            "key_outlives_final_cluster_snapshots",
            "Resources.DbKey.UpdateReplacePolicy == 'Retain'",
            p,
            |t| t["Resources"]["DbKey"]["UpdateReplacePolicy"] = json!("Delete"),
        ),
        aurora_case(
            "key_retention.guard",
            "key_outlives_retained_cluster_backups",
            "Resources.DbKey.DeletionPolicy == 'Retain'",
            p,
            |t| {
                // The final snapshot alone would also need the key: only backups are left.
                t["Resources"]["Cluster"]["DeletionPolicy"] = json!("Delete");
                t["Resources"]["DbKey"]["DeletionPolicy"] = json!("Delete")
            },
        ),
        aurora_case(
            "key_retention.guard",
            "key_outlives_retained_cluster_backups",
            "Resources.DbKey.UpdateReplacePolicy == 'Retain'",
            p,
            |t| {
                t["Resources"]["Cluster"]["DeletionPolicy"] = json!("Delete");
                t["Resources"]["DbKey"]["UpdateReplacePolicy"] = json!("Delete")
            },
        ),
        aurora_case(
            "no_public_access.guard",
            "db_instances_not_publicly_accessible",
            "%db_instances.Properties.PubliclyAccessible == false",
            t,
            |t| properties(t, "Replica1")["PubliclyAccessible"] = json!(true),
        ),
        aurora_case(
            "no_public_access.guard",
            "no_open_ingress_or_egress",
            "%security_groups.Properties.SecurityGroupIngress[*] { when CidrIp exists { CidrIp != '0.0.0.0/0' } }",
            t,
            |t| {
                properties(t, "DbSecurityGroup")["SecurityGroupIngress"][0]["CidrIp"] =
                    json!("0.0.0.0/0")
            },
        ),
        aurora_case(
            "no_public_access.guard",
            "private_subnets_only",
            "%subnets.Properties.MapPublicIpOnLaunch == false",
            t,
            |t| properties(t, "PrivateSubnet1")["MapPublicIpOnLaunch"] = json!(true),
        ),
        aurora_case(
            "observability.guard",
            "performance_insights_encrypted",
            "%db_instances.Properties.EnablePerformanceInsights == true",
            t,
            |t| properties(t, "Replica1")["EnablePerformanceInsights"] = json!(false),
        ),
        aurora_case(
            "observability.guard",
            "enhanced_monitoring",
            "%db_instances.Properties.MonitoringInterval > 0",
            t,
            |t| properties(t, "Primary")["MonitoringInterval"] = json!(0),
        ),
        aurora_case(
            "observability.guard",
            "cluster_logs_exported_and_kept_encrypted",
            "%clusters { Properties.EnableCloudwatchLogsExports exists }",
            t,
            |t| remove_property(t, "Cluster", "EnableCloudwatchLogsExports"),
        ),
        aurora_case(
            "observability.guard",
            "cluster_logs_exported_and_kept_encrypted",
            "%clusters { some Properties.EnableCloudwatchLogsExports[*] == 'postgresql' }",
            t,
            |t| {
                properties(t, "Cluster")["EnableCloudwatchLogsExports"] =
                    json!(["iam-db-auth-error"])
            },
        ),
        aurora_case(
            "observability.guard",
            "cluster_logs_exported_and_kept_encrypted",
            "%log_groups !empty",
            t,
            |t| {
                resources(t).retain(|_, r| r["Type"] != "AWS::Logs::LogGroup");
            },
        ),
        aurora_case(
            "observability.guard",
            "cluster_logs_exported_and_kept_encrypted",
            "%log_groups.Properties.RetentionInDays exists",
            t,
            |t| remove_property(t, "LogsClusterPostgresql", "RetentionInDays"),
        ),
        aurora_case(
            "observability.guard",
            "cluster_logs_exported_and_kept_encrypted",
            "%log_groups.Properties.KmsKeyId.'Fn::GetAtt'[0] == 'DbKey'",
            t,
            |t| remove_property(t, "LogsClusterPostgresql", "KmsKeyId"),
        ),
        aurora_case(
            "observability.guard",
            "cluster_logging_parameters",
            "Resources.DbClusterParameterGroup.Properties.Parameters.log_min_duration_statement exists",
            t,
            |t| {
                properties(t, "DbClusterParameterGroup")["Parameters"]
                    .as_object_mut()
                    .unwrap()
                    .remove("log_min_duration_statement");
            },
        ),
        aurora_case(
            "observability.guard",
            "cluster_logging_parameters",
            "Resources.DbClusterParameterGroup.Properties.Parameters.log_lock_waits == '1'",
            t,
            |t| {
                properties(t, "DbClusterParameterGroup")["Parameters"]["log_lock_waits"] =
                    json!("0")
            },
        ),
        aurora_case(
            "observability.guard",
            "cluster_logging_parameters",
            "Resources.DbClusterParameterGroup.Properties.Parameters.log_connections == '1'",
            t,
            |t| {
                properties(t, "DbClusterParameterGroup")["Parameters"]["log_connections"] =
                    json!("0")
            },
        ),
        aurora_case(
            "observability.guard",
            "events_and_alarms_to_an_encrypted_topic",
            "%subscriptions.Properties.Enabled == true",
            t,
            |t| properties(t, "ClusterEvents")["Enabled"] = json!(false),
        ),
        aurora_case(
            "observability.guard",
            "cluster_events_too",
            "some %subscriptions.Properties.SourceType == 'db-cluster'",
            t,
            |t| remove_resource(t, "ClusterEvents"),
        ),
        aurora_case(
            "observability.guard",
            "dashboard_exists",
            "Resources.Dashboard.Type == 'AWS::CloudWatch::Dashboard'",
            t,
            |t| remove_resource(t, "Dashboard"),
        ),
        aurora_case(
            "production.guard",
            "production_cluster_is_protected",
            "%production_clusters.Properties.DeletionProtection == true",
            p,
            |t| properties(t, "Cluster")["DeletionProtection"] = json!(false),
        ),
        aurora_case(
            "production.guard",
            "production_cluster_is_protected",
            "%production_clusters.DeletionPolicy == 'Snapshot'",
            p,
            |t| t["Resources"]["Cluster"]["DeletionPolicy"] = json!("Delete"),
        ),
        aurora_case(
            "production.guard",
            "production_cluster_is_protected",
            "%instances_outside_the_writers_zone !empty",
            p,
            |t| {
                // Every reader in the writer's zone: nothing to fail over to when it goes.
                let zone = properties(t, "Primary")["AvailabilityZone"].clone();
                for reader in ["Replica1", "Replica2"] {
                    properties(t, reader)["AvailabilityZone"] = zone.clone();
                }
            },
        ),
        aurora_case(
            "alarms.guard",
            "cpu_credit_alarm_on_burstable_clusters",
            "some %writer_role_alarms.Properties.MetricName == 'CPUCreditBalance'",
            t,
            |t| remove_resource(t, "AlarmWriterCpuCreditBalance"),
        ),
        aurora_case(
            "alarms.guard",
            "alarms_go_to_the_topic",
            "%alarms.Properties.OKActions[*].Ref == 'AlarmTopic'",
            t,
            |t| properties(t, "AlarmReadersLag")["OKActions"] = json!([{"Ref": "OtherTopic"}]),
        ),
        aurora_case_with(
            "proxy.guard",
            "proxy_tls_and_iam_only",
            "%proxies.Properties.RequireTLS == true",
            t,
            with_proxy,
            |t| properties(t, "Proxy")["RequireTLS"] = json!(false),
        ),
        aurora_case(
            "tags.guard",
            "only_known_types",
            "%resources.Type in ['AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::SecurityGroup', \
             'AWS::RDS::DBSubnetGroup', 'AWS::RDS::DBParameterGroup', 'AWS::RDS::DBInstance', \
             'AWS::KMS::Key', 'AWS::SNS::Topic', 'AWS::CloudWatch::Alarm', 'AWS::IAM::Role', \
             'AWS::Logs::LogGroup', 'AWS::RDS::EventSubscription', 'AWS::CloudWatch::Dashboard', \
             'AWS::RDS::DBProxy', 'AWS::RDS::DBProxyTargetGroup', 'AWS::RDS::DBCluster', \
             'AWS::RDS::DBClusterParameterGroup']",
            t,
            |t| {
                resources(t).insert(
                    "Extra".into(),
                    json!({"Type": "AWS::RDS::GlobalCluster", "Properties": {"Tags": []}}),
                );
            },
        ),
        aurora_case(
            "tags.guard",
            "tags_on_every_resource",
            "%taggable { some Properties.Tags[*].Key == 'Owner' }",
            t,
            |t| remove_tag(t, "Cluster", "Owner"),
        ),
    ];
    // Each of the writer's role alarms, and each of the readers'.
    let writer: [(&str, Break); 5] = [
        ("CPUUtilization", |t| remove_resource(t, "AlarmWriterCpu")),
        ("FreeableMemory", |t| {
            remove_resource(t, "AlarmWriterFreeableMemory")
        }),
        ("DatabaseConnections", |t| {
            remove_resource(t, "AlarmWriterConnections")
        }),
        ("Deadlocks", |t| remove_resource(t, "AlarmWriterDeadlocks")),
        ("MaximumUsedTransactionIDs", |t| {
            remove_resource(t, "AlarmWriterMaxUsedTransactionIds")
        }),
    ];
    for (metric, break_it) in writer {
        let clause = format!("some %writer_role_alarms.Properties.MetricName == '{metric}'").leak();
        out.push(aurora_case(
            "alarms.guard",
            "cluster_writer_alarm_on_each_metric",
            clause,
            p,
            break_it,
        ));
    }
    let readers: [(&str, Break); 3] = [
        ("AuroraReplicaLag", |t| {
            remove_resource(t, "AlarmReadersLag")
        }),
        ("CPUUtilization", |t| remove_resource(t, "AlarmReadersCpu")),
        ("FreeableMemory", |t| {
            remove_resource(t, "AlarmReadersFreeableMemory")
        }),
    ];
    for (metric, break_it) in readers {
        let clause = format!("some %reader_role_alarms.Properties.MetricName == '{metric}'").leak();
        out.push(aurora_case(
            "alarms.guard",
            "alarms_on_the_readers",
            clause,
            t,
            break_it,
        ));
    }
    out
}

fn cases() -> Vec<Case> {
    [
        no_public_access_cases(),
        encryption_cases(),
        iam_auth_cases(),
        force_ssl_cases(),
        backups_cases(),
        production_cases(),
        key_retention_cases(),
        alarms_cases(),
        observability_cases(),
        proxy_cases(),
        tags_cases(),
        aurora_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[test]
fn every_rule_and_every_clause_has_a_failing_case() {
    let cases = cases();
    let keys: BTreeSet<_> = cases
        .iter()
        .map(|c| (c.file, c.rule, c.clause, c.engine))
        .collect();
    assert_eq!(
        keys.len(),
        cases.len(),
        "two cases break the same clause on the same engine"
    );
    let (mut in_files, mut rules_without_case) = (BTreeSet::new(), Vec::new());
    for (file, text) in rules_files() {
        let rules = parse_rules(&text);
        assert!(!rules.is_empty(), "{file}: no rule found");
        for rule in rules {
            if !cases.iter().any(|c| c.file == file && c.rule == rule.name) {
                rules_without_case.push(format!("{file}: {}", rule.name));
            }
            assert!(
                !rule.clauses.is_empty(),
                "{file}: {} has no clause",
                rule.name
            );
            for clause in rule.clauses {
                in_files.insert((file.clone(), rule.name.clone(), clause.text));
            }
        }
    }
    assert!(
        rules_without_case.is_empty(),
        "rules that no case breaks: {rules_without_case:#?}"
    );
    let in_cases: BTreeSet<(String, String, String)> = cases
        .iter()
        .map(|c| (c.file.into(), c.rule.into(), c.clause.into()))
        .collect();
    let untested: Vec<_> = in_files.difference(&in_cases).collect();
    assert!(
        untested.is_empty(),
        "clauses that no case breaks: {untested:#?}"
    );
    let stale: Vec<_> = in_cases.difference(&in_files).collect();
    assert!(
        stale.is_empty(),
        "cases for clauses not in the rules files: {stale:#?}"
    );
}

#[test]
fn every_preset_complies_with_every_rule() {
    for (name, _, t) in every_template() {
        for (file, rules) in rules_files() {
            let report = guard(&file, &rules, &t);
            assert_ne!(
                report.status, "FAIL",
                "{file} on {name}: {:?}",
                report.failed
            );
        }
    }
}

/// A policy that holds for one engine's templates is proven on that engine: each rule
/// that the templates of an engine are checked by (it passes on them, rather than being
/// skipped) has a case on that engine, so a rule meant for both cannot stop catching
/// breaks in one of them unnoticed.
#[test]
fn every_rule_that_checks_an_engine_fails_on_that_engine() {
    let cases = cases();
    let mut missing = BTreeSet::new();
    for (name, engine, t) in every_template() {
        for (file, rules) in rules_files() {
            for rule in guard(&file, &rules, &t).compliant {
                let proven = cases
                    .iter()
                    .any(|c| c.file == file && c.rule == rule && c.engine == engine);
                if !proven {
                    missing.insert(format!(
                        "{file}: {rule} on {} (checks {name})",
                        engine.name()
                    ));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "rules without a case on an engine they check: {missing:#?}"
    );
}

/// Each case: the rule passes on its preset; the broken template fails the rule; and with
/// the case's clause taken out of the rules file, fewer of the rule's checks fail on the
/// broken template, which proves that clause is one that caught it.
#[test]
fn each_clause_fails_on_its_broken_template() {
    let files = rules_files();
    for case in cases() {
        let Case {
            file,
            rule,
            clause,
            preset,
            engine,
            adjust,
            break_it,
        } = case;
        let text = &files[file];
        let what = format!("{file}: {rule}: {clause} ({})", engine.name());
        let mut t = rendered_with(preset, engine, adjust);
        let report = guard(file, text, &t);
        assert_eq!(
            report.status,
            "PASS",
            "{file} on the {} preset",
            preset.name()
        );
        assert!(
            report.compliant.contains(rule),
            "{what}: not evaluated as compliant on {}: {:?}",
            preset.name(),
            report.compliant
        );

        break_it(&mut t);
        let broken = guard(file, text, &t);
        assert_eq!(broken.status, "FAIL", "{what}: breaking it went unnoticed");
        assert!(
            !broken.compliant.contains(rule) && broken.failed_checks(rule) > 0,
            "{what}: the rule still passes on the broken template ({:?})",
            broken.failed
        );

        let parsed = parse_rules(text);
        let def = parsed
            .iter()
            .find(|r| r.name == rule)
            .and_then(|r| r.clauses.iter().find(|c| c.text == clause))
            .unwrap_or_else(|| panic!("{what}: no such clause in {file}"));
        let without = guard(file, &without_clause(text, def), &t);
        assert!(
            without.failed_checks(rule) < broken.failed_checks(rule),
            "{what}: taking the clause out leaves {} failed check(s) of {}: another clause \
             caught the break, not this one",
            without.failed_checks(rule),
            broken.failed_checks(rule)
        );
    }
}

/// The production rules apply to every production-like Environment tag, not only the
/// word `production`.
#[test]
fn production_rules_apply_to_every_production_like_environment() {
    let file = "production.guard";
    let rules = &rules_files()[file];
    let with_environment = |environment: &str, engine: EngineKind| {
        let mut t = rendered_with(Preset::Production, engine, |_| {});
        for resource in resources(&mut t).values_mut() {
            for tag in resource["Properties"]["Tags"]
                .as_array_mut()
                .into_iter()
                .flatten()
            {
                if tag["Key"] == "Environment" {
                    tag["Value"] = json!(environment);
                }
            }
        }
        match engine {
            EngineKind::Rds => properties(&mut t, "Primary")["MultiAZ"] = json!(false),
            EngineKind::Aurora => {
                properties(&mut t, "Cluster")["DeletionProtection"] = json!(false)
            }
        }
        t
    };
    for (engine, rule) in [
        (EngineKind::Rds, "production_writer_is_multi_az"),
        (EngineKind::Aurora, "production_cluster_is_protected"),
    ] {
        for environment in ["prod", "prod-eu", "shop-live", "eu-prd-2", "production"] {
            let report = guard(file, rules, &with_environment(environment, engine));
            assert_eq!(
                report.failed_checks(rule),
                1,
                "{environment} on {}",
                engine.name()
            );
        }
        for environment in ["staging", "products"] {
            let report = guard(file, rules, &with_environment(environment, engine));
            assert_ne!(report.status, "FAIL", "{environment} on {}", engine.name());
        }
    }
}
