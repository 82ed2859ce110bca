//! The cluster's own CA and server certificate, and TLS-only access.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use diesel::prelude::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use super::cluster::{PrivateCluster, TLS_SETTINGS};
use super::error::{DevError, io_error};
use super::process::write_file;

/// A CA's certificate and a server certificate it signed, in PEM.
pub(super) struct Certificates {
    ca_cert: String,
    server_cert: String,
    server_key: String,
}

/// A new CA and a server certificate signed by it for `localhost` and `127.0.0.1`.
/// The CA's key is dropped: nothing signs with it again, and should the files go
/// missing a new CA replaces it.
pub(super) fn make_certificates() -> Result<Certificates, rcgen::Error> {
    let mut ca = CertificateParams::new(Vec::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "ecom-dms private cluster CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let mut server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.use_authority_key_identifier_extension = true;
    let server_key = KeyPair::generate()?;
    let server_cert = server.signed_by(&server_key, &issuer)?;
    Ok(Certificates {
        ca_cert: ca_cert.pem(),
        server_cert: server_cert.pem(),
        server_key: server_key.serialize_pem(),
    })
}

/// `pg_hba.conf` with every TCP entry (`host`, `hostnossl`, `hostgssenc`,
/// `hostnogssenc`) turned into `hostssl`; `None` if there is none to turn.
pub(super) fn hostssl_only(hba: &str) -> Option<String> {
    let mut changed = false;
    let mut out = String::with_capacity(hba.len() + 64);
    for line in hba.split_inclusive('\n') {
        let content = line.trim_start();
        let indent = &line[..line.len() - content.len()];
        let kind_end = content
            .find(|c: char| c.is_whitespace())
            .unwrap_or(content.len());
        match &content[..kind_end] {
            "host" | "hostnossl" | "hostgssenc" | "hostnogssenc" => {
                changed = true;
                out.push_str(indent);
                out.push_str("hostssl");
                out.push_str(&content[kind_end..]);
            }
            _ => out.push_str(line),
        }
    }
    changed.then_some(out)
}

impl PrivateCluster {
    /// Whether the TLS files are in place and the settings name them: the last step
    /// of [`PrivateCluster::write_tls`] is the `ssl = on` line.
    pub(super) fn tls_ready(&self) -> bool {
        let data = self.data_dir();
        let read = |name: &str| fs::read_to_string(data.join(name)).unwrap_or_default();
        self.ca_cert_path().is_file()
            && data.join("server.crt").is_file()
            && data.join("server.key").is_file()
            && read("postgresql.conf")
                .lines()
                .any(|line| line.trim() == "ssl = on")
            && hostssl_only(&read("pg_hba.conf")).is_none()
    }

    /// Makes a new CA and a server certificate signed by it, writes them, requires
    /// TLS of every TCP connection in `pg_hba.conf` and turns `ssl` on.
    pub(super) fn write_tls(&self) -> Result<(), DevError> {
        let certificates = make_certificates().map_err(|err| DevError::Certificate(err.into()))?;
        let tls = self.dir.join("tls");
        fs::create_dir_all(&tls).map_err(io_error(|| format!("create {}", tls.display())))?;
        fs::set_permissions(&tls, fs::Permissions::from_mode(0o755))
            .map_err(io_error(|| format!("chmod {}", tls.display())))?;
        write_file(&self.ca_cert_path(), &certificates.ca_cert, 0o644, None)?;
        let data = self.data_dir();
        write_file(
            &data.join("server.crt"),
            &certificates.server_cert,
            0o644,
            self.run_as,
        )?;
        // PostgreSQL refuses a key others may read.
        write_file(
            &data.join("server.key"),
            &certificates.server_key,
            0o600,
            self.run_as,
        )?;
        let hba = data.join("pg_hba.conf");
        let text =
            fs::read_to_string(&hba).map_err(io_error(|| format!("read {}", hba.display())))?;
        if let Some(rewritten) = hostssl_only(&text) {
            // In place, so the file keeps its owner and mode.
            fs::write(&hba, rewritten).map_err(io_error(|| format!("write {}", hba.display())))?;
        }
        let conf = data.join("postgresql.conf");
        let text =
            fs::read_to_string(&conf).map_err(io_error(|| format!("read {}", conf.display())))?;
        if !text.lines().any(|line| line.trim() == "ssl = on") {
            OpenOptions::new()
                .append(true)
                .open(&conf)
                .and_then(|mut file| file.write_all(TLS_SETTINGS.as_bytes()))
                .map_err(io_error(|| format!("append to {}", conf.display())))?;
        }
        Ok(())
    }

    /// Makes the running server read the new TLS files and `pg_hba.conf`, and waits
    /// until a verified connection succeeds.
    pub(super) fn reload_tls(&self) -> Result<(), DevError> {
        self.execute("postgres", "SELECT pg_reload_conf()")?;
        // The postmaster rereads its files a moment after the signal.
        let url = format!("{}&connect_timeout=5", self.verified_url("postgres"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match PgConnection::establish(&url) {
                Ok(_) => return Ok(()),
                Err(err) if std::time::Instant::now() > deadline => {
                    return Err(DevError::Database {
                        action: format!(
                            "connect with TLS after turning it on; see {}",
                            self.log_path().display()
                        ),
                        message: err.to_string(),
                    });
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
    }

    /// Gives this standby its primary's CA certificate.
    pub(super) fn copy_ca_from(&self, primary: &PrivateCluster) -> Result<(), DevError> {
        let from = primary.ca_cert_path();
        let pem =
            fs::read_to_string(&from).map_err(io_error(|| format!("read {}", from.display())))?;
        let tls = self.dir.join("tls");
        fs::create_dir_all(&tls).map_err(io_error(|| format!("create {}", tls.display())))?;
        fs::set_permissions(&tls, fs::Permissions::from_mode(0o755))
            .map_err(io_error(|| format!("chmod {}", tls.display())))?;
        write_file(&self.ca_cert_path(), &pem, 0o644, None)
    }
}
