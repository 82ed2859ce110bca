//! The private cluster: where it lives, starting and stopping it, its databases.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use diesel::connection::SimpleConnection;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::binaries::bin_dir;
use super::conninfo::{percent_encode, quote_ident, same_path};
use super::error::{DevError, db_error, io_error};
use super::location::{blocking_dir, create_dir_for_server};
use super::process::{Account, effective_uid, free_port, join_args, nobody, tail};

/// The superuser of the private cluster.
pub const SUPERUSER: &str = "ecom";

/// The database [`database_url`] points at.
pub const DEFAULT_DATABASE: &str = "ecom";

/// Settings appended to `postgresql.conf`: fast and unsafe, fine for throwaway data.
pub(super) const SERVER_SETTINGS: &str = "
# Added by ecom_store::dev: a throwaway test cluster, durability off.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 128MB
lc_messages = 'C'
";

/// What the server logs when another process holds its port (`lc_messages` is C).
const PORT_TAKEN: &str = "Address already in use";

/// Appended to `postgresql.conf` once `server.crt` and `server.key` are in place; the
/// `ssl = on` line marks a cluster whose TLS set-up is complete.
pub(super) const TLS_SETTINGS: &str = "
# Added by ecom_store::dev: TLS with server.crt and server.key (the defaults of
# ssl_cert_file and ssl_key_file), signed by the cluster's own CA in ../tls/ca.crt.
# pg_hba.conf accepts TCP connections only as hostssl.
ssl = on
";

/// How a standby started by [`PrivateCluster::start_standby`] follows its primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replication {
    /// Every commit waits until the standby has it: no acknowledged commit is lost
    /// when the primary dies (RDS Multi-AZ).
    Synchronous,
    /// Commits do not wait: the standby may be behind, and a failover may lose the
    /// newest acknowledged commits (an RDS read replica).
    Asynchronous,
}

/// A PostgreSQL cluster in a directory of its own, managed by this module.
#[derive(Debug, Clone)]
pub struct PrivateCluster {
    pub(super) dir: PathBuf,
    pub(super) bin_dir: PathBuf,
    pub(super) port: u16,
    pub(super) run_as: Option<Account>,
}

impl PrivateCluster {
    /// Starts the cluster in [`PrivateCluster::default_dir`], creating it if needed, or
    /// reuses it if it is running.
    pub fn ensure() -> Result<Self, DevError> {
        Self::ensure_at(Self::default_dir())
    }

    /// Like [`PrivateCluster::ensure`], for a cluster in `dir`.
    pub fn ensure_at(dir: impl Into<PathBuf>) -> Result<Self, DevError> {
        let mut cluster = Self::at(dir)?;
        cluster.start()?;
        Ok(cluster)
    }

    /// The cluster in `dir`, whether it exists or runs or not; touches no server.
    pub fn at(dir: impl Into<PathBuf>) -> Result<Self, DevError> {
        let dir = std::path::absolute(dir.into()).map_err(io_error(|| "cluster dir".into()))?;
        let run_as = if effective_uid()? == 0 {
            create_dir_for_server(&dir, 0)?;
            Some(nobody())
        } else {
            fs::create_dir_all(&dir).map_err(io_error(|| format!("create {}", dir.display())))?;
            None
        };
        let mut cluster = Self {
            port: 0,
            bin_dir: bin_dir()?,
            dir,
            run_as,
        };
        cluster.port = cluster.read_port()?.unwrap_or(0);
        Ok(cluster)
    }

    /// `$ECOM_PG_DIR`, else `ecom-pg` in `$CARGO_TARGET_DIR` or the workspace's
    /// `target` directory; but when this process is root and `nobody`, whom the
    /// server then runs as, cannot reach that directory (a checkout under `/root`),
    /// `/var/tmp/ecom-dms-<hash of that directory>/ecom-pg`. The same checkout always
    /// gets the same directory, and two checkouts never share one. Clusters of a
    /// test's own go beside it (`default_dir().with_file_name("ecom-pg-soak")`).
    pub fn default_dir() -> PathBuf {
        super::location::default_dir()
    }

    /// The cluster directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of the PostgreSQL binaries in use (also holds `pg_dump`, `psql`).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The TCP port on 127.0.0.1; 0 before the cluster was first created.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server log.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// The URL of database `dbname` (which need not exist) as the superuser.
    pub fn url(&self, dbname: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{dbname}", self.port)
    }

    /// The URL of database `dbname` as the superuser, over TLS with the server's
    /// certificate checked against [`PrivateCluster::ca_cert_path`]
    /// (`sslmode=verify-full`), the way production connects to RDS.
    ///
    /// ```no_run
    /// let cluster = ecom_store::dev::PrivateCluster::ensure()?;
    /// let url = cluster.verified_url("postgres");
    /// assert!(url.starts_with("postgres://ecom@localhost:"));
    /// assert!(url.contains("?sslmode=verify-full&sslrootcert=/"));
    /// # Ok::<(), ecom_store::dev::DevError>(())
    /// ```
    pub fn verified_url(&self, dbname: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost:{}/{dbname}?sslmode=verify-full&sslrootcert={}",
            self.port,
            percent_encode(self.ca_cert_path().as_os_str().as_bytes())
        )
    }

    /// The CA certificate (PEM) that signed the server's certificate, readable by
    /// everyone: the `sslrootcert` of a client that verifies the server.
    pub fn ca_cert_path(&self) -> PathBuf {
        self.dir.join("tls").join("ca.crt")
    }

    pub(super) fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Whether this cluster's server answers on its port.
    pub fn is_running(&self) -> bool {
        // No live postmaster, no server: never wait on whatever else holds the port.
        self.port != 0 && self.postmaster().is_some() && self.answers()
    }

    /// Creates the cluster if needed and starts it unless it is running.
    pub fn start(&mut self) -> Result<(), DevError> {
        // Fast path, without the lock: many test processes start at once and almost
        // always find the server up.
        if self.is_running() && self.tls_ready() {
            return Ok(());
        }
        let _lock = self.lock()?;
        self.port = self.read_port()?.unwrap_or(0);
        if self.is_running() {
            if !self.tls_ready() {
                // A server started before the cluster had TLS: upgrade it in place,
                // without a restart that would cut off other processes' sessions.
                self.write_tls()?;
                self.reload_tls()?;
            }
            return Ok(());
        }
        if let Some((pid, port)) = self.postmaster() {
            // Our server runs but did not answer (it refused the connection, or is
            // still starting or shutting down): never start a second one beside it.
            return Err(DevError::Database {
                action: format!("connect to the running server (pid {pid}, port {port})"),
                message: format!(
                    "it did not accept a connection; see {}",
                    self.log_path().display()
                ),
            });
        }
        if !self.data_dir().join("PG_VERSION").exists() {
            self.init()?;
        }
        if !self.tls_ready() {
            self.write_tls()?;
        }
        let first = self.start_on_a_free_port();
        if first.is_err() && self.postmaster().is_none() {
            // A pid file left by a crash whose pid now belongs to another process
            // makes the postmaster refuse to start; remove it and try once more.
            // Never while the postmaster it names is alive: that server merely
            // refused our connection, and without its pid file nothing could stop it.
            let _ = fs::remove_file(self.data_dir().join("postmaster.pid"));
            self.start_on_a_free_port()?;
        } else {
            first?;
        }
        self.check_pg_trgm()
    }

    /// Stops the server (fast shutdown) if it runs. The cluster stays on disk.
    pub fn stop(&self) -> Result<(), DevError> {
        let _lock = self.lock()?;
        if !self.data_dir().join("postmaster.pid").exists() {
            return Ok(());
        }
        let data = self.data_dir();
        let result = self.run(
            "pg_ctl",
            &[
                "stop".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
            ],
            false,
        );
        match result {
            // "PID file ... does not exist" races are fine: stopped is stopped.
            Err(_) if !data.join("postmaster.pid").exists() => Ok(()),
            other => other,
        }
    }

    /// Creates database `dbname` unless it exists; returns its URL.
    pub fn create_database(&self, dbname: &str) -> Result<String, DevError> {
        let _lock = self.lock()?;
        let mut conn = PgConnection::establish(&self.url("postgres"))
            .map_err(db_error(|| format!("connect to {}", self.url("postgres"))))?;
        let exists: bool = diesel::select(
            sql::<Bool>("EXISTS (SELECT 1 FROM pg_database WHERE datname = ")
                .bind::<Text, _>(dbname)
                .sql(")"),
        )
        .get_result(&mut conn)
        .map_err(db_error(|| "look up database".into()))?;
        if !exists {
            diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(dbname)))
                .execute(&mut conn)
                .map_err(db_error(|| format!("create database {dbname}")))?;
        }
        Ok(self.url(dbname))
    }

    /// Whether a server on our port answers and is ours (another cluster may have
    /// taken the port while ours was stopped).
    pub(super) fn answers(&self) -> bool {
        // `options=` overrides PGOPTIONS, which could make a healthy server refuse us.
        let url = format!("{}?connect_timeout=5&options=", self.url("postgres"));
        let Ok(mut conn) = PgConnection::establish(&url) else {
            return false;
        };
        let Ok(data_directory) = diesel::select(sql::<Text>("current_setting('data_directory')"))
            .get_result::<String>(&mut conn)
        else {
            return false;
        };
        same_path(Path::new(&data_directory), &self.data_dir())
    }

    /// The pid and port of this cluster's postmaster, if its pid file names a live
    /// process.
    pub(super) fn postmaster(&self) -> Option<(u32, u16)> {
        let text = fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        let mut lines = text.lines();
        let pid: u32 = lines.next()?.trim().parse().ok()?;
        let port: u16 = lines.nth(2)?.trim().parse().ok()?;
        let alive = Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        // After a crash the pid may belong to another program by now.
        let postgres = fs::read_to_string(format!("/proc/{pid}/comm"))
            .map_or(true, |comm| comm.starts_with("postgres"));
        (alive && postgres).then_some((pid, port))
    }

    /// Makes `role` a role that may log in, creating it if missing (trust
    /// authentication: no password), as a service's role is in production. The
    /// migrations grant it its privileges, and create it only where it is missing.
    pub fn ensure_login_role(&self, role: &str) -> Result<(), DevError> {
        let _lock = self.lock()?;
        let mut conn = PgConnection::establish(&self.url("postgres"))
            .map_err(db_error(|| format!("connect to {}", self.url("postgres"))))?;
        let exists: bool = diesel::select(
            sql::<Bool>("EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ")
                .bind::<Text, _>(role)
                .sql(")"),
        )
        .get_result(&mut conn)
        .map_err(db_error(|| "look up role".into()))?;
        let statement = if exists { "ALTER" } else { "CREATE" };
        diesel::sql_query(format!("{statement} ROLE {} LOGIN", quote_ident(role)))
            .execute(&mut conn)
            .map_err(db_error(|| format!("make {role} a login role")))?;
        Ok(())
    }

    /// The URL of database `dbname` (which need not exist) as `role`.
    pub fn url_as(&self, role: &str, dbname: &str) -> String {
        format!(
            "postgres://{}@127.0.0.1:{}/{dbname}",
            percent_encode(role.as_bytes()),
            self.port
        )
    }

    /// Runs `sql` (one or more statements) as the superuser in `dbname`.
    pub fn execute(&self, dbname: &str, sql: &str) -> Result<(), DevError> {
        let mut conn = PgConnection::establish(&self.url(dbname))
            .map_err(db_error(|| format!("connect to {}", self.url(dbname))))?;
        conn.batch_execute(sql)
            .map_err(db_error(|| format!("run {sql}")))
    }

    pub(super) fn lock(&self) -> Result<File, DevError> {
        let path = self.dir.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error(|| format!("open {}", path.display())))?;
        file.lock()
            .map_err(io_error(|| format!("lock {}", path.display())))?;
        Ok(file)
    }

    pub(super) fn read_port(&self) -> Result<Option<u16>, DevError> {
        let path = self.dir.join("port");
        match fs::read_to_string(&path) {
            Ok(text) => Ok(text.trim().parse().ok()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(DevError::Io {
                action: format!("read {}", path.display()),
                source,
            }),
        }
    }

    pub(super) fn write_port(&self) -> Result<(), DevError> {
        let path = self.dir.join("port");
        fs::write(&path, format!("{}\n", self.port))
            .map_err(io_error(|| format!("write {}", path.display())))
    }

    pub(super) fn init(&self) -> Result<(), DevError> {
        let data = self.data_dir();
        if data.exists() {
            // A previous initdb died half-way.
            fs::remove_dir_all(&data).map_err(io_error(|| format!("remove {}", data.display())))?;
        }
        self.prepare_dirs()?;
        self.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                SUPERUSER.as_ref(),
                "--auth=trust".as_ref(),
                "--encoding=UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
                "--no-instructions".as_ref(),
            ],
            false,
        )?;
        let conf = data.join("postgresql.conf");
        OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut file| file.write_all(SERVER_SETTINGS.as_bytes()))
            .map_err(io_error(|| format!("append to {}", conf.display())))
    }

    /// An empty data directory (mode 0700) and server log, owned by the account the
    /// server runs as.
    pub(super) fn prepare_dirs(&self) -> Result<(), DevError> {
        let data = self.data_dir();
        fs::create_dir(&data).map_err(io_error(|| format!("create {}", data.display())))?;
        fs::set_permissions(&data, fs::Permissions::from_mode(0o700))
            .map_err(io_error(|| format!("chmod {}", data.display())))?;
        let log = self.log_path();
        File::create(&log).map_err(io_error(|| format!("create {}", log.display())))?;
        if let Some(account) = self.run_as {
            self.check_traversable(account)?;
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o755))
                .map_err(io_error(|| format!("chmod {}", self.dir.display())))?;
            for path in [&data, &log] {
                std::os::unix::fs::chown(path, Some(account.uid), Some(account.gid))
                    .map_err(io_error(|| format!("chown {} to nobody", path.display())))?;
            }
        }
        Ok(())
    }

    /// Starts the server on its port, or on a free one if it has none or its port is
    /// taken. PostgreSQL cannot be given port 0, so a port is found free first, and
    /// another process may take it before the server binds it: then the server
    /// fails with "Address already in use" and the start is tried on another port.
    pub(super) fn start_on_a_free_port(&mut self) -> Result<(), DevError> {
        const ATTEMPTS: u32 = 8;
        let mut attempt = 1;
        loop {
            if self.port == 0 {
                self.port = free_port()?;
                self.write_port()?;
            }
            let log_before = fs::metadata(self.log_path()).map_or(0, |meta| meta.len());
            match self.pg_ctl_start() {
                Err(_) if attempt < ATTEMPTS && self.log_since(log_before).contains(PORT_TAKEN) => {
                    self.port = 0;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// What the server log gained after its first `offset` bytes.
    fn log_since(&self, offset: u64) -> String {
        let mut text = String::new();
        if let Ok(mut log) = File::open(self.log_path()) {
            let _ = log.seek(SeekFrom::Start(offset));
            let _ = log.read_to_string(&mut text);
        }
        text
    }

    pub(super) fn pg_ctl_start(&self) -> Result<(), DevError> {
        let data = self.data_dir();
        let log = self.log_path();
        let port = format!("-p {}", self.port);
        self.run(
            "pg_ctl",
            &[
                "start".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                port.as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
            ],
            true,
        )
    }

    pub(super) fn check_pg_trgm(&self) -> Result<(), DevError> {
        let mut conn = PgConnection::establish(&self.url("postgres"))
            .map_err(db_error(|| format!("connect to {}", self.url("postgres"))))?;
        let available: bool = diesel::select(sql::<Bool>(
            "EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')",
        ))
        .get_result(&mut conn)
        .map_err(db_error(|| "look up pg_trgm".into()))?;
        if available {
            Ok(())
        } else {
            Err(DevError::MissingExtension {
                bin_dir: self.bin_dir.clone(),
            })
        }
    }

    /// Fails when the server's account cannot reach the cluster directory.
    pub(super) fn check_traversable(&self, account: Account) -> Result<(), DevError> {
        match blocking_dir(&self.dir, account) {
            Some(path) => Err(DevError::NotTraversable { path }),
            None => Ok(()),
        }
    }

    /// Runs a PostgreSQL program (as `nobody` when we are root) with its output in
    /// `command.log`: never a pipe of ours, because `pg_ctl start` leaves a daemon
    /// behind, and a daemon holding a test runner's pipe hangs whoever reads it to EOF.
    pub(super) fn run(
        &self,
        program: &str,
        args: &[&std::ffi::OsStr],
        daemon: bool,
    ) -> Result<(), DevError> {
        let log_path = self.dir.join("command.log");
        let mut log = OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&log_path)
            .map_err(io_error(|| format!("open {}", log_path.display())))?;
        let stderr = log
            .try_clone()
            .map_err(io_error(|| format!("dup {}", log_path.display())))?;
        let mut command = Command::new(self.bin_dir.join(program));
        command
            .args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.dir)
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .env_remove("PGHOST")
            .stdin(Stdio::null())
            .stdout(
                log.try_clone()
                    .map_err(io_error(|| "dup command.log".into()))?,
            )
            .stderr(stderr);
        if let Some(account) = self.run_as {
            command.uid(account.uid).gid(account.gid);
        }
        if daemon {
            // Its own process group: a Ctrl-C of the test run does not kill the
            // server, which would otherwise need crash recovery next time.
            command.process_group(0);
        }
        let line = format!("{program} {}", join_args(args));
        let status = command
            .status()
            .map_err(io_error(|| format!("run {line}")))?;
        if status.success() {
            return Ok(());
        }
        let mut output = String::new();
        let _ = log.seek(SeekFrom::Start(0));
        let _ = log.read_to_string(&mut output);
        let mut output = tail(&output, 4000);
        if daemon {
            let server_log = fs::read_to_string(self.log_path()).unwrap_or_default();
            output.push_str("\n--- server.log (tail) ---\n");
            output.push_str(&tail(&server_log, 4000));
        }
        Err(DevError::Command {
            command: line,
            status: status.to_string(),
            output,
        })
    }
}

/// The private cluster's `ecom` database as the application role (`ECOM_APP_ROLE`,
/// default `ecom_app`), made a login role: a service's `DATABASE_URL` in development,
/// beside [`database_url`], the owner's. Starts the cluster and creates the database
/// if needed.
pub fn app_database_url() -> Result<String, DevError> {
    let cluster = PrivateCluster::ensure()?;
    cluster.create_database(DEFAULT_DATABASE)?;
    let role = crate::migrate::Roles::from_env().app;
    cluster.ensure_login_role(&role)?;
    Ok(cluster.url_as(&role, DEFAULT_DATABASE))
}

/// [`DATABASE_URL`](std::env::var) if set; else the private cluster's `ecom` database
/// as its owner (the superuser), starting the cluster and creating the database if
/// needed.
pub fn database_url() -> Result<String, DevError> {
    if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        return Ok(url);
    }
    PrivateCluster::ensure()?.create_database(DEFAULT_DATABASE)
}
