//! The AWS side: deploy through change sets, wait with progress, read state back, destroy
//! and prove that nothing is left.
//!
//! Only the clients needed are used: CloudFormation does the provisioning; RDS,
//! CloudWatch, SNS and KMS are read directly to check what CloudFormation reports. Network
//! resources (VPC, subnets, security group) are read back through CloudFormation's stack
//! resources, so the very large EC2 client is not needed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudformation::types::{ChangeSetStatus, ChangeSetType, Tag};
use aws_smithy_http_client::tls;

use crate::InfraError;
use crate::iam_token::{self, Credentials, TokenTarget};
use crate::spec::DeploymentSpec;
use crate::template::{self, MANAGED_BY, PROJECT};

/// Where to connect and how patiently to wait.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Region; `None` takes it from the standard chain (`AWS_REGION`, profile).
    pub region: Option<String>,
    /// Send every call here instead of AWS (an emulator such as moto).
    pub endpoint_url: Option<String>,
    /// Fixed credentials instead of the standard chain (tests).
    pub credentials: Option<Credentials>,
    /// Pause between polls while waiting.
    pub poll: Duration,
    /// Give up waiting after this long.
    pub timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            region: None,
            endpoint_url: None,
            credentials: None,
            poll: Duration::from_secs(10),
            timeout: Duration::from_secs(3 * 3600),
        }
    }
}

/// The clients, configured once.
#[derive(Debug, Clone)]
pub struct Aws {
    /// CloudFormation.
    pub cfn: aws_sdk_cloudformation::Client,
    /// RDS.
    pub rds: aws_sdk_rds::Client,
    /// CloudWatch.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// SNS.
    pub sns: aws_sdk_sns::Client,
    /// KMS.
    pub kms: aws_sdk_kms::Client,
    config: aws_config::SdkConfig,
    options: ConnectOptions,
}

fn aws_err<E>(call: &'static str) -> impl FnOnce(E) -> InfraError
where
    E: std::error::Error + ProvideErrorMetadata,
{
    move |e| {
        let message = match (e.code(), e.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            _ => DisplayErrorContext(&e).to_string(),
        };
        InfraError::Aws { call, message }
    }
}

fn error_code<E: ProvideErrorMetadata>(e: &E) -> &str {
    e.code().unwrap_or_default()
}

/// What a change set would do, one line per resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `(action, logical id, type, replacement)`.
    pub changes: Vec<PlannedChange>,
    /// Whether the stack exists yet.
    pub creates_stack: bool,
}

/// One resource change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedChange {
    /// `Add`, `Modify`, `Remove`.
    pub action: String,
    /// Logical id in the template.
    pub logical_id: String,
    /// CloudFormation type.
    pub resource_type: String,
    /// `True`, `False`, `Conditional` for modifications.
    pub replacement: Option<String>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return write!(f, "no changes");
        }
        writeln!(
            f,
            "{} {} resource change(s):",
            if self.creates_stack {
                "create stack:"
            } else {
                "update stack:"
            },
            self.changes.len()
        )?;
        for c in &self.changes {
            let replace = c
                .replacement
                .as_deref()
                .map(|r| format!(" (replacement: {r})"))
                .unwrap_or_default();
            writeln!(
                f,
                "  {:<7} {:<28} {}{replace}",
                c.action, c.logical_id, c.resource_type
            )?;
        }
        Ok(())
    }
}

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

/// What `destroy` removed, kept on purpose, and (if anything) found still there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestroyReport {
    /// `(kind, id)` of each resource confirmed gone.
    pub removed: Vec<(String, String)>,
    /// Kept on purpose: final snapshots, KMS keys scheduled for deletion.
    pub kept: Vec<(String, String)>,
    /// Resources still present: empty after a complete destroy.
    pub remaining: Vec<(String, String)>,
}

impl fmt::Display for DestroyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (kind, id) in &self.removed {
            writeln!(f, "  removed   {kind:<28} {id}")?;
        }
        for (kind, id) in &self.kept {
            writeln!(f, "  kept      {kind:<28} {id}")?;
        }
        for (kind, id) in &self.remaining {
            writeln!(f, "  REMAINING {kind:<28} {id}")?;
        }
        if self.remaining.is_empty() {
            write!(
                f,
                "nothing left: {} resource(s) removed",
                self.removed.len()
            )
        } else {
            write!(f, "{} resource(s) left behind", self.remaining.len())
        }
    }
}

/// The stack resources by logical id: `(type, physical id, status)`.
pub type StackResources = BTreeMap<String, (String, String, String)>;

impl Aws {
    /// Resolves region and credentials (or takes the given ones) and builds the clients.
    pub async fn connect(options: ConnectOptions) -> Result<Self, InfraError> {
        // rustls with ring: see the workspace Cargo.toml for why not the SDK's defaults.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(c) = &options.credentials {
            loader = loader.credentials_provider(aws_credential_types::Credentials::new(
                &c.access_key_id,
                &c.secret_access_key,
                c.session_token.clone(),
                None,
                "ecom-infra",
            ));
        }
        let config = loader.load().await;
        Ok(Self {
            cfn: aws_sdk_cloudformation::Client::new(&config),
            rds: aws_sdk_rds::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            kms: aws_sdk_kms::Client::new(&config),
            config,
            options,
        })
    }

    /// The region in use.
    pub fn region(&self) -> Option<String> {
        self.config.region().map(|r| r.to_string())
    }

    /// Current credentials from the chain.
    pub async fn credentials(&self) -> Result<Credentials, InfraError> {
        use aws_credential_types::provider::ProvideCredentials;
        let provider = self
            .config
            .credentials_provider()
            .ok_or_else(|| InfraError::Credentials("no provider configured".into()))?;
        let c = provider
            .provide_credentials()
            .await
            .map_err(|e| InfraError::Credentials(DisplayErrorContext(&e).to_string()))?;
        Ok(Credentials::from(&c))
    }

    /// The stack's status, or `None` when it does not exist.
    pub async fn stack_status(&self, stack: &str) -> Result<Option<(String, String)>, InfraError> {
        match self.cfn.describe_stacks().stack_name(stack).send().await {
            Ok(out) => Ok(out.stacks().first().map(|s| {
                (
                    s.stack_id().unwrap_or_default().to_owned(),
                    s.stack_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                )
            })),
            // CloudFormation answers a missing stack with a ValidationError saying so.
            Err(e)
                if error_code(&e) == "ValidationError"
                    && e.message().is_some_and(|m| m.contains("does not exist")) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws_err("DescribeStacks")(e)),
        }
    }

    async fn create_change_set(&self, spec: &DeploymentSpec) -> Result<(String, bool), InfraError> {
        let body = template::render_string(spec)?;
        let stack = spec.stack_name();
        let existing = self.stack_status(&stack).await?;
        let creates = match &existing {
            None => true,
            Some((_, s)) if s == "REVIEW_IN_PROGRESS" => true,
            Some((_, s)) if s == "ROLLBACK_COMPLETE" => {
                return Err(InfraError::StackFailed {
                    stack,
                    status: s.clone(),
                    reason: "a failed creation must be destroyed before deploying again".into(),
                });
            }
            Some(_) => false,
        };
        let name = format!(
            "ecom-infra-{}",
            chrono::Utc::now().format("%Y%m%d%H%M%S%3f")
        );
        let tags = [
            ("Environment", spec.environment.as_ref()),
            ("ManagedBy", MANAGED_BY),
            ("Owner", spec.owner.as_str()),
            ("Project", PROJECT),
        ];
        let mut request = self
            .cfn
            .create_change_set()
            .stack_name(&stack)
            .change_set_name(&name)
            .template_body(body)
            .change_set_type(if creates {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            })
            .description(format!("ecom-infra deploy of {stack}"));
        for (key, value) in tags {
            request = request.tags(Tag::builder().key(key).value(value).build());
        }
        let out = request.send().await.map_err(aws_err("CreateChangeSet"))?;
        let id = out.id().unwrap_or(&name).to_owned();
        Ok((id, creates))
    }

    /// Waits for a change set to be computed; `None` when it has no changes.
    async fn change_set_ready(&self, id: &str) -> Result<Option<Vec<PlannedChange>>, InfraError> {
        let started = Instant::now();
        loop {
            let out = self
                .cfn
                .describe_change_set()
                .change_set_name(id)
                .send()
                .await
                .map_err(aws_err("DescribeChangeSet"))?;
            match out.status() {
                Some(ChangeSetStatus::CreateComplete) => {
                    let changes = out
                        .changes()
                        .iter()
                        .filter_map(|c| c.resource_change())
                        .map(|rc| PlannedChange {
                            action: rc
                                .action()
                                .map(|a| a.as_str().to_owned())
                                .unwrap_or_default(),
                            logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
                            resource_type: rc.resource_type().unwrap_or_default().to_owned(),
                            replacement: rc.replacement().map(|r| r.as_str().to_owned()),
                        })
                        .collect();
                    return Ok(Some(changes));
                }
                Some(ChangeSetStatus::Failed) => {
                    let reason = out.status_reason().unwrap_or_default();
                    if reason.contains("didn't contain changes") || reason.contains("No updates") {
                        return Ok(None);
                    }
                    return Err(InfraError::StackFailed {
                        stack: out.stack_name().unwrap_or_default().into(),
                        status: "change set FAILED".into(),
                        reason: reason.into(),
                    });
                }
                _ => self.pause(started, "the change set").await?,
            }
        }
    }

    async fn pause(&self, started: Instant, what: &str) -> Result<(), InfraError> {
        if started.elapsed() > self.options.timeout {
            return Err(InfraError::Timeout {
                what: what.into(),
                seconds: self.options.timeout.as_secs(),
            });
        }
        tokio::time::sleep(self.options.poll).await;
        Ok(())
    }

    /// The change set a deploy would execute, without executing it.
    pub async fn plan(&self, spec: &DeploymentSpec) -> Result<Plan, InfraError> {
        let (id, creates) = self.create_change_set(spec).await?;
        let changes = self.change_set_ready(&id).await;
        // Leave nothing behind: the change set, and the empty stack a CREATE change set makes.
        let _ = self
            .cfn
            .delete_change_set()
            .change_set_name(&id)
            .send()
            .await;
        if creates {
            let _ = self
                .cfn
                .delete_stack()
                .stack_name(spec.stack_name())
                .send()
                .await;
        }
        Ok(Plan {
            changes: changes?.unwrap_or_default(),
            creates_stack: creates,
        })
    }

    /// Creates or updates the stack through a change set and waits for it to finish,
    /// reporting each stack event to `progress`. Returns the plan it executed.
    pub async fn deploy(
        &self,
        spec: &DeploymentSpec,
        progress: &mut dyn FnMut(String),
    ) -> Result<Plan, InfraError> {
        let (id, creates) = self.create_change_set(spec).await?;
        let Some(changes) = self.change_set_ready(&id).await? else {
            let _ = self
                .cfn
                .delete_change_set()
                .change_set_name(&id)
                .send()
                .await;
            progress("no changes".into());
            return Ok(Plan {
                changes: Vec::new(),
                creates_stack: false,
            });
        };
        let plan = Plan {
            changes,
            creates_stack: creates,
        };
        progress(plan.to_string());
        let stack = spec.stack_name();
        let seen = self.event_ids(&stack).await;
        self.cfn
            .execute_change_set()
            .change_set_name(&id)
            .send()
            .await
            .map_err(aws_err("ExecuteChangeSet"))?;
        let status = self.wait_for_stack(&stack, seen, progress).await?;
        if status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE" {
            Ok(plan)
        } else {
            let reason = self.first_failure(&stack).await.unwrap_or_default();
            Err(InfraError::StackFailed {
                stack,
                status,
                reason,
            })
        }
    }

    /// Polls until the stack is no longer in progress; returns the final status.
    async fn wait_for_stack(
        &self,
        stack: &str,
        mut seen: BTreeSet<String>,
        progress: &mut dyn FnMut(String),
    ) -> Result<String, InfraError> {
        let started = Instant::now();
        loop {
            if let Ok(events) = self
                .cfn
                .describe_stack_events()
                .stack_name(stack)
                .send()
                .await
            {
                let mut fresh: Vec<_> = events
                    .stack_events()
                    .iter()
                    .filter(|e| seen.insert(e.event_id().unwrap_or_default().to_owned()))
                    .collect();
                fresh.reverse();
                for e in fresh {
                    progress(format!(
                        "{:>5}s {:<28} {:<20} {}",
                        started.elapsed().as_secs(),
                        e.logical_resource_id().unwrap_or_default(),
                        e.resource_status().map(|s| s.as_str()).unwrap_or_default(),
                        e.resource_status_reason().unwrap_or_default()
                    ));
                }
            }
            let status = self
                .stack_status(stack)
                .await?
                .map(|(_, s)| s)
                .unwrap_or_else(|| "DELETE_COMPLETE".into());
            if !status.ends_with("_IN_PROGRESS") {
                return Ok(status);
            }
            self.pause(started, &format!("stack {stack}")).await?;
        }
    }

    /// Ids of the stack's events so far, so that progress shows only new ones.
    async fn event_ids(&self, stack: &str) -> BTreeSet<String> {
        match self
            .cfn
            .describe_stack_events()
            .stack_name(stack)
            .send()
            .await
        {
            Ok(events) => events
                .stack_events()
                .iter()
                .filter_map(|e| e.event_id().map(str::to_owned))
                .collect(),
            Err(_) => BTreeSet::new(),
        }
    }

    async fn first_failure(&self, stack: &str) -> Option<String> {
        let events = self
            .cfn
            .describe_stack_events()
            .stack_name(stack)
            .send()
            .await
            .ok()?;
        events
            .stack_events()
            .iter()
            .rev()
            .find(|e| {
                e.resource_status()
                    .is_some_and(|s| s.as_str().ends_with("_FAILED"))
            })
            .map(|e| {
                format!(
                    "{}: {}",
                    e.logical_resource_id().unwrap_or_default(),
                    e.resource_status_reason().unwrap_or_default()
                )
            })
    }

    /// Stack resources by logical id (works on a deleted stack when given its id).
    pub async fn stack_resources(&self, stack: &str) -> Result<StackResources, InfraError> {
        let mut out = StackResources::new();
        let mut pages = self
            .cfn
            .list_stack_resources()
            .stack_name(stack)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(aws_err("ListStackResources"))?;
            for r in page.stack_resource_summaries() {
                out.insert(
                    r.logical_resource_id().unwrap_or_default().to_owned(),
                    (
                        r.resource_type().unwrap_or_default().to_owned(),
                        r.physical_resource_id().unwrap_or_default().to_owned(),
                        r.resource_status()
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_default(),
                    ),
                );
            }
        }
        Ok(out)
    }

    /// Stack outputs.
    pub async fn outputs(&self, stack: &str) -> Result<BTreeMap<String, String>, InfraError> {
        let out = self
            .cfn
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .map_err(aws_err("DescribeStacks"))?;
        Ok(out
            .stacks()
            .first()
            .map(|s| {
                s.outputs()
                    .iter()
                    .map(|o| {
                        (
                            o.output_key().unwrap_or_default().to_owned(),
                            o.output_value().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// A DB instance, or `None` when RDS does not know it.
    pub async fn db_instance(
        &self,
        identifier: &str,
    ) -> Result<Option<aws_sdk_rds::types::DbInstance>, InfraError> {
        match self
            .rds
            .describe_db_instances()
            .db_instance_identifier(identifier)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_instances().first().cloned()),
            Err(e)
                if error_code(&e) == "DBInstanceNotFound"
                    || error_code(&e) == "DBInstanceNotFoundFault" =>
            {
                Ok(None)
            }
            Err(e) => Err(aws_err("DescribeDBInstances")(e)),
        }
    }

    /// Endpoints, states and alarm states of a deployed spec.
    pub async fn status(&self, spec: &DeploymentSpec) -> Result<Status, InfraError> {
        let stack = spec.stack_name();
        let (_, stack_status) = self
            .stack_status(&stack)
            .await?
            .ok_or_else(|| InfraError::StackNotFound(stack.clone()))?;
        let resources = self.stack_resources(&stack).await?;
        let mut instances = Vec::new();
        for (logical, (kind, physical, _)) in &resources {
            if kind != "AWS::RDS::DBInstance" || physical.is_empty() {
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

    /// Metric alarms whose names start with `prefix`.
    pub async fn alarms(
        &self,
        prefix: &str,
    ) -> Result<Vec<aws_sdk_cloudwatch::types::MetricAlarm>, InfraError> {
        let mut out = Vec::new();
        let mut pages = self
            .cloudwatch
            .describe_alarms()
            .alarm_name_prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            out.extend(
                page.map_err(aws_err("DescribeAlarms"))?
                    .metric_alarms()
                    .iter()
                    .cloned(),
            );
        }
        Ok(out)
    }

    /// `postgres://` URLs without password for the writer and each replica (TLS required).
    pub async fn database_urls(
        &self,
        spec: &DeploymentSpec,
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
                        "postgres://{}@{host}:{port}/{}?sslmode=require",
                        spec.database.master_username, spec.database.database_name
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
    ) -> Result<String, InfraError> {
        let token =
            iam_token::generate_auth_token(target, &self.credentials().await?, chrono::Utc::now());
        Ok(iam_token::database_url(target, database, &token))
    }

    /// Deletes the stack, waits, then checks every resource it had is gone.
    ///
    /// Refuses while deletion protection is on. A final snapshot (the spec's
    /// `final_snapshot`) and the KMS key, which AWS only schedules for deletion, are
    /// reported as kept; anything else still present is an error.
    pub async fn destroy(
        &self,
        spec: &DeploymentSpec,
        progress: &mut dyn FnMut(String),
    ) -> Result<DestroyReport, InfraError> {
        let stack = spec.stack_name();
        let (stack_id, _) = self
            .stack_status(&stack)
            .await?
            .ok_or_else(|| InfraError::StackNotFound(stack.clone()))?;
        let resources = self.stack_resources(&stack_id).await?;
        let instance_ids: Vec<String> = resources
            .values()
            .filter(|(t, p, _)| t == "AWS::RDS::DBInstance" && !p.is_empty())
            .map(|(_, p, _)| p.clone())
            .collect();
        let mut protected = Vec::new();
        let mut secrets = Vec::new();
        for id in &instance_ids {
            if let Some(db) = self.db_instance(id).await? {
                if db.deletion_protection() == Some(true) {
                    protected.push(id.clone());
                }
                let is_replica = db.read_replica_source_db_instance_identifier().is_some();
                if let Some(arn) = db
                    .master_user_secret()
                    .and_then(|s| s.secret_arn())
                    .filter(|_| !is_replica)
                {
                    secrets.push(arn.to_owned());
                }
            }
        }
        if !protected.is_empty() {
            return Err(InfraError::DeletionProtected(protected));
        }
        let alarm_names: Vec<String> = self
            .alarms(&format!("{stack}-"))
            .await?
            .iter()
            .filter_map(|a| a.alarm_name().map(str::to_owned))
            .collect();

        let seen = self.event_ids(&stack_id).await;
        self.cfn
            .delete_stack()
            .stack_name(&stack_id)
            .send()
            .await
            .map_err(aws_err("DeleteStack"))?;
        let status = self.wait_for_stack(&stack_id, seen, progress).await?;
        if status != "DELETE_COMPLETE" {
            let reason = self.first_failure(&stack_id).await.unwrap_or_default();
            return Err(InfraError::StackFailed {
                stack,
                status,
                reason,
            });
        }
        let mut report = self
            .prove_gone(spec, &stack_id, &resources, &alarm_names)
            .await?;
        report.removed.extend(
            secrets
                .into_iter()
                .map(|s| ("managed master secret (with its instance)".to_owned(), s)),
        );
        if report.remaining.is_empty() {
            Ok(report)
        } else {
            Err(InfraError::LeftBehind(
                report
                    .remaining
                    .iter()
                    .map(|(k, i)| format!("{k} {i}"))
                    .collect(),
            ))
        }
    }

    /// Checks each resource of a deleted stack with its own service's API.
    pub async fn prove_gone(
        &self,
        spec: &DeploymentSpec,
        stack_id: &str,
        before: &StackResources,
        alarm_names: &[String],
    ) -> Result<DestroyReport, InfraError> {
        let mut report = DestroyReport::default();
        let after = self.stack_resources(stack_id).await.unwrap_or_default();
        for (logical, (kind, physical, _)) in before {
            let entry = (kind.clone(), physical.clone());
            if physical.is_empty() {
                // Nothing to look up: never count an unverifiable resource as removed.
                report
                    .remaining
                    .push((kind.clone(), format!("{logical} (no physical id)")));
                continue;
            }
            let gone = match kind.as_str() {
                "AWS::RDS::DBInstance" => self.db_instance(physical).await?.is_none(),
                "AWS::RDS::DBSubnetGroup" => match self
                    .rds
                    .describe_db_subnet_groups()
                    .db_subnet_group_name(physical)
                    .send()
                    .await
                {
                    Ok(out) => out.db_subnet_groups().is_empty(),
                    Err(e) if error_code(&e).starts_with("DBSubnetGroupNotFound") => true,
                    Err(e) => return Err(aws_err("DescribeDBSubnetGroups")(e)),
                },
                "AWS::RDS::DBParameterGroup" => match self
                    .rds
                    .describe_db_parameter_groups()
                    .db_parameter_group_name(physical)
                    .send()
                    .await
                {
                    Ok(out) => out.db_parameter_groups().is_empty(),
                    Err(e) if error_code(&e).starts_with("DBParameterGroupNotFound") => true,
                    Err(e) => return Err(aws_err("DescribeDBParameterGroups")(e)),
                },
                "AWS::SNS::Topic" => match self
                    .sns
                    .get_topic_attributes()
                    .topic_arn(physical)
                    .send()
                    .await
                {
                    Ok(_) => false,
                    Err(e) if error_code(&e) == "NotFound" => true,
                    Err(e) => return Err(aws_err("GetTopicAttributes")(e)),
                },
                "AWS::KMS::Key" => {
                    let state = match self.kms.describe_key().key_id(physical).send().await {
                        Ok(state) => state,
                        Err(e) if error_code(&e) == "NotFoundException" => {
                            report.removed.push(entry);
                            continue;
                        }
                        Err(e) => return Err(aws_err("DescribeKey")(e)),
                    };
                    let pending = state
                        .key_metadata()
                        .and_then(|m| m.key_state())
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default();
                    if pending == "PendingDeletion" {
                        report
                            .kept
                            .push(("KMS key (scheduled for deletion)".into(), physical.clone()));
                        continue;
                    }
                    false
                }
                "AWS::CloudWatch::Alarm" => true, // checked by name below, with one call
                // Network resources: CloudFormation's own record, as the EC2 client is not used.
                _ => after
                    .get(logical)
                    .is_none_or(|(_, _, status)| status == "DELETE_COMPLETE"),
            };
            if kind == "AWS::CloudWatch::Alarm" {
                continue;
            }
            if gone {
                report.removed.push(entry)
            } else {
                report.remaining.push(entry)
            }
        }
        let still: Vec<String> = self
            .alarms(&format!("{}-", spec.stack_name()))
            .await?
            .iter()
            .filter_map(|a| a.alarm_name().map(str::to_owned))
            .collect();
        for name in alarm_names {
            let entry = ("AWS::CloudWatch::Alarm".to_owned(), name.clone());
            if still.contains(name) {
                report.remaining.push(entry)
            } else {
                report.removed.push(entry)
            }
        }
        // Snapshots: automated ones go with the instance; a manual one stays only as the
        // final snapshot the spec asked for.
        for id in before
            .values()
            .filter(|(t, _, _)| t == "AWS::RDS::DBInstance")
            .map(|(_, p, _)| p)
        {
            let out = self
                .rds
                .describe_db_snapshots()
                .db_instance_identifier(id)
                .send()
                .await
                .map_err(aws_err("DescribeDBSnapshots"))?;
            for snapshot in out.db_snapshots() {
                let entry = (
                    "RDS snapshot".to_owned(),
                    snapshot
                        .db_snapshot_identifier()
                        .unwrap_or_default()
                        .to_owned(),
                );
                let is_final =
                    snapshot.snapshot_type() == Some("manual") && id == &spec.primary_identifier();
                if spec.final_snapshot && is_final {
                    report.kept.push(entry)
                } else {
                    report.remaining.push(entry)
                }
            }
        }
        Ok(report)
    }
}
