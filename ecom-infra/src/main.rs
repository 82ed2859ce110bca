//! `ecom-infra`: deploy, inspect and destroy ecom-dms's database on AWS.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ecom_infra::iam_token::{self, TokenTarget};
use ecom_infra::spec::EngineKind;
use ecom_infra::tls::{CA_BUNDLE_ENV, CaBundle};
use ecom_infra::{Aws, ConnectOptions, DeploymentSpec, InfraError, Preset, cost, template};

/// Deploy ecom-dms's PostgreSQL on AWS (CloudFormation), inspect it, destroy it.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Start from this preset.
    #[arg(long, value_enum, default_value = "test", global = true)]
    preset: Preset,
    /// Read the spec from this JSON file instead (see `ecom-infra spec`).
    #[arg(long, global = true)]
    spec: Option<PathBuf>,
    /// Run the preset on this engine: RDS for PostgreSQL (default) or an Aurora PostgreSQL
    /// cluster. A spec file names its own (`"engine"`).
    #[arg(long, value_enum, global = true, conflicts_with = "spec")]
    engine: Option<EngineKind>,
    /// AWS region (default: AWS_REGION, then eu-west-1).
    #[arg(long, env = "AWS_REGION", default_value = "eu-west-1", global = true)]
    region: String,
    /// Send every AWS call to this endpoint (an emulator such as moto).
    #[arg(long, global = true)]
    endpoint_url: Option<String>,
    /// Seconds between polls while waiting for AWS.
    #[arg(long, default_value_t = 10, global = true)]
    poll_seconds: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the spec as JSON (a starting point for --spec).
    Spec,
    /// Print the CloudFormation template (deterministic JSON).
    Template,
    /// Show the change set a deploy would execute.
    Plan,
    /// Create or update the stack through a change set and wait, with progress. Refuses a
    /// change that would replace or delete the database, its key or its secret.
    Deploy {
        /// Allow replacing or deleting this guarded resource (database, key, secret);
        /// repeat for each.
        #[arg(long = "allow-replace", value_name = "RESOURCE")]
        allow_replace: Vec<ecom_infra::aws::Guarded>,
        /// CloudFormation acts through this service role (see `iam-policy --service-role`).
        #[arg(long)]
        service_role_arn: Option<String>,
    },
    /// The least-privilege IAM policy of the deployer (who runs ecom-infra), or with
    /// --service-role, the policy and trust policy of a CloudFormation service role.
    IamPolicy {
        /// Print the service role's policy and trust policy instead.
        #[arg(long, conflicts_with = "service_role_arn")]
        service_role: bool,
        /// The deployer passes this service role to CloudFormation instead of acting itself.
        #[arg(long)]
        service_role_arn: Option<String>,
    },
    /// Endpoints, states and alarm states.
    Status,
    /// Delete the stack and prove nothing is left.
    Destroy,
    /// Hourly and monthly estimate from ecom-infra/prices.toml.
    Cost,
    /// The connection URLs (no password), with TLS verified against AWS's RDS CA bundle:
    /// writes through the RDS Proxy when there is one, else the writer (on Aurora the
    /// cluster's writer endpoint); reads from each replica (on Aurora the reader endpoint).
    DatabaseUrl {
        /// AWS's RDS CA bundle (global-bundle.pem), downloaded from AWS.
        #[arg(long, env = CA_BUNDLE_ENV)]
        ca_bundle: Option<PathBuf>,
        /// Put a fresh IAM auth token (valid 15 minutes) in each URL as the password.
        #[arg(long)]
        iam_token: bool,
        /// The database user (default: the master user; use a user granted rds_iam).
        #[arg(long)]
        username: Option<String>,
    },
    /// An RDS IAM auth token on stdout, like `aws rds generate-db-auth-token`.
    DbAuthToken {
        /// Instance endpoint address.
        #[arg(long)]
        hostname: String,
        /// Port.
        #[arg(long)]
        port: u16,
        /// Database user (granted rds_iam).
        #[arg(long)]
        username: String,
    },
}

fn load_spec(cli: &Cli) -> Result<DeploymentSpec, Box<dyn std::error::Error>> {
    let spec = match &cli.spec {
        Some(path) => serde_json::from_str(&std::fs::read_to_string(path)?)?,
        None => cli
            .preset
            .spec_on(&cli.region, cli.engine.unwrap_or(EngineKind::Rds)),
    };
    spec.validate().map_err(InfraError::from)?;
    Ok(spec)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let spec = load_spec(&cli)?;
    let connect = || {
        Aws::connect(ConnectOptions {
            region: Some(spec.region.clone()),
            endpoint_url: cli.endpoint_url.clone(),
            poll: Duration::from_secs(cli.poll_seconds),
            ..ConnectOptions::default()
        })
    };
    let mut progress = |line: String| eprintln!("{line}");
    match &cli.command {
        Command::Spec => println!("{}", serde_json::to_string_pretty(&spec)?),
        Command::Template => print!("{}", template::render_string(&spec)?),
        Command::Cost => println!("{}", cost::PriceTable::bundled()?.estimate(&spec)?),
        Command::Plan => println!("{}", connect().await?.plan(&spec).await?),
        Command::Deploy {
            allow_replace,
            service_role_arn,
        } => {
            let mut aws = connect().await?;
            if let Some(arn) = service_role_arn {
                aws = aws.with_service_role(arn);
            }
            let allowed = ecom_infra::aws::AllowedChanges::of(allow_replace.iter().copied());
            aws.deploy_allowing(&spec, &allowed, &mut progress).await?;
            println!("{}", aws.status(&spec).await?);
        }
        Command::Status => println!("{}", connect().await?.status(&spec).await?),
        Command::IamPolicy {
            service_role,
            service_role_arn,
        } => {
            let document = iam_policy(&spec, *service_role, service_role_arn.as_deref())?;
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
        Command::Destroy => {
            let report = connect().await?.destroy(&spec, &mut progress).await?;
            println!("{report}");
        }
        Command::DatabaseUrl {
            ca_bundle,
            iam_token,
            username,
        } => {
            // Checked before any AWS call: without it the URLs would not be safe to use.
            let ca = CaBundle::from_option(ca_bundle.as_deref()).map_err(InfraError::from)?;
            let user = username
                .clone()
                .unwrap_or_else(|| spec.database.master_username.clone());
            print_database_urls(&connect().await?, &spec, &user, &ca, *iam_token).await?;
        }
        Command::DbAuthToken {
            hostname,
            port,
            username,
        } => {
            let target = TokenTarget {
                hostname: hostname.clone(),
                port: *port,
                username: username.clone(),
                region: cli.region.clone(),
            };
            let token = auth_token(&connect().await?, &target).await?;
            println!("{token}");
        }
    }
    Ok(())
}

/// The deployer's policy (acting itself, or passing `service_role_arn` to CloudFormation),
/// or with `service_role`, the service role's policy and trust policy.
fn iam_policy(
    spec: &DeploymentSpec,
    service_role: bool,
    service_role_arn: Option<&str>,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    use ecom_infra::deployer;
    let document = if service_role {
        serde_json::json!({
            "PolicyDocument": deployer::service_role_policy(spec)?,
            "AssumeRolePolicyDocument": deployer::service_role_trust_policy(),
        })
    } else {
        let executor = match service_role_arn {
            Some(arn) => deployer::Executor::ServiceRole {
                arn: arn.to_owned(),
            },
            None => deployer::Executor::Deployer,
        };
        deployer::deployer_policy(spec, &executor)?
    };
    Ok(document)
}

/// An IAM auth token for `target`, signed with the credentials `aws` connected with.
async fn auth_token(aws: &Aws, target: &TokenTarget) -> Result<String, Box<dyn std::error::Error>> {
    let provider = aws.credentials_provider()?;
    let token =
        iam_token::generate_auth_token(target, provider, std::time::SystemTime::now()).await?;
    Ok(token)
}

/// Prints the deployment's URLs as ecom-store reads them: one `DATABASE_URL` (the RDS Proxy
/// when there is one, else the writer, or on Aurora the cluster's writer endpoint), and the
/// replicas (or the cluster's reader endpoint) in one comma-separated `DATABASE_READ_URLS`.
/// With `with_token`, each carries a fresh token as its password.
async fn print_database_urls(
    aws: &Aws,
    spec: &DeploymentSpec,
    user: &str,
    ca: &CaBundle,
    with_token: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let credentials = if with_token {
        Some(aws.credentials_provider()?)
    } else {
        None
    };
    let endpoints = aws.endpoints(spec).await?;
    let mut urls = Vec::new();
    for (hostname, port) in endpoints.writer.iter().chain(&endpoints.readers) {
        let target = TokenTarget {
            hostname: hostname.clone(),
            port: *port,
            username: user.to_owned(),
            region: spec.region.clone(),
        };
        let database = &spec.database.database_name;
        urls.push(match &credentials {
            Some(c) => {
                let token = iam_token::generate_auth_token(
                    &target,
                    c.clone(),
                    std::time::SystemTime::now(),
                )
                .await?;
                iam_token::database_url(&target, database, &token, ca)
            }
            None => format!(
                "postgres://{user}@{hostname}:{port}/{database}?{}",
                ca.url_params()
            ),
        });
    }
    let readers = urls.split_off(endpoints.writer.iter().count());
    for url in urls {
        println!("DATABASE_URL={url}");
    }
    if !readers.is_empty() {
        println!("DATABASE_READ_URLS={}", readers.join(","));
    }
    Ok(())
}
