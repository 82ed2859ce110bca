//! Which PostgreSQL service runs the database: RDS for PostgreSQL or an Aurora cluster.

use serde::{Deserialize, Serialize};

use super::DeploymentSpec;

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

impl DeploymentSpec {
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
}

/// Whether Aurora PostgreSQL runs on this class: every class but the burstable ones
/// smaller than `medium` (`db.t4g.micro`, `db.t3.small`...), which only RDS offers.
pub fn is_aurora_class(instance_class: &str) -> bool {
    let mut parts = instance_class.split('.');
    let (family, size) = (parts.nth(1).unwrap_or_default(), parts.next());
    !(family.starts_with('t') && matches!(size, Some("micro" | "small")))
}
