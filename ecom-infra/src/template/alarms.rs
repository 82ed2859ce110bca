//! The CloudWatch alarms a spec gets, and the SNS topic they send to.

use serde_json::{Value, json};

use super::Template;
use crate::spec::{AlarmSpec, DeploymentSpec};

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

/// One alarm before it is placed on an instance or a role: the metric it watches, and how
/// its threshold comes from the spec's settings.
#[derive(Clone, Copy)]
struct AlarmRow {
    /// Ends the logical id (`AlarmPrimary` + `Cpu`).
    id: &'static str,
    /// Ends the alarm's name (`...-primary` + `-cpu`).
    name: &'static str,
    /// The RDS metric.
    metric: &'static str,
    /// [`GREATER`] or [`LESS`].
    comparison: &'static str,
    /// The threshold, in the metric's unit.
    threshold: fn(&AlarmSpec) -> f64,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const MIB: f64 = 1024.0 * 1024.0;

const GREATER: &str = "GreaterThanThreshold";
const LESS: &str = "LessThanThreshold";

/// Every alarm the tables below place, each defined once.
#[allow(clippy::float_arithmetic)] // unit conversions of whole-number thresholds
impl AlarmRow {
    const CPU: Self = Self {
        id: "Cpu",
        name: "cpu",
        metric: "CPUUtilization",
        comparison: GREATER,
        threshold: |a| f64::from(a.cpu_percent),
    };
    const FREE_STORAGE: Self = Self {
        id: "FreeStorage",
        name: "free-storage",
        metric: "FreeStorageSpace",
        comparison: LESS,
        threshold: |a| f64::from(a.free_storage_gib) * GIB,
    };
    const FREEABLE_MEMORY: Self = Self {
        id: "FreeableMemory",
        name: "freeable-memory",
        metric: "FreeableMemory",
        comparison: LESS,
        threshold: |a| f64::from(a.freeable_memory_mib) * MIB,
    };
    const CONNECTIONS: Self = Self {
        id: "Connections",
        name: "connections",
        metric: "DatabaseConnections",
        comparison: GREATER,
        threshold: |a| f64::from(a.max_connections),
    };
    const READ_LATENCY: Self = Self {
        id: "ReadLatency",
        name: "read-latency",
        metric: "ReadLatency",
        comparison: GREATER,
        threshold: |a| f64::from(a.latency_ms) / 1000.0,
    };
    const WRITE_LATENCY: Self = Self {
        id: "WriteLatency",
        name: "write-latency",
        metric: "WriteLatency",
        comparison: GREATER,
        threshold: |a| f64::from(a.latency_ms) / 1000.0,
    };
    const MAX_USED_TRANSACTION_IDS: Self = Self {
        id: "MaxUsedTransactionIds",
        name: "max-used-transaction-ids",
        metric: "MaximumUsedTransactionIDs",
        comparison: GREATER,
        threshold: |a| f64::from(a.max_used_transaction_ids_millions) * 1_000_000.0,
    };
    const DISK_QUEUE_DEPTH: Self = Self {
        id: "DiskQueueDepth",
        name: "disk-queue-depth",
        metric: "DiskQueueDepth",
        comparison: GREATER,
        threshold: |a| f64::from(a.disk_queue_depth),
    };
    const SWAP_USAGE: Self = Self {
        id: "SwapUsage",
        name: "swap-usage",
        metric: "SwapUsage",
        comparison: GREATER,
        threshold: |a| f64::from(a.swap_usage_mib) * MIB,
    };
    const TRANSACTION_LOGS_DISK_USAGE: Self = Self {
        id: "TransactionLogsDiskUsage",
        name: "transaction-logs-disk-usage",
        metric: "TransactionLogsDiskUsage",
        comparison: GREATER,
        threshold: |a| f64::from(a.transaction_logs_gib) * GIB,
    };
    const CPU_CREDIT_BALANCE: Self = Self {
        id: "CpuCreditBalance",
        name: "cpu-credit-balance",
        metric: "CPUCreditBalance",
        comparison: LESS,
        threshold: |a| f64::from(a.cpu_credit_balance),
    };
    // Deadlocks is a rate per second.
    const DEADLOCKS: Self = Self {
        id: "Deadlocks",
        name: "deadlocks",
        metric: "Deadlocks",
        comparison: GREATER,
        threshold: |a| f64::from(a.deadlocks_per_minute) / 60.0,
    };
    const REPLICA_LAG: Self = Self {
        id: "Lag",
        name: "replica-lag",
        metric: "ReplicaLag",
        comparison: GREATER,
        threshold: |a| f64::from(a.replica_lag_seconds),
    };
    // AuroraReplicaLag is in milliseconds.
    const AURORA_REPLICA_LAG: Self = Self {
        id: "Lag",
        name: "replica-lag",
        metric: "AuroraReplicaLag",
        comparison: GREATER,
        threshold: |a| f64::from(a.replica_lag_seconds) * 1000.0,
    };
}

/// The RDS writer's alarms (with [`AlarmRow::CPU_CREDIT_BALANCE`] on a burstable class).
const RDS_WRITER: [AlarmRow; 10] = [
    AlarmRow::CPU,
    AlarmRow::FREE_STORAGE,
    AlarmRow::FREEABLE_MEMORY,
    AlarmRow::CONNECTIONS,
    AlarmRow::READ_LATENCY,
    AlarmRow::WRITE_LATENCY,
    AlarmRow::MAX_USED_TRANSACTION_IDS,
    AlarmRow::DISK_QUEUE_DEPTH,
    AlarmRow::SWAP_USAGE,
    AlarmRow::TRANSACTION_LOGS_DISK_USAGE,
];

/// Each RDS replica's alarms.
const RDS_REPLICA: [AlarmRow; 3] = [AlarmRow::REPLICA_LAG, AlarmRow::CPU, AlarmRow::FREE_STORAGE];

/// The Aurora writer's alarms (with [`AlarmRow::CPU_CREDIT_BALANCE`] on a burstable class).
const AURORA_WRITER: [AlarmRow; 5] = [
    AlarmRow::CPU,
    AlarmRow::FREEABLE_MEMORY,
    AlarmRow::CONNECTIONS,
    AlarmRow::DEADLOCKS,
    AlarmRow::MAX_USED_TRANSACTION_IDS,
];

/// The Aurora readers' alarms, one each over all the readers.
const AURORA_READERS: [AlarmRow; 3] = [
    AlarmRow::AURORA_REPLICA_LAG,
    AlarmRow::CPU,
    AlarmRow::FREEABLE_MEMORY,
];

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

/// The writer's alarms: `table`, and CPU credits on a burstable class.
fn writer_rows(spec: &DeploymentSpec, table: &[AlarmRow]) -> Vec<AlarmRow> {
    let mut rows = table.to_vec();
    if is_burstable(&spec.database.instance_class) {
        rows.push(AlarmRow::CPU_CREDIT_BALANCE);
    }
    rows
}

/// `rows` placed on `target`: ids and names after the prefixes, thresholds from the
/// spec's settings, the statistic by comparison.
fn placed(
    rows: &[AlarmRow],
    spec: &DeploymentSpec,
    id_prefix: &str,
    name_prefix: &str,
    statistic: impl Fn(&str) -> &'static str,
    target: &AlarmTarget,
) -> Vec<AlarmDef> {
    rows.iter()
        .map(|row| AlarmDef {
            logical_id: format!("{id_prefix}{}", row.id),
            name: format!("{name_prefix}-{}", row.name),
            metric: row.metric,
            comparison: row.comparison,
            threshold: (row.threshold)(&spec.alarms),
            statistic: statistic(row.comparison),
            target: target.clone(),
        })
        .collect()
}

fn rds_alarms(spec: &DeploymentSpec) -> Vec<AlarmDef> {
    let primary = spec.primary_identifier();
    let target = AlarmTarget::Instance {
        logical_id: "Primary".into(),
        identifier: primary.clone(),
    };
    let mut out = placed(
        &writer_rows(spec, &RDS_WRITER),
        spec,
        "AlarmPrimary",
        &primary,
        |_| "Average",
        &target,
    );
    for n in 1..=spec.replicas.count {
        let replica = spec.replica_identifier(n);
        let target = AlarmTarget::Instance {
            logical_id: format!("Replica{n}"),
            identifier: replica.clone(),
        };
        out.extend(placed(
            &RDS_REPLICA,
            spec,
            &format!("AlarmReplica{n}"),
            &replica,
            |_| "Average",
            &target,
        ));
    }
    out
}

fn aurora_alarms(spec: &DeploymentSpec) -> Vec<AlarmDef> {
    let cluster = spec.cluster_identifier();
    let target = AlarmTarget::ClusterRole {
        cluster: cluster.clone(),
        role: "WRITER",
    };
    let mut out = placed(
        &writer_rows(spec, &AURORA_WRITER),
        spec,
        "AlarmWriter",
        &format!("{cluster}-writer"),
        |_| "Average",
        &target,
    );
    if spec.replicas.count > 0 {
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
            &AURORA_READERS,
            spec,
            "AlarmReaders",
            &format!("{cluster}-readers"),
            worst,
            &target,
        ));
    }
    out
}

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
