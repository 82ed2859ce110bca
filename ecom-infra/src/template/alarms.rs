//! The CloudWatch alarms a spec gets, and the SNS topic they send to.

use serde_json::{Value, json};

use super::Template;
use crate::spec::DeploymentSpec;

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
    pub(super) fn describe(&self) -> String {
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

impl Template<'_> {
    /// The SNS topic, encrypted with the database's key, and every alarm of [`alarms`],
    /// each sending to the topic.
    pub(super) fn alarms(&mut self, key_arn: &Value) {
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
}
