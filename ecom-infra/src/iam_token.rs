//! RDS IAM authentication tokens: a SigV4 presigned `connect` request, valid 15 minutes,
//! used as the PostgreSQL password over TLS. Same output as `aws rds generate-db-auth-token`.
//!
//! The signing follows AWS's documented Signature Version 4 query-string process, written
//! out here with `hmac` and `sha2` (already in the workspace) rather than pulling in
//! `aws-sigv4`'s generic machinery for one request shape.

use std::fmt::{self, Write as _};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

use crate::tls::CaBundle;

/// How long a token is accepted for connecting, in seconds (RDS's maximum).
pub const TOKEN_LIFETIME_SECONDS: u32 = 900;

/// SigV4's "unreserved" characters stay; everything else is percent-encoded.
const SIGV4: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

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

/// The token for `target`, signed with `credentials` at `now`.
///
/// ```
/// use ecom_infra::iam_token::{Credentials, TokenTarget, generate_auth_token};
/// let token = generate_auth_token(
///     &TokenTarget { hostname: "db.example".into(), port: 5432, username: "app".into(), region: "eu-west-1".into() },
///     &Credentials { access_key_id: "AKID".into(), secret_access_key: "secret".into(), session_token: None },
///     chrono::Utc::now(),
/// );
/// assert!(token.starts_with("db.example:5432/?Action=connect&DBUser=app&"));
/// ```
pub fn generate_auth_token(
    target: &TokenTarget,
    credentials: &Credentials,
    now: DateTime<Utc>,
) -> String {
    let date = now.format("%Y%m%d").to_string();
    let timestamp = now.format("%Y%m%dT%H%M%SZ").to_string();
    let scope = format!("{date}/{}/rds-db/aws4_request", target.region);
    let host = format!("{}:{}", target.hostname, target.port);

    let mut params: Vec<(&str, String)> = vec![
        ("Action", "connect".into()),
        ("DBUser", target.username.clone()),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".into()),
        (
            "X-Amz-Credential",
            format!("{}/{scope}", credentials.access_key_id),
        ),
        ("X-Amz-Date", timestamp.clone()),
        ("X-Amz-Expires", TOKEN_LIFETIME_SECONDS.to_string()),
        ("X-Amz-SignedHeaders", "host".into()),
    ];
    // botocore (and so `aws rds generate-db-auth-token`) appends the session token after
    // the other parameters in the token it prints; the signature covers them sorted.
    if let Some(token) = &credentials.session_token {
        params.push(("X-Amz-Security-Token", token.clone()));
    }
    let join = |params: &[(&str, String)]| {
        params
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let query = join(&params);
    params.sort();
    let canonical_query = join(&params);

    // The payload of the presigned GET is empty, and its hash is signed (as botocore does).
    let empty_payload = hex(&Sha256::digest(b""));
    let canonical_request =
        format!("GET\n/\n{canonical_query}\nhost:{host}\n\nhost\n{empty_payload}");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );

    let k_date = hmac(
        format!("AWS4{}", credentials.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, target.region.as_bytes());
    let k_service = hmac(&k_region, b"rds-db");
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex(&hmac(&k_signing, string_to_sign.as_bytes()));

    format!("{host}/?{query}&X-Amz-Signature={signature}")
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

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A fresh IAM auth token for every new connection of an ecom-store pool:
///
/// ```no_run
/// # fn demo(credentials: ecom_infra::iam_token::Credentials) -> Result<(), ecom_store::StoreError> {
/// use std::sync::Arc;
/// use ecom_infra::iam_token::{IamTokenSource, TokenTarget};
/// let target = TokenTarget {
///     hostname: "shop.abc123.eu-west-1.rds.amazonaws.com".into(),
///     port: 5432,
///     username: "app".into(),
///     region: "eu-west-1".into(),
/// };
/// let config = ecom_store::StoreConfig::new(
///     "postgres://app@shop.abc123.eu-west-1.rds.amazonaws.com:5432/shop?sslmode=verify-full&sslrootcert=/etc/ssl/rds-global-bundle.pem",
/// );
/// let pool = ecom_store::build_pool_with(&config, Some(Arc::new(IamTokenSource::new(target, credentials))))?;
/// # Ok(()) }
/// ```
///
/// The credentials are the ones given here; temporary credentials (SSO, assumed
/// roles) must be replaced before they expire by building a new source.
#[derive(Debug, Clone)]
pub struct IamTokenSource {
    target: TokenTarget,
    credentials: Credentials,
}

impl IamTokenSource {
    /// Tokens for `target`, signed with `credentials`.
    pub fn new(target: TokenTarget, credentials: Credentials) -> Self {
        Self {
            target,
            credentials,
        }
    }
}

impl ecom_store::PasswordSource for IamTokenSource {
    fn password(&self) -> Result<String, String> {
        Ok(generate_auth_token(
            &self.target,
            &self.credentials,
            Utc::now(),
        ))
    }
}
