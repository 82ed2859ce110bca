//! The database: the writer, its storage, replicas, backups, encryption key and proxy.

use serde::{Deserialize, Serialize};

/// The writer instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSpec {
    /// PostgreSQL version, `MAJOR.MINOR` (13 to 17).
    pub engine_version: String,
    /// e.g. `db.t4g.micro`.
    pub instance_class: String,
    /// Disk (RDS only: an Aurora cluster's volume grows by itself).
    pub storage: StorageSpec,
    /// Automatic failover to a second zone: on RDS a synchronous standby there, on Aurora
    /// at least one reader, placed in another zone than the writer.
    pub multi_az: bool,
    /// The database created on the instance.
    pub database_name: String,
    /// The master user; its password is generated and kept by Secrets Manager.
    pub master_username: String,
    /// The port every instance listens on.
    pub port: u16,
}

impl DatabaseSpec {
    /// The major version (`16` of `16.4`).
    pub fn major_version(&self) -> Option<u32> {
        self.engine_version.split('.').next()?.parse().ok()
    }
}

/// Disk size and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageSpec {
    /// Allocated GiB.
    pub allocated_gib: u32,
    /// Volume type.
    pub storage_type: StorageType,
    /// Storage autoscaling up to this many GiB (`None`: off).
    pub max_allocated_gib: Option<u32>,
}

/// RDS volume types offered here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageType {
    /// General purpose SSD, 3000 IOPS baseline.
    Gp3,
    /// Previous generation general purpose SSD.
    Gp2,
}

impl StorageType {
    /// The name AWS uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gp3 => "gp3",
            Self::Gp2 => "gp2",
        }
    }

    /// The smallest volume RDS for PostgreSQL accepts, in GiB.
    pub fn min_gib(self) -> u32 {
        20
    }

    /// The largest volume RDS for PostgreSQL accepts, in GiB.
    pub fn max_gib(self) -> u32 {
        65_536
    }
}

/// Read replicas of the writer (on Aurora, the cluster's readers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaSpec {
    /// How many (0 to 15).
    pub count: u8,
    /// Their class (`None`: the writer's).
    pub instance_class: Option<String>,
}

/// Automated backups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSpec {
    /// Days kept (0 turns backups off; at most 35).
    pub retention_days: u8,
    /// Point-in-time recovery, which RDS provides from the automated backups.
    pub point_in_time_recovery: bool,
    /// Daily window, UTC, `hh:mm-hh:mm`.
    pub window: String,
    /// Keep the automated backups for their retention period after the writer is deleted
    /// (RDS deletes them with it otherwise). Absent in a spec file: `false`.
    #[serde(default)]
    pub retain_after_deletion: bool,
}

/// Which KMS key encrypts the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncryptionKey {
    /// The stack creates a customer-managed key with rotation; on deletion it is scheduled
    /// for deletion after this many days (7 to 30).
    Create {
        /// `PendingWindowInDays`.
        pending_window_days: u8,
    },
    /// An existing customer-managed key, by ARN, in the spec's region.
    Existing {
        /// `arn:aws:kms:REGION:ACCOUNT:key/ID`.
        arn: String,
    },
}

/// RDS Proxy: clients connect to it over TLS with IAM tokens, and it connects to the
/// writer with IAM authentication too (`DefaultAuthScheme: IAM_AUTH`), so no password is
/// stored for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProxySpec {
    /// A client connection idle this long is closed (1 to 28,800 seconds).
    pub idle_client_timeout_seconds: u32,
    /// The share of the writer's `max_connections` the proxy may open (1 to 100).
    pub max_connections_percent: u8,
}

impl Default for ProxySpec {
    fn default() -> Self {
        Self {
            idle_client_timeout_seconds: 1800,
            max_connections_percent: 90,
        }
    }
}
