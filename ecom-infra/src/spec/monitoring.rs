//! What the database reports and when it alarms: monitoring, logs and alarm thresholds.

use serde::{Deserialize, Serialize};

/// What the database reports beyond metrics: query performance, OS metrics, its logs and
/// its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitoringSpec {
    /// Performance Insights retention in days, encrypted with the database's key: 7 (free)
    /// or a multiple of 31 up to 731.
    pub performance_insights_days: u16,
    /// Enhanced Monitoring (OS metrics) every this many seconds: 1, 5, 10, 15, 30 or 60.
    pub enhanced_monitoring_seconds: u8,
    /// Days the exported `postgresql` and `upgrade` logs are kept in CloudWatch Logs (one
    /// of the retention periods CloudWatch Logs offers).
    pub log_retention_days: u16,
    /// Statements slower than this many milliseconds are logged (`log_min_duration_statement`).
    pub slow_statement_ms: u32,
    /// Load pgaudit and log DDL and role changes (`pgaudit.log = ddl,role`).
    pub pgaudit: bool,
}

impl Default for MonitoringSpec {
    fn default() -> Self {
        Self {
            performance_insights_days: 7,
            enhanced_monitoring_seconds: 60,
            log_retention_days: 7,
            slow_statement_ms: 500,
            pgaudit: false,
        }
    }
}

impl MonitoringSpec {
    /// The intervals Enhanced Monitoring accepts.
    pub const MONITORING_INTERVALS: [u8; 6] = [1, 5, 10, 15, 30, 60];
    /// The retention periods CloudWatch Logs accepts (days; "never expire" is not offered).
    pub const LOG_RETENTION_DAYS: [u16; 22] = [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
        2922, 3288, 3653,
    ];
    /// The logs RDS for PostgreSQL exports to CloudWatch Logs.
    pub const LOG_EXPORTS: [&str; 2] = ["postgresql", "upgrade"];
    /// The logs Aurora PostgreSQL exports to CloudWatch Logs.
    pub const AURORA_LOG_EXPORTS: [&str; 1] = ["postgresql"];
}

/// Alarm thresholds and the topic's subscription. Fields absent in a spec file take
/// [`AlarmSpec::default`]'s. Storage, latency, disk queue, swap and transaction log
/// thresholds apply to RDS; deadlocks to Aurora (whose volume has no free space, queue or
/// WAL of its own to watch); the rest to both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlarmSpec {
    /// Subscribe this address to the alarm topic (AWS sends a confirmation mail).
    pub email: Option<String>,
    /// Average CPU above this percentage for 15 minutes.
    pub cpu_percent: u32,
    /// Free storage below this many GiB.
    pub free_storage_gib: u32,
    /// Freeable memory below this many MiB.
    pub freeable_memory_mib: u32,
    /// More connections than this.
    pub max_connections: u32,
    /// Read or write latency above this many milliseconds.
    pub latency_ms: u32,
    /// Replica lag above this many seconds.
    pub replica_lag_seconds: u32,
    /// Transaction IDs used (the age of the oldest unfrozen one) above this many millions:
    /// wraparound stops writes at about 2,100 million.
    pub max_used_transaction_ids_millions: u32,
    /// Outstanding disk I/O requests above this.
    pub disk_queue_depth: u32,
    /// Swap in use above this many MiB.
    pub swap_usage_mib: u32,
    /// WAL kept on disk (transaction logs) above this many GiB: a stuck replication slot.
    pub transaction_logs_gib: u32,
    /// On burstable classes (`db.t*`), CPU credits below this.
    pub cpu_credit_balance: u32,
    /// Aurora: more deadlocks than this a minute, on average over each 5 minutes (the store
    /// retries a deadlocked transaction, so a few are harmless; a steady rate is not).
    pub deadlocks_per_minute: u32,
}

impl Default for AlarmSpec {
    fn default() -> Self {
        Self {
            email: None,
            cpu_percent: 80,
            free_storage_gib: 5,
            freeable_memory_mib: 128,
            max_connections: 80,
            latency_ms: 20,
            replica_lag_seconds: 60,
            max_used_transaction_ids_millions: 1000,
            disk_queue_depth: 64,
            swap_usage_mib: 256,
            transaction_logs_gib: 10,
            cpu_credit_balance: 20,
            deadlocks_per_minute: 1,
        }
    }
}
