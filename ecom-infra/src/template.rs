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
    /// In the metric's unit (bytes, seconds, milliseconds, percent, count).
    pub threshold: f64,
    /// `Average`, or `Maximum`/`Minimum` over several readers, so that one of them is enough.
    pub statistic: &'static str,
    /// What it watches.
    pub target: AlarmTarget,
}

/// What an alarm watches: the dimensions of its metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlarmTarget {
    /// One RDS instance: `DBInstanceIdentifier`.
    Instance {
        /// Its logical id in the template (`Primary`, `Replica1`...).
        logical_id: String,
        /// Its `DBInstanceIdentifier`.
        identifier: String,
    },
    /// Whichever instances of the Aurora cluster hold a role, `DBClusterIdentifier` and
    /// `Role`: after a failover the writer's alarms watch the new writer.
    ClusterRole {
        /// The cluster's `DBClusterIdentifier`.
        cluster: String,
        /// `WRITER` or `READER`.
        role: &'static str,
    },
}

impl AlarmTarget {
    /// The metric's dimensions, as CloudWatch lists them.
    pub fn dimensions(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Instance { identifier, .. } => {
                vec![("DBInstanceIdentifier", identifier.clone())]
            }
            Self::ClusterRole { cluster, role } => vec![
                ("DBClusterIdentifier", cluster.clone()),
                ("Role", (*role).to_owned()),
            ],
        }
    }

    /// The dimensions in the template: the identifier by reference to its resource, so the
    /// alarm waits for it.
    fn template_dimensions(&self) -> Value {
        match self {
            Self::Instance { logical_id, .. } => {
                json!([{"Name": "DBInstanceIdentifier", "Value": {"Ref": logical_id}}])
            }
            Self::ClusterRole { role, .. } => json!([
                {"Name": "DBClusterIdentifier", "Value": {"Ref": "Cluster"}},
                {"Name": "Role", "Value": role},
            ]),
        }
    }

    /// A short name for descriptions: the instance or `cluster WRITER`.
    fn describe(&self) -> String {
        match self {
            Self::Instance { identifier, .. } => identifier.clone(),
            Self::ClusterRole { cluster, role } => format!("{cluster} {role}"),
        }
    }
}

/// Whether RDS bills this class by CPU credits (`db.t3`, `db.t4g`...).
pub fn is_burstable(instance_class: &str) -> bool {
    instance_class.starts_with("db.t")
}

/// One alarm before it is placed: `(id, name, metric, comparison, threshold)`.
type AlarmRow = (&'static str, &'static str, &'static str, &'static str, f64);

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

/// The alarms a spec gets. RDS: ten on the writer (eleven on a burstable class, with CPU
/// credits), and lag, CPU and free storage on each replica. Aurora: CPU, freeable memory,
/// connections, deadlocks and transaction IDs of whichever instance is the writer (and CPU
/// credits on a burstable class), and, with readers, their replica lag, CPU and memory.
pub fn alarms(spec: &DeploymentSpec) -> Vec<AlarmDef> {
    if spec.is_aurora() {
        aurora_alarms(spec)
    } else {
        rds_alarms(spec)
    }
}

fn placed(
    rows: Vec<AlarmRow>,
    id_prefix: &str,
    name_prefix: &str,
    statistic: impl Fn(&str) -> &'static str,
    target: &AlarmTarget,
) -> Vec<AlarmDef> {
    rows.into_iter()
        .map(|(id, name, metric, comparison, threshold)| AlarmDef {
            logical_id: format!("{id_prefix}{id}"),
            name: format!("{name_prefix}-{name}"),
            metric,
            comparison,
            threshold,
            statistic: statistic(comparison),
            target: target.clone(),
        })
        .collect()
}

#[allow(clippy::float_arithmetic)] // unit conversions of whole-number thresholds
fn rds_alarms(spec: &DeploymentSpec) -> Vec<AlarmDef> {
    let a = &spec.alarms;
    let primary = spec.primary_identifier();
    let mut writer: Vec<AlarmRow> = vec![
        (
            "Cpu",
            "cpu",
            "CPUUtilization",
            GREATER,
            f64::from(a.cpu_percent),
        ),
        (
            "FreeStorage",
            "free-storage",
            "FreeStorageSpace",
            LESS,
            f64::from(a.free_storage_gib) * GIB,
        ),
        (
            "FreeableMemory",
            "freeable-memory",
            "FreeableMemory",
            LESS,
            f64::from(a.freeable_memory_mib) * MIB,
        ),
        (
            "Connections",
            "connections",
            "DatabaseConnections",
            GREATER,
            f64::from(a.max_connections),
        ),
        (
            "ReadLatency",
            "read-latency",
            "ReadLatency",
            GREATER,
            f64::from(a.latency_ms) / 1000.0,
        ),
        (
            "WriteLatency",
            "write-latency",
            "WriteLatency",
            GREATER,
            f64::from(a.latency_ms) / 1000.0,
        ),
        (
            "MaxUsedTransactionIds",
            "max-used-transaction-ids",
            "MaximumUsedTransactionIDs",
            GREATER,
            f64::from(a.max_used_transaction_ids_millions) * 1_000_000.0,
        ),
        (
            "DiskQueueDepth",
            "disk-queue-depth",
            "DiskQueueDepth",
            GREATER,
            f64::from(a.disk_queue_depth),
        ),
        (
            "SwapUsage",
            "swap-usage",
            "SwapUsage",
            GREATER,
            f64::from(a.swap_usage_mib) * MIB,
        ),
        (
            "TransactionLogsDiskUsage",
            "transaction-logs-disk-usage",
            "TransactionLogsDiskUsage",
            GREATER,
            f64::from(a.transaction_logs_gib) * GIB,
        ),
    ];
    if is_burstable(&spec.database.instance_class) {
        writer.push((
            "CpuCreditBalance",
            "cpu-credit-balance",
            "CPUCreditBalance",
            LESS,
            f64::from(a.cpu_credit_balance),
        ));
    }
    let target = AlarmTarget::Instance {
        logical_id: "Primary".into(),
        identifier: primary.clone(),
    };
    let mut out = placed(writer, "AlarmPrimary", &primary, |_| "Average", &target);
    for n in 1..=spec.replicas.count {
        let replica = spec.replica_identifier(n);
        let per_replica: Vec<AlarmRow> = vec![
            (
                "Lag",
                "replica-lag",
                "ReplicaLag",
                GREATER,
                f64::from(a.replica_lag_seconds),
            ),
            (
                "Cpu",
                "cpu",
                "CPUUtilization",
                GREATER,
                f64::from(a.cpu_percent),
            ),
            (
                "FreeStorage",
                "free-storage",
                "FreeStorageSpace",
                LESS,
                f64::from(a.free_storage_gib) * GIB,
            ),
        ];
        let target = AlarmTarget::Instance {
            logical_id: format!("Replica{n}"),
            identifier: replica.clone(),
        };
        out.extend(placed(
            per_replica,
            &format!("AlarmReplica{n}"),
            &replica,
            |_| "Average",
            &target,
        ));
    }
    out
}

#[allow(clippy::float_arithmetic)] // unit conversions of whole-number thresholds
fn aurora_alarms(spec: &DeploymentSpec) -> Vec<AlarmDef> {
    let a = &spec.alarms;
    let cluster = spec.cluster_identifier();
    let mut writer: Vec<AlarmRow> = vec![
        (
            "Cpu",
            "cpu",
            "CPUUtilization",
            GREATER,
            f64::from(a.cpu_percent),
        ),
        (
            "FreeableMemory",
            "freeable-memory",
            "FreeableMemory",
            LESS,
            f64::from(a.freeable_memory_mib) * MIB,
        ),
        (
            "Connections",
            "connections",
            "DatabaseConnections",
            GREATER,
            f64::from(a.max_connections),
        ),
        // Deadlocks is a rate per second.
        (
            "Deadlocks",
            "deadlocks",
            "Deadlocks",
            GREATER,
            f64::from(a.deadlocks_per_minute) / 60.0,
        ),
        (
            "MaxUsedTransactionIds",
            "max-used-transaction-ids",
            "MaximumUsedTransactionIDs",
            GREATER,
            f64::from(a.max_used_transaction_ids_millions) * 1_000_000.0,
        ),
    ];
    if is_burstable(&spec.database.instance_class) {
        writer.push((
            "CpuCreditBalance",
            "cpu-credit-balance",
            "CPUCreditBalance",
            LESS,
            f64::from(a.cpu_credit_balance),
        ));
    }
    let target = AlarmTarget::ClusterRole {
        cluster: cluster.clone(),
        role: "WRITER",
    };
    let mut out = placed(
        writer,
        "AlarmWriter",
        &format!("{cluster}-writer"),
        |_| "Average",
        &target,
    );
    if spec.replicas.count > 0 {
        let readers: Vec<AlarmRow> = vec![
            // AuroraReplicaLag is in milliseconds.
            (
                "Lag",
                "replica-lag",
                "AuroraReplicaLag",
                GREATER,
                f64::from(a.replica_lag_seconds) * 1000.0,
            ),
            (
                "Cpu",
                "cpu",
                "CPUUtilization",
                GREATER,
                f64::from(a.cpu_percent),
            ),
            (
                "FreeableMemory",
                "freeable-memory",
                "FreeableMemory",
                LESS,
                f64::from(a.freeable_memory_mib) * MIB,
            ),
        ];
        let target = AlarmTarget::ClusterRole {
            cluster: cluster.clone(),
            role: "READER",
        };
        // The worst reader, not their average: one lagging reader serves stale pages.
        let worst = |comparison: &str| {
            if comparison == LESS {
                "Minimum"
            } else {
                "Maximum"
            }
        };
        out.extend(placed(
            readers,
            "AlarmReaders",
            &format!("{cluster}-readers"),
            worst,
            &target,
        ));
    }
    out
}

const GREATER: &str = "GreaterThanThreshold";
const LESS: &str = "LessThanThreshold";

/// The template as a JSON value. Validates the spec first.
pub fn render(spec: &DeploymentSpec) -> Result<Value, SpecError> {
    spec.validate()?;
    // The order of the steps is the order of the resources in the value: tests that run
    // with serde_json's `preserve_order` (see `sorted`) see them in this order.
    let mut template = Template::new(spec);
    let subnets = template.vpc_and_subnets();
    template.security_group();
    template.subnet_group(subnets);
    if spec.is_aurora() {
        template.cluster_parameter_group();
    } else {
        template.parameter_group();
    }
    let key_arn = template.key();
    template.monitoring_role();
    template.log_groups(&key_arn);
    if spec.is_aurora() {
        template.cluster(&key_arn);
        template.cluster_instances(&key_arn);
    } else {
        template.primary(&key_arn);
        template.replicas(&key_arn);
    }
    template.alarms(&key_arn);
    template.event_subscription();
    template.dashboard();
    template.proxy();
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
        if spec.proxy.is_some() {
            // The proxy may leave through port 5432 to the VPC's block only (its own
            // group's egress), so this reference goes one way and makes no cycle.
            ingress.push(json!({"Description": "PostgreSQL from the stack's RDS Proxy", "FromPort": port,
                                "IpProtocol": "tcp", "SourceSecurityGroupId": {"Fn::GetAtt": ["ProxySecurityGroup", "GroupId"]},
                                "ToPort": port}));
        }
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
                    "Description": format!("{prefix}: TLS required, logging"),
                    "Family": format!("postgres{major}"),
                    "Parameters": self.parameters(),
                    "Tags": self.tags(&format!("{prefix}-params")),
                }
            }),
        );
        self.output(
            "DbParameterGroupName",
            "RDS parameter group",
            json!({"Ref": "DbParameterGroup"}),
        );
    }

    /// The Aurora cluster's parameter group: the same settings, which Aurora PostgreSQL
    /// takes for the whole cluster (`rds.force_ssl` and the preloaded libraries only there).
    fn cluster_parameter_group(&mut self) {
        let prefix = self.prefix.clone();
        let major = self.spec.database.major_version().unwrap_or_default();
        self.resource(
            "DbClusterParameterGroup",
            json!({
                "Type": "AWS::RDS::DBClusterParameterGroup",
                "Properties": {
                    "Description": format!("{prefix}: TLS required, logging"),
                    "Family": format!("aurora-postgresql{major}"),
                    "Parameters": self.parameters(),
                    "Tags": self.tags(&format!("{prefix}-cluster-params")),
                }
            }),
        );
        self.output(
            "DbClusterParameterGroupName",
            "Aurora cluster parameter group",
            json!({"Ref": "DbClusterParameterGroup"}),
        );
    }

    /// TLS required, and the logging an operator needs.
    fn parameters(&self) -> Value {
        let monitoring = &self.spec.monitoring;
        let mut parameters = json!({
            "rds.force_ssl": "1",
            // What an operator needs from the logs: slow statements, lock waits (after
            // deadlock_timeout, 1 s), who connected, autovacuum runs over a second and
            // temporary files over 10 MiB.
            "log_min_duration_statement": monitoring.slow_statement_ms.to_string(),
            "log_lock_waits": "1",
            "log_connections": "1",
            "log_disconnections": "1",
            "log_autovacuum_min_duration": "1000",
            "log_temp_files": "10240",
        });
        if monitoring.pgaudit {
            parameters["shared_preload_libraries"] = json!("pg_stat_statements,pgaudit");
            parameters["pgaudit.log"] = json!("ddl,role");
        }
        parameters
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
                        }, {
                            // The exported database logs are encrypted with this key.
                            "Sid": "CloudWatchLogsEncryptsTheDatabaseLogs",
                            "Effect": "Allow",
                            "Principal": {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}},
                            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                            "Resource": "*",
                            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": {"Fn::Sub": format!("arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/aws/rds/{}/{prefix}-*", if spec.is_aurora() { "cluster" } else { "instance" })}}},
                        }, {
                            // Alarms and RDS events publish to the topic, encrypted with this key.
                            "Sid": "AlarmsAndEventsPublishToTheEncryptedTopic",
                            "Effect": "Allow",
                            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.rds.amazonaws.com"]},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            "Resource": "*",
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
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
        self.observed(&mut primary, key_arn);
        primary["EnableCloudwatchLogsExports"] = json!(spec.log_exports());
        self.resource(
            "Primary",
            json!({"Type": "AWS::RDS::DBInstance", "DeletionPolicy": retain, "UpdateReplacePolicy": retain,
                   "DependsOn": self.log_group_ids("Primary"), "Properties": primary}),
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
    fn replicas(&mut self, key_arn: &Value) {
        let spec = self.spec;
        for n in 1..=spec.replicas.count {
            let id = format!("Replica{n}");
            let mut properties = json!({
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
            });
            self.observed(&mut properties, key_arn);
            properties["EnableCloudwatchLogsExports"] = json!(spec.log_exports());
            self.resource(
                &id,
                json!({
                    // A replica holds no data of its own: deleting it loses nothing.
                    "Type": "AWS::RDS::DBInstance",
                    "DeletionPolicy": "Delete",
                    "UpdateReplacePolicy": "Delete",
                    "DependsOn": self.log_group_ids(&id),
                    "Properties": properties,
                }),
            );
            self.output(
                &format!("{id}Endpoint"),
                &format!("read replica {n} endpoint"),
                json!({"Fn::GetAtt": [id, "Endpoint.Address"]}),
            );
        }
    }

    /// The Aurora cluster: the shared volume, encrypted with the stack's key, with the
    /// database's settings (IAM authentication, backups, deletion protection, logs), and
    /// the outputs that point at its endpoints.
    fn cluster(&mut self, key_arn: &Value) {
        let spec = self.spec;
        let db = &spec.database;
        let storage = spec.engine.aurora().map(|a| a.storage.as_str());
        // As for an RDS writer: a final snapshot of the cluster when the spec asks for one.
        let retain = if spec.final_snapshot {
            "Snapshot"
        } else {
            "Delete"
        };
        let cluster = json!({
            "BackupRetentionPeriod": spec.backups.retention_days,
            "CopyTagsToSnapshot": true,
            "DBClusterIdentifier": spec.cluster_identifier(),
            "DBClusterParameterGroupName": {"Ref": "DbClusterParameterGroup"},
            "DBSubnetGroupName": {"Ref": "DbSubnetGroup"},
            "DatabaseName": db.database_name,
            "DeleteAutomatedBackups": !spec.backups.retain_after_deletion,
            "DeletionProtection": spec.deletion_protection,
            "EnableCloudwatchLogsExports": spec.log_exports(),
            "EnableIAMDatabaseAuthentication": spec.iam_auth,
            "Engine": "aurora-postgresql",
            "EngineVersion": db.engine_version,
            "KmsKeyId": key_arn,
            "ManageMasterUserPassword": true,
            "MasterUserSecret": {"KmsKeyId": key_arn},
            "MasterUsername": db.master_username,
            "Port": db.port,
            "PreferredBackupWindow": spec.backups.window,
            "PreferredMaintenanceWindow": "sun:04:00-sun:04:30",
            "StorageEncrypted": true,
            "StorageType": storage,
            "Tags": self.tags(&spec.cluster_identifier()),
            "VpcSecurityGroupIds": [{"Fn::GetAtt": ["DbSecurityGroup", "GroupId"]}],
        });
        self.resource(
            "Cluster",
            json!({"Type": "AWS::RDS::DBCluster", "DeletionPolicy": retain, "UpdateReplacePolicy": retain,
                   "DependsOn": self.log_group_ids("Cluster"), "Properties": cluster}),
        );
        self.output(
            "WriterEndpoint",
            "the cluster's writer endpoint (follows the writer through a failover)",
            json!({"Fn::GetAtt": ["Cluster", "Endpoint.Address"]}),
        );
        self.output(
            "ReaderEndpoint",
            "the cluster's reader endpoint (spreads connections over the readers)",
            json!({"Fn::GetAtt": ["Cluster", "ReadEndpoint.Address"]}),
        );
        self.output(
            "Port",
            "port of the cluster's endpoints",
            json!({"Fn::GetAtt": ["Cluster", "Endpoint.Port"]}),
        );
        self.output(
            "MasterUserSecretArn",
            "Secrets Manager secret holding the master password",
            json!({"Fn::GetAtt": ["Cluster", "MasterUserSecret.SecretArn"]}),
        );
    }

    /// The cluster's instances: `Primary`, created first so that it is the writer, and the
    /// readers, spread over the spec's zones (the writer in the first, reader `n` in zone
    /// `n` modulo their number), so a reader stands in another zone to fail over to.
    fn cluster_instances(&mut self, key_arn: &Value) {
        let spec = self.spec;
        let zones: Vec<&str> = spec
            .network
            .subnets
            .iter()
            .map(|s| s.availability_zone.as_str())
            .collect();
        let instances = std::iter::once((
            "Primary".to_owned(),
            spec.primary_identifier(),
            spec.database.instance_class.as_str(),
            0,
        ))
        .chain((1..=spec.replicas.count).map(|n| {
            (
                format!("Replica{n}"),
                spec.replica_identifier(n),
                spec.replica_class(),
                usize::from(n),
            )
        }));
        for (logical, identifier, class, n) in instances.collect::<Vec<_>>() {
            let mut properties = json!({
                "AutoMinorVersionUpgrade": true,
                "AvailabilityZone": zones[n % zones.len()],
                "DBClusterIdentifier": {"Ref": "Cluster"},
                "DBInstanceClass": class,
                "DBInstanceIdentifier": identifier,
                "Engine": "aurora-postgresql",
                // The writer first in line to be promoted back after a failover.
                "PromotionTier": if n == 0 { 0 } else { 1 },
                "PubliclyAccessible": false,
                "Tags": self.tags(&identifier),
            });
            self.observed(&mut properties, key_arn);
            let mut resource = json!({
                // An Aurora instance holds no data of its own (the cluster's volume does):
                // deleting or replacing one loses nothing.
                "Type": "AWS::RDS::DBInstance",
                "DeletionPolicy": "Delete",
                "UpdateReplacePolicy": "Delete",
                // The spec names its zones on purpose: the reader must stand in another
                // zone than the writer.
                "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W3010"]}}},
                "Properties": properties,
            });
            if n > 0 {
                // The first instance of a cluster becomes its writer: Primary goes first.
                resource["DependsOn"] = json!(["Primary"]);
            }
            self.resource(&logical, resource);
        }
    }

    /// The SNS topic, encrypted with the database's key, and every alarm of [`alarms`],
    /// each sending to the topic.
    fn alarms(&mut self, key_arn: &Value) {
        let spec = self.spec;
        let prefix = self.prefix.clone();
        let mut topic = json!({"TopicName": format!("{prefix}-alarms"), "KmsMasterKeyId": key_arn,
                               "Tags": self.tags(&format!("{prefix}-alarms"))});
        if let Some(email) = &spec.alarms.email {
            topic["Subscription"] = json!([{"Endpoint": email, "Protocol": "email"}]);
        }
        self.resource(
            "AlarmTopic",
            json!({"Type": "AWS::SNS::Topic", "Properties": topic}),
        );
        for alarm in alarms(spec) {
            self.resource(
                &alarm.logical_id,
                json!({
                    "Type": "AWS::CloudWatch::Alarm",
                    "Properties": {
                        "ActionsEnabled": true,
                        "AlarmActions": [{"Ref": "AlarmTopic"}],
                        "AlarmDescription": format!("{} {} {} {} on {}", alarm.statistic, alarm.metric, alarm.comparison, alarm.threshold, alarm.target.describe()),
                        "AlarmName": alarm.name,
                        "ComparisonOperator": alarm.comparison,
                        "Dimensions": alarm.target.template_dimensions(),
                        "EvaluationPeriods": 3,
                        "MetricName": alarm.metric,
                        "Namespace": "AWS/RDS",
                        "OKActions": [{"Ref": "AlarmTopic"}],
                        "Period": 300,
                        "Statistic": alarm.statistic,
                        "Tags": self.tags(&alarm.name),
                        "Threshold": alarm.threshold,
                        "TreatMissingData": "breaching",
                    }
                }),
            );
        }
    }

    /// Performance Insights (encrypted with the database's key) and Enhanced Monitoring:
    /// the same on the writer and on every replica, of either engine. (Logs are exported
    /// per instance on RDS, per cluster on Aurora.)
    fn observed(&self, properties: &mut Value, key_arn: &Value) {
        let m = &self.spec.monitoring;
        properties["EnablePerformanceInsights"] = json!(true);
        properties["PerformanceInsightsKMSKeyId"] = key_arn.clone();
        properties["PerformanceInsightsRetentionPeriod"] = json!(m.performance_insights_days);
        properties["MonitoringInterval"] = json!(m.enhanced_monitoring_seconds);
        properties["MonitoringRoleArn"] = json!({"Fn::GetAtt": ["MonitoringRole", "Arn"]});
    }

    /// The role Enhanced Monitoring uses to publish OS metrics to CloudWatch Logs.
    fn monitoring_role(&mut self) {
        let prefix = self.prefix.clone();
        self.resource(
            "MonitoringRole",
            json!({
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }],
                    },
                    "Description": format!("{prefix}: RDS Enhanced Monitoring"),
                    "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"}],
                    "Tags": self.tags(&format!("{prefix}-monitoring")),
                }
            }),
        );
    }

    /// The logical ids of the log groups of an instance (`Primary`, `Replica1`...) on RDS,
    /// or of the cluster (`Cluster`) on Aurora.
    fn log_group_ids(&self, logical_id: &str) -> Vec<String> {
        self.spec
            .log_exports()
            .iter()
            .map(|log| format!("Logs{logical_id}{}", capitalised(log)))
            .collect()
    }

    /// The log groups RDS exports each instance's logs to (Aurora: the cluster's), made
    /// before the database so they carry a retention and the database's key (RDS would
    /// otherwise create them itself, kept forever and unencrypted).
    fn log_groups(&mut self, key_arn: &Value) {
        let spec = self.spec;
        let sources: Vec<(String, String)> = if spec.is_aurora() {
            vec![("Cluster".to_owned(), spec.cluster_identifier())]
        } else {
            std::iter::once(("Primary".to_owned(), spec.primary_identifier()))
                .chain(
                    (1..=spec.replicas.count)
                        .map(|n| (format!("Replica{n}"), spec.replica_identifier(n))),
                )
                .collect()
        };
        for (logical, identifier) in sources {
            for (log, id) in spec.log_exports().iter().zip(self.log_group_ids(&logical)) {
                let name = if spec.is_aurora() {
                    DeploymentSpec::cluster_log_group_name(&identifier, log)
                } else {
                    DeploymentSpec::log_group_name(&identifier, log)
                };
                self.resource(
                    &id,
                    json!({
                        "Type": "AWS::Logs::LogGroup",
                        "DeletionPolicy": "Delete",
                        "UpdateReplacePolicy": "Delete",
                        "Properties": {
                            "KmsKeyId": key_arn,
                            "LogGroupName": name,
                            "RetentionInDays": spec.monitoring.log_retention_days,
                            "Tags": self.tags(&name),
                        }
                    }),
                );
            }
        }
    }

    /// RDS events of every instance (failover, failure, low storage, maintenance...) to
    /// the alarm topic; on Aurora also the cluster's own (failover is a cluster event there).
    fn event_subscription(&mut self) {
        let spec = self.spec;
        let prefix = self.prefix.clone();
        if spec.is_aurora() {
            self.resource(
                "ClusterEvents",
                json!({
                    "Type": "AWS::RDS::EventSubscription",
                    "Properties": {
                        "Enabled": true,
                        "SnsTopicArn": {"Ref": "AlarmTopic"},
                        "SourceIds": [{"Ref": "Cluster"}],
                        "SourceType": "db-cluster",
                        "SubscriptionName": format!("{prefix}-cluster-events"),
                        "Tags": self.tags(&format!("{prefix}-cluster-events")),
                    }
                }),
            );
        }
        let sources: Vec<Value> = std::iter::once(json!({"Ref": "Primary"}))
            .chain((1..=spec.replicas.count).map(|n| json!({"Ref": format!("Replica{n}")})))
            .collect();
        self.resource(
            "DbEvents",
            json!({
                "Type": "AWS::RDS::EventSubscription",
                "Properties": {
                    // No EventCategories: every category of event.
                    "Enabled": true,
                    "SnsTopicArn": {"Ref": "AlarmTopic"},
                    "SourceIds": sources,
                    "SourceType": "db-instance",
                    "SubscriptionName": format!("{prefix}-events"),
                    "Tags": self.tags(&format!("{prefix}-events")),
                }
            }),
        );
    }

    /// A CloudWatch dashboard of every alarmed metric, one graph per metric with a line per
    /// instance.
    fn dashboard(&mut self) {
        let spec = self.spec;
        let all = alarms(spec);
        let mut metrics: Vec<&str> = Vec::new();
        for alarm in &all {
            if !metrics.contains(&alarm.metric) {
                metrics.push(alarm.metric);
            }
        }
        let widgets: Vec<Value> = metrics
            .iter()
            .enumerate()
            .map(|(i, metric)| {
                let lines: Vec<Value> = all
                    .iter()
                    .filter(|a| a.metric == *metric)
                    .map(|a| {
                        let mut line = vec![json!("AWS/RDS"), json!(metric)];
                        for (name, value) in a.target.dimensions() {
                            line.extend([json!(name), json!(value)]);
                        }
                        if a.statistic != "Average" {
                            line.push(json!({"stat": a.statistic, "label": format!("{} {}", a.target.describe(), a.statistic)}));
                        }
                        Value::Array(line)
                    })
                    .collect();
                json!({
                    "type": "metric",
                    "x": (i % 3) * 8,
                    "y": (i / 3) * 6,
                    "width": 8,
                    "height": 6,
                    "properties": {"metrics": lines, "period": 300, "region": spec.region,
                                   "stat": "Average", "title": metric, "view": "timeSeries"},
                })
            })
            .collect();
        let body = serde_json::to_string(&sorted(json!({ "widgets": widgets })))
            .expect("a JSON value always serialises");
        self.resource(
            "Dashboard",
            json!({
                // Dashboards take no tags.
                "Type": "AWS::CloudWatch::Dashboard",
                "Properties": {"DashboardBody": body, "DashboardName": self.prefix},
            }),
        );
    }

    /// RDS Proxy in front of the writer, when the spec asks for one: TLS required, IAM
    /// authentication from clients and to the database, in its own security group.
    fn proxy(&mut self) {
        let spec = self.spec;
        let Some(proxy) = &spec.proxy else { return };
        let prefix = self.prefix.clone();
        let (network, port) = (&spec.network, spec.database.port);
        // The IAM resource id of the database's users: the cluster's on Aurora.
        let resource_id = if spec.is_aurora() {
            "Cluster.DBClusterResourceId"
        } else {
            "Primary.DbiResourceId"
        };
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
            "ProxySecurityGroup",
            json!({
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {
                    "GroupDescription": format!("{prefix}: RDS Proxy, PostgreSQL from allowed private sources only"),
                    "SecurityGroupIngress": ingress,
                    "SecurityGroupEgress": [{"CidrIp": network.vpc_cidr.to_string(), "Description": "to the database, inside the VPC",
                                             "FromPort": port, "IpProtocol": "tcp", "ToPort": port}],
                    "Tags": self.tags(&format!("{prefix}-proxy")),
                    "VpcId": {"Ref": "Vpc"},
                }
            }),
        );
        self.resource(
            "ProxyRole",
            json!({
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"Service": "rds.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }],
                    },
                    "Description": format!("{prefix}: RDS Proxy connects to the writer with IAM authentication"),
                    "Policies": [{
                        "PolicyName": "connect-to-the-writer",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{
                                "Effect": "Allow",
                                "Action": "rds-db:connect",
                                "Resource": {"Fn::Sub": format!("arn:${{AWS::Partition}}:rds-db:${{AWS::Region}}:${{AWS::AccountId}}:dbuser:${{{resource_id}}}/*")},
                            }],
                        },
                    }],
                    "Tags": self.tags(&format!("{prefix}-proxy")),
                }
            }),
        );
        let subnets: Vec<Value> = (1..=network.subnets.len())
            .map(|i| json!({"Ref": format!("PrivateSubnet{i}")}))
            .collect();
        let mut targets = json!({
            "ConnectionPoolConfigurationInfo": {"MaxConnectionsPercent": proxy.max_connections_percent},
            "DBProxyName": {"Ref": "Proxy"},
            "Tags": self.tags(&format!("{prefix}-proxy-targets")),
            "TargetGroupName": "default",
        });
        if spec.is_aurora() {
            targets["DBClusterIdentifiers"] = json!([{"Ref": "Cluster"}]);
        } else {
            targets["DBInstanceIdentifiers"] = json!([{"Ref": "Primary"}]);
        }
        self.resource(
            "Proxy",
            json!({
                "Type": "AWS::RDS::DBProxy",
                "Properties": {
                    "DBProxyName": spec.proxy_name(),
                    "DebugLogging": false,
                    "DefaultAuthScheme": "IAM_AUTH",
                    "EngineFamily": "POSTGRESQL",
                    "IdleClientTimeout": proxy.idle_client_timeout_seconds,
                    "RequireTLS": true,
                    "RoleArn": {"Fn::GetAtt": ["ProxyRole", "Arn"]},
                    "Tags": self.tags(&spec.proxy_name()),
                    "VpcSecurityGroupIds": [{"Fn::GetAtt": ["ProxySecurityGroup", "GroupId"]}],
                    "VpcSubnetIds": subnets,
                }
            }),
        );
        self.resource(
            "ProxyTargetGroup",
            json!({"Type": "AWS::RDS::DBProxyTargetGroup", "Properties": targets}),
        );
        self.output(
            "ProxyEndpoint",
            "RDS Proxy endpoint (TLS, IAM tokens)",
            json!({"Fn::GetAtt": ["Proxy", "Endpoint"]}),
        );
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
            "DashboardName",
            "CloudWatch dashboard of the database's metrics",
            json!({"Ref": "Dashboard"}),
        );
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
    }

    fn finish(self) -> Value {
        let spec = self.spec;
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": format!("ecom-dms database, environment {}: {} {}, rendered by ecom-infra", spec.environment,
                                   if spec.is_aurora() { "Aurora PostgreSQL" } else { "RDS PostgreSQL" }, spec.database.engine_version),
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

/// `postgresql` -> `Postgresql`, for logical ids.
fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}
