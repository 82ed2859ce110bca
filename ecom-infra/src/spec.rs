//! The typed deployment: what to build, checked before anything is rendered or sent.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

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
    /// Disk.
    pub storage: StorageSpec,
    /// A synchronous standby in a second zone with automatic failover.
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

/// Read replicas of the writer.
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

/// Alarm thresholds and the topic's subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
        }
    }
}

/// The presets, by name (`ecom-infra --preset NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// Cheap and deletable: one small Multi-AZ writer, one replica, no deletion protection.
    Test,
    /// Multi-AZ, two replicas, deletion protection, a final snapshot, 14 days of backups.
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
                ..AlarmSpec::default()
            },
        }
    }

    /// Production: `db.r6g.large` Multi-AZ writer, two replicas, 100 GiB gp3 growing to
    /// 500, 14 days of backups, deletion protection and a final snapshot.
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
        spec.deletion_protection = true;
        spec.final_snapshot = true;
        spec.encryption = EncryptionKey::Create {
            pending_window_days: 30,
        };
        spec.alarms = AlarmSpec {
            free_storage_gib: 20,
            freeable_memory_mib: 1024,
            max_connections: 900,
            ..AlarmSpec::default()
        };
        spec
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

    /// The replicas' class.
    pub fn replica_class(&self) -> &str {
        self.replicas
            .instance_class
            .as_deref()
            .unwrap_or(&self.database.instance_class)
    }

    /// Checks every rule; the first broken one is returned.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.validate_network()?;
        self.validate_database()?;
        self.validate_backups()?;
        if let EncryptionKey::Create {
            pending_window_days,
        } = self.encryption
            && !(7..=30).contains(&pending_window_days)
        {
            return Err(SpecError::KeyPendingWindow(pending_window_days));
        }
        if let EncryptionKey::Existing { arn } = &self.encryption {
            let prefix = format!("arn:aws:kms:{}:", self.region);
            if !arn.starts_with(&prefix) || !arn.contains(":key/") {
                return Err(SpecError::KeyNotInRegion {
                    arn: arn.clone(),
                    region: self.region.clone(),
                });
            }
        }
        if let Some(email) = &self.alarms.email {
            let valid = email.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
            });
            if !valid {
                return Err(SpecError::InvalidEmail(email.clone()));
            }
        }
        if self.owner.trim().is_empty() {
            return Err(SpecError::MissingOwner);
        }
        Ok(())
    }

    fn validate_network(&self) -> Result<(), SpecError> {
        let net = &self.network;
        if !self.region.split('-').count().eq(&3)
            || !self.region.ends_with(|c: char| c.is_ascii_digit())
        {
            return Err(SpecError::InvalidRegion(self.region.clone()));
        }
        if !net.vpc_cidr.is_private() {
            return Err(SpecError::PublicCidr(net.vpc_cidr));
        }
        if !(16..=28).contains(&net.vpc_cidr.prefix()) {
            return Err(SpecError::VpcSize(net.vpc_cidr));
        }
        let mut zones: Vec<&str> = Vec::new();
        for (i, subnet) in net.subnets.iter().enumerate() {
            if !subnet.availability_zone.starts_with(&self.region)
                || subnet.availability_zone.len() != self.region.len() + 1
            {
                return Err(SpecError::ZoneNotInRegion {
                    zone: subnet.availability_zone.clone(),
                    region: self.region.clone(),
                });
            }
            if zones.contains(&subnet.availability_zone.as_str()) {
                return Err(SpecError::DuplicateZone(subnet.availability_zone.clone()));
            }
            zones.push(&subnet.availability_zone);
            if !net.vpc_cidr.contains(subnet.cidr) {
                return Err(SpecError::SubnetOutsideVpc {
                    subnet: subnet.cidr,
                    vpc: net.vpc_cidr,
                });
            }
            if let Some(other) = net.subnets[..i]
                .iter()
                .find(|o| o.cidr.overlaps(subnet.cidr))
            {
                return Err(SpecError::OverlappingSubnets(other.cidr, subnet.cidr));
            }
        }
        if zones.len() < 2 {
            return Err(if self.database.multi_az {
                SpecError::MultiAzNeedsTwoZones { zones: zones.len() }
            } else {
                SpecError::SubnetGroupNeedsTwoZones { zones: zones.len() }
            });
        }
        if let Some(public) = net.allowed_cidrs.iter().find(|c| !c.is_private()) {
            return Err(SpecError::PublicCidr(*public));
        }
        if let Some(bad) = net.allowed_security_groups.iter().find(|g| {
            !g.starts_with("sg-") || g.len() < 4 || !g[3..].chars().all(|c| c.is_ascii_hexdigit())
        }) {
            return Err(SpecError::InvalidSecurityGroup(bad.clone()));
        }
        Ok(())
    }

    fn validate_database(&self) -> Result<(), SpecError> {
        let db = &self.database;
        match db.major_version() {
            Some(13..=17) if db.engine_version.split('.').count() == 2 => {}
            _ => {
                return Err(SpecError::UnsupportedEngineVersion(
                    db.engine_version.clone(),
                ));
            }
        }
        for class in [db.instance_class.as_str(), self.replica_class()] {
            if !class.starts_with("db.") || class.split('.').count() != 3 {
                return Err(SpecError::InvalidInstanceClass(class.to_owned()));
            }
        }
        let storage = &db.storage;
        let kind = storage.storage_type;
        if storage.allocated_gib < kind.min_gib() {
            return Err(SpecError::StorageTooSmall {
                given: storage.allocated_gib,
                min: kind.min_gib(),
            });
        }
        if storage.allocated_gib > kind.max_gib() {
            return Err(SpecError::StorageTooLarge {
                given: storage.allocated_gib,
                max: kind.max_gib(),
            });
        }
        if let Some(limit) = storage.max_allocated_gib {
            // RDS wants the autoscaling limit at least 10% above the allocated size.
            if u64::from(limit) * 10 < u64::from(storage.allocated_gib) * 11
                || limit > kind.max_gib()
            {
                return Err(SpecError::AutoscalingLimit {
                    allocated: storage.allocated_gib,
                    limit,
                });
            }
        }
        if self.replicas.count > 15 {
            return Err(SpecError::TooManyReplicas(self.replicas.count));
        }
        let name_ok = |s: &str, max: usize| {
            (1..=max).contains(&s.len())
                && s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if !name_ok(&db.database_name, 63) {
            return Err(SpecError::InvalidIdentifier(db.database_name.clone()));
        }
        if !name_ok(&db.master_username, 63)
            || ["postgres", "rdsadmin", "admin"].contains(&db.master_username.as_str())
        {
            return Err(SpecError::InvalidIdentifier(db.master_username.clone()));
        }
        if db.port < 1150 {
            return Err(SpecError::InvalidPort(db.port));
        }
        Ok(())
    }

    fn validate_backups(&self) -> Result<(), SpecError> {
        let backups = &self.backups;
        if backups.retention_days > 35 {
            return Err(SpecError::RetentionTooLong(backups.retention_days));
        }
        if backups.retention_days == 0 && self.replicas.count > 0 {
            return Err(SpecError::ReplicasNeedBackups {
                replicas: self.replicas.count,
            });
        }
        if backups.retention_days == 0 && backups.point_in_time_recovery {
            return Err(SpecError::PointInTimeRecoveryNeedsBackups);
        }
        if backups.retention_days > 0 && !backups.point_in_time_recovery {
            // RDS always offers point-in-time recovery while backups are kept.
            return Err(SpecError::PointInTimeRecoveryCannotBeOff);
        }
        if self.final_snapshot && backups.retention_days == 0 {
            return Err(SpecError::FinalSnapshotNeedsBackups);
        }
        let window_ok = backups.window.len() == 11
            && backups.window.split('-').all(|t| {
                t.split_once(':').is_some_and(|(h, m)| {
                    h.len() == 2
                        && m.len() == 2
                        && h.parse::<u8>().is_ok_and(|h| h < 24)
                        && m.parse::<u8>().is_ok_and(|m| m < 60)
                })
            });
        if !window_ok {
            return Err(SpecError::InvalidBackupWindow(backups.window.clone()));
        }
        Ok(())
    }
}

fn cidr(s: &str) -> Ipv4Cidr {
    s.parse().expect("preset CIDRs are valid")
}

/// Why a spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)] // each message says it
pub enum SpecError {
    #[error("{0:?} is not an environment name (1 to 20 of a-z, 0-9, -, starting with a letter)")]
    InvalidEnvironmentName(String),
    #[error("{0:?} is not an IPv4 CIDR block like 10.0.0.0/16 (no host bits set)")]
    InvalidCidr(String),
    #[error("region {0:?} is not an AWS region name like eu-west-1")]
    InvalidRegion(String),
    #[error(
        "{0} is not a private (RFC 1918) block: the database is never reachable from the internet"
    )]
    PublicCidr(Ipv4Cidr),
    #[error("the VPC block {0} must have a prefix between /16 and /28")]
    VpcSize(Ipv4Cidr),
    #[error("availability zone {zone} is not in region {region}")]
    ZoneNotInRegion { zone: String, region: String },
    #[error("availability zone {0} is listed twice")]
    DuplicateZone(String),
    #[error("subnet {subnet} is outside the VPC block {vpc}")]
    SubnetOutsideVpc { subnet: Ipv4Cidr, vpc: Ipv4Cidr },
    #[error("subnets {0} and {1} overlap")]
    OverlappingSubnets(Ipv4Cidr, Ipv4Cidr),
    #[error("Multi-AZ needs subnets in at least two availability zones, {zones} given")]
    MultiAzNeedsTwoZones { zones: usize },
    #[error("an RDS subnet group needs subnets in at least two availability zones, {zones} given")]
    SubnetGroupNeedsTwoZones { zones: usize },
    #[error("{0:?} is not a security group id (sg-...)")]
    InvalidSecurityGroup(String),
    #[error("PostgreSQL {0:?} is not supported here (MAJOR.MINOR, 13 to 17)")]
    UnsupportedEngineVersion(String),
    #[error("{0:?} is not an RDS instance class (db.FAMILY.SIZE)")]
    InvalidInstanceClass(String),
    #[error("{given} GiB is below the {min} GiB RDS for PostgreSQL allows")]
    StorageTooSmall { given: u32, min: u32 },
    #[error("{given} GiB is above the {max} GiB RDS for PostgreSQL allows")]
    StorageTooLarge { given: u32, max: u32 },
    #[error(
        "the storage autoscaling limit {limit} GiB must be at least 10% above the allocated {allocated} GiB and within the volume maximum"
    )]
    AutoscalingLimit { allocated: u32, limit: u32 },
    #[error("{0} read replicas: RDS for PostgreSQL allows at most 15")]
    TooManyReplicas(u8),
    #[error(
        "{0:?} is not a valid PostgreSQL name here (a letter, then letters, digits, _; not a reserved name)"
    )]
    InvalidIdentifier(String),
    #[error("port {0} is below 1150, which RDS reserves")]
    InvalidPort(u16),
    #[error("{0} days of backups: RDS keeps at most 35")]
    RetentionTooLong(u8),
    #[error(
        "{replicas} read replica(s) need automated backups on the writer (retention of at least 1 day)"
    )]
    ReplicasNeedBackups { replicas: u8 },
    #[error("point-in-time recovery needs automated backups (retention of at least 1 day)")]
    PointInTimeRecoveryNeedsBackups,
    #[error("point-in-time recovery cannot be off while backups are kept: RDS always provides it")]
    PointInTimeRecoveryCannotBeOff,
    #[error("a final snapshot on deletion needs backups on")]
    FinalSnapshotNeedsBackups,
    #[error("backup window {0:?} is not hh:mm-hh:mm (UTC)")]
    InvalidBackupWindow(String),
    #[error("the KMS key's pending deletion window must be 7 to 30 days, {0} given")]
    KeyPendingWindow(u8),
    #[error("KMS key {arn} is not a key ARN in region {region}")]
    KeyNotInRegion { arn: String, region: String },
    #[error("{0:?} is not an e-mail address")]
    InvalidEmail(String),
    #[error("the owner (Owner tag) must not be empty")]
    MissingOwner,
}
