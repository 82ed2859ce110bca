//! What is running: instances with their endpoints, alarm states, stack outputs, and the
//! connection URLs that follow from them.

use std::collections::BTreeMap;
use std::fmt;

use super::Aws;
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
    /// A read replica.
    Replica,
}

/// What `status` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// Stack name.
    pub stack: String,
    /// Stack status.
    pub stack_status: String,
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
        let mut instances = Vec::new();
        for (logical, resource) in &resources {
            let physical = &resource.physical_id;
            if !resource.is_db_instance() || physical.is_empty() {
                continue;
            }
            let role = if logical == "Primary" {
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
        let alarms = self
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
            .collect();
        Ok(Status {
            stack: stack.clone(),
            stack_status,
            instances,
            alarms,
            outputs: self.outputs(&stack).await?,
        })
    }

    /// `postgres://` URLs without password for the writer and each replica, with TLS
    /// verified against `ca`.
    pub async fn database_urls(
        &self,
        spec: &DeploymentSpec,
        ca: &CaBundle,
    ) -> Result<Vec<(InstanceRole, String)>, InfraError> {
        let status = self.status(spec).await?;
        Ok(status
            .instances
            .iter()
            .filter_map(|i| {
                let (host, port) = i.endpoint.as_ref()?;
                Some((
                    i.role,
                    format!(
                        "postgres://{}@{host}:{port}/{}?{}",
                        spec.database.master_username,
                        spec.database.database_name,
                        ca.url_params()
                    ),
                ))
            })
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
