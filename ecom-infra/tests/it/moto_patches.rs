//! One test per patched moto behaviour (ecom-infra/tests/moto/ecom_moto.py): each deploys
//! the smallest template that needs the behaviour and checks that moto now does what the
//! AWS CloudFormation documentation says.

use serde_json::{Value, json};

use crate::support::{Moto, create_stack, stack_status};

/// A VPC with two subnets and an RDS subnet group: what an instance needs to stand in.
fn network() -> serde_json::Map<String, Value> {
    let mut r = serde_json::Map::new();
    r.insert(
        "Vpc".into(),
        json!({"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.9.0.0/16"}}),
    );
    for (i, zone) in ["eu-west-1a", "eu-west-1b"].iter().enumerate() {
        r.insert(
            format!("Subnet{i}"),
            json!({"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "AvailabilityZone": zone, "CidrBlock": format!("10.9.{i}.0/24")}}),
        );
    }
    r.insert(
        "Subnets".into(),
        json!({"Type": "AWS::RDS::DBSubnetGroup", "Properties": {"DBSubnetGroupDescription": "d", "SubnetIds": [{"Ref": "Subnet0"}, {"Ref": "Subnet1"}]}}),
    );
    r
}

fn instance(extra: Value) -> Value {
    let mut props = json!({
        "Engine": "postgres", "EngineVersion": "17.6", "DBInstanceClass": "db.t4g.micro",
        "AllocatedStorage": "20", "MasterUsername": "admin_user", "MasterUserPassword": "not-a-secret-1",
        "DBSubnetGroupName": {"Ref": "Subnets"}, "Port": "5432",
    });
    props
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"Type": "AWS::RDS::DBInstance", "Properties": props})
}

#[tokio::test]
async fn moto_patch_rds_group_refs() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut r = network();
    r.insert("Params".into(), json!({"Type": "AWS::RDS::DBParameterGroup", "Properties": {"Description": "d", "Family": "postgres17", "Parameters": {"rds.force_ssl": "1"}}}));
    r.insert("Named".into(), json!({"Type": "AWS::RDS::DBParameterGroup", "Properties": {"Description": "d", "Family": "postgres17", "DBParameterGroupName": "chosen-name"}}));
    r.insert(
        "Db".into(),
        instance(
            json!({"DBInstanceIdentifier": "refs-db", "DBParameterGroupName": {"Ref": "Params"}}),
        ),
    );
    let t = json!({"Resources": r, "Outputs": {"Params": {"Value": {"Ref": "Params"}}, "Subnets": {"Value": {"Ref": "Subnets"}}}});
    assert_eq!(create_stack(&aws, "refs", &t).await, "CREATE_COMPLETE");
    let resources = aws.stack_resources("refs").await.unwrap();
    let outputs = aws.outputs("refs").await.unwrap();
    let params = &resources["Params"].physical_id;
    assert!(!params.is_empty());
    assert_eq!(&outputs["Params"], params, "Ref gives the group's name");
    assert_eq!(
        resources["Named"].physical_id, "chosen-name",
        "an explicit DBParameterGroupName is honoured"
    );
    assert_eq!(&outputs["Subnets"], &resources["Subnets"].physical_id);
    let db = aws.db_instance("refs-db").await.unwrap().unwrap();
    assert_eq!(
        db.db_parameter_groups()[0].db_parameter_group_name(),
        Some(params.as_str())
    );
    assert_eq!(
        db.db_subnet_group().and_then(|g| g.db_subnet_group_name()),
        Some(resources["Subnets"].physical_id.as_str())
    );
}

#[tokio::test]
async fn moto_patch_db_instance_properties() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut r = network();
    r.insert("Key".into(), json!({"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": []}}}));
    r.insert("Sg".into(), json!({"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "d", "VpcId": {"Ref": "Vpc"}}}));
    let mut db = instance(json!({
        "DBInstanceIdentifier": "props-db", "EnableIAMDatabaseAuthentication": true, "DeletionProtection": true,
        "ManageMasterUserPassword": true, "MasterUserSecret": {"KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]}},
        "VPCSecurityGroups": [{"Fn::GetAtt": ["Sg", "GroupId"]}], "MaxAllocatedStorage": 40,
        "StorageEncrypted": true, "KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
        "MonitoringInterval": 15, "MonitoringRoleArn": "arn:aws:iam::123456789012:role/monitoring",
        "EnableCloudwatchLogsExports": ["postgresql", "upgrade"],
    }));
    db["Properties"]
        .as_object_mut()
        .unwrap()
        .remove("MasterUserPassword");
    r.insert("Db".into(), db);
    let t = json!({"Resources": r, "Outputs": {"Secret": {"Value": {"Fn::GetAtt": ["Db", "MasterUserSecret.SecretArn"]}}}});
    assert_eq!(create_stack(&aws, "props", &t).await, "CREATE_COMPLETE");
    let resources = aws.stack_resources("props").await.unwrap();
    let key = aws
        .kms
        .describe_key()
        .key_id(&resources["Key"].physical_id)
        .send()
        .await
        .unwrap();
    let key_arn = key.key_metadata().unwrap().arn().unwrap();
    let db = aws.db_instance("props-db").await.unwrap().unwrap();
    assert_eq!(db.iam_database_authentication_enabled(), Some(true));
    assert_eq!(db.deletion_protection(), Some(true));
    assert_eq!(db.max_allocated_storage(), Some(40));
    assert_eq!(db.allocated_storage(), Some(20));
    assert_eq!(db.monitoring_interval(), Some(15));
    assert_eq!(
        db.monitoring_role_arn(),
        Some("arn:aws:iam::123456789012:role/monitoring")
    );
    assert_eq!(
        db.enabled_cloudwatch_logs_exports(),
        ["postgresql", "upgrade"]
    );
    assert_eq!(db.endpoint().and_then(|e| e.port()), Some(5432));
    let groups: Vec<&str> = db
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id())
        .collect();
    assert_eq!(groups, [resources["Sg"].physical_id.as_str()]);
    let secret = db.master_user_secret().expect("a managed master secret");
    assert_eq!(secret.kms_key_id(), Some(key_arn));
    assert_eq!(
        aws.outputs("props").await.unwrap()["Secret"],
        secret.secret_arn().unwrap()
    );
}

#[tokio::test]
async fn moto_patch_delete_with_replicas() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut r = network();
    r.insert(
        "Db".into(),
        instance(json!({"DBInstanceIdentifier": "src-db", "BackupRetentionPeriod": 1})),
    );
    for n in 1..=2 {
        r.insert(
            format!("Replica{n}"),
            json!({"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceIdentifier": format!("replica-{n}"), "DBInstanceClass": "db.t4g.micro", "SourceDBInstanceIdentifier": {"Ref": "Db"}, "Port": "5432"}}),
        );
    }
    assert_eq!(
        create_stack(&aws, "replicas", &json!({"Resources": r})).await,
        "CREATE_COMPLETE"
    );
    let id = aws.stack_status("replicas").await.unwrap().unwrap().0;
    aws.cfn
        .delete_stack()
        .stack_name(&id)
        .send()
        .await
        .expect("DeleteStack succeeds");
    assert_eq!(stack_status(&aws, &id).await, "DELETE_COMPLETE");
    assert!(
        aws.rds
            .describe_db_instances()
            .send()
            .await
            .unwrap()
            .db_instances()
            .is_empty()
    );
}

#[tokio::test]
async fn moto_patch_db_instance_deletion_policy() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut r = network();
    let mut kept = instance(
        json!({"DBInstanceIdentifier": "kept-db", "BackupRetentionPeriod": 1,
                                   "DeleteAutomatedBackups": false}),
    );
    kept["DeletionPolicy"] = json!("Snapshot");
    r.insert("Kept".into(), kept);
    r.insert(
        "Gone".into(),
        instance(json!({"DBInstanceIdentifier": "gone-db", "BackupRetentionPeriod": 1})),
    );
    assert_eq!(
        create_stack(&aws, "policies", &json!({"Resources": r})).await,
        "CREATE_COMPLETE"
    );
    let id = aws.stack_status("policies").await.unwrap().unwrap().0;
    aws.cfn.delete_stack().stack_name(&id).send().await.unwrap();
    assert_eq!(stack_status(&aws, &id).await, "DELETE_COMPLETE");
    let snapshots = |instance: &'static str| {
        let aws = aws.clone();
        async move {
            let out = aws
                .rds
                .describe_db_snapshots()
                .db_instance_identifier(instance)
                .send()
                .await
                .unwrap();
            let mut kinds: Vec<String> = out
                .db_snapshots()
                .iter()
                .filter_map(|s| s.snapshot_type().map(str::to_owned))
                .collect();
            kinds.sort();
            kinds
        }
    };
    assert_eq!(
        snapshots("kept-db").await,
        ["automated", "manual"],
        "a final snapshot, and the automated backups kept"
    );
    assert!(
        snapshots("gone-db").await.is_empty(),
        "nothing of the other"
    );
    assert!(aws.db_instance("kept-db").await.unwrap().is_none());
}

#[tokio::test]
async fn moto_patch_rds_event_subscription() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut r = network();
    r.insert(
        "Db".into(),
        instance(json!({"DBInstanceIdentifier": "events-db"})),
    );
    r.insert(
        "Topic".into(),
        json!({"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "events"}}),
    );
    r.insert("Events".into(), json!({"Type": "AWS::RDS::EventSubscription", "Properties": {
        "SubscriptionName": "db-events", "SnsTopicArn": {"Ref": "Topic"}, "SourceType": "db-instance",
        "SourceIds": [{"Ref": "Db"}], "Enabled": true,
        "Tags": [{"Key": "Project", "Value": "ecom-dms"}],
    }}));
    let t = json!({"Resources": r, "Outputs": {"Events": {"Value": {"Ref": "Events"}}}});
    assert_eq!(create_stack(&aws, "events", &t).await, "CREATE_COMPLETE");
    assert_eq!(aws.outputs("events").await.unwrap()["Events"], "db-events");
    let out = aws
        .rds
        .describe_event_subscriptions()
        .subscription_name("db-events")
        .send()
        .await
        .unwrap();
    let subscription = &out.event_subscriptions_list()[0];
    assert_eq!(subscription.source_ids_list(), ["events-db"]);
    assert_eq!(subscription.source_type(), Some("db-instance"));
    assert!(
        subscription
            .sns_topic_arn()
            .is_some_and(|arn| arn.ends_with(":events"))
    );
    let id = aws.stack_status("events").await.unwrap().unwrap().0;
    aws.cfn.delete_stack().stack_name(&id).send().await.unwrap();
    assert_eq!(stack_status(&aws, &id).await, "DELETE_COMPLETE");
    let left = aws.rds.describe_event_subscriptions().send().await.unwrap();
    assert!(left.event_subscriptions_list().is_empty());
}

#[tokio::test]
async fn moto_patch_log_group_kms_key() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let key = "arn:aws:kms:eu-west-1:123456789012:key/0b0b0b0b-0000-4000-8000-000000000000";
    let t = json!({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": "/aws/rds/instance/x/postgresql", "RetentionInDays": 7, "KmsKeyId": key,
    }}}});
    assert_eq!(create_stack(&aws, "logs", &t).await, "CREATE_COMPLETE");
    let groups = crate::support::log_groups(&moto, "/aws/rds/instance/x/");
    assert_eq!(
        groups["/aws/rds/instance/x/postgresql"],
        json!([7, key]),
        "{groups}"
    );
}

#[tokio::test]
async fn moto_patch_kms_key_policy_and_deletion() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]});
    let t = json!({"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {
        "KeyPolicy": policy, "PendingWindowInDays": 9, "EnableKeyRotation": true,
        "Tags": [{"Key": "Project", "Value": "ecom-dms"}],
    }}}});
    assert_eq!(create_stack(&aws, "key", &t).await, "CREATE_COMPLETE");
    let id = aws.stack_resources("key").await.unwrap()["Key"]
        .physical_id
        .clone();
    let key = aws
        .kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("DescribeKey works with an object KeyPolicy");
    assert_eq!(
        key.key_metadata().unwrap().key_state().map(|s| s.as_str()),
        Some("Enabled")
    );
    let stored = aws
        .kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("default")
        .send()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(stored.policy().unwrap()).unwrap(),
        policy
    );
    let tags = aws
        .kms
        .list_resource_tags()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags()
            .iter()
            .map(|t| (t.tag_key(), t.tag_value()))
            .collect::<Vec<_>>(),
        [("Project", "ecom-dms")]
    );

    aws.cfn
        .delete_stack()
        .stack_name("key")
        .send()
        .await
        .unwrap();
    let key = aws.kms.describe_key().key_id(&id).send().await.unwrap();
    let meta = key.key_metadata().unwrap();
    assert_eq!(
        meta.key_state().map(|s| s.as_str()),
        Some("PendingDeletion"),
        "scheduled, not erased"
    );
    let days = (meta.deletion_date().unwrap().secs() - chrono::Utc::now().timestamp()) / 86_400;
    assert!(
        (8..=9).contains(&days),
        "PendingWindowInDays honoured: {days}"
    );
}

#[tokio::test]
async fn moto_patch_cloudwatch_alarm() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let t = json!({"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Cpu": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": "db-cpu", "Namespace": "AWS/RDS", "MetricName": "CPUUtilization", "Statistic": "Average",
            "Period": 300, "EvaluationPeriods": 3, "Threshold": 80.0, "ComparisonOperator": "GreaterThanThreshold",
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "db-1"}], "AlarmActions": [{"Ref": "Topic"}],
            "Tags": [{"Key": "Owner", "Value": "me"}],
        }},
    }, "Outputs": {"Alarm": {"Value": {"Ref": "Cpu"}}}});
    assert_eq!(create_stack(&aws, "alarm", &t).await, "CREATE_COMPLETE");
    assert_eq!(
        aws.outputs("alarm").await.unwrap()["Alarm"],
        "db-cpu",
        "Ref gives the alarm name"
    );
    let alarms = aws.alarms("db-").await.unwrap();
    assert_eq!(alarms.len(), 1);
    let a = &alarms[0];
    let topic = aws.stack_resources("alarm").await.unwrap()["Topic"]
        .physical_id
        .clone();
    assert_eq!(
        (a.metric_name(), a.threshold(), a.evaluation_periods()),
        (Some("CPUUtilization"), Some(80.0), Some(3))
    );
    assert_eq!(a.alarm_actions(), [topic]);
    let tags = aws
        .cloudwatch
        .list_tags_for_resource()
        .resource_arn(a.alarm_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags()
            .iter()
            .map(|t| (t.key().unwrap(), t.value().unwrap()))
            .collect::<Vec<_>>(),
        [("Owner", "me")]
    );
    aws.cfn
        .delete_stack()
        .stack_name("alarm")
        .send()
        .await
        .unwrap();
    assert!(
        aws.alarms("db-").await.unwrap().is_empty(),
        "deleted with the stack"
    );
}

#[tokio::test]
async fn moto_patch_deleted_stack_resources() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut r = network();
    r.insert(
        "Db".into(),
        instance(json!({"DBInstanceIdentifier": "gone-db"})),
    );
    assert_eq!(
        create_stack(&aws, "gone", &json!({"Resources": r})).await,
        "CREATE_COMPLETE"
    );
    let id = aws.stack_status("gone").await.unwrap().unwrap().0;
    aws.cfn.delete_stack().stack_name(&id).send().await.unwrap();
    let after = aws.stack_resources(&id).await.unwrap();
    assert_eq!(after.len(), 5, "{after:?}");
    assert!(
        after.values().all(|r| r.status == "DELETE_COMPLETE"),
        "{after:?}"
    );
    assert!(
        aws.db_instance("gone-db").await.unwrap().is_none(),
        "listing did not bring the instance back"
    );
}

#[tokio::test]
async fn moto_patch_change_set_outputs() {
    use aws_sdk_cloudformation::types::ChangeSetType;
    let moto = Moto::start();
    let aws = moto.aws().await;
    let template = |topics: u8| {
        let mut resources = serde_json::Map::new();
        let mut outputs = serde_json::Map::new();
        for n in 1..=topics {
            resources.insert(
                format!("Topic{n}"),
                json!({"Type": "AWS::SNS::Topic", "Properties": {"TopicName": format!("t{n}")}}),
            );
            outputs.insert(
                format!("Topic{n}"),
                json!({"Value": {"Ref": format!("Topic{n}")}}),
            );
        }
        json!({"Resources": resources, "Outputs": outputs}).to_string()
    };
    for (kind, topics) in [(ChangeSetType::Create, 1), (ChangeSetType::Update, 2)] {
        let cs = aws
            .cfn
            .create_change_set()
            .stack_name("cs")
            .change_set_name(format!("cs{topics}"))
            .change_set_type(kind)
            .template_body(template(topics))
            .send()
            .await
            .unwrap();
        aws.cfn
            .execute_change_set()
            .change_set_name(cs.id().unwrap())
            .send()
            .await
            .unwrap();
        let outputs = aws.outputs("cs").await.unwrap();
        assert_eq!(outputs.len(), usize::from(topics), "{outputs:?}");
        assert_eq!(
            outputs[&format!("Topic{topics}")],
            format!("arn:aws:sns:eu-west-1:123456789012:t{topics}")
        );
    }
}

#[tokio::test]
async fn moto_patch_sns_topic_tags() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let t = json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {
        "TopicName": "tagged", "Tags": [{"Key": "Owner", "Value": "me"}, {"Key": "Project", "Value": "ecom-dms"}],
    }}}});
    assert_eq!(create_stack(&aws, "topic", &t).await, "CREATE_COMPLETE");
    let arn = aws.stack_resources("topic").await.unwrap()["Topic"]
        .physical_id
        .clone();
    let tags = aws
        .sns
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    let mut tags: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    tags.sort();
    assert_eq!(tags, [("Owner", "me"), ("Project", "ecom-dms")]);
}

#[test]
fn moto_launcher_applies_exactly_the_tested_patches() {
    let moto = Moto::start();
    let log = std::fs::read_to_string(&moto.log).unwrap();
    assert!(
        log.contains("ecom_moto: moto 5.2.5 with patches rds_group_refs, db_instance_properties, delete_with_replicas, kms_key_policy_and_deletion, db_instance_deletion_policy, rds_event_subscription, rds_db_proxy, rds_db_cluster_parameter_group, rds_db_cluster, db_cluster_instances, log_group_kms_key, cloudwatch_alarm, deleted_stack_resources, change_set_outputs, sns_topic_tags, termination_protection"),
        "{log}"
    );
}

#[tokio::test]
async fn moto_patch_termination_protection() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let t = json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "kept"}}}});
    assert_eq!(create_stack(&aws, "guarded", &t).await, "CREATE_COMPLETE");
    aws.cfn
        .update_termination_protection()
        .stack_name("guarded")
        .enable_termination_protection(true)
        .send()
        .await
        .expect("UpdateTerminationProtection");
    let stacks = aws
        .cfn
        .describe_stacks()
        .stack_name("guarded")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stacks.stacks()[0].enable_termination_protection(),
        Some(true)
    );
    let refused = aws.cfn.delete_stack().stack_name("guarded").send().await;
    assert!(refused.is_err(), "DeleteStack refused while protected");
    assert_eq!(stack_status(&aws, "guarded").await, "CREATE_COMPLETE");
    aws.cfn
        .update_termination_protection()
        .stack_name("guarded")
        .enable_termination_protection(false)
        .send()
        .await
        .unwrap();
    aws.cfn
        .delete_stack()
        .stack_name("guarded")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn moto_patch_rds_db_proxy() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut r = network();
    r.insert(
        "Db".into(),
        instance(json!({"DBInstanceIdentifier": "proxied-db"})),
    );
    r.insert("Proxy".into(), json!({"Type": "AWS::RDS::DBProxy", "Properties": {
        "DBProxyName": "the-proxy", "EngineFamily": "POSTGRESQL", "RequireTLS": true,
        "RoleArn": "arn:aws:iam::123456789012:role/proxy", "VpcSubnetIds": [{"Ref": "Subnet0"}, {"Ref": "Subnet1"}],
        "DefaultAuthScheme": "IAM_AUTH",
    }}));
    r.insert("Targets".into(), json!({"Type": "AWS::RDS::DBProxyTargetGroup", "Properties": {
        "DBProxyName": {"Ref": "Proxy"}, "TargetGroupName": "default", "DBInstanceIdentifiers": [{"Ref": "Db"}],
    }}));
    let t = json!({"Resources": r, "Outputs": {
        "Endpoint": {"Value": {"Fn::GetAtt": ["Proxy", "Endpoint"]}},
        "Dbi": {"Value": {"Fn::GetAtt": ["Db", "DbiResourceId"]}},
    }});
    assert_eq!(create_stack(&aws, "proxy", &t).await, "CREATE_COMPLETE");
    let outputs = aws.outputs("proxy").await.unwrap();
    let proxies = aws.rds.describe_db_proxies().send().await.unwrap();
    let proxy = &proxies.db_proxies()[0];
    assert_eq!(proxy.db_proxy_name(), Some("the-proxy"));
    assert_eq!(proxy.require_tls(), Some(true));
    assert_eq!(outputs["Endpoint"], proxy.endpoint().unwrap());
    let db = aws.db_instance("proxied-db").await.unwrap().unwrap();
    assert_eq!(outputs["Dbi"], db.dbi_resource_id().unwrap());
    let targets = aws
        .rds
        .describe_db_proxy_targets()
        .db_proxy_name("the-proxy")
        .send()
        .await
        .unwrap();
    assert_eq!(targets.targets()[0].rds_resource_id(), Some("proxied-db"));
    let id = aws.stack_status("proxy").await.unwrap().unwrap().0;
    aws.cfn.delete_stack().stack_name(&id).send().await.unwrap();
    assert_eq!(stack_status(&aws, &id).await, "DELETE_COMPLETE");
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

/// An Aurora PostgreSQL cluster in the network, with `extra` properties.
fn cluster(extra: Value) -> Value {
    let mut props = json!({
        "Engine": "aurora-postgresql", "EngineVersion": "17.6", "MasterUsername": "admin_user",
        "MasterUserPassword": "not-a-secret-1", "DBSubnetGroupName": {"Ref": "Subnets"},
    });
    props
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"Type": "AWS::RDS::DBCluster", "Properties": props})
}

#[tokio::test]
async fn moto_patch_rds_db_cluster_parameter_group() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let t = json!({"Resources": {"Params": {"Type": "AWS::RDS::DBClusterParameterGroup", "Properties": {
        "Description": "d", "Family": "aurora-postgresql17", "Parameters": {"rds.force_ssl": "1", "log_lock_waits": 1},
        "Tags": [{"Key": "Project", "Value": "ecom-dms"}],
    }}}, "Outputs": {"Params": {"Value": {"Ref": "Params"}}}});
    assert_eq!(
        create_stack(&aws, "cluster-params", &t).await,
        "CREATE_COMPLETE"
    );
    let name = aws.outputs("cluster-params").await.unwrap()["Params"].clone();
    let resources = aws.stack_resources("cluster-params").await.unwrap();
    assert_eq!(
        resources["Params"].physical_id, name,
        "Ref gives the group's name"
    );
    let params = aws
        .rds
        .describe_db_cluster_parameters()
        .db_cluster_parameter_group_name(&name)
        .send()
        .await
        .unwrap();
    let values: Vec<(&str, &str)> = params
        .parameters()
        .iter()
        .filter_map(|p| Some((p.parameter_name()?, p.parameter_value()?)))
        .collect();
    assert!(values.contains(&("rds.force_ssl", "1")), "{values:?}");
    assert!(values.contains(&("log_lock_waits", "1")), "{values:?}");
    let id = aws.stack_status("cluster-params").await.unwrap().unwrap().0;
    aws.cfn.delete_stack().stack_name(&id).send().await.unwrap();
    assert_eq!(stack_status(&aws, &id).await, "DELETE_COMPLETE");
    assert!(
        aws.rds
            .describe_db_cluster_parameter_groups()
            .db_cluster_parameter_group_name(&name)
            .send()
            .await
            .is_err(),
        "deleted with the stack"
    );
}

#[tokio::test]
async fn moto_patch_rds_db_cluster() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut r = network();
    r.insert("Key".into(), json!({"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": []}}}));
    r.insert("Sg".into(), json!({"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "d", "VpcId": {"Ref": "Vpc"}}}));
    let mut kept = cluster(json!({
        "DBClusterIdentifier": "kept-cluster", "DatabaseName": "shop", "Port": 5433,
        "ManageMasterUserPassword": true, "MasterUserSecret": {"KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]}},
        "StorageEncrypted": true, "KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]}, "StorageType": "aurora",
        "EnableIAMDatabaseAuthentication": true, "DeletionProtection": false, "BackupRetentionPeriod": 3,
        "CopyTagsToSnapshot": true, "EnableCloudwatchLogsExports": ["postgresql"],
        "VpcSecurityGroupIds": [{"Fn::GetAtt": ["Sg", "GroupId"]}], "DeleteAutomatedBackups": false,
        "Tags": [{"Key": "Project", "Value": "ecom-dms"}],
    }));
    kept["Properties"]
        .as_object_mut()
        .unwrap()
        .remove("MasterUserPassword");
    kept["DeletionPolicy"] = json!("Snapshot");
    r.insert("Kept".into(), kept);
    r.insert(
        "Gone".into(),
        cluster(json!({"DBClusterIdentifier": "gone-cluster"})),
    );
    let t = json!({"Resources": r, "Outputs": {
        "Writer": {"Value": {"Fn::GetAtt": ["Kept", "Endpoint.Address"]}},
        "Reader": {"Value": {"Fn::GetAtt": ["Kept", "ReadEndpoint.Address"]}},
        "Port": {"Value": {"Fn::GetAtt": ["Kept", "Endpoint.Port"]}},
        "Secret": {"Value": {"Fn::GetAtt": ["Kept", "MasterUserSecret.SecretArn"]}},
        "ResourceId": {"Value": {"Fn::GetAtt": ["Kept", "DBClusterResourceId"]}},
        "Ref": {"Value": {"Ref": "Kept"}},
    }});
    assert_eq!(create_stack(&aws, "clusters", &t).await, "CREATE_COMPLETE");
    let outputs = aws.outputs("clusters").await.unwrap();
    let resources = aws.stack_resources("clusters").await.unwrap();
    let key = aws
        .kms
        .describe_key()
        .key_id(&resources["Key"].physical_id)
        .send()
        .await
        .unwrap();
    let key_arn = key.key_metadata().unwrap().arn().unwrap();
    let c = aws.db_cluster("kept-cluster").await.unwrap().unwrap();
    assert_eq!(outputs["Ref"], "kept-cluster");
    assert_eq!(c.engine(), Some("aurora-postgresql"));
    assert_eq!(c.engine_version(), Some("17.6"));
    assert_eq!(c.database_name(), Some("shop"));
    assert_eq!(c.port(), Some(5433));
    assert_eq!(outputs["Port"], "5433");
    assert_eq!(c.storage_encrypted(), Some(true));
    assert_eq!(c.kms_key_id(), Some(key_arn));
    assert_eq!(c.iam_database_authentication_enabled(), Some(true));
    assert_eq!(c.backup_retention_period(), Some(3));
    assert_eq!(c.copy_tags_to_snapshot(), Some(true));
    assert_eq!(c.enabled_cloudwatch_logs_exports(), ["postgresql"]);
    assert_eq!(
        c.db_subnet_group(),
        Some(resources["Subnets"].physical_id.as_str())
    );
    let groups: Vec<&str> = c
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id())
        .collect();
    assert_eq!(groups, [resources["Sg"].physical_id.as_str()]);
    let secret = c.master_user_secret().expect("a managed master secret");
    assert_eq!(secret.kms_key_id(), Some(key_arn));
    assert_eq!(outputs["Secret"], secret.secret_arn().unwrap());
    assert_eq!(outputs["Writer"], c.endpoint().unwrap());
    assert_eq!(outputs["Reader"], c.reader_endpoint().unwrap());
    assert_eq!(outputs["ResourceId"], c.db_cluster_resource_id().unwrap());

    let id = aws.stack_status("clusters").await.unwrap().unwrap().0;
    aws.cfn.delete_stack().stack_name(&id).send().await.unwrap();
    assert_eq!(stack_status(&aws, &id).await, "DELETE_COMPLETE");
    assert!(
        aws.rds
            .describe_db_clusters()
            .send()
            .await
            .unwrap()
            .db_clusters()
            .is_empty()
    );
    let snapshots = aws
        .rds
        .describe_db_cluster_snapshots()
        .send()
        .await
        .unwrap();
    let mut left: Vec<(&str, &str)> = snapshots
        .db_cluster_snapshots()
        .iter()
        .filter_map(|s| Some((s.db_cluster_identifier()?, s.snapshot_type()?)))
        .collect();
    left.sort();
    // DeletionPolicy Snapshot: a final snapshot; DeleteAutomatedBackups false: the
    // automated one stays. The other cluster leaves nothing.
    assert_eq!(
        left,
        [("kept-cluster", "automated"), ("kept-cluster", "manual")]
    );
}

#[tokio::test]
async fn moto_patch_db_cluster_instances() {
    let moto = Moto::start();
    let aws = moto.aws().await;
    let mut r = network();
    r.insert(
        "Cluster".into(),
        cluster(json!({"DBClusterIdentifier": "the-cluster"})),
    );
    let member = |id: &str, zone: &str, tier: u8| {
        json!({"Type": "AWS::RDS::DBInstance", "Properties": {
            "DBClusterIdentifier": {"Ref": "Cluster"}, "DBInstanceIdentifier": id, "Engine": "aurora-postgresql",
            "DBInstanceClass": "db.t4g.medium", "AvailabilityZone": zone, "PromotionTier": tier,
            "PubliclyAccessible": false, "MonitoringInterval": 30,
            "MonitoringRoleArn": "arn:aws:iam::123456789012:role/monitoring",
        }})
    };
    r.insert("Writer".into(), member("the-writer", "eu-west-1a", 0));
    let mut reader = member("the-reader", "eu-west-1b", 1);
    reader["DependsOn"] = json!(["Writer"]);
    r.insert("Reader".into(), reader);
    let t = json!({"Resources": r});
    assert_eq!(create_stack(&aws, "members", &t).await, "CREATE_COMPLETE");
    let c = aws.db_cluster("the-cluster").await.unwrap().unwrap();
    let mut members: Vec<(&str, bool, i32)> = c
        .db_cluster_members()
        .iter()
        .filter_map(|m| {
            Some((
                m.db_instance_identifier()?,
                m.is_cluster_writer()?,
                m.promotion_tier()?,
            ))
        })
        .collect();
    members.sort();
    assert_eq!(members, [("the-reader", false, 1), ("the-writer", true, 0)]);
    for (id, zone) in [("the-writer", "eu-west-1a"), ("the-reader", "eu-west-1b")] {
        let db = aws.db_instance(id).await.unwrap().unwrap();
        assert_eq!(db.db_cluster_identifier(), Some("the-cluster"));
        assert_eq!(db.availability_zone(), Some(zone));
        assert_eq!(db.monitoring_interval(), Some(30));
        assert_eq!(db.publicly_accessible(), Some(false));
    }
    // The instances go before their cluster, which RDS refuses to delete while it has any.
    let id = aws.stack_status("members").await.unwrap().unwrap().0;
    aws.cfn.delete_stack().stack_name(&id).send().await.unwrap();
    assert_eq!(stack_status(&aws, &id).await, "DELETE_COMPLETE");
    assert!(aws.db_cluster("the-cluster").await.unwrap().is_none());
    assert!(aws.db_instance("the-writer").await.unwrap().is_none());
}
