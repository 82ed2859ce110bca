//! Where a private cluster lives: under the build directory, or, when the server's
//! account cannot reach that, in a directory of the checkout's own under `/var/tmp`.
//!
//! PostgreSQL refuses to run as root, so a root process runs the server as `nobody`,
//! which must be able to traverse every directory above the data directory. A
//! checkout under `/root` (mode 700 on Debian) is out of its reach; rather than ask
//! for configuration, the cluster then moves to `/var/tmp/ecom-dms-<key>/ecom-pg`,
//! where the key is a hash of the path it would have had. Every program that looks
//! for the cluster (tests, examples, `ecom-pg`) computes the same path, and two
//! checkouts never share a cluster.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::error::{DevError, io_error};
use super::process::{Account, effective_uid, nobody};

/// Where the shared directories go, in order of preference: `/var/tmp` survives a
/// reboot and is rarely a RAM disk; the temporary directory is the fallback.
fn shared_bases() -> Vec<PathBuf> {
    vec![PathBuf::from("/var/tmp"), std::env::temp_dir()]
}

/// `$ECOM_PG_DIR`, else the cluster directory for the build directory
/// ([`cluster_dir_for`]).
pub(super) fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ECOM_PG_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let server = match effective_uid() {
        Ok(0) => Some(nobody()),
        _ => None,
    };
    cluster_dir_for(&target_dir().join("ecom-pg"), server, &shared_bases())
}

/// `$CARGO_TARGET_DIR`, else the workspace's `target` directory, canonical as far as
/// it exists (so that every spelling of one checkout gives one key, before and after
/// the directory is made).
pub(super) fn target_dir() -> PathBuf {
    let workspace = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        // A relative CARGO_TARGET_DIR is relative to where cargo ran; assume the
        // workspace root.
        .map_or_else(|| workspace.join("target"), |d| workspace.join(d));
    canonical_as_far_as_it_exists(&target)
}

/// `path` with its longest existing prefix made canonical and the rest appended.
fn canonical_as_far_as_it_exists(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut prefix = path;
    loop {
        if let Ok(canonical) = fs::canonicalize(prefix) {
            return rest
                .iter()
                .rev()
                .fold(canonical, |dir, name| dir.join(name));
        }
        match (prefix.parent(), prefix.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                prefix = parent;
            }
            _ => return path.to_owned(),
        }
    }
}

/// The directory of the cluster that would live at `preferred`: `preferred` itself
/// when the server runs as this process's user (`server` is `None`) or `server` can
/// reach it; else `<base>/ecom-dms-<key>/ecom-pg` in the first of `bases` that
/// `server` can reach, the key being a hash of `preferred`. `preferred` again if no
/// base is reachable (starting the cluster then says why it cannot).
pub(super) fn cluster_dir_for(
    preferred: &Path,
    server: Option<Account>,
    bases: &[PathBuf],
) -> PathBuf {
    let Some(account) = server else {
        return preferred.to_owned();
    };
    if blocking_dir(preferred, account).is_none() {
        return preferred.to_owned();
    }
    let Some(base) = bases
        .iter()
        .find(|base| base.is_dir() && blocking_dir(base, account).is_none())
    else {
        return preferred.to_owned();
    };
    base.join(format!(
        "ecom-dms-{:016x}",
        fnv1a(preferred.as_os_str().as_bytes())
    ))
    .join("ecom-pg")
}

/// The first existing directory on the way to `path` (`path` included) that
/// `account` may not traverse; `None` if it may reach `path`, or the deepest part of
/// it that exists (what does not exist yet is created traversable).
pub(super) fn blocking_dir(path: &Path, account: Account) -> Option<PathBuf> {
    let mut current = PathBuf::new();
    for component in path.components() {
        current.push(component);
        let Ok(meta) = fs::metadata(&current) else {
            return None;
        };
        let bit = if meta.uid() == account.uid {
            0o100
        } else if meta.gid() == account.gid {
            0o010
        } else {
            0o001
        };
        if meta.is_dir() && meta.mode() & bit == 0 {
            return Some(current);
        }
    }
    None
}

/// Creates `dir` and whatever is missing above it as directories of this process's
/// user (`uid`), mode 0755 whatever the umask, so that the server's account can reach
/// the cluster and nobody else can change it. Refuses an existing directory that
/// sits in a world-writable one (such as `/tmp` or `/var/tmp`) but belongs to
/// someone else: whoever made it could swap what is inside.
pub(super) fn create_dir_for_server(dir: &Path, uid: u32) -> Result<(), DevError> {
    let mut current = PathBuf::new();
    let mut parent_world_writable = false;
    for component in dir.components() {
        current.push(component);
        let meta = match fs::symlink_metadata(&current) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                match DirBuilder::new().mode(0o755).create(&current) {
                    Ok(()) => fs::set_permissions(&current, fs::Permissions::from_mode(0o755))
                        .map_err(io_error(|| format!("chmod {}", current.display())))?,
                    // Made by another process since we looked: check it like any other.
                    Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(err) => {
                        return Err(io_error(|| format!("create {}", current.display()))(err));
                    }
                }
                fs::symlink_metadata(&current)
                    .map_err(io_error(|| format!("stat {}", current.display())))?
            }
            Err(err) => return Err(io_error(|| format!("stat {}", current.display()))(err)),
        };
        if parent_world_writable && meta.uid() != uid {
            return Err(DevError::UnsafeDir {
                path: current,
                owner: meta.uid(),
            });
        }
        let meta = if meta.file_type().is_symlink() {
            fs::metadata(&current).map_err(io_error(|| format!("stat {}", current.display())))?
        } else {
            meta
        };
        if !meta.is_dir() {
            return Err(DevError::Io {
                action: format!("use {} as a directory", current.display()),
                source: io::Error::from(io::ErrorKind::NotADirectory),
            });
        }
        parent_world_writable = meta.mode() & 0o002 != 0;
    }
    Ok(())
}

/// 64-bit FNV-1a: a hash whose value never changes with the Rust version, because
/// the cluster's directory name must not.
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
