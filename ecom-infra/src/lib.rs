#![doc = include_str!("../README.md")]

pub mod aws;
pub mod cost;
pub mod deployer;
pub mod iam_token;
pub mod spec;
pub mod template;
pub mod tls;

pub use aws::{Aws, ConnectOptions};
pub use spec::{DeploymentSpec, Preset, SpecError};

/// Every failure of ecom-infra, with variants a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    /// The spec breaks a rule; nothing was sent to AWS.
    #[error("invalid deployment spec: {0}")]
    Spec(#[from] SpecError),
    /// The price table lacks something or could not be read.
    #[error(transparent)]
    Cost(#[from] cost::CostError),
    /// An AWS call failed.
    #[error("{call}: {message}")]
    Aws {
        /// Which call (`CreateChangeSet`...).
        call: &'static str,
        /// AWS's message, with its error code.
        message: String,
    },
    /// No stack of that name exists.
    #[error("stack {0} does not exist")]
    StackNotFound(String),
    /// The stack ended in a failed or rolled-back state.
    #[error("stack {stack} ended in {status}: {reason}")]
    StackFailed {
        /// Stack name.
        stack: String,
        /// e.g. `ROLLBACK_COMPLETE`.
        status: String,
        /// The first failure event's reason.
        reason: String,
    },
    /// Deletion protection is on: redeploy with it off before destroying.
    #[error(
        "deletion protection is on for {0:?}: deploy the spec with deletion_protection = false first"
    )]
    DeletionProtected(Vec<String>),
    /// The change set would replace or delete the database, its key or its secret, and
    /// the caller did not name them; nothing was changed.
    #[error(
        "refused, nothing changed: the change set would replace or delete {0:?}; deploy with --allow-replace NAME for each one you mean to lose"
    )]
    GuardedChange(Vec<String>),
    /// Something outlived `destroy`.
    #[error("destroy left resources behind: {0:?}")]
    LeftBehind(Vec<String>),
    /// Waited too long for AWS.
    #[error("timed out after {seconds}s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: u64,
    },
    /// The CA bundle that verifies the database's certificate is missing or unusable.
    #[error(transparent)]
    CaBundle(#[from] tls::CaBundleError),
    /// No AWS credentials could be found in the standard chain.
    #[error("no AWS credentials: {0}")]
    Credentials(String),
}
