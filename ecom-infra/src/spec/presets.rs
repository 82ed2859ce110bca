//! The presets: a cheap test deployment and a protected production one.

use super::{
    AlarmSpec, AuroraSpec, AuroraStorage, BackupSpec, DatabaseSpec, DeploymentSpec, EncryptionKey,
    Engine, EngineKind, EnvironmentName, Ipv4Cidr, MonitoringSpec, NetworkSpec, ProxySpec,
    ReplicaSpec, StorageSpec, StorageType, SubnetSpec,
};

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
}

fn cidr(s: &str) -> Ipv4Cidr {
    s.parse().expect("preset CIDRs are valid")
}
