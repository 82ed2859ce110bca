//! Finding the PostgreSQL server binaries.

use std::fs::{self};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::error::DevError;

/// The directory of the PostgreSQL binaries: `$ECOM_PG_BIN`, else
/// `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin`, else the
/// directory of `initdb` on `PATH`. Client tools such as `pg_dump` live there too.
pub fn bin_dir() -> Result<PathBuf, DevError> {
    let has_initdb = |dir: &Path| dir.join("initdb").is_file();
    if let Some(dir) = std::env::var_os("ECOM_PG_BIN").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return if has_initdb(&dir) {
            Ok(dir)
        } else {
            Err(DevError::BinariesNotFound {
                searched: format!("ECOM_PG_BIN={} (no initdb there)", dir.display()),
            })
        };
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    if let Some(dir) = from_pg_config.filter(|dir| has_initdb(dir)) {
        return Ok(dir);
    }
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_initdb(dir))
        .collect();
    debian.sort();
    if let Some((_, dir)) = debian.pop() {
        return Ok(dir);
    }
    if let Some(dir) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| has_initdb(dir))
    {
        return Ok(dir);
    }
    Err(DevError::BinariesNotFound {
        searched: "ECOM_PG_BIN, `pg_config --bindir`, /usr/lib/postgresql/*/bin and PATH".into(),
    })
}
