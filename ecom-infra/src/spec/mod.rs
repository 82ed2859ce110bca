//! The typed deployment: what to build, checked before anything is rendered or sent.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod validate;

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

/// The PostgreSQL service the database runs on.
///
/// The rest of the spec means the same on both, with these differences on Aurora: the
/// writer and the replicas are instances of one cluster sharing one storage volume
/// (`database.storage` is not used: the volume grows by itself), the replicas are Aurora
/// readers behind the cluster's reader endpoint, and `database.multi_az` asks for at least
/// one reader in another zone to fail over to (Aurora has no hidden standby).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Engine {
    /// RDS for PostgreSQL: instances with their own volumes, a synchronous Multi-AZ standby,
    /// read replicas fed by streaming replication.
    #[default]
    RdsPostgres,
    /// An Aurora PostgreSQL cluster: a writer and reader instances on a shared volume kept
    /// six times over in three zones.
    AuroraPostgres(AuroraSpec),
}

impl Engine {
    /// Which of the two it is.
    pub fn kind(&self) -> EngineKind {
        match self {
            Self::RdsPostgres => EngineKind::Rds,
            Self::AuroraPostgres(_) => EngineKind::Aurora,
        }
    }

    /// The Aurora settings, on Aurora.
    pub fn aurora(&self) -> Option<&AuroraSpec> {
        match self {
            Self::RdsPostgres => None,
            Self::AuroraPostgres(aurora) => Some(aurora),
        }
    }
}

/// An engine by name, for `ecom-infra --engine rds|aurora`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum EngineKind {
    /// RDS for PostgreSQL.
    Rds,
    /// Aurora PostgreSQL.
    Aurora,
}

impl EngineKind {
    /// Both, for tests and docs.
    pub const ALL: [EngineKind; 2] = [EngineKind::Rds, EngineKind::Aurora];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rds => "rds",
            Self::Aurora => "aurora",
        }
    }
}

/// What an Aurora cluster is billed by, beyond its instances. Fields absent in a spec file
/// take [`AuroraSpec::default`]'s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuroraSpec {
    /// Aurora Standard (storage and I/O requests billed) or I/O-Optimized (no I/O charge,
    /// dearer instances and storage).
    pub storage: AuroraStorage,
    /// For `cost` only: GiB the cluster volume is expected to hold (Aurora bills the
    /// volume's use, which it grows by itself).
    pub estimated_data_gib: u32,
    /// For `cost` only: million storage I/O requests a month (billed on Aurora Standard).
    pub estimated_io_millions_per_month: u32,
}

impl Default for AuroraSpec {
    fn default() -> Self {
        Self {
            storage: AuroraStorage::Standard,
            estimated_data_gib: 20,
            estimated_io_millions_per_month: 20,
        }
    }
}

/// Aurora's two storage configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuroraStorage {
    /// `aurora`: storage and each million I/O requests billed.
    Standard,
    /// `aurora-iopt1`: no I/O charge; instances and storage cost more.
    IoOptimized,
}

impl AuroraStorage {
    /// The cluster's `StorageType`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "aurora",
            Self::IoOptimized => "aurora-iopt1",
        }
    }
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

/// An IPv4 CIDR block such as `10.20.0.0/16`, with no host bits set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ipv4Cidr {
    addr: Ipv4Addr,
    prefix: u8,
}

impl Ipv4Cidr {
    /// The network address.
    pub fn addr(self) -> Ipv4Addr {
        self.addr
    }

    /// The prefix length (0 to 32).
    pub fn prefix(self) -> u8 {
        self.prefix
    }

    fn mask(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        }
    }

    /// Whether `other` lies entirely inside this block.
    pub fn contains(self, other: Ipv4Cidr) -> bool {
        other.prefix >= self.prefix
            && u32::from(other.addr) & Self::mask(self.prefix) == u32::from(self.addr)
    }

    /// Whether the two blocks share an address.
    pub fn overlaps(self, other: Ipv4Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// Whether the block lies in the private ranges of RFC 1918 (10/8, 172.16/12, 192.168/16).
    pub fn is_private(self) -> bool {
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
            .iter()
            .filter_map(|r| r.parse::<Ipv4Cidr>().ok())
            .any(|range| range.contains(self))
    }
}

impl FromStr for Ipv4Cidr {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SpecError::InvalidCidr(s.to_owned());
        let (addr, prefix) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if prefix > 32 || u32::from(addr) & !Self::mask(prefix) != 0 {
            return Err(bad());
        }
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl TryFrom<String> for Ipv4Cidr {
    type Error = SpecError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Ipv4Cidr> for String {
    fn from(value: Ipv4Cidr) -> Self {
        value.to_string()
    }
}

/// The VPC: private subnets only (no internet gateway, no public address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSpec {
    /// The VPC's block, private (RFC 1918).
    pub vpc_cidr: Ipv4Cidr,
    /// One private subnet per availability zone; at least two zones.
    pub subnets: Vec<SubnetSpec>,
    /// Blocks allowed to connect to the database port (private blocks only).
    pub allowed_cidrs: Vec<Ipv4Cidr>,
    /// Security groups (`sg-...`) allowed to connect, e.g. the service's.
    pub allowed_security_groups: Vec<String>,
}

/// A private subnet in one availability zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetSpec {
    /// e.g. `eu-west-1a`.
    pub availability_zone: String,
    /// Inside the VPC's block.
    pub cidr: Ipv4Cidr,
}

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

/// The presets, by name (`ecom-infra --preset NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// Cheap and deletable: one small Multi-AZ writer, one replica, no deletion protection.
    Test,
    /// Multi-AZ, two replicas, an RDS Proxy, deletion protection, a final snapshot, 14 days
    /// of backups.
    Production,
}

impl Preset {
    /// Every preset, for tests and docs.
    pub const ALL: [Preset; 2] = [Preset::Test, Preset::Production];

    /// The spec of this preset in `region`.
    pub fn spec(self, region: &str) -> DeploymentSpec {
        match self {
            Self::Test => DeploymentSpec::test(region),
            Self::Production => DeploymentSpec::production(region),
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Production => "production",
        }
    }

    /// The spec of this preset in `region` on `engine`: on Aurora, the preset moved to a
    /// cluster by [`DeploymentSpec::on_aurora`], with the preset's expected data and I/O.
    pub fn spec_on(self, region: &str, engine: EngineKind) -> DeploymentSpec {
        let spec = self.spec(region);
        match (engine, self) {
            (EngineKind::Rds, _) => spec,
            (EngineKind::Aurora, Self::Test) => spec.on_aurora(AuroraSpec::default()),
            (EngineKind::Aurora, Self::Production) => spec.on_aurora(AuroraSpec {
                storage: AuroraStorage::Standard,
                estimated_data_gib: 100,
                // About 190 requests a second, on average.
                estimated_io_millions_per_month: 500,
            }),
        }
    }
}

impl DeploymentSpec {
    /// Cheap and deletable: `db.t4g.micro`, 20 GiB, Multi-AZ (so failover is exercised),
    /// one replica, 1 day of backups, no deletion protection, no final snapshot.
    pub fn test(region: &str) -> Self {
        Self {
            environment: EnvironmentName("test".into()),
            region: region.to_owned(),
            owner: "platform@ecom-dms.example".into(),
            network: NetworkSpec {
                vpc_cidr: cidr("10.40.0.0/16"),
                subnets: vec![
                    SubnetSpec {
                        availability_zone: format!("{region}a"),
                        cidr: cidr("10.40.1.0/24"),
                    },
                    SubnetSpec {
                        availability_zone: format!("{region}b"),
                        cidr: cidr("10.40.2.0/24"),
                    },
                ],
                allowed_cidrs: vec![cidr("10.40.0.0/16")],
                allowed_security_groups: Vec::new(),
            },
            database: DatabaseSpec {
                engine_version: "17.6".into(),
                instance_class: "db.t4g.micro".into(),
                storage: StorageSpec {
                    allocated_gib: 20,
                    storage_type: StorageType::Gp3,
                    max_allocated_gib: Some(50),
                },
                multi_az: true,
                database_name: "ecom".into(),
                master_username: "ecom_admin".into(),
                port: 5432,
            },
            replicas: ReplicaSpec {
                count: 1,
                instance_class: None,
            },
            backups: BackupSpec {
                retention_days: 1,
                point_in_time_recovery: true,
                window: "03:00-03:30".into(),
                retain_after_deletion: false,
            },
            deletion_protection: false,
            final_snapshot: false,
            encryption: EncryptionKey::Create {
                pending_window_days: 7,
            },
            iam_auth: true,
            alarms: AlarmSpec {
                free_storage_gib: 2,
                max_connections: 60,
                transaction_logs_gib: 4,
                ..AlarmSpec::default()
            },
            monitoring: MonitoringSpec::default(),
            proxy: None,
            engine: Engine::RdsPostgres,
        }
    }

    /// Production: `db.r6g.large` Multi-AZ writer, two replicas, 100 GiB gp3 growing to
    /// 500, 14 days of backups kept after deletion, deletion protection and a final
    /// snapshot (so the key is retained), and an RDS Proxy in front of the writer: many
    /// service instances, each with its own pool, and failovers, meet the proxy's pooled
    /// connections rather than the writer's `max_connections`.
    pub fn production(region: &str) -> Self {
        let mut spec = Self::test(region);
        spec.environment = EnvironmentName("production".into());
        spec.network.vpc_cidr = cidr("10.50.0.0/16");
        spec.network.subnets = ["a", "b", "c"]
            .iter()
            .enumerate()
            .map(|(i, zone)| SubnetSpec {
                availability_zone: format!("{region}{zone}"),
                cidr: cidr(&format!("10.50.{}.0/24", i + 1)),
            })
            .collect();
        spec.network.allowed_cidrs = vec![cidr("10.50.0.0/16")];
        spec.database.instance_class = "db.r6g.large".into();
        spec.database.storage = StorageSpec {
            allocated_gib: 100,
            storage_type: StorageType::Gp3,
            max_allocated_gib: Some(500),
        };
        spec.replicas = ReplicaSpec {
            count: 2,
            instance_class: None,
        };
        spec.backups.retention_days = 14;
        spec.backups.retain_after_deletion = true;
        spec.deletion_protection = true;
        spec.final_snapshot = true;
        spec.encryption = EncryptionKey::Create {
            pending_window_days: 30,
        };
        spec.alarms = AlarmSpec {
            free_storage_gib: 20,
            freeable_memory_mib: 1024,
            max_connections: 900,
            transaction_logs_gib: 20,
            ..AlarmSpec::default()
        };
        spec.monitoring = MonitoringSpec {
            enhanced_monitoring_seconds: 15,
            log_retention_days: 30,
            slow_statement_ms: 250,
            pgaudit: true,
            ..MonitoringSpec::default()
        };
        spec.proxy = Some(ProxySpec::default());
        spec
    }

    /// The same deployment as an Aurora PostgreSQL cluster: every setting kept, the writer's
    /// class raised to `db.t4g.medium` when it is a burstable class smaller than Aurora
    /// takes (`micro`, `small`), and `aurora` for what only Aurora bills.
    pub fn on_aurora(mut self, aurora: AuroraSpec) -> Self {
        for class in std::iter::once(&mut self.database.instance_class)
            .chain(self.replicas.instance_class.as_mut())
        {
            if !is_aurora_class(class) {
                *class = "db.t4g.medium".into();
            }
        }
        self.engine = Engine::AuroraPostgres(aurora);
        self
    }

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

/// Whether Aurora PostgreSQL runs on this class: every class but the burstable ones
/// smaller than `medium` (`db.t4g.micro`, `db.t3.small`...), which only RDS offers.
pub fn is_aurora_class(instance_class: &str) -> bool {
    let mut parts = instance_class.split('.');
    let (family, size) = (parts.nth(1).unwrap_or_default(), parts.next());
    !(family.starts_with('t') && matches!(size, Some("micro" | "small")))
}

fn cidr(s: &str) -> Ipv4Cidr {
    s.parse().expect("preset CIDRs are valid")
}
