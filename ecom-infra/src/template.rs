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
    // The order of the steps is the order of the resources in the value: tests that run
    // with serde_json's `preserve_order` (see `sorted`) see them in this order.
    let mut template = Template::new(spec);
    let subnets = template.vpc_and_subnets();
    template.security_group();
    template.subnet_group(subnets);
    template.parameter_group();
    let key_arn = template.key();
    template.primary(&key_arn);
    template.replicas();
    template.alarms();
    template.shared_outputs(key_arn);
    Ok(template.finish())
}

/// A template being built: resources and outputs by logical id, one resource group at a
/// time.
struct Template<'a> {
    spec: &'a DeploymentSpec,
    /// The stack name, which starts every resource's `Name` tag.
    prefix: String,
    resources: Map<String, Value>,
    outputs: Map<String, Value>,
}

impl<'a> Template<'a> {
    fn new(spec: &'a DeploymentSpec) -> Self {
        Self {
            spec,
            prefix: spec.stack_name(),
            resources: Map::new(),
            outputs: Map::new(),
        }
    }

    /// The four tags every resource carries, and its `Name`.
    fn tags(&self, name: &str) -> Value {
        json!([
            {"Key": "Environment", "Value": self.spec.environment.as_ref()},
            {"Key": "ManagedBy", "Value": MANAGED_BY},
            {"Key": "Name", "Value": name},
            {"Key": "Owner", "Value": self.spec.owner},
            {"Key": "Project", "Value": PROJECT},
        ])
    }

    fn resource(&mut self, logical_id: &str, resource: Value) {
        self.resources.insert(logical_id.into(), resource);
    }

    fn output(&mut self, key: &str, description: &str, value: Value) {
        self.outputs.insert(
            key.into(),
            json!({"Description": description, "Value": value}),
        );
    }

    /// The VPC and one private subnet per zone; returns references to the subnets.
    fn vpc_and_subnets(&mut self) -> Vec<Value> {
        let spec = self.spec;
        let prefix = self.prefix.clone();
        self.resource(
            "Vpc",
            json!({
                "Type": "AWS::EC2::VPC",
                "Properties": {
                    "CidrBlock": spec.network.vpc_cidr.to_string(),
                    "EnableDnsHostnames": true,
                    "EnableDnsSupport": true,
                    "Tags": self.tags(&format!("{prefix}-vpc")),
                }
            }),
        );
        // Private subnets only: the template creates no internet gateway and no route to one.
        let mut subnet_refs = Vec::new();
        for (i, subnet) in spec.network.subnets.iter().enumerate() {
            let id = format!("PrivateSubnet{}", i + 1);
            self.resource(
                &id,
                json!({
                    "Type": "AWS::EC2::Subnet",
                    // The spec names its zones on purpose: the subnet group, the standby and the
                    // replicas must land in the zones the operator chose and priced.
                    "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W3010"]}}},
                    "Properties": {
                        "AvailabilityZone": subnet.availability_zone,
                        "CidrBlock": subnet.cidr.to_string(),
                        "MapPublicIpOnLaunch": false,
                        "Tags": self.tags(&format!("{prefix}-private-{}", subnet.availability_zone)),
                        "VpcId": {"Ref": "Vpc"},
                    }
                }),
            );
            subnet_refs.push(json!({"Ref": id}));
        }
        subnet_refs
    }

    /// The instances' security group: the database port from allowed private sources, and
    /// no egress.
    fn security_group(&mut self) {
        let prefix = self.prefix.clone();
        let spec = self.spec;
        let (network, port) = (&spec.network, spec.database.port);
        let mut ingress: Vec<Value> = network
            .allowed_cidrs
            .iter()
            .map(|cidr| {
                json!({"CidrIp": cidr.to_string(), "Description": "PostgreSQL from an allowed private block",
                       "FromPort": port, "IpProtocol": "tcp", "ToPort": port})
            })
            .collect();
        ingress.extend(network.allowed_security_groups.iter().map(|group| {
            json!({"Description": "PostgreSQL from an allowed security group", "FromPort": port,
                   "IpProtocol": "tcp", "SourceSecurityGroupId": group, "ToPort": port})
        }));
        self.resource(
            "DbSecurityGroup",
            json!({
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {
                    "GroupDescription": format!("{prefix}: PostgreSQL from allowed private sources only"),
                    "SecurityGroupIngress": ingress,
                    // Replaces the default allow-all egress: the database initiates nothing.
                    "SecurityGroupEgress": [{"CidrIp": "127.0.0.1/32", "Description": "no egress", "IpProtocol": "-1"}],
                    "Tags": self.tags(&format!("{prefix}-db")),
                    "VpcId": {"Ref": "Vpc"},
                }
            }),
        );
    }

    /// The RDS subnet group over the private subnets.
    fn subnet_group(&mut self, subnet_refs: Vec<Value>) {
        let prefix = self.prefix.clone();
        self.resource(
            "DbSubnetGroup",
            json!({
                "Type": "AWS::RDS::DBSubnetGroup",
                "Properties": {
                    "DBSubnetGroupDescription": format!("{prefix}: private subnets"),
                    "SubnetIds": subnet_refs,
                    "Tags": self.tags(&format!("{prefix}-subnets")),
                }
            }),
        );
    }

    /// The parameter group every instance uses, which requires TLS.
    fn parameter_group(&mut self) {
        let prefix = self.prefix.clone();
        let major = self.spec.database.major_version().unwrap_or_default();
        self.resource(
            "DbParameterGroup",
            json!({
                "Type": "AWS::RDS::DBParameterGroup",
                "Properties": {
                    "Description": format!("{prefix}: TLS required"),
                    "Family": format!("postgres{major}"),
                    "Parameters": {"rds.force_ssl": "1"},
                    "Tags": self.tags(&format!("{prefix}-params")),
                }
            }),
        );
    }

    /// The stack's own KMS key when the spec asks for one; returns the key's ARN either way
    /// (a reference to the stack's key, or the existing key's ARN).
    fn key(&mut self) -> Value {
        let spec = self.spec;
        let pending_window_days = match &spec.encryption {
            EncryptionKey::Create {
                pending_window_days,
            } => pending_window_days,
            EncryptionKey::Existing { arn } => return json!(arn),
        };
        let prefix = self.prefix.clone();
        // A snapshot that outlives the writer is encrypted with this key: deleting the key
        // (or replacing it) would leave it unrestorable once the waiting period ends.
        let policy = if spec.snapshots_outlive_writer() {
            "Retain"
        } else {
            "Delete"
        };
        self.resource(
            "DbKey",
            json!({
                "Type": "AWS::KMS::Key",
                "DeletionPolicy": policy,
                "UpdateReplacePolicy": policy,
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
                    "Tags": self.tags(&format!("{prefix}-key")),
                }
            }),
        );
        json!({"Fn::GetAtt": ["DbKey", "Arn"]})
    }

    /// The writer, and the outputs that point at it.
    fn primary(&mut self, key_arn: &Value) {
        let spec = self.spec;
        let db = &spec.database;
        let retain = if spec.final_snapshot {
            "Snapshot"
        } else {
            "Delete"
        };
        let mut primary = json!({
            "AllocatedStorage": db.storage.allocated_gib.to_string(),
            "AutoMinorVersionUpgrade": true,
            "BackupRetentionPeriod": spec.backups.retention_days,
            "CopyTagsToSnapshot": true,
            "DBInstanceClass": db.instance_class,
            "DBInstanceIdentifier": spec.primary_identifier(),
            "DBName": db.database_name,
            "DBParameterGroupName": {"Ref": "DbParameterGroup"},
            "DBSubnetGroupName": {"Ref": "DbSubnetGroup"},
            "DeleteAutomatedBackups": !spec.backups.retain_after_deletion,
            "DeletionProtection": spec.deletion_protection,
            "EnableIAMDatabaseAuthentication": spec.iam_auth,
            "Engine": "postgres",
            "EngineVersion": db.engine_version,
            "KmsKeyId": key_arn,
            "ManageMasterUserPassword": true,
            "MasterUserSecret": {"KmsKeyId": key_arn},
            "MasterUsername": db.master_username,
            "MultiAZ": db.multi_az,
            "Port": db.port.to_string(),
            "PreferredBackupWindow": spec.backups.window,
            "PreferredMaintenanceWindow": "sun:04:00-sun:04:30",
            "PubliclyAccessible": false,
            "StorageEncrypted": true,
            "StorageType": db.storage.storage_type.as_str(),
            "Tags": self.tags(&spec.primary_identifier()),
            "VPCSecurityGroups": [{"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}],
        });
        if let Some(limit) = db.storage.max_allocated_gib {
            primary["MaxAllocatedStorage"] = json!(limit);
        }
        self.resource(
            "Primary",
            json!({"Type": "AWS::RDS::DBInstance", "DeletionPolicy": retain, "UpdateReplacePolicy": retain, "Properties": primary}),
        );
        self.output(
            "WriterEndpoint",
            "writer endpoint",
            json!({"Fn::GetAtt": ["Primary", "Endpoint.Address"]}),
        );
        self.output(
            "Port",
            "port of every instance",
            json!({"Fn::GetAtt": ["Primary", "Endpoint.Port"]}),
        );
        self.output(
            "MasterUserSecretArn",
            "Secrets Manager secret holding the master password",
            json!({"Fn::GetAtt": ["Primary", "MasterUserSecret.SecretArn"]}),
        );
    }

    /// Each read replica, with an output for its endpoint.
    fn replicas(&mut self) {
        let spec = self.spec;
        for n in 1..=spec.replicas.count {
            let id = format!("Replica{n}");
            self.resource(
                &id,
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
                        "Port": spec.database.port.to_string(),
                        "PubliclyAccessible": false,
                        "SourceDBInstanceIdentifier": {"Ref": "Primary"},
                        "Tags": self.tags(&spec.replica_identifier(n)),
                        "VPCSecurityGroups": [{"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}],
                    }
                }),
            );
            self.output(
                &format!("{id}Endpoint"),
                &format!("read replica {n} endpoint"),
                json!({"Fn::GetAtt": [id, "Endpoint.Address"]}),
            );
        }
    }

    /// The SNS topic and every alarm of [`alarms`], each sending to the topic.
    fn alarms(&mut self) {
        let spec = self.spec;
        let prefix = self.prefix.clone();
        let mut topic = json!({"TopicName": format!("{prefix}-alarms"), "Tags": self.tags(&format!("{prefix}-alarms"))});
        if let Some(email) = &spec.alarms.email {
            topic["Subscription"] = json!([{"Endpoint": email, "Protocol": "email"}]);
        }
        self.resource(
            "AlarmTopic",
            json!({"Type": "AWS::SNS::Topic", "Properties": topic}),
        );
        for alarm in alarms(spec) {
            // The dimension refers to the instance's resource, so each alarm waits for it.
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
            self.resource(
                &alarm.logical_id,
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
                        "Tags": self.tags(&alarm.name),
                        "Threshold": alarm.threshold,
                        "TreatMissingData": "breaching",
                    }
                }),
            );
        }
    }

    /// The outputs that name the stack's other resources.
    fn shared_outputs(&mut self, key_arn: Value) {
        self.output(
            "AlarmTopicArn",
            "SNS topic of the alarms",
            json!({"Ref": "AlarmTopic"}),
        );
        self.output("KmsKeyArn", "KMS key encrypting the database", key_arn);
        self.output("VpcId", "VPC", json!({"Ref": "Vpc"}));
        self.output(
            "SecurityGroupId",
            "security group of the instances",
            json!({"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}),
        );
        self.output(
            "DbSubnetGroupName",
            "RDS subnet group",
            json!({"Ref": "DbSubnetGroup"}),
        );
        self.output(
            "DbParameterGroupName",
            "RDS parameter group",
            json!({"Ref": "DbParameterGroup"}),
        );
    }

    fn finish(self) -> Value {
        let spec = self.spec;
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": format!("ecom-dms database, environment {}: RDS PostgreSQL {}, rendered by ecom-infra", spec.environment, spec.database.engine_version),
            "Resources": self.resources,
            "Outputs": self.outputs,
        })
    }
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
