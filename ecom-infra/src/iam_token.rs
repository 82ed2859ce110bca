//! RDS IAM authentication tokens: a SigV4 presigned `connect` request, valid 15 minutes,
//! used as the PostgreSQL password over TLS. Same output as `aws rds generate-db-auth-token`.
//!
//! Signed by `aws_sdk_rds::auth_token::AuthTokenGenerator`, AWS's own implementation, with
//! credentials resolved from a provider at every token: a provider that refreshes (the
//! standard chain with an assumed role, SSO, an instance or container role) hands out new
//! credentials before the old ones expire, so a pool keeps opening connections for as long
//! as the provider can renew them. The tests check the output against vectors computed by
//! botocore.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_rds::auth_token::{AuthTokenGenerator, Config as TokenConfig};
use aws_smithy_async::time::{SharedTimeSource, StaticTimeSource, SystemTimeSource};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::tls::CaBundle;

/// How long a token is accepted for connecting, in seconds (RDS's maximum).
pub const TOKEN_LIFETIME_SECONDS: u32 = 900;

/// How long [`IamTokenSource`] waits for credentials and a signature before the new
/// connection fails.
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// SigV4's "unreserved" characters stay; everything else is percent-encoded.
const SIGV4: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why no token could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamTokenError {
    /// The credentials provider failed (expired and not renewable, no credentials...).
    #[error("no AWS credentials for an IAM auth token: {0}")]
    Credentials(String),
    /// The signer refused its input.
    #[error("cannot sign an IAM auth token: {0}")]
    Signing(String),
    /// Credentials and signature took longer than [`TOKEN_TIMEOUT`].
    #[error("no IAM auth token within {0:?}")]
    Timeout(Duration),
    /// The source's own runtime could not be started.
    #[error("cannot start the token source's runtime: {0}")]
    Runtime(String),
}

/// AWS credentials, as the standard chain resolves them.
#[derive(Clone)]
pub struct Credentials {
    /// `AKIA...` or `ASIA...`.
    pub access_key_id: String,
    /// The secret; never printed.
    pub secret_access_key: String,
    /// Present for temporary credentials (SSO, assumed roles, instance profiles).
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

impl Credentials {
    /// These fixed credentials as a provider, for [`generate_auth_token`] and
    /// [`IamTokenSource`]: they never change, so use them only where they cannot expire.
    pub fn provider(&self) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "ecom-infra",
        ))
    }
}

impl From<&aws_credential_types::Credentials> for Credentials {
    fn from(c: &aws_credential_types::Credentials) -> Self {
        Self {
            access_key_id: c.access_key_id().to_owned(),
            secret_access_key: c.secret_access_key().to_owned(),
            session_token: c.session_token().map(str::to_owned),
        }
    }
}

/// Which database user a token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenTarget {
    /// The instance's endpoint address.
    pub hostname: String,
    /// Its port.
    pub port: u16,
    /// The PostgreSQL user, granted `rds_iam`.
    pub username: String,
    /// The instance's region.
    pub region: String,
}

/// The token for `target`, signed at `now` with credentials resolved from `credentials`.
///
/// ```
/// # async fn demo() -> Result<(), ecom_infra::iam_token::IamTokenError> {
/// use ecom_infra::iam_token::{Credentials, TokenTarget, generate_auth_token};
/// let credentials = Credentials { access_key_id: "AKID".into(), secret_access_key: "secret".into(), session_token: None };
/// let token = generate_auth_token(
///     &TokenTarget { hostname: "db.example".into(), port: 5432, username: "app".into(), region: "eu-west-1".into() },
///     credentials.provider(),
///     std::time::SystemTime::now(),
/// ).await?;
/// assert!(token.starts_with("db.example:5432/?Action=connect&DBUser=app&"));
/// # Ok(()) }
/// ```
pub async fn generate_auth_token(
    target: &TokenTarget,
    credentials: SharedCredentialsProvider,
    now: SystemTime,
) -> Result<String, IamTokenError> {
    Signer::new(
        target,
        credentials,
        SharedTimeSource::new(StaticTimeSource::new(now)),
    )?
    .token()
    .await
}

/// One target's generator with its credentials provider and clock.
#[derive(Debug)]
struct Signer {
    generator: AuthTokenGenerator,
    /// Only its clock is used: the generator's own config names credentials and region.
    clock: SdkConfig,
}

impl Signer {
    fn new(
        target: &TokenTarget,
        credentials: SharedCredentialsProvider,
        time: SharedTimeSource,
    ) -> Result<Self, IamTokenError> {
        let config = TokenConfig::builder()
            .hostname(&target.hostname)
            .port(u64::from(target.port))
            .username(&target.username)
            .region(Region::new(target.region.clone()))
            .credentials(credentials)
            .expires_in(u64::from(TOKEN_LIFETIME_SECONDS))
            .build()
            .map_err(|e| IamTokenError::Signing(e.to_string()))?;
        Ok(Self {
            generator: AuthTokenGenerator::new(config),
            clock: SdkConfig::builder().time_source(time).build(),
        })
    }

    async fn token(&self) -> Result<String, IamTokenError> {
        self.generator
            .auth_token(&self.clock)
            .await
            .map(|t| t.as_str().to_owned())
            .map_err(|e| {
                // The generator reports a provider's failure as its error source.
                let text = e.to_string();
                if e.is::<aws_credential_types::provider::error::CredentialsError>() {
                    IamTokenError::Credentials(text)
                } else {
                    IamTokenError::Signing(text)
                }
            })
    }
}

/// A `postgres://` URL for one new connection authenticated by `token`, over TLS that
/// verifies the server against `ca` (`sslmode=verify-full`): the token is the password,
/// and must reach no one but the real server.
///
/// The token goes in the password position, percent-encoded; it expires after 15 minutes,
/// so build a fresh URL for each new connection rather than keeping one.
pub fn database_url(target: &TokenTarget, database: &str, token: &str, ca: &CaBundle) -> String {
    format!(
        "postgres://{}:{}@{}:{}/{}?{}",
        encode(&target.username),
        encode(token),
        target.hostname,
        target.port,
        encode(database),
        ca.url_params()
    )
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, SIGV4).to_string()
}

/// A fresh IAM auth token for every new connection of an ecom-store pool, signed with
/// credentials resolved from its provider each time:
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use ecom_infra::iam_token::{IamTokenSource, TokenTarget};
/// let target = TokenTarget {
///     hostname: "shop.abc123.eu-west-1.rds.amazonaws.com".into(),
///     port: 5432,
///     username: "app".into(),
///     region: "eu-west-1".into(),
/// };
/// // The standard chain: environment, profiles, SSO, assumed roles, instance roles.
/// let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
/// let source = IamTokenSource::from_sdk_config(target, &aws)?;
/// let config = ecom_store::StoreConfig::new(
///     "postgres://app@shop.abc123.eu-west-1.rds.amazonaws.com:5432/shop?sslmode=verify-full&sslrootcert=/etc/ecom/rds-global-bundle.pem",
/// );
/// let pool = ecom_store::build_pool_with(&config, Some(Arc::new(source)))?;
/// # Ok(()) }
/// ```
///
/// ecom-store asks for a password on its own threads, synchronously; the signer is
/// asynchronous (a provider may call STS or the instance metadata service), so the source
/// runs it on a small runtime of its own, and may be called from any thread.
#[derive(Debug)]
pub struct IamTokenSource {
    target: TokenTarget,
    signer: Arc<Signer>,
    runtime: OwnRuntime,
}

impl IamTokenSource {
    /// Tokens for `target`, with credentials from `credentials` at each token.
    pub fn new(
        target: TokenTarget,
        credentials: SharedCredentialsProvider,
    ) -> Result<Self, IamTokenError> {
        let signer = Signer::new(
            &target,
            credentials,
            SharedTimeSource::new(SystemTimeSource::new()),
        )?;
        Ok(Self {
            target,
            signer: Arc::new(signer),
            runtime: OwnRuntime::start()?,
        })
    }

    /// Tokens for `target`, with credentials from the provider of `config` (as
    /// `aws_config::load_defaults` resolves it: the standard chain).
    pub fn from_sdk_config(target: TokenTarget, config: &SdkConfig) -> Result<Self, IamTokenError> {
        let provider = config.credentials_provider().ok_or_else(|| {
            IamTokenError::Credentials("the SDK configuration has no credentials provider".into())
        })?;
        Self::new(target, provider)
    }

    /// Who the tokens are for.
    pub fn target(&self) -> &TokenTarget {
        &self.target
    }

    /// A token now, waiting at most [`TOKEN_TIMEOUT`]. Callable from any thread, also
    /// one inside another tokio runtime.
    pub fn token(&self) -> Result<String, IamTokenError> {
        let signer = &self.signer;
        self.runtime.block_on(async move {
            tokio::time::timeout(TOKEN_TIMEOUT, signer.token())
                .await
                .map_err(|_| IamTokenError::Timeout(TOKEN_TIMEOUT))?
        })
    }
}

impl ecom_store::PasswordSource for IamTokenSource {
    fn password(&self) -> Result<String, String> {
        // The error names the provider's failure, never a credential.
        self.token().map_err(|e| e.to_string())
    }
}

/// A current-thread tokio runtime that the calling thread drives, shut down without
/// blocking when dropped (so a source may be dropped inside another runtime).
#[derive(Debug)]
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl OwnRuntime {
    fn start() -> Result<Self, IamTokenError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| Self(Some(rt)))
            .map_err(|e| IamTokenError::Runtime(e.to_string()))
    }

    /// Runs `future` to completion. A thread already inside a tokio runtime may not
    /// block on another one, so there it runs on a scoped thread of its own.
    fn block_on<F>(&self, future: F) -> Result<String, IamTokenError>
    where
        F: Future<Output = Result<String, IamTokenError>> + Send,
    {
        let Some(rt) = self.0.as_ref() else {
            return Err(IamTokenError::Runtime("shut down".into()));
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return rt.block_on(future);
        }
        std::thread::scope(|scope| {
            scope
                .spawn(|| rt.block_on(future))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}
