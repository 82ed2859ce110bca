//! Hourly and monthly price estimates of a spec, from the price table kept in the repository
//! (`ecom-infra/prices.toml`, which says the date and source of its prices): RDS or Aurora
//! instances and storage (and Aurora's I/O), the RDS Proxy, and the small monthly items.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::spec::{AuroraSpec, AuroraStorage, DeploymentSpec, EncryptionKey};

/// The price table compiled into the program.
pub const PRICES_TOML: &str = include_str!("../prices.toml");

/// A price table: instance hours, storage, I/O, the proxy, and small monthly items.
#[derive(Debug, Clone, Deserialize)]
pub struct PriceTable {
    /// When the prices were written down.
    pub as_of: String,
    /// Always `USD` here.
    pub currency: String,
    /// Hours in a billing month.
    #[serde(with = "rust_decimal::serde::str")]
    pub hours_per_month: Decimal,
    /// Aurora I/O-Optimized instances cost this many times Aurora Standard's.
    #[serde(with = "rust_decimal::serde::str")]
    pub io_optimized_instance_factor: Decimal,
    /// Key, secret, alarm.
    pub fixed_monthly: FixedMonthly,
    /// vCPUs of each instance class: RDS Proxy is billed per vCPU of what it fronts.
    pub vcpus: BTreeMap<String, u32>,
    /// Per region.
    pub regions: BTreeMap<String, RegionPrices>,
}

/// Monthly prices of the small items.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)]
pub struct FixedMonthly {
    #[serde(with = "rust_decimal::serde::str")]
    pub kms_key: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub secret: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub alarm: Decimal,
}

/// One region's prices.
#[derive(Debug, Clone, Deserialize)]
pub struct RegionPrices {
    /// RDS for PostgreSQL, Single-AZ on-demand price per hour, by instance class.
    pub instance_hourly: BTreeMap<String, String>,
    /// RDS for PostgreSQL, per GiB-month, by storage type.
    pub storage_gib_monthly: BTreeMap<String, String>,
    /// Aurora PostgreSQL (Standard), on-demand price per hour, by instance class.
    pub aurora_instance_hourly: BTreeMap<String, String>,
    /// Aurora's cluster volume and I/O.
    pub aurora: AuroraPrices,
    /// RDS Proxy, per vCPU-hour of the instances it fronts.
    #[serde(with = "rust_decimal::serde::str")]
    pub proxy_vcpu_hourly: Decimal,
}

/// What an Aurora cluster pays beyond its instances, in one region.
#[derive(Debug, Clone, Deserialize)]
#[allow(missing_docs)] // each is what its name says, per the unit in its name
pub struct AuroraPrices {
    #[serde(with = "rust_decimal::serde::str")]
    pub storage_gib_monthly: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub io_million_requests: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub io_optimized_storage_gib_monthly: Decimal,
}

/// Why a spec could not be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// The table could not be read.
    #[error("price table: {0}")]
    Table(String),
    /// No prices for that region.
    #[error("no prices for region {0} in prices.toml")]
    UnknownRegion(String),
    /// No price for that class or storage type in the region.
    #[error("no price for {item} in {region} in prices.toml")]
    UnknownItem {
        /// The instance class or storage type.
        item: String,
        /// The region.
        region: String,
    },
    /// No vCPU count for that class, which an RDS Proxy in front of it is billed by.
    #[error("no vCPU count for {0} in prices.toml (RDS Proxy is billed per vCPU)")]
    UnknownVcpus(String),
}

impl PriceTable {
    /// The table kept in the repository.
    pub fn bundled() -> Result<Self, CostError> {
        Self::parse(PRICES_TOML)
    }

    /// Parses a table in `prices.toml`'s format.
    pub fn parse(text: &str) -> Result<Self, CostError> {
        toml::from_str(text).map_err(|e| CostError::Table(e.to_string()))
    }

    fn price(
        &self,
        map: &BTreeMap<String, String>,
        item: &str,
        region: &str,
    ) -> Result<Decimal, CostError> {
        let unknown = || CostError::UnknownItem {
            item: item.to_owned(),
            region: region.to_owned(),
        };
        map.get(item)
            .ok_or_else(unknown)?
            .parse()
            .map_err(|_| unknown())
    }

    /// The estimate for `spec`. Every price it needs is looked up before a line is priced,
    /// so a missing one is an error rather than a partial estimate.
    pub fn estimate(&self, spec: &DeploymentSpec) -> Result<CostEstimate, CostError> {
        let region = self
            .regions
            .get(&spec.region)
            .ok_or_else(|| CostError::UnknownRegion(spec.region.clone()))?;
        let mut lines = match spec.engine.aurora() {
            None => {
                let rates = self.rates(spec, region)?;
                let mut lines = self.writer_lines(spec, &rates);
                lines.extend(self.replica_lines(spec, &rates));
                lines
            }
            Some(aurora) => self.aurora_lines(spec, aurora, region)?,
        };
        if spec.proxy.is_some() {
            lines.push(self.proxy_line(spec, region)?);
        }
        lines.extend(self.fixed_lines(spec));
        Ok(CostEstimate {
            as_of: self.as_of.clone(),
            currency: self.currency.clone(),
            lines,
        })
    }

    /// The Aurora cluster: its instances (dearer on I/O-Optimized), the volume the spec
    /// expects to fill, and on Aurora Standard the I/O requests it expects.
    fn aurora_lines(
        &self,
        spec: &DeploymentSpec,
        aurora: &AuroraSpec,
        region: &RegionPrices,
    ) -> Result<Vec<CostLine>, CostError> {
        let hourly = |class: &str| self.price(&region.aurora_instance_hourly, class, &spec.region);
        let (factor, configuration, gib_month) = match aurora.storage {
            AuroraStorage::Standard => (Decimal::ONE, "", region.aurora.storage_gib_monthly),
            AuroraStorage::IoOptimized => (
                self.io_optimized_instance_factor,
                ", I/O-Optimized",
                region.aurora.io_optimized_storage_gib_monthly,
            ),
        };
        let (writer, reader) = (
            hourly(&spec.database.instance_class)?,
            hourly(spec.replica_class())?,
        );
        let mut lines = vec![CostLine::hourly(
            format!(
                "Aurora writer {}{configuration}",
                spec.database.instance_class
            ),
            writer * factor,
            self.hours_per_month,
        )];
        if spec.replicas.count > 0 {
            lines.push(CostLine::hourly(
                format!(
                    "{} Aurora reader(s) {}{configuration}",
                    spec.replicas.count,
                    spec.replica_class()
                ),
                reader * factor * Decimal::from(spec.replicas.count),
                self.hours_per_month,
            ));
        }
        lines.push(CostLine::monthly(
            format!(
                "Aurora storage {} GiB (expected){configuration}",
                aurora.estimated_data_gib
            ),
            gib_month * Decimal::from(aurora.estimated_data_gib),
            self.hours_per_month,
        ));
        if aurora.storage == AuroraStorage::Standard {
            lines.push(CostLine::monthly(
                format!(
                    "Aurora I/O {} million requests (expected)",
                    aurora.estimated_io_millions_per_month
                ),
                region.aurora.io_million_requests
                    * Decimal::from(aurora.estimated_io_millions_per_month),
                self.hours_per_month,
            ));
        }
        Ok(lines)
    }

    /// RDS Proxy, per vCPU of what it fronts: the RDS writer (its Multi-AZ standby takes no
    /// connections), or every instance of the Aurora cluster (the proxy's target is the
    /// cluster).
    fn proxy_line(
        &self,
        spec: &DeploymentSpec,
        region: &RegionPrices,
    ) -> Result<CostLine, CostError> {
        let vcpus = |class: &str| {
            self.vcpus
                .get(class)
                .copied()
                .ok_or_else(|| CostError::UnknownVcpus(class.to_owned()))
        };
        let (total, fronted) = if spec.is_aurora() {
            let readers = vcpus(spec.replica_class())? * u32::from(spec.replicas.count);
            (
                vcpus(&spec.database.instance_class)? + readers,
                "the cluster's instances",
            )
        } else {
            (vcpus(&spec.database.instance_class)?, "the writer")
        };
        Ok(CostLine::hourly(
            format!("RDS Proxy, {total} vCPU of {fronted}"),
            region.proxy_vcpu_hourly * Decimal::from(total),
            self.hours_per_month,
        ))
    }

    /// The unit prices of an RDS deployment.
    fn rates(&self, spec: &DeploymentSpec, region: &RegionPrices) -> Result<Rates, CostError> {
        let db = &spec.database;
        Ok(Rates {
            writer_hourly: self.price(&region.instance_hourly, &db.instance_class, &spec.region)?,
            replica_hourly: self.price(
                &region.instance_hourly,
                spec.replica_class(),
                &spec.region,
            )?,
            gib_month: self.price(
                &region.storage_gib_monthly,
                db.storage.storage_type.as_str(),
                &spec.region,
            )?,
        })
    }

    /// The writer's instance hours and storage, twice over with a Multi-AZ standby.
    fn writer_lines(&self, spec: &DeploymentSpec, rates: &Rates) -> Vec<CostLine> {
        let db = &spec.database;
        let copies = Decimal::from(if db.multi_az { 2 } else { 1 });
        let allocated = Decimal::from(db.storage.allocated_gib);
        vec![
            CostLine::hourly(
                format!(
                    "writer {}{}",
                    db.instance_class,
                    if db.multi_az { " Multi-AZ (x2)" } else { "" }
                ),
                rates.writer_hourly * copies,
                self.hours_per_month,
            ),
            CostLine::monthly(
                format!(
                    "writer storage {} GiB {}{}",
                    db.storage.allocated_gib,
                    db.storage.storage_type.as_str(),
                    if db.multi_az { " (x2)" } else { "" }
                ),
                rates.gib_month * allocated * copies,
                self.hours_per_month,
            ),
        ]
    }

    /// The replicas' instance hours and storage (each replica has the writer's size).
    fn replica_lines(&self, spec: &DeploymentSpec, rates: &Rates) -> Vec<CostLine> {
        if spec.replicas.count == 0 {
            return Vec::new();
        }
        let replicas = Decimal::from(spec.replicas.count);
        let allocated = Decimal::from(spec.database.storage.allocated_gib);
        vec![
            CostLine::hourly(
                format!(
                    "{} read replica(s) {}",
                    spec.replicas.count,
                    spec.replica_class()
                ),
                rates.replica_hourly * replicas,
                self.hours_per_month,
            ),
            CostLine::monthly(
                format!(
                    "replica storage {} x {} GiB",
                    spec.replicas.count, spec.database.storage.allocated_gib
                ),
                rates.gib_month * allocated * replicas,
                self.hours_per_month,
            ),
        ]
    }

    /// The small monthly items: the stack's own key, the master secret, the alarms.
    fn fixed_lines(&self, spec: &DeploymentSpec) -> Vec<CostLine> {
        let mut lines = Vec::new();
        if matches!(spec.encryption, EncryptionKey::Create { .. }) {
            lines.push(CostLine::monthly(
                "KMS key".into(),
                self.fixed_monthly.kms_key,
                self.hours_per_month,
            ));
        }
        lines.push(CostLine::monthly(
            "master password secret".into(),
            self.fixed_monthly.secret,
            self.hours_per_month,
        ));
        let alarm_count = crate::template::alarms(spec).len();
        lines.push(CostLine::monthly(
            format!("{alarm_count} CloudWatch alarms"),
            self.fixed_monthly.alarm * Decimal::from(alarm_count),
            self.hours_per_month,
        ));
        lines
    }
}

/// The unit prices of what one spec uses, in its region.
struct Rates {
    writer_hourly: Decimal,
    replica_hourly: Decimal,
    gib_month: Decimal,
}

/// One priced item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostLine {
    /// What it is.
    pub item: String,
    /// Price per hour.
    pub hourly: Decimal,
    /// Price per month.
    pub monthly: Decimal,
}

impl CostLine {
    fn hourly(item: String, hourly: Decimal, hours: Decimal) -> Self {
        Self {
            item,
            hourly,
            monthly: hourly * hours,
        }
    }

    fn monthly(item: String, monthly: Decimal, hours: Decimal) -> Self {
        Self {
            item,
            hourly: monthly / hours,
            monthly,
        }
    }
}

/// An itemised estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostEstimate {
    /// The prices' date.
    pub as_of: String,
    /// `USD`.
    pub currency: String,
    /// Items.
    pub lines: Vec<CostLine>,
}

impl CostEstimate {
    /// Sum per hour.
    pub fn hourly(&self) -> Decimal {
        self.lines.iter().map(|l| l.hourly).sum()
    }

    /// Sum per month.
    pub fn monthly(&self) -> Decimal {
        self.lines.iter().map(|l| l.monthly).sum()
    }
}

impl fmt::Display for CostEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| item | per hour ({0}) | per month ({0}) |",
            self.currency
        )?;
        writeln!(f, "|---|---:|---:|")?;
        for line in &self.lines {
            writeln!(
                f,
                "| {} | {} | {} |",
                line.item,
                line.hourly.round_dp(4),
                line.monthly.round_dp(2)
            )?;
        }
        writeln!(
            f,
            "| **total** | **{}** | **{}** |",
            self.hourly().round_dp(4),
            self.monthly().round_dp(2)
        )?;
        write!(
            f,
            "\nprices as of {} (ecom-infra/prices.toml), on-demand, before tax and data transfer",
            self.as_of
        )
    }
}
