//! The r2d2 connection pool, with session settings applied to every connection.

use std::time::Duration;

use diesel::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sql_types::Text;

use crate::{StoreConfig, StoreError};

/// A pool of PostgreSQL connections.
pub type PgPool = Pool<ConnectionManager<PgConnection>>;

/// A connection borrowed from a [`PgPool`]; returns to the pool on drop.
pub type PooledConn = PooledConnection<ConnectionManager<PgConnection>>;

/// Builds a pool for `config`. Connections are checked (`SELECT 1`) on check-out, so
/// a pool outlives a database restart: dead connections are replaced, and while the
/// server is down callers get [`StoreError::Unavailable`] after
/// `config.connection_timeout`.
///
/// Opens `config.pool_min_idle` connections before returning (none when it is 0), so
/// a wrong URL fails here rather than at the first request.
pub fn build_pool(config: &StoreConfig) -> Result<PgPool, StoreError> {
    let manager = ConnectionManager::<PgConnection>::new(&config.database_url);
    Pool::builder()
        .max_size(config.pool_max_size)
        .min_idle(Some(config.pool_min_idle))
        .connection_timeout(config.connection_timeout)
        .test_on_check_out(true)
        .connection_customizer(Box::new(SessionSettings::from_config(config)))
        .build(manager)
        .map_err(StoreError::from)
}

/// Borrows a connection, mapping a timeout to [`StoreError::Unavailable`].
pub fn get_conn(pool: &PgPool) -> Result<PooledConn, StoreError> {
    pool.get().map_err(StoreError::from)
}

/// Session defaults set on every new connection of the pool.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// `statement_timeout`; zero disables it.
    pub statement_timeout: Duration,
    /// `idle_in_transaction_session_timeout`; zero disables it.
    pub idle_in_transaction_timeout: Duration,
    /// `application_name`.
    pub application_name: String,
}

impl SessionSettings {
    /// The session part of `config`.
    pub fn from_config(config: &StoreConfig) -> Self {
        Self {
            statement_timeout: config.statement_timeout,
            idle_in_transaction_timeout: config.idle_in_transaction_timeout,
            application_name: config.application_name.clone(),
        }
    }

    /// Applies the settings to `conn` for the rest of its session.
    pub fn apply(&self, conn: &mut PgConnection) -> QueryResult<()> {
        // set_config takes bind parameters, so the application name needs no quoting.
        diesel::sql_query(
            "SELECT set_config('statement_timeout', $1, false), \
                    set_config('idle_in_transaction_session_timeout', $2, false), \
                    set_config('application_name', $3, false)",
        )
        .bind::<Text, _>(self.statement_timeout.as_millis().to_string())
        .bind::<Text, _>(self.idle_in_transaction_timeout.as_millis().to_string())
        .bind::<Text, _>(&self.application_name)
        .execute(conn)
        .map(drop)
    }
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}
