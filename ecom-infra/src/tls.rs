//! Verified TLS to RDS: AWS's CA bundle, given by the user, and the connection parameters
//! that make libpq check the server with it.
//!
//! The bundle is not shipped here: it can only be trusted as downloaded from AWS, over
//! HTTPS, from [`RDS_CA_BUNDLE_URL`], which this repository's build cannot do. Download
//! it once, keep it with the service's configuration, and pass its path
//! (`--ca-bundle`, or `ECOM_RDS_CA_BUNDLE`).

use std::fmt;
use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Where AWS publishes the bundle of every region's RDS certificate authorities.
pub const RDS_CA_BUNDLE_URL: &str =
    "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";

/// The environment variable `ecom-infra database-url` reads the bundle's path from.
pub const CA_BUNDLE_ENV: &str = "ECOM_RDS_CA_BUNDLE";

/// Path characters left as they are in a URL; anything else is percent-encoded.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A file of PEM certificates that libpq verifies the server against
/// (`sslrootcert`), checked to hold at least one complete certificate block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaBundle {
    path: PathBuf,
    certificates: usize,
}

/// Why a CA bundle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaBundleError {
    /// None was given.
    #[error(
        "no CA bundle: download {RDS_CA_BUNDLE_URL} and pass its path with --ca-bundle or {CA_BUNDLE_ENV}"
    )]
    Missing,
    /// The file could not be read.
    #[error("CA bundle {path}: {message}")]
    Unreadable {
        /// The path given.
        path: String,
        /// The operating system's reason.
        message: String,
    },
    /// The file holds no complete PEM certificate.
    #[error(
        "CA bundle {0} holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)"
    )]
    NoCertificate(String),
}

impl CaBundle {
    /// Reads `path` and checks that it holds PEM certificates. The path is made absolute,
    /// since libpq resolves a relative `sslrootcert` against its own working directory.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaBundleError> {
        let given = path.as_ref();
        let shown = given.display().to_string();
        let unreadable = |e: std::io::Error| CaBundleError::Unreadable {
            path: shown.clone(),
            message: e.to_string(),
        };
        let path = std::path::absolute(given).map_err(unreadable)?;
        let text = std::fs::read_to_string(&path).map_err(unreadable)?;
        let certificates = count_certificates(&text);
        if certificates == 0 {
            return Err(CaBundleError::NoCertificate(shown));
        }
        Ok(Self { path, certificates })
    }

    /// The bundle named by `value` (a command-line flag or [`CA_BUNDLE_ENV`]), or
    /// [`CaBundleError::Missing`].
    pub fn from_option(value: Option<&Path>) -> Result<Self, CaBundleError> {
        Self::open(value.ok_or(CaBundleError::Missing)?)
    }

    /// The absolute path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many certificates it holds.
    pub fn certificates(&self) -> usize {
        self.certificates
    }

    /// The query parameters of a `postgres://` URL that make libpq encrypt, check the
    /// server's certificate against this bundle, and check that it names the host:
    /// `sslmode=verify-full&sslrootcert=PATH` (the path percent-encoded).
    pub fn url_params(&self) -> String {
        format!(
            "sslmode=verify-full&sslrootcert={}",
            utf8_percent_encode(&self.path.to_string_lossy(), PATH)
        )
    }
}

impl fmt::Display for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} certificates)",
            self.path.display(),
            self.certificates
        )
    }
}

/// Complete `BEGIN CERTIFICATE` ... `END CERTIFICATE` blocks with something between.
fn count_certificates(text: &str) -> usize {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut count = 0;
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let body = &rest[start + BEGIN.len()..];
        let Some(end) = body.find(END) else { break };
        if !body[..end].trim().is_empty() && !body[..end].contains(BEGIN) {
            count += 1;
        }
        rest = &body[end + END.len()..];
    }
    count
}
