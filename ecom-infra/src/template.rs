//! Renders a [`DeploymentSpec`] as a CloudFormation template.
//!
//! The output is deterministic: keys are sorted at every level, resources are
//! named by their role (`Primary`, `Replica1`, `AlarmPrimaryCpu`...), and nothing depends
//! on time or randomness, so the same spec always renders the same bytes and a change set
//! shows only what the spec changed.

use serde_json::{Map, Value, json};

use crate::spec::{DeploymentSpec, EncryptionKey, SpecError};

/// The project name in every `Project` tag.
pub const PROJECT: &str = "ecom-dms";
/// The `ManagedBy` tag's value.
pub const MANAGED_BY: &str = "ecom-infra";

/// One CloudWatch alarm the template creates.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmDef {
    /// Logical id in the template.
    pub logical_id: String,
    /// `AlarmName`.
    pub name: String,
    /// The RDS metric (`CPUUtilization`...).
    pub metric: &'static str,
    /// `GreaterThanThreshold` or `LessThanThreshold`.
    pub comparison: &'static str,
    /// In the metric's unit (bytes, seconds, percent, count).
    pub threshold: f64,
    /// The instance it watches.
    pub instance_identifier: String,
}

/// The alarms a spec gets: six on the writer, replica lag on each replica.
#[allow(clippy::float_arithmetic)] // unit conversions of whole-number thresholds
pub fn alarms(spec: &DeploymentSpec) -> Vec<AlarmDef> {
    let a = &spec.alarms;
    let primary = spec.primary_identifier();
    let gib = 1024.0 * 1024.0 * 1024.0;
    let mut out: Vec<AlarmDef> = [
        (
            "Cpu",
            "cpu",
            "CPUUtilization",
            "GreaterThanThreshold",
            f64::from(a.cpu_percent),
        ),
        (
            "FreeStorage",
            "free-storage",
            "FreeStorageSpace",
            "LessThanThreshold",
            f64::from(a.free_storage_gib) * gib,
        ),
        (
            "FreeableMemory",
            "freeable-memory",
            "FreeableMemory",
            "LessThanThreshold",
            f64::from(a.freeable_memory_mib) * 1024.0 * 1024.0,
        ),
        (
            "Connections",
            "connections",
            "DatabaseConnections",
            "GreaterThanThreshold",
            f64::from(a.max_connections),
        ),
        (
            "ReadLatency",
            "read-latency",
            "ReadLatency",
            "GreaterThanThreshold",
            f64::from(a.latency_ms) / 1000.0,
        ),
        (
            "WriteLatency",
            "write-latency",
            "WriteLatency",
            "GreaterThanThreshold",
            f64::from(a.latency_ms) / 1000.0,
        ),
    ]
    .into_iter()
    .map(|(id, name, metric, comparison, threshold)| AlarmDef {
        logical_id: format!("AlarmPrimary{id}"),
        name: format!("{primary}-{name}"),
        metric,
        comparison,
        threshold,
        instance_identifier: primary.clone(),
    })
    .collect();
    for n in 1..=spec.replicas.count {
        let replica = spec.replica_identifier(n);
        out.push(AlarmDef {
            logical_id: format!("AlarmReplica{n}Lag"),
            name: format!("{replica}-replica-lag"),
            metric: "ReplicaLag",
            comparison: "GreaterThanThreshold",
            threshold: f64::from(a.replica_lag_seconds),
            instance_identifier: replica,
        });
    }
    out
}

/// The template as a JSON value. Validates the spec first.
pub fn render(spec: &DeploymentSpec) -> Result<Value, SpecError> {
    spec.validate()?;
    let env = spec.environment.as_ref();
    let tags = |name: &str| {
        json!([
            {"Key": "Environment", "Value": env},
            {"Key": "ManagedBy", "Value": MANAGED_BY},
            {"Key": "Name", "Value": name},
            {"Key": "Owner", "Value": spec.owner},
            {"Key": "Project", "Value": PROJECT},
        ])
    };
    let prefix = spec.stack_name();
    let db = &spec.database;
    let port = db.port.to_string();
    let mut resources = Map::new();
    let mut outputs = Map::new();

    resources.insert(
        "Vpc".into(),
        json!({
            "Type": "AWS::EC2::VPC",
            "Properties": {
                "CidrBlock": spec.network.vpc_cidr.to_string(),
                "EnableDnsHostnames": true,
                "EnableDnsSupport": true,
                "Tags": tags(&format!("{prefix}-vpc")),
            }
        }),
    );
    // Private subnets only: the template creates no internet gateway and no route to one.
    let mut subnet_refs = Vec::new();
    for (i, subnet) in spec.network.subnets.iter().enumerate() {
        let id = format!("PrivateSubnet{}", i + 1);
        resources.insert(
            id.clone(),
            json!({
                "Type": "AWS::EC2::Subnet",
                // The spec names its zones on purpose: the subnet group, the standby and the
                // replicas must land in the zones the operator chose and priced.
                "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W3010"]}}},
                "Properties": {
                    "AvailabilityZone": subnet.availability_zone,
                    "CidrBlock": subnet.cidr.to_string(),
                    "MapPublicIpOnLaunch": false,
                    "Tags": tags(&format!("{prefix}-private-{}", subnet.availability_zone)),
                    "VpcId": {"Ref": "Vpc"},
                }
            }),
        );
        subnet_refs.push(json!({"Ref": id}));
    }

    let mut ingress: Vec<Value> = spec
        .network
        .allowed_cidrs
        .iter()
        .map(|cidr| {
            json!({"CidrIp": cidr.to_string(), "Description": "PostgreSQL from an allowed private block",
                   "FromPort": db.port, "IpProtocol": "tcp", "ToPort": db.port})
        })
        .collect();
    ingress.extend(spec.network.allowed_security_groups.iter().map(|group| {
        json!({"Description": "PostgreSQL from an allowed security group", "FromPort": db.port,
               "IpProtocol": "tcp", "SourceSecurityGroupId": group, "ToPort": db.port})
    }));
    resources.insert(
        "DbSecurityGroup".into(),
        json!({
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": format!("{prefix}: PostgreSQL from allowed private sources only"),
                "SecurityGroupIngress": ingress,
                // Replaces the default allow-all egress: the database initiates nothing.
                "SecurityGroupEgress": [{"CidrIp": "127.0.0.1/32", "Description": "no egress", "IpProtocol": "-1"}],
                "Tags": tags(&format!("{prefix}-db")),
                "VpcId": {"Ref": "Vpc"},
            }
        }),
    );
    resources.insert(
        "DbSubnetGroup".into(),
        json!({
            "Type": "AWS::RDS::DBSubnetGroup",
            "Properties": {
                "DBSubnetGroupDescription": format!("{prefix}: private subnets"),
                "SubnetIds": subnet_refs,
                "Tags": tags(&format!("{prefix}-subnets")),
            }
        }),
    );
    let major = db.major_version().unwrap_or_default();
    resources.insert(
        "DbParameterGroup".into(),
        json!({
            "Type": "AWS::RDS::DBParameterGroup",
            "Properties": {
                "Description": format!("{prefix}: TLS required"),
                "Family": format!("postgres{major}"),
                "Parameters": {"rds.force_ssl": "1"},
                "Tags": tags(&format!("{prefix}-params")),
            }
        }),
    );

    let key_arn = match &spec.encryption {
        EncryptionKey::Create {
            pending_window_days,
        } => {
            resources.insert(
                "DbKey".into(),
                json!({
                    "Type": "AWS::KMS::Key",
                    "DeletionPolicy": "Delete",
                    "UpdateReplacePolicy": "Delete",
                    "Properties": {
                        "Description": format!("{prefix}: RDS storage, snapshots and master secret"),
                        "EnableKeyRotation": true,
                        "KeyPolicy": {
                            "Version": "2012-10-17",
                            "Statement": [{
                                "Sid": "AccountAdministersTheKey",
                                "Effect": "Allow",
                                "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                                "Action": "kms:*",
                                "Resource": "*",
                            }],
                        },
                        "PendingWindowInDays": pending_window_days,
                        "Tags": tags(&format!("{prefix}-key")),
                    }
                }),
            );
            json!({"Fn::GetAtt": ["DbKey", "Arn"]})
        }
        EncryptionKey::Existing { arn } => json!(arn),
    };

    let retain = if spec.final_snapshot {
        "Snapshot"
    } else {
        "Delete"
    };
    let mut primary = json!({
        "AllocatedStorage": spec.database.storage.allocated_gib.to_string(),
        "AutoMinorVersionUpgrade": true,
        "BackupRetentionPeriod": spec.backups.retention_days,
        "CopyTagsToSnapshot": true,
        "DBInstanceClass": db.instance_class,
        "DBInstanceIdentifier": spec.primary_identifier(),
        "DBName": db.database_name,
        "DBParameterGroupName": {"Ref": "DbParameterGroup"},
        "DBSubnetGroupName": {"Ref": "DbSubnetGroup"},
        "DeletionProtection": spec.deletion_protection,
        "EnableIAMDatabaseAuthentication": spec.iam_auth,
        "Engine": "postgres",
        "EngineVersion": db.engine_version,
        "KmsKeyId": key_arn,
        "ManageMasterUserPassword": true,
        "MasterUserSecret": {"KmsKeyId": key_arn},
        "MasterUsername": db.master_username,
        "MultiAZ": db.multi_az,
        "Port": port,
        "PreferredBackupWindow": spec.backups.window,
        "PreferredMaintenanceWindow": "sun:04:00-sun:04:30",
        "PubliclyAccessible": false,
        "StorageEncrypted": true,
        "StorageType": db.storage.storage_type.as_str(),
        "Tags": tags(&spec.primary_identifier()),
        "VPCSecurityGroups": [{"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}],
    });
    if let Some(limit) = db.storage.max_allocated_gib {
        primary["MaxAllocatedStorage"] = json!(limit);
    }
    resources.insert(
        "Primary".into(),
        json!({"Type": "AWS::RDS::DBInstance", "DeletionPolicy": retain, "UpdateReplacePolicy": retain, "Properties": primary}),
    );
    outputs.insert(
        "WriterEndpoint".into(),
        output(
            "writer endpoint",
            json!({"Fn::GetAtt": ["Primary", "Endpoint.Address"]}),
        ),
    );
    outputs.insert(
        "Port".into(),
        output(
            "port of every instance",
            json!({"Fn::GetAtt": ["Primary", "Endpoint.Port"]}),
        ),
    );
    outputs.insert(
        "MasterUserSecretArn".into(),
        output(
            "Secrets Manager secret holding the master password",
            json!({"Fn::GetAtt": ["Primary", "MasterUserSecret.SecretArn"]}),
        ),
    );

    for n in 1..=spec.replicas.count {
        let id = format!("Replica{n}");
        resources.insert(
            id.clone(),
            json!({
                // A replica holds no data of its own: deleting it loses nothing.
                "Type": "AWS::RDS::DBInstance",
                "DeletionPolicy": "Delete",
                "UpdateReplacePolicy": "Delete",
                "Properties": {
                    "AutoMinorVersionUpgrade": true,
                    "DBInstanceClass": spec.replica_class(),
                    "DBInstanceIdentifier": spec.replica_identifier(n),
                    "DBParameterGroupName": {"Ref": "DbParameterGroup"},
                    "DeletionProtection": spec.deletion_protection,
                    "EnableIAMDatabaseAuthentication": spec.iam_auth,
                    "Port": port,
                    "PubliclyAccessible": false,
                    "SourceDBInstanceIdentifier": {"Ref": "Primary"},
                    "Tags": tags(&spec.replica_identifier(n)),
                    "VPCSecurityGroups": [{"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}],
                }
            }),
        );
        outputs.insert(
            format!("{id}Endpoint"),
            output(
                &format!("read replica {n} endpoint"),
                json!({"Fn::GetAtt": [id, "Endpoint.Address"]}),
            ),
        );
    }

    let mut topic =
        json!({"TopicName": format!("{prefix}-alarms"), "Tags": tags(&format!("{prefix}-alarms"))});
    if let Some(email) = &spec.alarms.email {
        topic["Subscription"] = json!([{"Endpoint": email, "Protocol": "email"}]);
    }
    resources.insert(
        "AlarmTopic".into(),
        json!({"Type": "AWS::SNS::Topic", "Properties": topic}),
    );
    for alarm in alarms(spec) {
        let depends = if alarm.instance_identifier == spec.primary_identifier() {
            "Primary".to_owned()
        } else {
            format!(
                "Replica{}",
                alarm
                    .instance_identifier
                    .rsplit('-')
                    .next()
                    .unwrap_or_default()
            )
        };
        resources.insert(
            alarm.logical_id.clone(),
            json!({
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "ActionsEnabled": true,
                    "AlarmActions": [{"Ref": "AlarmTopic"}],
                    "AlarmDescription": format!("{} {} {} on {}", alarm.metric, alarm.comparison, alarm.threshold, alarm.instance_identifier),
                    "AlarmName": alarm.name,
                    "ComparisonOperator": alarm.comparison,
                    "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": {"Ref": depends}}],
                    "EvaluationPeriods": 3,
                    "MetricName": alarm.metric,
                    "Namespace": "AWS/RDS",
                    "OKActions": [{"Ref": "AlarmTopic"}],
                    "Period": 300,
                    "Statistic": "Average",
                    "Tags": tags(&alarm.name),
                    "Threshold": alarm.threshold,
                    "TreatMissingData": "breaching",
                }
            }),
        );
    }

    outputs.insert(
        "AlarmTopicArn".into(),
        output("SNS topic of the alarms", json!({"Ref": "AlarmTopic"})),
    );
    outputs.insert(
        "KmsKeyArn".into(),
        output("KMS key encrypting the database", key_arn),
    );
    outputs.insert("VpcId".into(), output("VPC", json!({"Ref": "Vpc"})));
    outputs.insert(
        "SecurityGroupId".into(),
        output(
            "security group of the instances",
            json!({"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}),
        ),
    );
    outputs.insert(
        "DbSubnetGroupName".into(),
        output("RDS subnet group", json!({"Ref": "DbSubnetGroup"})),
    );
    outputs.insert(
        "DbParameterGroupName".into(),
        output("RDS parameter group", json!({"Ref": "DbParameterGroup"})),
    );

    Ok(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("ecom-dms database, environment {env}: RDS PostgreSQL {}, rendered by ecom-infra", db.engine_version),
        "Resources": resources,
        "Outputs": outputs,
    }))
}

/// The template as pretty-printed JSON text with keys sorted at every level, ending with a
/// newline.
pub fn render_string(spec: &DeploymentSpec) -> Result<String, SpecError> {
    let mut text = serde_json::to_string_pretty(&sorted(render(spec)?))
        .expect("a JSON value always serialises");
    text.push('\n');
    Ok(text)
}

/// Rebuilds every object with its keys in sorted order. `serde_json`'s map is sorted by
/// default but keeps insertion order when any crate in the build enables its
/// `preserve_order` feature (cfn-guard, a dev-dependency, does), so sort explicitly.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn output(description: &str, value: Value) -> Value {
    json!({"Description": description, "Value": value})
}
