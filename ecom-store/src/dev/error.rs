//! What can go wrong with the private cluster, each naming what to do.

use std::io;
use std::path::PathBuf;

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

    /// No pgbouncer binary was found.
    #[error(
        "pgbouncer not found; looked at {searched}. Run scripts/pgbouncer, which unpacks \
         Debian's package (and the libraries it needs that the system lacks) under \
         target/pgbouncer without root; or install it: on Debian/Ubuntu `apt-get install \
         pgbouncer`, on macOS `brew install pgbouncer`; or set ECOM_PGBOUNCER to the binary"
    )]
    PgbouncerNotFound {
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
        "{path} cannot be traversed by nobody, whom the server runs as because this process \
         is root, so the server cannot reach its data directory below it; unset ECOM_PG_DIR \
         (the default directory is always one the server can reach) or point it elsewhere"
    )]
    NotTraversable {
        /// The first directory that blocks the way.
        path: PathBuf,
    },

    /// A directory on the way to the cluster sits in a world-writable directory (such
    /// as `/tmp`) but belongs to another user, who could change what is inside.
    #[error(
        "{path} belongs to uid {owner} but sits in a world-writable directory, so another \
         user may have made it; as root, the private cluster is not put below it. Remove it, \
         or set ECOM_PG_DIR to another directory"
    )]
    UnsafeDir {
        /// The directory.
        path: PathBuf,
        /// Its owner's uid.
        owner: u32,
    },

    /// Test databases are used as the application role, and it cannot log in.
    #[error(
        "the tests connect as the application role {role}, as a service does, but it cannot \
         log in on {server} ({message}); that server's user needs CREATEROLE (or to be a \
         superuser) to let it, and the server must admit {role} without a password. Or unset \
         DATABASE_URL: the private cluster is set up for this"
    )]
    AppRoleLogin {
        /// The application role (`ECOM_APP_ROLE`, else `ecom_app`).
        role: String,
        /// The server's URL, password hidden.
        server: String,
        /// What failed.
        message: String,
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

pub(super) fn io_error(action: impl FnOnce() -> String) -> impl FnOnce(io::Error) -> DevError {
    move |source| DevError::Io {
        action: action(),
        source,
    }
}

pub(super) fn db_error<E: std::fmt::Display>(
    action: impl FnOnce() -> String,
) -> impl FnOnce(E) -> DevError {
    move |err| DevError::Database {
        action: action(),
        message: err.to_string(),
    }
}
