//! The rules a spec must keep, checked before anything is rendered or sent, and
//! [`SpecError`], which names the rule a spec breaks.

use super::{DeploymentSpec, EncryptionKey, Ipv4Cidr};

impl DeploymentSpec {
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
        if self.environment.is_production_like()
            && !(self.database.multi_az && self.deletion_protection && self.final_snapshot)
        {
            return Err(SpecError::ProductionUnprotected(
                self.environment.to_string(),
            ));
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
        self.validate_aurora()?;
        self.validate_monitoring()
    }

    /// What only an Aurora cluster asks: classes Aurora runs on, a reader to fail over to
    /// for Multi-AZ, and backups (Aurora cannot turn them off).
    fn validate_aurora(&self) -> Result<(), SpecError> {
        if !self.is_aurora() {
            return Ok(());
        }
        for class in [self.database.instance_class.as_str(), self.replica_class()] {
            if !super::is_aurora_class(class) {
                return Err(SpecError::NotAnAuroraClass(class.to_owned()));
            }
        }
        if self.database.multi_az && self.replicas.count == 0 {
            return Err(SpecError::AuroraMultiAzNeedsAReader);
        }
        if self.backups.retention_days == 0 {
            return Err(SpecError::AuroraNeedsBackups);
        }
        Ok(())
    }

    fn validate_monitoring(&self) -> Result<(), SpecError> {
        use super::MonitoringSpec;
        let m = &self.monitoring;
        let days = m.performance_insights_days;
        if !(days == 7 || (days.is_multiple_of(31) && (31..=731).contains(&days))) {
            return Err(SpecError::PerformanceInsightsRetention(days));
        }
        if !MonitoringSpec::MONITORING_INTERVALS.contains(&m.enhanced_monitoring_seconds) {
            return Err(SpecError::MonitoringInterval(m.enhanced_monitoring_seconds));
        }
        if !MonitoringSpec::LOG_RETENTION_DAYS.contains(&m.log_retention_days) {
            return Err(SpecError::LogRetention(m.log_retention_days));
        }
        if let Some(proxy) = &self.proxy {
            if !self.iam_auth {
                return Err(SpecError::ProxyNeedsIamAuth);
            }
            if !(1..=28_800).contains(&proxy.idle_client_timeout_seconds)
                || !(1..=100).contains(&proxy.max_connections_percent)
            {
                return Err(SpecError::ProxyLimits {
                    idle_seconds: proxy.idle_client_timeout_seconds,
                    percent: proxy.max_connections_percent,
                });
            }
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
        if backups.retain_after_deletion && backups.retention_days == 0 {
            return Err(SpecError::RetainedBackupsNeedBackups);
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
    #[error("keeping automated backups after deletion needs backups on")]
    RetainedBackupsNeedBackups,
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
    #[error(
        "environment {0:?} is production-like: it needs Multi-AZ, deletion protection and a final snapshot"
    )]
    ProductionUnprotected(String),
    #[error("Performance Insights keeps 7 days, or a multiple of 31 up to 731; {0} given")]
    PerformanceInsightsRetention(u16),
    #[error("Enhanced Monitoring takes an interval of 1, 5, 10, 15, 30 or 60 seconds; {0} given")]
    MonitoringInterval(u8),
    #[error("CloudWatch Logs does not offer a retention of {0} days")]
    LogRetention(u16),
    #[error(
        "{0:?} is not an Aurora PostgreSQL class: the smallest it runs on are db.t3.medium and db.t4g.medium"
    )]
    NotAnAuroraClass(String),
    #[error(
        "Multi-AZ on Aurora is a reader in another zone to fail over to: it needs at least one replica"
    )]
    AuroraMultiAzNeedsAReader,
    #[error("Aurora always keeps automated backups: a retention of 1 to 35 days")]
    AuroraNeedsBackups,
    #[error("RDS Proxy here authenticates with IAM end to end: it needs iam_auth")]
    ProxyNeedsIamAuth,
    #[error(
        "RDS Proxy takes an idle timeout of 1 to 28,800 s and 1 to 100% of the connections; {idle_seconds} s and {percent}% given"
    )]
    ProxyLimits { idle_seconds: u32, percent: u8 },
}
