//! What is running: the Aurora cluster and the instances with their endpoints, alarm
//! states, stack outputs, and the connection URLs that follow from them.

use std::collections::BTreeMap;
use std::fmt;

use super::Aws;
use super::stack::StackResources;
use crate::InfraError;
use crate::iam_token::{self, TokenTarget};
use crate::spec::DeploymentSpec;
use crate::tls::CaBundle;

/// One DB instance as RDS reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceStatus {
    /// Identifier.
    pub identifier: String,
    /// `available`, `creating`...
    pub status: String,
    /// Endpoint address and port, once there is one.
    pub endpoint: Option<(String, u16)>,
    /// Writer or replica.
    pub role: InstanceRole,
}

/// Writer or reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceRole {
    /// Takes writes.
    Writer,
    /// A read replica (an Aurora reader).
    Replica,
}

/// An Aurora cluster as RDS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterStatus {
    /// Identifier.
    pub identifier: String,
    /// `available`, `creating`...
    pub status: String,
    /// The writer endpoint, which follows the writer through a failover.
    pub writer_endpoint: Option<(String, u16)>,
    /// The reader endpoint, which spreads connections over the readers.
    pub reader_endpoint: Option<(String, u16)>,
}

/// Where clients connect, as ecom-store's `DATABASE_URL` and `DATABASE_READ_URLS` take it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// Writes: the RDS Proxy when the stack has one, else the RDS writer or the Aurora
    /// cluster's writer endpoint.
    pub writer: Option<(String, u16)>,
    /// Reads: each RDS replica, or the Aurora cluster's reader endpoint when it has
    /// readers (without readers it would lead to the writer).
    pub readers: Vec<(String, u16)>,
}

impl Endpoints {
    /// The endpoints of a deployment of `spec` in the state `status` reports.
    pub fn of(spec: &DeploymentSpec, status: &Status) -> Self {
        let proxy = status
            .outputs
            .get("ProxyEndpoint")
            .map(|host| (host.clone(), spec.database.port));
        let endpoint_of = |role| {
            status
                .instances
                .iter()
                .filter(move |i| i.role == role)
                .filter_map(|i| i.endpoint.clone())
        };
        match &status.cluster {
            Some(cluster) => Self {
                writer: proxy.or_else(|| cluster.writer_endpoint.clone()),
                readers: if endpoint_of(InstanceRole::Replica).next().is_some() {
                    cluster.reader_endpoint.iter().cloned().collect()
                } else {
                    Vec::new()
                },
            },
            None => Self {
                writer: proxy.or_else(|| endpoint_of(InstanceRole::Writer).next()),
                readers: endpoint_of(InstanceRole::Replica).collect(),
            },
        }
    }
}

/// What `status` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// Stack name.
    pub stack: String,
    /// Stack status.
    pub stack_status: String,
    /// The Aurora cluster, on Aurora.
    pub cluster: Option<ClusterStatus>,
    /// Writer first, then replicas.
    pub instances: Vec<InstanceStatus>,
    /// `(alarm name, state)`.
    pub alarms: Vec<(String, String)>,
    /// Stack outputs.
    pub outputs: BTreeMap<String, String>,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "stack {}: {}", self.stack, self.stack_status)?;
        let address = |e: &Option<(String, u16)>| {
            e.as_ref()
                .map(|(h, p)| format!("{h}:{p}"))
                .unwrap_or_else(|| "(no endpoint yet)".into())
        };
        if let Some(c) = &self.cluster {
            writeln!(
                f,
                "  cluster {:<32} {:<12} writer {} reader {}",
                c.identifier,
                c.status,
                address(&c.writer_endpoint),
                address(&c.reader_endpoint)
            )?;
        }
        for i in &self.instances {
            let endpoint = i
                .endpoint
                .as_ref()
                .map(|(h, p)| format!("{h}:{p}"))
                .unwrap_or_else(|| "(no endpoint yet)".into());
            let role = match i.role {
                InstanceRole::Writer => "writer ",
                InstanceRole::Replica => "replica",
            };
            writeln!(
                f,
                "  {role} {:<32} {:<12} {endpoint}",
                i.identifier, i.status
            )?;
        }
        for (name, state) in &self.alarms {
            writeln!(f, "  alarm   {name:<44} {state}")?;
        }
        Ok(())
    }
}

impl Aws {
    /// Endpoints, states and alarm states of a deployed spec.
    pub async fn status(&self, spec: &DeploymentSpec) -> Result<Status, InfraError> {
        let stack = spec.stack_name();
        let (_, stack_status) = self
            .stack_status(&stack)
            .await?
            .ok_or_else(|| InfraError::StackNotFound(stack.clone()))?;
        let resources = self.stack_resources(&stack).await?;
        let (cluster, cluster_writers) = self.cluster_status(&resources).await?;
        let instances = self
            .instance_statuses(&resources, cluster.is_some(), &cluster_writers)
            .await?;
        let alarms = self.alarm_states(&stack).await?;
        Ok(Status {
            stack: stack.clone(),
            stack_status,
            cluster,
            instances,
            alarms,
            outputs: self.outputs(&stack).await?,
        })
    }

    /// The stack's Aurora cluster, if it has one, and the identifiers of the instances
    /// it names its writers: on Aurora the cluster says which instance writes (after a
    /// failover, a former reader).
    async fn cluster_status(
        &self,
        resources: &StackResources,
    ) -> Result<(Option<ClusterStatus>, Vec<String>), InfraError> {
        let (mut cluster, mut cluster_writers) = (None, Vec::new());
        for resource in resources.values() {
            let physical = &resource.physical_id;
            if !resource.is_db_cluster() || physical.is_empty() {
                continue;
            }
            if let Some(c) = self.db_cluster(physical).await? {
                let port = c.port().and_then(|p| u16::try_from(p).ok());
                let endpoint = |host: Option<&str>| Some((host?.to_owned(), port?));
                cluster_writers.extend(
                    c.db_cluster_members()
                        .iter()
                        .filter(|m| m.is_cluster_writer() == Some(true))
                        .filter_map(|m| m.db_instance_identifier().map(str::to_owned)),
                );
                cluster = Some(ClusterStatus {
                    identifier: physical.clone(),
                    status: c.status().unwrap_or_default().to_owned(),
                    writer_endpoint: endpoint(c.endpoint()),
                    reader_endpoint: endpoint(c.reader_endpoint()),
                });
            }
        }
        Ok((cluster, cluster_writers))
    }

    /// The stack's DB instances, the writers first: in a cluster the ones in
    /// `cluster_writers`, else `Primary`.
    async fn instance_statuses(
        &self,
        resources: &StackResources,
        in_cluster: bool,
        cluster_writers: &[String],
    ) -> Result<Vec<InstanceStatus>, InfraError> {
        let mut instances = Vec::new();
        for (logical, resource) in resources {
            let physical = &resource.physical_id;
            if !resource.is_db_instance() || physical.is_empty() {
                continue;
            }
            let writes = if in_cluster {
                cluster_writers.contains(physical)
            } else {
                logical == "Primary"
            };
            let role = if writes {
                InstanceRole::Writer
            } else {
                InstanceRole::Replica
            };
            if let Some(db) = self.db_instance(physical).await? {
                instances.push(InstanceStatus {
                    identifier: physical.clone(),
                    status: db.db_instance_status().unwrap_or_default().to_owned(),
                    endpoint: db.endpoint().and_then(|e| {
                        Some((e.address()?.to_owned(), u16::try_from(e.port()?).ok()?))
                    }),
                    role,
                });
            }
        }
        instances.sort_by_key(|i| (i.role == InstanceRole::Replica, i.identifier.clone()));
        Ok(instances)
    }

    /// `(alarm name, state)` of each of the stack's alarms.
    async fn alarm_states(&self, stack: &str) -> Result<Vec<(String, String)>, InfraError> {
        Ok(self
            .alarms(&format!("{stack}-"))
            .await?
            .into_iter()
            .map(|a| {
                (
                    a.alarm_name().unwrap_or_default().to_owned(),
                    a.state_value()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                )
            })
            .collect())
    }

    /// Where clients connect: see [`Endpoints`].
    pub async fn endpoints(&self, spec: &DeploymentSpec) -> Result<Endpoints, InfraError> {
        Ok(Endpoints::of(spec, &self.status(spec).await?))
    }

    /// `postgres://` URLs without password for the writes ([`Endpoints::writer`]) and each
    /// reader endpoint, with TLS verified against `ca`: the writer first.
    pub async fn database_urls(
        &self,
        spec: &DeploymentSpec,
        ca: &CaBundle,
    ) -> Result<Vec<(InstanceRole, String)>, InfraError> {
        let endpoints = self.endpoints(spec).await?;
        let url = |(host, port): &(String, u16)| {
            format!(
                "postgres://{}@{host}:{port}/{}?{}",
                spec.database.master_username,
                spec.database.database_name,
                ca.url_params()
            )
        };
        Ok(endpoints
            .writer
            .iter()
            .map(|e| (InstanceRole::Writer, url(e)))
            .chain(
                endpoints
                    .readers
                    .iter()
                    .map(|e| (InstanceRole::Replica, url(e))),
            )
            .collect())
    }

    /// A `postgres://` URL with a fresh IAM token as the password, for one new connection.
    pub async fn iam_database_url(
        &self,
        target: &TokenTarget,
        database: &str,
        ca: &CaBundle,
    ) -> Result<String, InfraError> {
        let token = iam_token::generate_auth_token(
            target,
            self.credentials_provider()?,
            std::time::SystemTime::now(),
        )
        .await
        .map_err(|e| InfraError::Credentials(e.to_string()))?;
        Ok(iam_token::database_url(target, database, &token, ca))
    }
}
