//! The typed deployment: what to build, checked before anything is rendered or sent.

use std::fmt;

use serde::{Deserialize, Serialize};

mod database;
mod engine;
mod monitoring;
mod network;
mod presets;
mod validate;

pub use database::{
    BackupSpec, DatabaseSpec, EncryptionKey, ProxySpec, ReplicaSpec, StorageSpec, StorageType,
};
pub use engine::{AuroraSpec, AuroraStorage, Engine, EngineKind, is_aurora_class};
pub use monitoring::{AlarmSpec, MonitoringSpec};
pub use network::{Ipv4Cidr, NetworkSpec, SubnetSpec};
pub use presets::Preset;
pub use validate::SpecError;

/// Everything one deployment of ecom-store's database is made of.
///
/// Build one from a preset ([`DeploymentSpec::test`], [`DeploymentSpec::production`]),
/// adjust the public fields, then call [`DeploymentSpec::validate`]; rendering and
/// deploying validate again, so an invalid spec never reaches AWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentSpec {
    /// Environment name (`test`, `production`...): names the stack and every resource.
    pub environment: EnvironmentName,
    /// AWS region, e.g. `eu-west-1`.
    pub region: String,
    /// Who answers for the deployment (the `Owner` tag).
    pub owner: String,
    /// VPC, private subnets and who may connect.
    pub network: NetworkSpec,
    /// The writer instance.
    pub database: DatabaseSpec,
    /// Read replicas of the writer.
    pub replicas: ReplicaSpec,
    /// Automated backups and point-in-time recovery.
    pub backups: BackupSpec,
    /// Refuse deletion of the instances until this is turned off.
    pub deletion_protection: bool,
    /// Take a final snapshot of the writer when the stack is deleted.
    pub final_snapshot: bool,
    /// The KMS key that encrypts storage, snapshots and the master secret.
    pub encryption: EncryptionKey,
    /// IAM database authentication (tokens instead of passwords for applications).
    pub iam_auth: bool,
    /// CloudWatch alarms and where they go.
    pub alarms: AlarmSpec,
    /// Performance Insights, Enhanced Monitoring, logs and events. Absent in a spec file:
    /// [`MonitoringSpec::default`].
    #[serde(default)]
    pub monitoring: MonitoringSpec,
    /// RDS Proxy in front of the writer, for many clients (`None`: no proxy). Absent in a
    /// spec file: `None`.
    #[serde(default)]
    pub proxy: Option<ProxySpec>,
    /// Which PostgreSQL service runs the database. Absent in a spec file:
    /// [`Engine::RdsPostgres`].
    #[serde(default)]
    pub engine: Engine,
}

/// A lower-case environment name: 1 to 20 of `a-z`, `0-9`, `-`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EnvironmentName(String);

impl EnvironmentName {
    /// Checks and wraps a name.
    pub fn parse(name: &str) -> Result<Self, SpecError> {
        let ok = (1..=20).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && !name.ends_with('-')
            && !name.contains("--")
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(SpecError::InvalidEnvironmentName(name.to_owned()))
        }
    }
}

impl EnvironmentName {
    /// Words that make an environment production-like wherever they stand in its name.
    pub const PRODUCTION_WORDS: [&str; 4] = ["prod", "production", "prd", "live"];

    /// Whether one of the name's `-`-separated words is `prod`, `production`, `prd` or
    /// `live` (`prod-eu`, `shop-live`): such an environment gets production's protections.
    pub fn is_production_like(&self) -> bool {
        self.0
            .split('-')
            .any(|word| Self::PRODUCTION_WORDS.contains(&word))
    }
}

impl AsRef<str> for EnvironmentName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvironmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EnvironmentName {
    type Error = SpecError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EnvironmentName> for String {
    fn from(value: EnvironmentName) -> Self {
        value.0
    }
}

impl DeploymentSpec {
    /// Whether the database is an Aurora cluster.
    pub fn is_aurora(&self) -> bool {
        matches!(self.engine, Engine::AuroraPostgres(_))
    }

    /// The Aurora cluster's `DBClusterIdentifier`: `ecom-dms-ENVIRONMENT-cluster`.
    pub fn cluster_identifier(&self) -> String {
        format!("ecom-dms-{}-cluster", self.environment)
    }

    /// The CloudFormation stack's name: `ecom-dms-ENVIRONMENT`.
    pub fn stack_name(&self) -> String {
        format!("ecom-dms-{}", self.environment)
    }

    /// The writer's `DBInstanceIdentifier`.
    pub fn primary_identifier(&self) -> String {
        format!("ecom-dms-{}-primary", self.environment)
    }

    /// The `DBInstanceIdentifier` of replica `n` (1-based).
    pub fn replica_identifier(&self, n: u8) -> String {
        format!("ecom-dms-{}-replica-{n}", self.environment)
    }

    /// Whether anything encrypted with the database's key outlives the writer: a final
    /// snapshot, or automated backups retained after deletion. The stack's own key is then
    /// retained when the stack is deleted, or replaced, since a key scheduled for deletion
    /// would make those snapshots unrestorable once its waiting period ends.
    pub fn snapshots_outlive_writer(&self) -> bool {
        self.final_snapshot || self.backups.retain_after_deletion
    }

    /// The log group RDS exports `log` (`postgresql`, `upgrade`) of instance `identifier` to.
    pub fn log_group_name(identifier: &str, log: &str) -> String {
        format!("/aws/rds/instance/{identifier}/{log}")
    }

    /// The log group Aurora exports `log` (`postgresql`) of cluster `identifier` to.
    pub fn cluster_log_group_name(identifier: &str, log: &str) -> String {
        format!("/aws/rds/cluster/{identifier}/{log}")
    }

    /// The logs exported to CloudWatch Logs: RDS exports `postgresql` and `upgrade` per
    /// instance, Aurora PostgreSQL exports `postgresql` per cluster (the only log it exports).
    pub fn log_exports(&self) -> &'static [&'static str] {
        if self.is_aurora() {
            &MonitoringSpec::AURORA_LOG_EXPORTS
        } else {
            &MonitoringSpec::LOG_EXPORTS
        }
    }

    /// The names of the log groups the database's logs go to.
    pub fn log_group_names(&self) -> Vec<String> {
        if self.is_aurora() {
            let cluster = self.cluster_identifier();
            self.log_exports()
                .iter()
                .map(|log| Self::cluster_log_group_name(&cluster, log))
                .collect()
        } else {
            self.instance_identifiers()
                .iter()
                .flat_map(|id| {
                    self.log_exports()
                        .iter()
                        .map(|log| Self::log_group_name(id, log))
                })
                .collect()
        }
    }

    /// Every instance identifier: the writer, then the replicas.
    pub fn instance_identifiers(&self) -> Vec<String> {
        std::iter::once(self.primary_identifier())
            .chain((1..=self.replicas.count).map(|n| self.replica_identifier(n)))
            .collect()
    }

    /// The RDS Proxy's name: the stack's.
    pub fn proxy_name(&self) -> String {
        self.stack_name()
    }

    /// The replicas' class.
    pub fn replica_class(&self) -> &str {
        self.replicas
            .instance_class
            .as_deref()
            .unwrap_or(&self.database.instance_class)
    }
}
