//! Running the server and its tools as an unprivileged user, and the ports it takes.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

use super::error::{DevError, io_error};

/// The unprivileged account the server runs as when we are root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Account {
    pub(super) uid: u32,
    pub(super) gid: u32,
}

/// The effective uid of this process: from `/proc/self/status` on Linux, else the
/// owner of a file it creates in the temporary directory. Std has no `geteuid`, and
/// `libc::geteuid` would need `unsafe` (forbidden here) while `nix` is a large
/// dependency for one call; the owner of a fresh file is exactly the effective uid,
/// on every Unix.
pub(super) fn effective_uid() -> Result<u32, DevError> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        let euid = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .and_then(|euid| euid.parse().ok());
        if let Some(euid) = euid {
            return Ok(euid);
        }
    }
    let probe = std::env::temp_dir().join(format!(".ecom-uid-probe-{}", std::process::id()));
    File::create(&probe).map_err(io_error(|| format!("create {}", probe.display())))?;
    let uid = fs::metadata(&probe).map(|meta| meta.uid());
    let _ = fs::remove_file(&probe);
    uid.map_err(io_error(|| format!("stat {}", probe.display())))
}

/// The `nobody` account from `/etc/passwd`, else the conventional 65534.
pub(super) fn nobody() -> Account {
    let fallback = Account {
        uid: 65534,
        gid: 65534,
    };
    let Ok(passwd) = fs::read_to_string("/etc/passwd") else {
        return fallback;
    };
    passwd
        .lines()
        .find_map(|line| {
            let mut fields = line.split(':');
            if fields.next()? != "nobody" {
                return None;
            }
            let _password = fields.next()?;
            Some(Account {
                uid: fields.next()?.parse().ok()?,
                gid: fields.next()?.parse().ok()?,
            })
        })
        .unwrap_or(fallback)
}

/// Writes `contents` to `path` through a temporary file renamed over it, so a server
/// or client never reads half a file; with `mode`, and owned by `owner` if given.
pub(super) fn write_file(
    path: &Path,
    contents: &str,
    mode: u32,
    owner: Option<Account>,
) -> Result<(), DevError> {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(name);
    let result = (|| {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(mode)
            .open(&tmp)?;
        // The mode given at creation is masked by the umask, and an old file keeps
        // its own.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(contents.as_bytes())?;
        if let Some(account) = owner {
            std::os::unix::fs::fchown(&file, Some(account.uid), Some(account.gid))?;
        }
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io_error(|| format!("write {}", path.display())))
}

/// SIGKILL to `pid`; std has no kill(2) for arbitrary pids, and `libc` would need
/// `unsafe` for one call.
pub(super) fn kill(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// A port of 127.0.0.1 that is free now. Another process may take it before the
/// server binds it: [`super::PrivateCluster`] retries on "Address already in use".
pub(super) fn free_port() -> Result<u16, DevError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(io_error(|| "find a free TCP port on 127.0.0.1".into()))
}

pub(super) fn join_args(args: &[&std::ffi::OsStr]) -> String {
    args.iter()
        .map(|arg| arg.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn tail(text: &str, max: usize) -> String {
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_owned()
}
