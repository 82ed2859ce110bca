//! pgbouncer in transaction mode in front of a server, for tests and the bench: a
//! process of the caller's own, in a private directory, gone when dropped.
//!
//! The binary is `$ECOM_PGBOUNCER`, else Debian's package unpacked under
//! `<target dir>/pgbouncer/` by `scripts/pgbouncer` (no root needed), else
//! `pgbouncer` on `PATH` or in `/usr/sbin`. Like the private cluster it listens on
//! 127.0.0.1 only, on a port found free, and admits its users without a password
//! (`auth_type = trust`, with the users listed in its `auth_file`); it logs in to the
//! server as the same user, over TLS when the server offers it. As root it switches
//! to `nobody` (pgbouncer refuses to run as root), as the cluster's server does.
//!
//! The private directory (`ecom-pgbouncer-<pid>-<n>` in the temporary directory)
//! holds `pgbouncer.ini`, `users.txt` and `pgbouncer.log`.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::cluster::{PrivateCluster, SUPERUSER};
use super::error::{DevError, io_error};
use super::process::{Account, effective_uid, free_port, nobody, tail, write_file};

/// What pgbouncer prints once it listens.
const READY: &str = "process up";
/// What it prints when another process took its port first.
const PORT_TAKEN: &str = "Address already in use";

/// Keeps pgbouncer from outliving whoever started it: the shell reads its standard
/// input, a pipe from this process, and kills pgbouncer at end of file, which comes
/// when [`PgBouncer`] is dropped or this process dies (a test killed by a timeout
/// runs no `Drop`). A background job's standard input is `/dev/null` unless given
/// explicitly, hence fd 3. The shell exits with pgbouncer's status.
const WATCHDOG: &str = r#"exec 3<&0
"$0" "$1" 3<&- </dev/null &
pid=$!
(read -r _ <&3; kill -KILL "$pid" 2>/dev/null) &
watcher=$!
wait "$pid"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// How a [`PgBouncer`] is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgBouncerConfig {
    /// The server's host name or address (TCP; not a Unix socket).
    pub server_host: String,
    /// The server's port.
    pub server_port: u16,
    /// The users pgbouncer admits, without a password; it logs in to the server as
    /// the same user, without a password, so the server must trust them (the private
    /// cluster does).
    pub users: Vec<String>,
    /// Server connections per database and user (`default_pool_size`): the fan-in,
    /// whatever the number of clients.
    pub pool_size: u32,
}

impl PgBouncerConfig {
    /// In front of the private cluster `cluster`, admitting its superuser and the
    /// application role ([`crate::migrate::Roles::from_env`]), with 4 server
    /// connections per database and user.
    pub fn for_cluster(cluster: &PrivateCluster) -> Self {
        Self {
            server_host: "127.0.0.1".into(),
            server_port: cluster.port(),
            users: vec![SUPERUSER.into(), crate::migrate::Roles::from_env().app],
            pool_size: 4,
        }
    }

    /// In front of the server of `url` (`postgres://user@host:port/db...`, one host),
    /// admitting its user and the application role, with 4 server connections per
    /// database and user.
    ///
    /// ```
    /// let config = ecom_store::dev::PgBouncerConfig::in_front_of("postgres://ecom@127.0.0.1:6543/postgres?sslmode=require")?;
    /// assert_eq!((config.server_host.as_str(), config.server_port), ("127.0.0.1", 6543));
    /// assert_eq!(config.users[0], "ecom");
    /// # Ok::<(), ecom_store::dev::DevError>(())
    /// ```
    pub fn in_front_of(url: &str) -> Result<Self, DevError> {
        let unsupported = |why: &str| DevError::Database {
            action: format!(
                "put pgbouncer in front of {}",
                crate::config::redact_url(url)
            ),
            message: why.into(),
        };
        let rest = url
            .split_once("://")
            .map(|(_, rest)| rest)
            .ok_or_else(|| unsupported("not a postgres:// URL"))?;
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (userinfo.split(':').next(), hostport),
            None => (None, authority),
        };
        if hostport.contains(',') {
            return Err(unsupported("several hosts; give one"));
        }
        let (host, port) = match hostport.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']').unwrap_or((v6, ""));
                (host, after.strip_prefix(':'))
            }
            None => match hostport.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (hostport, None),
            },
        };
        if host.is_empty() || host.starts_with('%') {
            return Err(unsupported(
                "no TCP host (a Unix socket?); pgbouncer needs one",
            ));
        }
        let port = match port {
            None | Some("") => 5432,
            Some(port) => port
                .parse()
                .map_err(|_| unsupported(&format!("bad port {port:?}")))?,
        };
        let mut users: Vec<String> = user.into_iter().map(str::to_owned).collect();
        let app = crate::migrate::Roles::from_env().app;
        if !users.contains(&app) {
            users.push(app);
        }
        Ok(Self {
            server_host: host.into(),
            server_port: port,
            users,
            pool_size: 4,
        })
    }

    /// The same with `pool_size` server connections per database and user.
    pub fn pool_size(self, pool_size: u32) -> Self {
        Self { pool_size, ..self }
    }

    /// `pgbouncer.ini` of pgbouncer `version` for listening on `port`, with the auth
    /// file at `auth_file`, switching to user `run_as` if given.
    fn ini(
        &self,
        version: (u32, u32),
        port: u16,
        auth_file: &Path,
        run_as: Option<&str>,
    ) -> String {
        let mut extra = run_as.map_or_else(String::new, |user| format!("user = {user}\n"));
        if version >= (1, 21) {
            // Newer versions can track prepared statements in transaction mode (from
            // 1.22 by default); keep them as Debian bookworm's 1.18 and the tests'
            // expectations are: unable to.
            extra.push_str("max_prepared_statements = 0\n");
        }
        format!(
            "; Written by ecom_store::dev::PgBouncer; deleted when it stops.\n\
             [databases]\n\
             * = host={host} port={server_port}\n\
             \n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             pool_mode = transaction\n\
             default_pool_size = {pool_size}\n\
             max_client_conn = 1000\n\
             auth_type = trust\n\
             auth_file = {auth_file}\n\
             server_tls_sslmode = prefer\n\
             ; A server that refused a login is tried again after this many seconds\n\
             ; (default 15): a test should fail, not wait.\n\
             server_login_retry = 1\n\
             log_connections = 0\n\
             log_disconnections = 0\n\
             {extra}",
            host = self.server_host,
            server_port = self.server_port,
            pool_size = self.pool_size.max(1),
            auth_file = auth_file.display(),
        )
    }

    /// `users.txt`: every user with an empty password, quoted as pgbouncer wants.
    fn auth_file(&self) -> String {
        self.users
            .iter()
            .map(|user| format!("\"{}\" \"\"\n", user.replace('"', "\"\"")))
            .collect()
    }
}

/// A running pgbouncer in transaction mode; stopped, and its directory deleted, on
/// drop.
///
/// ```no_run
/// use ecom_store::dev::{PgBouncer, PgBouncerConfig, PrivateCluster};
/// let cluster = PrivateCluster::ensure()?;
/// let bouncer = PgBouncer::start(&PgBouncerConfig::for_cluster(&cluster))?;
/// println!("psql {}", bouncer.url_as("ecom", "postgres"));
/// # Ok::<(), ecom_store::dev::DevError>(())
/// ```
#[derive(Debug)]
pub struct PgBouncer {
    port: u16,
    dir: PathBuf,
    process: Process,
}

/// pgbouncer under its watchdog shell.
#[derive(Debug)]
struct Process {
    watchdog: Child,
    /// Closing it stops pgbouncer (see [`WATCHDOG`]).
    lifeline: Option<ChildStdin>,
}

impl PgBouncer {
    /// Starts pgbouncer for `config` and waits until it listens (at most 10 s).
    pub fn start(config: &PgBouncerConfig) -> Result<Self, DevError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let binary = binary()?;
        let version = version(&binary)?;
        let run_as = (effective_uid()? == 0).then(nobody);
        // A new directory of our own: one that exists (left by an earlier process with
        // our pid, or made by someone else in a shared /tmp) is never reused.
        let dir = loop {
            let dir = std::env::temp_dir().join(format!(
                "ecom-pgbouncer-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            match fs::create_dir(&dir) {
                Ok(()) => break dir,
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(err) => return Err(io_error(|| format!("create {}", dir.display()))(err)),
            }
        };
        let result = Self::start_in(&dir, &binary, version, config, run_as);
        if result.is_err() {
            let _ = fs::remove_dir_all(&dir);
        }
        result
    }

    fn start_in(
        dir: &Path,
        binary: &Path,
        version: (u32, u32),
        config: &PgBouncerConfig,
        run_as: Option<Account>,
    ) -> Result<Self, DevError> {
        use std::os::unix::fs::PermissionsExt;
        let auth_file = dir.join("users.txt");
        write_file(&auth_file, &config.auth_file(), 0o600, run_as)?;
        if let Some(account) = run_as {
            std::os::unix::fs::chown(dir, Some(account.uid), Some(account.gid))
                .map_err(io_error(|| format!("chown {} to nobody", dir.display())))?;
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_error(|| format!("chmod {}", dir.display())))?;
        const ATTEMPTS: u32 = 8;
        let ini = dir.join("pgbouncer.ini");
        let log_path = dir.join("pgbouncer.log");
        let mut attempt = 1;
        loop {
            let port = free_port()?;
            write_file(
                &ini,
                &config.ini(version, port, &auth_file, run_as.map(|_| "nobody")),
                0o600,
                run_as,
            )?;
            let log = File::create(&log_path)
                .map_err(io_error(|| format!("create {}", log_path.display())))?;
            let mut command = Command::new("sh");
            command
                .args(["-c", WATCHDOG])
                .arg(binary)
                .arg(&ini)
                .current_dir(dir)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(log);
            if let Some(libs) = library_path(binary) {
                command.env("LD_LIBRARY_PATH", libs);
            }
            let mut watchdog = command.spawn().map_err(io_error(|| {
                format!("run {} {}", binary.display(), ini.display())
            }))?;
            let lifeline = watchdog.stdin.take();
            let mut process = Process { watchdog, lifeline };
            match process.wait_until_up(&log_path, Duration::from_secs(10)) {
                Ok(()) => {
                    return Ok(Self {
                        port,
                        dir: dir.to_owned(),
                        process,
                    });
                }
                Err(err) => {
                    process.stop();
                    if attempt < ATTEMPTS && read_log(&log_path).contains(PORT_TAKEN) {
                        attempt += 1;
                    } else {
                        return Err(err);
                    }
                }
            }
        }
    }

    /// The port it listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `dbname` through this pgbouncer, as `role`.
    pub fn url_as(&self, role: &str, dbname: &str) -> String {
        format!(
            "postgres://{}@127.0.0.1:{}/{dbname}",
            super::conninfo::percent_encode(role.as_bytes()),
            self.port
        )
    }

    /// What pgbouncer logged so far.
    pub fn log(&self) -> String {
        read_log(&self.dir.join("pgbouncer.log"))
    }
}

impl Process {
    fn wait_until_up(&mut self, log_path: &Path, timeout: Duration) -> Result<(), DevError> {
        let deadline = Instant::now() + timeout;
        loop {
            let log = read_log(log_path);
            if log.contains(READY) {
                return Ok(());
            }
            let exited = self
                .watchdog
                .try_wait()
                .map_err(io_error(|| "wait for pgbouncer".into()))?;
            if exited.is_some() || Instant::now() >= deadline {
                return Err(DevError::Command {
                    command: format!("pgbouncer {}", log_path.with_extension("ini").display()),
                    status: exited.map_or_else(
                        || format!("not listening after {timeout:?}"),
                        |status| status.to_string(),
                    ),
                    output: tail(&log, 4000),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops pgbouncer and its watchdog and waits for them (at most 10 s).
    fn stop(&mut self) {
        drop(self.lifeline.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.watchdog.try_wait(), Ok(None)) {
            if Instant::now() >= deadline {
                let _ = self.watchdog.kill();
                let _ = self.watchdog.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        self.process.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn read_log(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    text
}

/// The pgbouncer binary: `$ECOM_PGBOUNCER`, else `<target dir>/pgbouncer/usr/sbin/pgbouncer`
/// (Debian's package unpacked by `scripts/pgbouncer`), else `pgbouncer` on `PATH`, else
/// `/usr/sbin/pgbouncer`.
pub fn binary() -> Result<PathBuf, DevError> {
    if let Some(path) = std::env::var_os("ECOM_PGBOUNCER").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(DevError::PgbouncerNotFound {
                searched: format!("ECOM_PGBOUNCER={} (no such file)", path.display()),
            })
        };
    }
    let unpacked = super::location::target_dir().join("pgbouncer/usr/sbin/pgbouncer");
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("pgbouncer"))
        .collect::<Vec<_>>();
    std::iter::once(unpacked.clone())
        .chain(on_path)
        .chain([PathBuf::from("/usr/sbin/pgbouncer")])
        .find(|path| path.is_file())
        .ok_or_else(|| DevError::PgbouncerNotFound {
            searched: format!("ECOM_PGBOUNCER, {}, PATH and /usr/sbin", unpacked.display()),
        })
}

/// The major and minor version of the pgbouncer at `binary` (`PgBouncer 1.18.0`).
fn version(binary: &Path) -> Result<(u32, u32), DevError> {
    let mut command = Command::new(binary);
    command.arg("--version").stdin(Stdio::null());
    if let Some(libs) = library_path(binary) {
        command.env("LD_LIBRARY_PATH", libs);
    }
    let line = format!("{} --version", binary.display());
    let output = command
        .output()
        .map_err(io_error(|| format!("run {line}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let parsed = stdout
        .lines()
        .next()
        .and_then(|first| first.strip_prefix("PgBouncer "))
        .and_then(|v| {
            let mut parts = v.trim().split('.').map(|n| n.parse::<u32>().ok());
            Some((parts.next()??, parts.next()??))
        });
    match parsed {
        Some(version) if output.status.success() => Ok(version),
        _ => Err(DevError::Command {
            command: line,
            status: output.status.to_string(),
            output: format!("{stdout}{}", String::from_utf8_lossy(&output.stderr)),
        }),
    }
}

/// For a binary unpacked from a Debian package, at `<root>/usr/sbin/pgbouncer`: the
/// library directories of `<root>` (`usr/lib/<triplet>`, `lib/<triplet>`), where the
/// libraries the system lacks were unpacked beside it, then the caller's own
/// `LD_LIBRARY_PATH`.
fn library_path(binary: &Path) -> Option<std::ffi::OsString> {
    let root = binary.parent()?.parent()?.parent()?;
    if root == Path::new("/") || binary.parent()?.file_name()? != "sbin" {
        return None;
    }
    let dirs: Vec<PathBuf> = ["usr/lib", "lib"]
        .iter()
        .flat_map(|lib| fs::read_dir(root.join(lib)).into_iter().flatten().flatten())
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_dir()
                && path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with("-linux-gnu"))
        })
        .collect();
    if dirs.is_empty() {
        return None;
    }
    let inherited = std::env::var_os("LD_LIBRARY_PATH").unwrap_or_default();
    std::env::join_paths(dirs.into_iter().chain(std::env::split_paths(&inherited))).ok()
}
