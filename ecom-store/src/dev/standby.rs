//! Streaming standbys of the private cluster: start, promote, kill, remove.

use std::fs::{self};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::cluster::{PrivateCluster, Replication, SUPERUSER};
use super::conninfo::{conninfo_value, slot_name};
use super::error::{DevError, db_error, io_error};
use super::process::kill;

impl PrivateCluster {
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
        standby.port = 0;
        standby.start_on_a_free_port()?;
        self.follow(&standby, &name, mode)?;
        Ok(standby)
    }

    /// Makes this primary treat the standby named `name` as `mode` says, and waits
    /// (60 s at most) until it streams in that mode.
    fn follow(
        &self,
        standby: &PrivateCluster,
        name: &str,
        mode: Replication,
    ) -> Result<(), DevError> {
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
                    .bind::<Text, _>(name)
                    .sql(" AND state = 'streaming' AND sync_state = ")
                    .bind::<Text, _>(state)
                    .sql(")"),
            )
            .get_result(&mut conn)
            .map_err(db_error(|| "read pg_stat_replication".into()))?;
            if streaming {
                return Ok(());
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
    pub(super) fn drop_slot(&self, name: &str) -> Result<(), DevError> {
        self.execute(
            "postgres",
            &format!(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                 WHERE slot_name = '{name}'"
            ),
        )
    }
}
