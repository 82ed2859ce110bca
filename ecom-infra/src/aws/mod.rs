//! The AWS side: deploy through change sets, wait with progress, read state back, destroy
//! and prove that nothing is left.
//!
//! Only the clients needed are used: CloudFormation does the provisioning; RDS,
//! CloudWatch, SNS and KMS are read directly to check what CloudFormation reports. Network
//! resources (VPC, subnets, security group) are read back through CloudFormation's stack
//! resources, so the very large EC2 client is not needed.
//!
//! [`Aws`]'s methods are grouped by what they serve, one file each: `stack` reads a stack
//! and waits on it (the other three use it), `deploy` plans and applies change sets,
//! `status` reports what is running, `destroy` deletes and proves the deletion.

mod deploy;
mod destroy;
pub mod guarded;
mod stack;
mod status;

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_smithy_http_client::tls;

pub use deploy::{PlannedChange, StackChanges};
pub use destroy::DestroyReport;
pub use guarded::{AllowedChanges, Danger, Guarded};
pub use stack::{StackResource, StackResources};
pub use status::{ClusterStatus, Endpoints, InstanceRole, InstanceStatus, Status};

use crate::InfraError;
use crate::iam_token::Credentials;

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
    service_role: Option<String>,
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
            service_role: None,
        })
    }

    /// These clients, with CloudFormation acting through the service role `arn` (see
    /// [`crate::deployer::service_role_policy`]) instead of the caller's credentials.
    pub fn with_service_role(self, arn: impl Into<String>) -> Self {
        Self {
            service_role: Some(arn.into()),
            ..self
        }
    }

    /// The region in use.
    pub fn region(&self) -> Option<String> {
        self.config.region().map(|r| r.to_string())
    }

    /// The credentials provider in use (the standard chain, or the given credentials): it
    /// refreshes temporary credentials, so ask it again for each signature.
    pub fn credentials_provider(
        &self,
    ) -> Result<aws_credential_types::provider::SharedCredentialsProvider, InfraError> {
        self.config
            .credentials_provider()
            .ok_or_else(|| InfraError::Credentials("no provider configured".into()))
    }

    /// The SDK configuration the clients were built from (region, credentials provider).
    pub fn sdk_config(&self) -> &aws_config::SdkConfig {
        &self.config
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

    /// Sleeps one poll interval, or fails once `what` has been awaited past the timeout.
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

    /// An Aurora cluster, or `None` when RDS does not know it.
    pub async fn db_cluster(
        &self,
        identifier: &str,
    ) -> Result<Option<aws_sdk_rds::types::DbCluster>, InfraError> {
        match self
            .rds
            .describe_db_clusters()
            .db_cluster_identifier(identifier)
            .send()
            .await
        {
            Ok(out) => Ok(out.db_clusters().first().cloned()),
            Err(e) if error_code(&e).starts_with("DBClusterNotFound") => Ok(None),
            Err(e) => Err(aws_err("DescribeDBClusters")(e)),
        }
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
}
