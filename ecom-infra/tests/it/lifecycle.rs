//! The whole life of the test preset on moto: deploy, read back with the SDK, add a replica
//! through a change set, destroy, and check that nothing is left.

use std::collections::BTreeMap;

use ecom_infra::aws::{InstanceRole, StackResources};
use ecom_infra::spec::EngineKind;
use ecom_infra::{Aws, DeploymentSpec, InfraError, Preset, SpecError, template};

use crate::support::{Moto, REGION, ca_bundle, ec2_existing, ec2_tags, log_groups, tags_via_boto3};

const TAG_KEYS: [&str; 4] = ["Environment", "ManagedBy", "Owner", "Project"];

fn physical<'a>(resources: &'a StackResources, logical: &str) -> &'a str {
    &resources
        .get(logical)
        .unwrap_or_else(|| panic!("no {logical} in {resources:?}"))
        .physical_id
}

fn assert_tagged(what: &str, tags: &BTreeMap<String, String>, spec: &DeploymentSpec) {
    for key in TAG_KEYS {
        assert!(tags.contains_key(key), "{what} lacks tag {key}: {tags:?}");
    }
    assert_eq!(tags["Environment"], spec.environment.as_ref(), "{what}");
    assert_eq!(tags["Project"], "ecom-dms", "{what}");
    assert_eq!(tags["ManagedBy"], "ecom-infra", "{what}");
    assert_eq!(tags["Owner"], spec.owner, "{what}");
}

/// Everything the deployed stack must be, read back through each service's own API.
async fn check_deployment(aws: &Aws, moto: &Moto, spec: &DeploymentSpec) {
    let stack = spec.stack_name();
    let resources = aws.stack_resources(&stack).await.unwrap();
    let outputs = aws.outputs(&stack).await.unwrap();
    let key_id = physical(&resources, "DbKey");
    let key = aws.kms.describe_key().key_id(key_id).send().await.unwrap();
    let key_arn = key.key_metadata().unwrap().arn().unwrap().to_owned();
    assert_eq!(outputs["KmsKeyArn"], key_arn);
    let rotation = aws
        .kms
        .get_key_rotation_status()
        .key_id(key_id)
        .send()
        .await
        .unwrap();
    assert!(rotation.key_rotation_enabled());

    // The writer.
    let primary = aws
        .db_instance(&spec.primary_identifier())
        .await
        .unwrap()
        .expect("the writer exists");
    assert_eq!(primary.multi_az(), Some(true), "Multi-AZ");
    assert_eq!(primary.storage_encrypted(), Some(true), "encrypted");
    assert_eq!(
        primary.kms_key_id(),
        Some(key_arn.as_str()),
        "encrypted with the stack's key"
    );
    assert_eq!(
        primary.iam_database_authentication_enabled(),
        Some(true),
        "IAM auth"
    );
    assert_eq!(primary.publicly_accessible(), Some(false));
    assert_eq!(
        primary.deletion_protection(),
        Some(false),
        "the test preset is deletable"
    );
    assert_eq!(
        primary.backup_retention_period(),
        Some(i32::from(spec.backups.retention_days))
    );
    assert_eq!(primary.engine(), Some("postgres"));
    assert_eq!(
        primary.engine_version(),
        Some(spec.database.engine_version.as_str())
    );
    assert_eq!(
        primary.db_instance_class(),
        Some(spec.database.instance_class.as_str())
    );
    assert_eq!(primary.allocated_storage(), Some(20));
    assert_eq!(primary.max_allocated_storage(), Some(50));
    assert_eq!(primary.endpoint().and_then(|e| e.port()), Some(5432));
    assert_eq!(primary.master_username(), Some("ecom_admin"));
    let secret = primary
        .master_user_secret()
        .expect("master password managed by Secrets Manager");
    assert_eq!(
        secret.kms_key_id(),
        Some(key_arn.as_str()),
        "secret encrypted with the stack's key"
    );
    assert_eq!(outputs["MasterUserSecretArn"], secret.secret_arn().unwrap());
    let mut replicas: Vec<&str> = primary
        .read_replica_db_instance_identifiers()
        .iter()
        .map(String::as_str)
        .collect();
    replicas.sort();
    let expected: Vec<String> = (1..=spec.replicas.count)
        .map(|n| spec.replica_identifier(n))
        .collect();
    assert_eq!(
        replicas,
        expected.iter().map(String::as_str).collect::<Vec<_>>(),
        "replicas attached"
    );

    // Network placement, through the RDS API (no EC2 client in the build).
    let sg = physical(&resources, "DbSecurityGroup");
    let groups: Vec<&str> = primary
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id())
        .collect();
    assert_eq!(groups, [sg]);
    let subnet_group = primary.db_subnet_group().expect("a subnet group");
    assert_eq!(
        subnet_group.db_subnet_group_name(),
        Some(physical(&resources, "DbSubnetGroup"))
    );
    assert_eq!(subnet_group.vpc_id(), Some(physical(&resources, "Vpc")));
    let mut zones: Vec<&str> = subnet_group
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_availability_zone().and_then(|z| z.name()))
        .collect();
    zones.sort();
    assert_eq!(zones, ["eu-west-1a", "eu-west-1b"]);

    // rds.force_ssl through the stack's parameter group.
    let parameter_group = physical(&resources, "DbParameterGroup");
    let in_use: Vec<&str> = primary
        .db_parameter_groups()
        .iter()
        .filter_map(|g| g.db_parameter_group_name())
        .collect();
    assert_eq!(in_use, [parameter_group]);
    let params = aws
        .rds
        .describe_db_parameters()
        .db_parameter_group_name(parameter_group)
        .send()
        .await
        .unwrap();
    let force_ssl = params
        .parameters()
        .iter()
        .find(|p| p.parameter_name() == Some("rds.force_ssl"))
        .expect("rds.force_ssl set");
    assert_eq!(force_ssl.parameter_value(), Some("1"));

    // Each replica.
    for id in &expected {
        let replica = aws
            .db_instance(id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{id} exists"));
        assert_eq!(
            replica.read_replica_source_db_instance_identifier(),
            Some(spec.primary_identifier().as_str())
        );
        assert_eq!(
            replica.iam_database_authentication_enabled(),
            Some(true),
            "{id} IAM auth"
        );
        assert_eq!(
            replica.endpoint().and_then(|e| e.port()),
            Some(5432),
            "{id} port"
        );
        assert_eq!(replica.publicly_accessible(), Some(false));
        let groups: Vec<&str> = replica
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id())
            .collect();
        assert_eq!(groups, [sg], "{id} security group");
    }

    // Alarms: the right metric, threshold and comparison on the right instance, to the topic.
    let topic = physical(&resources, "AlarmTopic");
    assert_eq!(outputs["AlarmTopicArn"], topic);
    check_alarms(aws, spec, topic).await;

    check_observability(aws, moto, spec, &resources, &key_arn).await;

    check_tags(aws, moto, spec, &resources).await;
}

/// Every alarm of the spec: the right metric, statistic, threshold and comparison on the
/// right dimensions, to the topic, tagged.
async fn check_alarms(aws: &Aws, spec: &DeploymentSpec, topic: &str) {
    let stack = spec.stack_name();
    let alarms = aws.alarms(&format!("{stack}-")).await.unwrap();
    let wanted = template::alarms(spec);
    assert_eq!(alarms.len(), wanted.len(), "{alarms:?}");
    for want in &wanted {
        let alarm = alarms
            .iter()
            .find(|a| a.alarm_name() == Some(want.name.as_str()))
            .unwrap_or_else(|| panic!("alarm {}", want.name));
        assert_eq!(alarm.metric_name(), Some(want.metric), "{}", want.name);
        assert_eq!(alarm.namespace(), Some("AWS/RDS"));
        assert_eq!(alarm.threshold(), Some(want.threshold), "{}", want.name);
        assert_eq!(
            alarm.comparison_operator().map(|c| c.as_str()),
            Some(want.comparison),
            "{}",
            want.name
        );
        assert_eq!(alarm.alarm_actions(), [topic.to_owned()], "{}", want.name);
        assert_eq!(alarm.ok_actions(), [topic.to_owned()], "{}", want.name);
        let dims: Vec<(&str, &str)> = alarm
            .dimensions()
            .iter()
            .filter_map(|d| Some((d.name()?, d.value()?)))
            .collect();
        let wanted = want.target.dimensions();
        let wanted: Vec<(&str, &str)> = wanted.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert_eq!(dims, wanted, "{}", want.name);
        assert_eq!(alarm.statistic().map(|s| s.as_str()), Some(want.statistic));
        let tags = aws
            .cloudwatch
            .list_tags_for_resource()
            .resource_arn(alarm.alarm_arn().unwrap())
            .send()
            .await
            .unwrap();
        let tags = tags
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect();
        assert_tagged(&want.name, &tags, spec);
    }
}

/// Tags on every resource of the stack, each read with its own service's API.
async fn check_tags(aws: &Aws, moto: &Moto, spec: &DeploymentSpec, resources: &StackResources) {
    let account = "123456789012";
    for (logical, resource) in resources {
        let (kind, id) = (&resource.resource_type, &resource.physical_id);
        let tags: BTreeMap<String, String> = match kind.as_str() {
            "AWS::RDS::DBInstance"
            | "AWS::RDS::DBSubnetGroup"
            | "AWS::RDS::DBParameterGroup"
            | "AWS::RDS::DBCluster"
            | "AWS::RDS::DBClusterParameterGroup" => {
                let arn = match kind.as_str() {
                    "AWS::RDS::DBInstance" => format!("arn:aws:rds:{REGION}:{account}:db:{id}"),
                    "AWS::RDS::DBSubnetGroup" => {
                        format!("arn:aws:rds:{REGION}:{account}:subgrp:{id}")
                    }
                    "AWS::RDS::DBCluster" => {
                        format!("arn:aws:rds:{REGION}:{account}:cluster:{id}")
                    }
                    "AWS::RDS::DBClusterParameterGroup" => {
                        format!("arn:aws:rds:{REGION}:{account}:cluster-pg:{id}")
                    }
                    _ => format!("arn:aws:rds:{REGION}:{account}:pg:{id}"),
                };
                let out = aws
                    .rds
                    .list_tags_for_resource()
                    .resource_name(arn)
                    .send()
                    .await
                    .unwrap();
                out.tag_list()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                    .collect()
            }
            "AWS::KMS::Key" => {
                let out = aws
                    .kms
                    .list_resource_tags()
                    .key_id(id)
                    .send()
                    .await
                    .unwrap();
                out.tags()
                    .iter()
                    .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
                    .collect()
            }
            "AWS::SNS::Topic" => {
                let out = aws
                    .sns
                    .list_tags_for_resource()
                    .resource_arn(id)
                    .send()
                    .await
                    .unwrap();
                out.tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect()
            }
            "AWS::EC2::VPC" | "AWS::EC2::Subnet" | "AWS::EC2::SecurityGroup" => {
                let tags = ec2_tags(moto, &[id]);
                serde_json::from_value(tags[id].clone()).unwrap_or_default()
            }
            "AWS::IAM::Role" | "AWS::Logs::LogGroup" => {
                serde_json::from_value(tags_via_boto3(moto, kind, id)).unwrap_or_default()
            }
            "AWS::RDS::EventSubscription" => {
                let arn = format!("arn:aws:rds:{REGION}:{account}:es:{id}");
                let out = aws
                    .rds
                    .list_tags_for_resource()
                    .resource_name(arn)
                    .send()
                    .await
                    .unwrap();
                out.tag_list()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                    .collect()
            }
            "AWS::CloudWatch::Alarm" => continue, // checked above
            "AWS::CloudWatch::Dashboard" => continue, // takes no tags
            other => panic!("untested resource type {other} ({logical})"),
        };
        assert_tagged(&format!("{logical} {id}"), &tags, spec);
    }
}

/// Enhanced Monitoring, log exports and their log groups, RDS events to the topic, the
/// topic's key and the dashboard, read back from each service. (moto does not model
/// Performance Insights: it is checked in the template, by a Guard rule and cfn-lint.)
async fn check_observability(
    aws: &Aws,
    moto: &Moto,
    spec: &DeploymentSpec,
    resources: &StackResources,
    key_arn: &str,
) {
    let role = physical(resources, "MonitoringRole");
    let topic = physical(resources, "AlarmTopic");
    let groups = log_groups(moto, "/aws/rds/instance/");
    for id in spec.instance_identifiers() {
        let db = aws.db_instance(&id).await.unwrap().unwrap();
        assert_eq!(
            db.monitoring_interval(),
            Some(i32::from(spec.monitoring.enhanced_monitoring_seconds)),
            "{id}"
        );
        assert!(
            db.monitoring_role_arn()
                .is_some_and(|arn| arn.ends_with(&format!("/{role}"))),
            "{id}: {:?}",
            db.monitoring_role_arn()
        );
        assert_eq!(
            db.enabled_cloudwatch_logs_exports(),
            ["postgresql", "upgrade"],
            "{id}"
        );
        for log in ["postgresql", "upgrade"] {
            let name = DeploymentSpec::log_group_name(&id, log);
            assert_eq!(
                groups[&name],
                serde_json::json!([spec.monitoring.log_retention_days, key_arn]),
                "{name}"
            );
        }
    }
    assert_eq!(
        groups.as_object().unwrap().len(),
        2 * spec.instance_identifiers().len(),
        "{groups}"
    );
    let subscription = aws
        .rds
        .describe_event_subscriptions()
        .subscription_name(physical(resources, "DbEvents"))
        .send()
        .await
        .unwrap();
    let subscription = &subscription.event_subscriptions_list()[0];
    assert_eq!(subscription.sns_topic_arn(), Some(topic));
    assert_eq!(subscription.source_type(), Some("db-instance"));
    assert_eq!(subscription.enabled(), Some(true));
    let mut sources = subscription.source_ids_list().to_vec();
    sources.sort();
    assert_eq!(sources, spec.instance_identifiers());
    let attributes = aws
        .sns
        .get_topic_attributes()
        .topic_arn(topic)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attributes
            .attributes()
            .and_then(|a| a.get("KmsMasterKeyId"))
            .map(String::as_str),
        Some(key_arn),
        "the topic is encrypted with the stack's key"
    );
    let dashboard = aws
        .cloudwatch
        .get_dashboard()
        .dashboard_name(physical(resources, "Dashboard"))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_str(dashboard.dashboard_body().unwrap()).unwrap();
    let titles: Vec<&str> = body["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["properties"]["title"].as_str())
        .collect();
    for alarm in template::alarms(spec) {
        assert!(
            titles.contains(&alarm.metric),
            "{} not on {titles:?}",
            alarm.metric
        );
    }
}

#[tokio::test]
async fn test_preset_deploys_updates_through_a_change_set_and_destroys_without_leftovers() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut spec = DeploymentSpec::test(REGION);
    let mut log = Vec::new();

    // Deploy.
    let plan = aws.deploy(&spec, &mut |line| log.push(line)).await.unwrap();
    assert!(plan.creates_stack);
    let template = template::render(&spec).unwrap();
    assert_eq!(
        plan.changes.len(),
        template["Resources"].as_object().unwrap().len()
    );
    assert!(plan.changes.iter().all(|c| c.action == "Add"));
    assert!(log.iter().any(|l| l.contains("CREATE_COMPLETE")), "{log:?}");
    check_deployment(&aws, &moto, &spec).await;
    let status = aws.status(&spec).await.unwrap();
    assert_eq!(status.stack_status, "CREATE_COMPLETE");
    assert_eq!(status.instances.len(), 2);
    assert_eq!(status.alarms.len(), template::alarms(&spec).len());
    let ca = ca_bundle();
    let urls = aws.database_urls(&spec, &ca).await.unwrap();
    assert_eq!(urls.len(), 2);
    let verified = format!(":5432/ecom?{}", ca.url_params());
    assert!(
        urls[0]
            .1
            .starts_with("postgres://ecom_admin@ecom-dms-test-primary.")
            && urls[0].1.ends_with(&verified),
        "{urls:?}"
    );
    for (_, url) in &urls {
        ecom_store::pool::require_verified_tls(url, None, None).unwrap();
    }

    // Deploying the same spec again changes nothing.
    let again = aws.deploy(&spec, &mut |_| {}).await.unwrap();
    assert!(again.changes.is_empty(), "{again}");

    // Update: a second replica, shown by plan, then applied through a change set.
    let before = template::render(&spec).unwrap();
    spec.replicas.count = 2;
    let after = template::render(&spec).unwrap();
    let plan = aws.plan(&spec).await.unwrap();
    let mut changed: Vec<(&str, &str)> = plan
        .changes
        .iter()
        .map(|c| (c.action.as_str(), c.logical_id.as_str()))
        .collect();
    changed.sort();
    let mut expected: Vec<(&str, &str)> = after["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(id, r)| match before["Resources"].get(id) {
            None => Some(("Add", id.as_str())),
            Some(old) if old != r => Some(("Modify", id.as_str())),
            Some(_) => None,
        })
        .collect();
    expected.sort();
    assert!(
        expected.contains(&("Add", "Replica2")) && expected.contains(&("Modify", "DbEvents")),
        "{expected:?}"
    );
    assert_eq!(changed, expected, "{plan}");
    let applied = aws.deploy(&spec, &mut |_| {}).await.unwrap();
    assert_eq!(applied, plan);
    assert_eq!(
        aws.status(&spec).await.unwrap().stack_status,
        "UPDATE_COMPLETE"
    );
    check_deployment(&aws, &moto, &spec).await;

    // Destroy, and prove that nothing is left.
    let before = aws.stack_resources(&spec.stack_name()).await.unwrap();
    let network: Vec<&str> = before
        .values()
        .filter(|r| r.resource_type.starts_with("AWS::EC2::"))
        .map(|r| r.physical_id.as_str())
        .collect();
    assert_eq!(
        ec2_existing(&moto, &network).len(),
        4,
        "VPC, two subnets, security group exist before"
    );
    let report = aws.destroy(&spec, &mut |_| {}).await.unwrap();
    assert!(report.remaining.is_empty(), "{report}");
    let removed: Vec<&str> = report.removed.iter().map(|(_, id)| id.as_str()).collect();
    for (logical, resource) in &before {
        let id = &resource.physical_id;
        if resource.resource_type == "AWS::KMS::Key" {
            assert_eq!(
                report.kept,
                [("KMS key (scheduled for deletion)".to_owned(), id.clone())]
            );
        } else {
            assert!(
                removed.contains(&id.as_str()),
                "{logical} {id} not reported removed: {report}"
            );
        }
    }
    // And independently of the report:
    let left = aws.rds.describe_db_instances().send().await.unwrap();
    assert!(left.db_instances().is_empty(), "{:?}", left.db_instances());
    let snapshots = aws.rds.describe_db_snapshots().send().await.unwrap();
    assert!(
        snapshots.db_snapshots().is_empty(),
        "{:?}",
        snapshots.db_snapshots()
    );
    assert!(aws.alarms("").await.unwrap().is_empty());
    assert!(
        aws.sns
            .list_topics()
            .send()
            .await
            .unwrap()
            .topics()
            .is_empty()
    );
    let key = aws
        .kms
        .describe_key()
        .key_id(physical(&before, "DbKey"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        key.key_metadata().unwrap().key_state().map(|s| s.as_str()),
        Some("PendingDeletion")
    );
    let deletion = key
        .key_metadata()
        .unwrap()
        .deletion_date()
        .expect("a deletion date")
        .secs();
    let days = (deletion - chrono::Utc::now().timestamp()) / 86_400;
    assert!(
        (6..=7).contains(&days),
        "the test preset's 7-day window, got {days}"
    );
    let groups = aws.rds.describe_db_subnet_groups().send().await.unwrap();
    assert!(groups.db_subnet_groups().is_empty());
    let params = aws.rds.describe_db_parameter_groups().send().await.unwrap();
    assert!(params.db_parameter_groups().iter().all(|g| {
        !g.db_parameter_group_name()
            .unwrap_or_default()
            .starts_with("ecom-dms")
    }));
    let left_over = ec2_existing(&moto, &network);
    assert!(
        left_over.is_empty(),
        "network resources left: {left_over:?}"
    );
    assert!(matches!(
        aws.status(&spec).await,
        Err(InfraError::StackNotFound(_))
    ));
}

#[tokio::test]
async fn invalid_specs_never_reach_aws() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut spec = DeploymentSpec::test(REGION);
    spec.network
        .allowed_cidrs
        .push("0.0.0.0/0".parse().unwrap());
    let err = aws.deploy(&spec, &mut |_| {}).await.unwrap_err();
    assert!(
        matches!(err, InfraError::Spec(SpecError::PublicCidr(_))),
        "{err}"
    );
    assert!(
        aws.stack_status(&spec.stack_name())
            .await
            .unwrap()
            .is_none(),
        "no stack was created"
    );
    assert!(matches!(
        aws.plan(&spec).await.unwrap_err(),
        InfraError::Spec(_)
    ));
}

#[tokio::test]
async fn production_refuses_to_destroy_while_deletion_protection_is_on() {
    // Deployed directly: the production preset's rules are otherwise checked on its template.
    let moto = Moto::start();
    let aws = moto.aws().await;
    let spec = DeploymentSpec::production(REGION);
    aws.deploy(&spec, &mut |_| {}).await.unwrap();
    let err = aws.destroy(&spec, &mut |_| {}).await.unwrap_err();
    match err {
        InfraError::DeletionProtected(ids) => assert_eq!(ids.len(), 3, "{ids:?}"),
        other => panic!("{other}"),
    }
    assert_eq!(
        aws.status(&spec).await.unwrap().stack_status,
        "CREATE_COMPLETE",
        "nothing was deleted"
    );
}

/// A writer that leaves a final snapshot and keeps its automated backups: destroying the
/// stack keeps both, and keeps the key they are encrypted with usable, not scheduled for
/// deletion, so the snapshot can still be restored.
#[tokio::test]
async fn destroy_keeps_the_key_that_surviving_snapshots_are_encrypted_with() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut spec = DeploymentSpec::test(REGION);
    spec.replicas.count = 0;
    spec.final_snapshot = true;
    spec.backups.retain_after_deletion = true;
    aws.deploy(&spec, &mut |_| {}).await.unwrap();
    let before = aws.stack_resources(&spec.stack_name()).await.unwrap();
    let key_id = physical(&before, "DbKey").to_owned();
    let key_arn = aws.outputs(&spec.stack_name()).await.unwrap()["KmsKeyArn"].clone();

    let report = aws.destroy(&spec, &mut |_| {}).await.unwrap();
    assert!(report.remaining.is_empty(), "{report}");
    assert!(
        report.kept.contains(&(
            "KMS key (retained: snapshots need it)".to_owned(),
            key_id.clone()
        )),
        "{report}"
    );
    let kept_snapshots = report
        .kept
        .iter()
        .filter(|(kind, _)| kind == "RDS snapshot")
        .count();
    assert_eq!(kept_snapshots, 2, "final and automated: {report}");

    let key = aws.kms.describe_key().key_id(&key_id).send().await.unwrap();
    let meta = key.key_metadata().unwrap();
    assert_eq!(meta.key_state().map(|s| s.as_str()), Some("Enabled"));
    assert!(meta.deletion_date().is_none(), "not scheduled for deletion");
    let snapshots = aws
        .rds
        .describe_db_snapshots()
        .db_instance_identifier(spec.primary_identifier())
        .send()
        .await
        .unwrap();
    let final_snapshot = snapshots
        .db_snapshots()
        .iter()
        .find(|s| s.snapshot_type() == Some("manual"))
        .expect("a final snapshot");
    assert_eq!(final_snapshot.kms_key_id(), Some(key_arn.as_str()));
    assert_eq!(final_snapshot.encrypted(), Some(true));
}

#[test]
fn cli_deploys_shows_urls_with_tokens_and_destroys_through_endpoint_url() {
    let moto = Moto::start();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecom-infra"))
            .args([
                "--endpoint-url",
                &moto.endpoint,
                "--region",
                REGION,
                "--poll-seconds",
                "0",
            ])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            out.status.success(),
            "ecom-infra {args:?}: {stdout}{stderr}"
        );
        (stdout, stderr)
    };
    let (status, progress) = run(&["deploy"]);
    assert!(
        progress.contains("Add     Primary") && progress.contains("CREATE_COMPLETE"),
        "{progress}"
    );
    assert!(
        status.contains("writer  ecom-dms-test-primary")
            && status.contains("replica ecom-dms-test-replica-1"),
        "{status}"
    );
    let ca = ca_bundle();
    let ca_path = ca.path().to_str().unwrap();
    let (urls, _) = run(&[
        "database-url",
        "--ca-bundle",
        ca_path,
        "--iam-token",
        "--username",
        "ecom_app",
    ]);
    let lines: Vec<&str> = urls.lines().collect();
    assert_eq!(lines.len(), 2, "{urls}");
    assert!(
        lines[0].starts_with("DATABASE_URL=postgres://ecom_app:ecom-dms-test-primary."),
        "{urls}"
    );
    assert!(
        lines[1].starts_with("DATABASE_READ_URLS=postgres://ecom_app:ecom-dms-test-replica-1."),
        "{urls}"
    );
    // The lines are what ecom-store reads, as they are.
    let vars: std::collections::HashMap<&str, &str> =
        lines.iter().filter_map(|l| l.split_once('=')).collect();
    let config =
        ecom_store::StoreConfig::from_lookup(|key| vars.get(key).map(|v| (*v).to_owned())).unwrap();
    assert!(config.database_url.contains("ecom-dms-test-primary"));
    assert_eq!(config.read_urls.len(), 1);
    assert!(config.read_urls[0].contains("ecom-dms-test-replica-1"));
    let verified = format!(":5432/ecom?{}", ca.url_params());
    assert!(
        lines
            .iter()
            .all(|l| l.contains("X-Amz-Signature%3D") && l.ends_with(&verified)),
        "{urls}"
    );
    // ecom-store takes them: TLS verified, so the token reaches only the real server.
    for url in std::iter::once(&config.database_url).chain(&config.read_urls) {
        ecom_store::pool::require_verified_tls(url, None, None).unwrap();
    }
    let (report, progress) = run(&["destroy"]);
    assert!(report.contains("nothing left:"), "{report}");
    assert!(
        report.contains("removed   AWS::RDS::DBInstance         ecom-dms-test-primary"),
        "{report}"
    );
    assert!(
        report.contains("kept      KMS key (scheduled for deletion)"),
        "{report}"
    );
    assert!(
        !progress.contains("CREATE_COMPLETE"),
        "only new events are shown: {progress}"
    );
}

/// RDS Proxy in front of the writer: TLS required, its own security group, the writer as
/// its target, its endpoint in the outputs; destroy removes it with the rest. (moto has no
/// DefaultAuthScheme: IAM end to end is checked in the template by a Guard rule.)
#[tokio::test]
async fn a_proxy_fronts_the_writer_and_goes_with_the_stack() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut spec = DeploymentSpec::test(REGION);
    spec.replicas.count = 0;
    spec.proxy = Some(ecom_infra::spec::ProxySpec {
        idle_client_timeout_seconds: 600,
        max_connections_percent: 50,
    });
    aws.deploy(&spec, &mut |_| {}).await.unwrap();
    let stack = spec.stack_name();
    let resources = aws.stack_resources(&stack).await.unwrap();
    let outputs = aws.outputs(&stack).await.unwrap();
    let proxies = aws
        .rds
        .describe_db_proxies()
        .db_proxy_name(spec.proxy_name())
        .send()
        .await
        .unwrap();
    let proxy = &proxies.db_proxies()[0];
    assert_eq!(proxy.require_tls(), Some(true));
    assert_eq!(proxy.engine_family(), Some("POSTGRESQL"));
    assert_eq!(proxy.idle_client_timeout(), Some(600));
    assert_eq!(
        proxy.vpc_security_group_ids(),
        [physical(&resources, "ProxySecurityGroup")]
    );
    assert!(
        proxy
            .role_arn()
            .is_some_and(|arn| arn.ends_with(&format!("/{}", physical(&resources, "ProxyRole")))),
        "{:?}",
        proxy.role_arn()
    );
    assert_eq!(outputs["ProxyEndpoint"], proxy.endpoint().unwrap());
    let targets = aws
        .rds
        .describe_db_proxy_targets()
        .db_proxy_name(spec.proxy_name())
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = targets
        .targets()
        .iter()
        .filter_map(|t| t.rds_resource_id())
        .collect();
    assert_eq!(ids, [spec.primary_identifier().as_str()]);
    // Writes go through the proxy: DATABASE_URL names it.
    let ca = ca_bundle();
    let urls = aws.database_urls(&spec, &ca).await.unwrap();
    assert_eq!(
        urls,
        [(
            InstanceRole::Writer,
            format!(
                "postgres://ecom_admin@{}:5432/ecom?{}",
                outputs["ProxyEndpoint"],
                ca.url_params()
            )
        )]
    );

    let report = aws.destroy(&spec, &mut |_| {}).await.unwrap();
    assert!(report.remaining.is_empty(), "{report}");
    assert!(
        report
            .removed
            .iter()
            .any(|(kind, id)| kind == "AWS::RDS::DBProxy" && id == &spec.proxy_name()),
        "{report}"
    );
    assert!(
        aws.rds
            .describe_db_proxies()
            .send()
            .await
            .unwrap()
            .db_proxies()
            .is_empty()
    );
}

/// Everything a deployed Aurora cluster must be, read back through each service's API.
async fn check_aurora_deployment(aws: &Aws, moto: &Moto, spec: &DeploymentSpec) {
    let stack = spec.stack_name();
    let resources = aws.stack_resources(&stack).await.unwrap();
    let outputs = aws.outputs(&stack).await.unwrap();
    let key = aws
        .kms
        .describe_key()
        .key_id(physical(&resources, "DbKey"))
        .send()
        .await
        .unwrap();
    let key_arn = key.key_metadata().unwrap().arn().unwrap().to_owned();
    assert_eq!(outputs["KmsKeyArn"], key_arn);

    // The cluster: the data, its encryption, authentication, backups and protection.
    let cluster = aws
        .db_cluster(&spec.cluster_identifier())
        .await
        .unwrap()
        .expect("the cluster exists");
    assert_eq!(physical(&resources, "Cluster"), spec.cluster_identifier());
    assert_eq!(cluster.engine(), Some("aurora-postgresql"));
    assert_eq!(
        cluster.engine_version(),
        Some(spec.database.engine_version.as_str())
    );
    assert_eq!(cluster.database_name(), Some("ecom"));
    assert_eq!(cluster.master_username(), Some("ecom_admin"));
    assert_eq!(cluster.port(), Some(5432));
    assert_eq!(cluster.storage_encrypted(), Some(true), "encrypted");
    assert_eq!(
        cluster.kms_key_id(),
        Some(key_arn.as_str()),
        "with the stack's key"
    );
    assert_eq!(cluster.iam_database_authentication_enabled(), Some(true));
    assert_eq!(
        cluster.deletion_protection(),
        Some(spec.deletion_protection)
    );
    assert_eq!(
        cluster.backup_retention_period(),
        Some(i32::from(spec.backups.retention_days))
    );
    assert_eq!(cluster.copy_tags_to_snapshot(), Some(true));
    assert_eq!(cluster.storage_type(), Some("aurora"));
    assert_eq!(cluster.enabled_cloudwatch_logs_exports(), ["postgresql"]);
    let secret = cluster
        .master_user_secret()
        .expect("a managed master secret");
    assert_eq!(secret.kms_key_id(), Some(key_arn.as_str()));
    assert_eq!(outputs["MasterUserSecretArn"], secret.secret_arn().unwrap());
    assert_eq!(outputs["WriterEndpoint"], cluster.endpoint().unwrap());
    assert_eq!(
        outputs["ReaderEndpoint"],
        cluster.reader_endpoint().unwrap()
    );
    assert_eq!(outputs["Port"], "5432");
    assert_eq!(
        cluster.db_subnet_group(),
        Some(physical(&resources, "DbSubnetGroup"))
    );
    let sg = physical(&resources, "DbSecurityGroup");
    let groups: Vec<&str> = cluster
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id())
        .collect();
    assert_eq!(groups, [sg]);

    // rds.force_ssl through the stack's cluster parameter group.
    let parameter_group = physical(&resources, "DbClusterParameterGroup");
    assert_eq!(cluster.db_cluster_parameter_group(), Some(parameter_group));
    let params = aws
        .rds
        .describe_db_cluster_parameters()
        .db_cluster_parameter_group_name(parameter_group)
        .send()
        .await
        .unwrap();
    let value = |name: &str| {
        params
            .parameters()
            .iter()
            .find(|p| p.parameter_name() == Some(name))
            .and_then(|p| p.parameter_value())
            .map(str::to_owned)
    };
    assert_eq!(value("rds.force_ssl").as_deref(), Some("1"));
    assert_eq!(value("log_lock_waits").as_deref(), Some("1"));

    // The instances: the writer created as such, each reader in another zone.
    let mut members: Vec<(String, bool, i32)> = cluster
        .db_cluster_members()
        .iter()
        .filter_map(|m| {
            Some((
                m.db_instance_identifier()?.to_owned(),
                m.is_cluster_writer()?,
                m.promotion_tier()?,
            ))
        })
        .collect();
    members.sort();
    let mut expected: Vec<(String, bool, i32)> =
        std::iter::once((spec.primary_identifier(), true, 0))
            .chain((1..=spec.replicas.count).map(|n| (spec.replica_identifier(n), false, 1)))
            .collect();
    expected.sort();
    assert_eq!(members, expected);
    let role = physical(&resources, "MonitoringRole");
    let mut zones = Vec::new();
    for id in spec.instance_identifiers() {
        let db = aws.db_instance(&id).await.unwrap().unwrap();
        assert_eq!(
            db.db_cluster_identifier(),
            Some(spec.cluster_identifier().as_str())
        );
        assert_eq!(db.engine(), Some("aurora-postgresql"));
        assert_eq!(db.publicly_accessible(), Some(false), "{id}");
        assert_eq!(
            db.monitoring_interval(),
            Some(i32::from(spec.monitoring.enhanced_monitoring_seconds)),
            "{id}"
        );
        assert!(
            db.monitoring_role_arn()
                .is_some_and(|arn| arn.ends_with(&format!("/{role}"))),
            "{id}: {:?}",
            db.monitoring_role_arn()
        );
        zones.push(db.availability_zone().unwrap().to_owned());
    }
    assert!(
        zones[1..].iter().all(|zone| zone != &zones[0]),
        "readers outside the writer's zone: {zones:?}"
    );

    // The cluster's log group, alarms by role, events of the cluster and the instances.
    let groups = log_groups(moto, "/aws/rds/");
    let names: Vec<&String> = groups.as_object().unwrap().keys().collect();
    assert_eq!(
        names,
        spec.log_group_names().iter().collect::<Vec<_>>(),
        "one log group, the cluster's"
    );
    for name in spec.log_group_names() {
        assert_eq!(
            groups[&name],
            serde_json::json!([spec.monitoring.log_retention_days, key_arn]),
            "{name}"
        );
    }
    let topic = physical(&resources, "AlarmTopic");
    check_alarms(aws, spec, topic).await;
    for (logical, source_type, mut sources) in [
        ("DbEvents", "db-instance", spec.instance_identifiers()),
        (
            "ClusterEvents",
            "db-cluster",
            vec![spec.cluster_identifier()],
        ),
    ] {
        let out = aws
            .rds
            .describe_event_subscriptions()
            .subscription_name(physical(&resources, logical))
            .send()
            .await
            .unwrap();
        let subscription = &out.event_subscriptions_list()[0];
        assert_eq!(subscription.sns_topic_arn(), Some(topic));
        assert_eq!(subscription.source_type(), Some(source_type));
        let mut listed = subscription.source_ids_list().to_vec();
        listed.sort();
        sources.sort();
        assert_eq!(listed, sources, "{logical}");
    }
    check_tags(aws, moto, spec, &resources).await;
}

/// The test preset on Aurora, on moto: a cluster with a writer and a reader, read back
/// through RDS and the other services, its endpoints as `DATABASE_URL` and
/// `DATABASE_READ_URLS`; destroyed with nothing left. (moto does not model Performance
/// Insights, nor Aurora's storage, replication or failover.)
#[tokio::test]
async fn aurora_test_preset_deploys_and_destroys_without_leftovers() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let spec = Preset::Test.spec_on(REGION, EngineKind::Aurora);
    let plan = aws.deploy(&spec, &mut |_| {}).await.unwrap();
    assert!(plan.creates_stack);
    let template = template::render(&spec).unwrap();
    assert_eq!(
        plan.changes.len(),
        template["Resources"].as_object().unwrap().len()
    );
    check_aurora_deployment(&aws, &moto, &spec).await;

    let status = aws.status(&spec).await.unwrap();
    let cluster = status.cluster.clone().expect("the cluster in the status");
    assert_eq!(cluster.identifier, spec.cluster_identifier());
    let roles: Vec<(&str, InstanceRole)> = status
        .instances
        .iter()
        .map(|i| (i.identifier.as_str(), i.role))
        .collect();
    assert_eq!(
        roles,
        [
            ("ecom-dms-test-primary", InstanceRole::Writer),
            ("ecom-dms-test-replica-1", InstanceRole::Replica)
        ]
    );
    let shown = status.to_string();
    assert!(
        shown.contains("cluster ecom-dms-test-cluster")
            && shown.contains("writer  ecom-dms-test-primary"),
        "{shown}"
    );
    // The cluster's endpoints, not the instances': they follow a failover.
    let ca = ca_bundle();
    let urls = aws.database_urls(&spec, &ca).await.unwrap();
    let (writer, reader) = (
        cluster.writer_endpoint.unwrap().0,
        cluster.reader_endpoint.unwrap().0,
    );
    assert!(writer.contains(".cluster-") && reader.contains(".cluster-ro-"));
    assert_eq!(
        urls,
        [
            (
                InstanceRole::Writer,
                format!(
                    "postgres://ecom_admin@{writer}:5432/ecom?{}",
                    ca.url_params()
                )
            ),
            (
                InstanceRole::Replica,
                format!(
                    "postgres://ecom_admin@{reader}:5432/ecom?{}",
                    ca.url_params()
                )
            ),
        ]
    );

    let again = aws.deploy(&spec, &mut |_| {}).await.unwrap();
    assert!(again.changes.is_empty(), "{again}");

    let before = aws.stack_resources(&spec.stack_name()).await.unwrap();
    let report = aws.destroy(&spec, &mut |_| {}).await.unwrap();
    assert!(report.remaining.is_empty(), "{report}");
    let removed: Vec<&str> = report.removed.iter().map(|(_, id)| id.as_str()).collect();
    for (logical, resource) in &before {
        if resource.resource_type != "AWS::KMS::Key" {
            assert!(
                removed.contains(&resource.physical_id.as_str()),
                "{logical} not reported removed: {report}"
            );
        }
    }
    assert!(
        report
            .removed
            .iter()
            .any(|(kind, _)| kind.starts_with("managed master secret")),
        "the cluster's secret goes with it: {report}"
    );
    assert_eq!(
        report.kept,
        [(
            "KMS key (scheduled for deletion)".to_owned(),
            physical(&before, "DbKey").to_owned()
        )]
    );
    // And independently of the report:
    let clusters = aws.rds.describe_db_clusters().send().await.unwrap();
    assert!(clusters.db_clusters().is_empty());
    let instances = aws.rds.describe_db_instances().send().await.unwrap();
    assert!(instances.db_instances().is_empty());
    let snapshots = aws
        .rds
        .describe_db_cluster_snapshots()
        .send()
        .await
        .unwrap();
    assert!(snapshots.db_cluster_snapshots().is_empty());
    let groups = aws
        .rds
        .describe_db_cluster_parameter_groups()
        .send()
        .await
        .unwrap();
    assert!(groups.db_cluster_parameter_groups().iter().all(|g| {
        !g.db_cluster_parameter_group_name()
            .unwrap_or_default()
            .starts_with("ecom-dms")
    }));
    assert!(aws.alarms("").await.unwrap().is_empty());
}

/// An Aurora cluster keeping a final snapshot and its automated backups: destroy keeps
/// both and the key they are encrypted with; with deletion protection (production) it
/// refuses and changes nothing.
#[tokio::test]
async fn aurora_destroy_keeps_the_cluster_snapshots_and_their_key_and_refuses_when_protected() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut spec = Preset::Test.spec_on(REGION, EngineKind::Aurora);
    spec.final_snapshot = true;
    spec.backups.retain_after_deletion = true;
    aws.deploy(&spec, &mut |_| {}).await.unwrap();
    let before = aws.stack_resources(&spec.stack_name()).await.unwrap();
    let key_id = physical(&before, "DbKey").to_owned();
    let key_arn = aws.outputs(&spec.stack_name()).await.unwrap()["KmsKeyArn"].clone();
    let report = aws.destroy(&spec, &mut |_| {}).await.unwrap();
    assert!(report.remaining.is_empty(), "{report}");
    assert!(
        report.kept.contains(&(
            "KMS key (retained: snapshots need it)".to_owned(),
            key_id.clone()
        )),
        "{report}"
    );
    let kept: Vec<&str> = report
        .kept
        .iter()
        .filter(|(kind, _)| kind == "Aurora cluster snapshot")
        .map(|(_, id)| id.as_str())
        .collect();
    assert_eq!(kept.len(), 2, "final and automated: {report}");
    let key = aws.kms.describe_key().key_id(&key_id).send().await.unwrap();
    assert_eq!(
        key.key_metadata().unwrap().key_state().map(|s| s.as_str()),
        Some("Enabled")
    );
    let snapshots = aws
        .rds
        .describe_db_cluster_snapshots()
        .db_cluster_identifier(spec.cluster_identifier())
        .send()
        .await
        .unwrap();
    let last = snapshots
        .db_cluster_snapshots()
        .iter()
        .find(|s| s.snapshot_type() == Some("manual"))
        .expect("a final snapshot");
    assert_eq!(last.kms_key_id(), Some(key_arn.as_str()));
    assert_eq!(last.storage_encrypted(), Some(true));

    let production = Preset::Production.spec_on(REGION, EngineKind::Aurora);
    aws.deploy(&production, &mut |_| {}).await.unwrap();
    match aws.destroy(&production, &mut |_| {}).await.unwrap_err() {
        InfraError::DeletionProtected(ids) => {
            assert_eq!(ids, [production.cluster_identifier()])
        }
        other => panic!("{other}"),
    }
    assert!(
        aws.db_cluster(&production.cluster_identifier())
            .await
            .unwrap()
            .is_some(),
        "nothing was deleted"
    );
}
