//! A private PostgreSQL cluster for tests, examples and CLIs, so that nothing but the
//! PostgreSQL binaries has to be installed (no service, no Docker, no sudo).
//!
//! The cluster lives in `<target dir>/ecom-pg/` (or `$ECOM_PG_DIR`), listens on
//! 127.0.0.1 only, on a port chosen when it is created, with trust authentication for
//! the superuser `ecom`. It keeps running between test runs; stop it with
//! `cargo run -p ecom-store --bin ecom-pg -- stop`.
//!
//! It speaks TCP only over TLS, as RDS does with `rds.force_ssl=1`: a client asking
//! for plaintext (`sslmode=disable`) is refused. The server's certificate, for
//! `localhost` and `127.0.0.1`, is signed by a CA of the cluster's own, made when the
//! cluster is created (or, for a cluster made before, at its next start);
//! [`PrivateCluster::verified_url`] connects with `sslmode=verify-full` against it.
//! [`PrivateCluster::url`] keeps libpq's default `sslmode=prefer`, which takes TLS
//! without checking the certificate.
//!
//! Layout of the cluster directory:
//!
//! | path | what |
//! | --- | --- |
//! | `lock` | file lock serialising start, stop and database creation across processes |
//! | `port` | the TCP port, chosen at `initdb` time and changed only if taken |
//! | `data/` | the data directory, with the server's `server.crt` and `server.key` |
//! | `tls/ca.crt` | the CA that signed `server.crt` ([`PrivateCluster::ca_cert_path`]); its key is not kept |
//! | `server.log` | the server's log |
//! | `command.log` | output of the last `initdb`/`pg_ctl` run, quoted in errors |
//!
//! PostgreSQL refuses to run as root. When this process is root, the server runs as
//! `nobody`, which owns `data/` and `server.log`; then every directory above the
//! cluster directory must be world-traversable (set `ECOM_PG_DIR` if it is not).
//!
//! ```no_run
//! let cluster = ecom_store::dev::PrivateCluster::ensure()?;
//! println!("psql {}", cluster.url("postgres"));
//! # Ok::<(), ecom_store::dev::DevError>(())
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use diesel::connection::SimpleConnection;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The superuser of the private cluster.
pub const SUPERUSER: &str = "ecom";

/// The database [`database_url`] points at.
pub const DEFAULT_DATABASE: &str = "ecom";

/// Settings appended to `postgresql.conf`: fast and unsafe, fine for throwaway data.
const SERVER_SETTINGS: &str = "
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

/// Appended to `postgresql.conf` once `server.crt` and `server.key` are in place; the
/// `ssl = on` line marks a cluster whose TLS set-up is complete.
const TLS_SETTINGS: &str = "
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

/// Why the private cluster could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevError {
    /// No PostgreSQL server binaries were found.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; looked at {searched}. \
         Install them: on Debian/Ubuntu `apt-get install postgresql postgresql-contrib` \
         (contrib provides pg_trgm), on macOS `brew install postgresql@15`; or set ECOM_PG_BIN \
         to the directory holding initdb, or DATABASE_URL to use an existing server"
    )]
    BinariesNotFound {
        /// Where we looked.
        searched: String,
    },

    /// The server has no pg_trgm extension, which the migrations need.
    #[error(
        "the PostgreSQL at {bin_dir} has no pg_trgm extension; install it: on Debian/Ubuntu \
         `apt-get install postgresql-contrib`, on macOS it comes with `brew install postgresql@15`"
    )]
    MissingExtension {
        /// The binaries' directory.
        bin_dir: PathBuf,
    },

    /// A file system operation failed.
    #[error("{action}: {source}")]
    Io {
        /// What we tried, with the path.
        action: String,
        /// The underlying error.
        source: io::Error,
    },

    /// `nobody` cannot reach the cluster directory (running as root).
    #[error(
        "{path} is not world-traversable, so the server (running as nobody because this process \
         is root) cannot reach its data directory; set ECOM_PG_DIR to a directory below one \
         that is (for example /tmp/ecom-pg)"
    )]
    NotTraversable {
        /// The first directory that blocks the way.
        path: PathBuf,
    },

    /// `initdb` or `pg_ctl` failed.
    #[error("`{command}` failed ({status}):\n{output}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// The tail of its output and, for a failed start, of the server log.
        output: String,
    },

    /// Making the cluster's TLS certificates failed.
    #[error("make the private cluster's TLS certificates: {0}")]
    Certificate(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// A query on the cluster failed.
    #[error("{action}: {message}")]
    Database {
        /// What we tried.
        action: String,
        /// The database's message.
        message: String,
    },
}

fn io_error(action: impl FnOnce() -> String) -> impl FnOnce(io::Error) -> DevError {
    move |source| DevError::Io {
        action: action(),
        source,
    }
}

fn db_error<E: std::fmt::Display>(action: impl FnOnce() -> String) -> impl FnOnce(E) -> DevError {
    move |err| DevError::Database {
        action: action(),
        message: err.to_string(),
    }
}

/// A PostgreSQL cluster in a directory of its own, managed by this module.
#[derive(Debug, Clone)]
pub struct PrivateCluster {
    dir: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    run_as: Option<Account>,
}

/// The unprivileged account the server runs as when we are root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Account {
    uid: u32,
    gid: u32,
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
        fs::create_dir_all(&dir).map_err(io_error(|| format!("create {}", dir.display())))?;
        let run_as = if effective_uid_is_root(&dir)? {
            Some(nobody())
        } else {
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

    /// `$ECOM_PG_DIR`, else `ecom-pg` in `$CARGO_TARGET_DIR`, else in the workspace's
    /// `target` directory.
    pub fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("ECOM_PG_DIR").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        let workspace = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
        let workspace = &fs::canonicalize(workspace).unwrap_or_else(|_| workspace.to_owned());
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .filter(|d| !d.is_empty())
            // A relative CARGO_TARGET_DIR is relative to where cargo ran; assume the
            // workspace root.
            .map_or_else(|| workspace.join("target"), |d| workspace.join(d));
        target.join("ecom-pg")
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

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Whether this cluster's server answers on its port.
    pub fn is_running(&self) -> bool {
        self.port != 0 && self.answers()
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
        if self.port == 0 || !port_is_free(self.port) {
            self.port = free_port()?;
            self.write_port()?;
        }
        let first = self.pg_ctl_start();
        if first.is_err() && self.postmaster().is_none() {
            // A pid file left by a crash whose pid now belongs to another process
            // makes the postmaster refuse to start; remove it and try once more.
            // Never while the postmaster it names is alive: that server merely
            // refused our connection, and without its pid file nothing could stop it.
            let _ = fs::remove_file(self.data_dir().join("postmaster.pid"));
            self.pg_ctl_start()?;
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
    fn answers(&self) -> bool {
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
    fn postmaster(&self) -> Option<(u32, u16)> {
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

    /// Creates a streaming standby of this running cluster in `dir` and starts it:
    /// `pg_basebackup -R` over a physical replication slot, so the primary keeps the
    /// WAL the standby has not received yet. With [`Replication::Synchronous`] this
    /// cluster then confirms a commit only once the standby has it (as RDS Multi-AZ
    /// does); with [`Replication::Asynchronous`] the standby may be behind.
    ///
    /// Anything already in `dir` is replaced.
    pub fn start_standby(
        &self,
        dir: impl Into<PathBuf>,
        mode: Replication,
    ) -> Result<PrivateCluster, DevError> {
        let mut standby = PrivateCluster::at(dir)?;
        let _lock = standby.lock()?;
        if let Some((pid, _)) = standby.postmaster() {
            kill(pid);
        }
        let data = standby.data_dir();
        if data.exists() {
            fs::remove_dir_all(&data).map_err(io_error(|| format!("remove {}", data.display())))?;
        }
        standby.prepare_dirs()?;
        let name = slot_name(&standby.dir);
        self.drop_slot(&name)?;
        // Replication verifies the primary too; `-R` keeps these settings in the
        // standby's primary_conninfo.
        let conninfo = format!(
            "host=127.0.0.1 port={} user={SUPERUSER} application_name={name} \
             sslmode=verify-full sslrootcert={}",
            self.port,
            conninfo_value(&self.ca_cert_path().to_string_lossy())
        );
        self.run(
            "pg_basebackup",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-R".as_ref(),
                "-X".as_ref(),
                "stream".as_ref(),
                "-C".as_ref(),
                "-S".as_ref(),
                name.as_ref(),
                "--no-sync".as_ref(),
                // A spread checkpoint would take minutes on an idle cluster.
                "--checkpoint=fast".as_ref(),
                "-d".as_ref(),
                conninfo.as_ref(),
            ],
            false,
        )?;
        fs::set_permissions(&data, fs::Permissions::from_mode(0o700))
            .map_err(io_error(|| format!("chmod {}", data.display())))?;
        // The base backup brought the primary's server.crt and server.key, so the
        // standby serves the same certificate, signed by the same CA.
        standby.copy_ca_from(self)?;
        standby.port = free_port()?;
        standby.write_port()?;
        standby.pg_ctl_start()?;
        let sync_names = match mode {
            Replication::Synchronous => format!("'\"{name}\"'"),
            Replication::Asynchronous => "''".into(),
        };
        // One statement each: ALTER SYSTEM refuses to run in a transaction block.
        for statement in [
            format!("ALTER SYSTEM SET synchronous_standby_names = {sync_names}"),
            "ALTER SYSTEM SET synchronous_commit = 'on'".into(),
            "SELECT pg_reload_conf()".into(),
        ] {
            self.execute("postgres", &statement)?;
        }
        let state = match mode {
            Replication::Synchronous => "sync",
            Replication::Asynchronous => "async",
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut conn = PgConnection::establish(&self.url("postgres"))
            .map_err(db_error(|| format!("connect to {}", self.url("postgres"))))?;
        loop {
            let streaming: bool = diesel::select(
                sql::<Bool>("EXISTS (SELECT 1 FROM pg_stat_replication WHERE application_name = ")
                    .bind::<Text, _>(&name)
                    .sql(" AND state = 'streaming' AND sync_state = ")
                    .bind::<Text, _>(state)
                    .sql(")"),
            )
            .get_result(&mut conn)
            .map_err(db_error(|| "read pg_stat_replication".into()))?;
            if streaming {
                return Ok(standby);
            }
            if std::time::Instant::now() > deadline {
                return Err(DevError::Database {
                    action: format!("wait for standby {name} to stream ({state})"),
                    message: format!(
                        "it did not within 60 s; see {}",
                        standby.log_path().display()
                    ),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Promotes this standby to a primary (`pg_ctl promote`), as a failover does.
    pub fn promote(&self) -> Result<(), DevError> {
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &[
                "promote".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
            ],
            false,
        )
    }

    /// Kills the postmaster with SIGKILL, as a crashed machine would stop: no
    /// shutdown checkpoint, clients cut off mid-transaction. Its backends notice
    /// and exit on their own shortly after.
    pub fn kill(&self) -> Result<(), DevError> {
        if let Some((pid, _)) = self.postmaster() {
            kill(pid);
        }
        Ok(())
    }

    /// Undoes [`PrivateCluster::start_standby`] on this primary: stops `standby`,
    /// drops its replication slot (which would otherwise keep every WAL segment
    /// from then on), restores the primary's commit settings and removes the
    /// standby's directory.
    pub fn remove_standby(&self, standby: PrivateCluster) -> Result<(), DevError> {
        standby.kill()?;
        let name = slot_name(&standby.dir);
        // The primary's WAL sender notices the standby is gone within moments; an
        // active slot cannot be dropped, so wait for it to let go.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match self.drop_slot(&name) {
                Ok(()) => break,
                Err(err) if std::time::Instant::now() >= deadline => return Err(err),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
        for statement in [
            "ALTER SYSTEM RESET synchronous_standby_names",
            "ALTER SYSTEM RESET synchronous_commit",
            "SELECT pg_reload_conf()",
        ] {
            self.execute("postgres", statement)?;
        }
        fs::remove_dir_all(&standby.dir)
            .map_err(io_error(|| format!("remove {}", standby.dir.display())))
    }

    /// Drops the replication slot `name` if there is one; fails while it is active.
    fn drop_slot(&self, name: &str) -> Result<(), DevError> {
        self.execute(
            "postgres",
            &format!(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                 WHERE slot_name = '{name}'"
            ),
        )
    }

    /// Runs `sql` (one or more statements) as the superuser in `dbname`.
    pub fn execute(&self, dbname: &str, sql: &str) -> Result<(), DevError> {
        let mut conn = PgConnection::establish(&self.url(dbname))
            .map_err(db_error(|| format!("connect to {}", self.url(dbname))))?;
        conn.batch_execute(sql)
            .map_err(db_error(|| format!("run {sql}")))
    }

    fn lock(&self) -> Result<File, DevError> {
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

    fn read_port(&self) -> Result<Option<u16>, DevError> {
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

    fn write_port(&self) -> Result<(), DevError> {
        let path = self.dir.join("port");
        fs::write(&path, format!("{}\n", self.port))
            .map_err(io_error(|| format!("write {}", path.display())))
    }

    fn init(&mut self) -> Result<(), DevError> {
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
            .map_err(io_error(|| format!("append to {}", conf.display())))?;
        self.port = free_port()?;
        self.write_port()
    }

    /// An empty data directory (mode 0700) and server log, owned by the account the
    /// server runs as.
    fn prepare_dirs(&self) -> Result<(), DevError> {
        let data = self.data_dir();
        fs::create_dir(&data).map_err(io_error(|| format!("create {}", data.display())))?;
        fs::set_permissions(&data, fs::Permissions::from_mode(0o700))
            .map_err(io_error(|| format!("chmod {}", data.display())))?;
        let log = self.log_path();
        File::create(&log).map_err(io_error(|| format!("create {}", log.display())))?;
        if let Some(account) = self.run_as {
            self.check_traversable()?;
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o755))
                .map_err(io_error(|| format!("chmod {}", self.dir.display())))?;
            for path in [&data, &log] {
                std::os::unix::fs::chown(path, Some(account.uid), Some(account.gid))
                    .map_err(io_error(|| format!("chown {} to nobody", path.display())))?;
            }
        }
        Ok(())
    }

    /// Whether the TLS files are in place and the settings name them: the last step
    /// of [`PrivateCluster::write_tls`] is the `ssl = on` line.
    fn tls_ready(&self) -> bool {
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
    fn write_tls(&self) -> Result<(), DevError> {
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
    fn reload_tls(&self) -> Result<(), DevError> {
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
    fn copy_ca_from(&self, primary: &PrivateCluster) -> Result<(), DevError> {
        let from = primary.ca_cert_path();
        let pem =
            fs::read_to_string(&from).map_err(io_error(|| format!("read {}", from.display())))?;
        let tls = self.dir.join("tls");
        fs::create_dir_all(&tls).map_err(io_error(|| format!("create {}", tls.display())))?;
        fs::set_permissions(&tls, fs::Permissions::from_mode(0o755))
            .map_err(io_error(|| format!("chmod {}", tls.display())))?;
        write_file(&self.ca_cert_path(), &pem, 0o644, None)
    }

    fn pg_ctl_start(&self) -> Result<(), DevError> {
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

    fn check_pg_trgm(&self) -> Result<(), DevError> {
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

    fn check_traversable(&self) -> Result<(), DevError> {
        for dir in self.dir.ancestors().skip(1) {
            let meta = fs::metadata(dir).map_err(io_error(|| format!("stat {}", dir.display())))?;
            if meta.mode() & 0o001 == 0 {
                return Err(DevError::NotTraversable {
                    path: dir.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// Runs a PostgreSQL program (as `nobody` when we are root) with its output in
    /// `command.log`: never a pipe of ours, because `pg_ctl start` leaves a daemon
    /// behind, and a daemon holding a test runner's pipe hangs whoever reads it to EOF.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr], daemon: bool) -> Result<(), DevError> {
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

/// [`DATABASE_URL`](std::env::var) if set; else the private cluster's `ecom` database,
/// starting the cluster and creating the database if needed.
pub fn database_url() -> Result<String, DevError> {
    if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        return Ok(url);
    }
    PrivateCluster::ensure()?.create_database(DEFAULT_DATABASE)
}

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

/// Whether files we create belong to root, i.e. our effective uid is 0. Std has no
/// `geteuid`, and `libc::geteuid` would need `unsafe` (forbidden here) while `nix`
/// is a large dependency for one call; the owner of a fresh file is exactly the
/// effective uid, on every Unix.
fn effective_uid_is_root(dir: &Path) -> Result<bool, DevError> {
    let probe = dir.join(format!(".uid-probe-{}", std::process::id()));
    File::create(&probe).map_err(io_error(|| format!("create {}", probe.display())))?;
    let uid = fs::metadata(&probe).map(|meta| meta.uid());
    let _ = fs::remove_file(&probe);
    Ok(uid.map_err(io_error(|| format!("stat {}", probe.display())))? == 0)
}

/// The `nobody` account from `/etc/passwd`, else the conventional 65534.
fn nobody() -> Account {
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

/// A CA's certificate and a server certificate it signed, in PEM.
struct Certificates {
    ca_cert: String,
    server_cert: String,
    server_key: String,
}

/// A new CA and a server certificate signed by it for `localhost` and `127.0.0.1`.
/// The CA's key is dropped: nothing signs with it again, and should the files go
/// missing a new CA replaces it.
fn make_certificates() -> Result<Certificates, rcgen::Error> {
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
fn hostssl_only(hba: &str) -> Option<String> {
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

/// Writes `contents` to `path` through a temporary file renamed over it, so a server
/// or client never reads half a file; with `mode`, and owned by `owner` if given.
fn write_file(
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

/// `bytes` percent-encoded for a URL's query value.
fn percent_encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `value` quoted for a libpq `key=value` connection string.
fn conninfo_value(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The replication slot (and `application_name`) of the standby in `dir`: `ecom_`
/// and a hash of the path, a valid identifier for any path.
fn slot_name(dir: &Path) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    dir.hash(&mut hasher);
    format!("ecom_{:016x}", hasher.finish())
}

/// SIGKILL to `pid`; std has no kill(2) for arbitrary pids, and `libc` would need
/// `unsafe` for one call.
fn kill(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

fn free_port() -> Result<u16, DevError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(io_error(|| "find a free TCP port on 127.0.0.1".into()))
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `name` as a double-quoted SQL identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn join_args(args: &[&std::ffi::OsStr]) -> String {
    args.iter()
        .map(|arg| arg.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

fn tail(text: &str, max: usize) -> String {
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    text[start..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_respects_char_boundaries() {
        assert_eq!(tail("héllo", 4), "llo");
        assert_eq!(tail("ab", 10), "ab");
    }

    #[test]
    fn every_tcp_entry_becomes_hostssl() {
        let hba = "# TYPE  DATABASE  USER  ADDRESS  METHOD\n\
                   local   all       all            trust\n\
                   host    all       all   127.0.0.1/32  trust\n\
                   \thostnossl replication all ::1/128 trust\n";
        assert_eq!(
            hostssl_only(hba).as_deref(),
            Some(
                "# TYPE  DATABASE  USER  ADDRESS  METHOD\n\
                 local   all       all            trust\n\
                 hostssl    all       all   127.0.0.1/32  trust\n\
                 \thostssl replication all ::1/128 trust\n"
            )
        );
        assert_eq!(hostssl_only("hostssl all all 127.0.0.1/32 trust\n"), None);
    }

    #[test]
    fn conninfo_values_and_url_values_are_escaped() {
        assert_eq!(conninfo_value(r"/a b/it's\x"), r"'/a b/it\'s\\x'");
        assert_eq!(percent_encode(b"/t/a b&c=%.pem"), "/t/a%20b%26c%3D%25.pem");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
