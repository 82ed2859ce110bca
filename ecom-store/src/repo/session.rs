//! Sessions: a token for the client, its digest for the database.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Timestamptz;
use ecom_domain::prelude::*;

use crate::ops::session::caller;
use crate::rows::{CartRow, CartRowType};
use crate::schema::sessions;
use crate::sql::{Bind, CachedSql, keyed};
use crate::{PgStore, StoreError};

keyed! {
    /// A new session, kept prepared (see `crate::sql`): every guest starts with one.
    START_SESSION = "INSERT INTO sessions (token_digest, user_id, expires_at) \
     VALUES ($1, $2, now() + $3 * interval '1 second') RETURNING expires_at";
}

keyed! {
    /// A new guest's session and its open cart, kept prepared: every guest's first
    /// request runs it.
    START_GUEST_WITH_CART = "WITH s AS ( \
       INSERT INTO sessions (token_digest, user_id, expires_at) \
       VALUES ($1, NULL, now() + $2 * interval '1 second') \
       RETURNING token_digest, expires_at \
     ), c AS ( \
       INSERT INTO carts (user_id, guest_token_digest, currency) \
       SELECT NULL, token_digest, $3 FROM s \
       RETURNING id, public_id, user_id, guest_token_digest, currency, status \
     ) \
     SELECT s.expires_at, c.id, c.public_id, c.user_id, c.guest_token_digest, c.currency, c.status \
     FROM s, c";
}

impl PgStore {
    /// Starts a session for `user` (none: a guest) lasting the store's session
    /// lifetime, by the database's clock.
    fn start_session(&self, user: Option<UserId>) -> Result<Session, StoreError> {
        let token = SessionToken::generate();
        let expires_at = self.write(|conn| self.insert_session(conn, &token, user))?;
        Ok(Session {
            token,
            user,
            expires_at,
        })
    }

    /// A new guest's session and its empty cart, in one statement. The session is
    /// new, so it has no cart yet to find first.
    pub(super) fn start_guest_with_cart(
        &self,
        currency: Currency,
    ) -> Result<(Session, Cart), StoreError> {
        let token = SessionToken::generate();
        let binds = vec![
            Bind::Bytea(token.digest().as_bytes().to_vec()),
            Bind::BigInt(self.rules().session_lifetime.num_seconds()),
            Bind::Text(currency.code().to_owned()),
        ];
        let (expires_at, cart) = self.write_statement(|conn| {
            Ok(CachedSql::keyed::<START_GUEST_WITH_CART>(binds.clone())
                .typed::<(Timestamptz, CartRowType)>()
                .get_result::<(DateTime<Utc>, CartRow)>(conn)?)
        })?;
        let session = Session {
            token,
            user: None,
            expires_at,
        };
        // A new cart has no lines yet.
        Ok((session, cart.into_cart(Vec::new())?))
    }

    /// Inserts the session of `token` for `user` (none: a guest), lasting the store's
    /// session lifetime by the database's clock; returns when it ends.
    fn insert_session(
        &self,
        conn: &mut PgConnection,
        token: &SessionToken,
        user: Option<UserId>,
    ) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
        let binds = vec![
            Bind::NullableBytea(Some(token.digest().as_bytes().to_vec())),
            Bind::NullableBigInt(user.map(UserId::get)),
            Bind::BigInt(self.rules().session_lifetime.num_seconds()),
        ];
        Ok(CachedSql::keyed::<START_SESSION>(binds)
            .get_result::<Expiry>(conn)
            .map_err(|e| crate::error::missing(e.into(), "user", user.map_or(0, UserId::get)))?
            .expires_at)
    }
}

#[derive(QueryableByName)]
struct Expiry {
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    expires_at: chrono::DateTime<chrono::Utc>,
}

impl SessionRepository for PgStore {
    type Error = StoreError;

    fn start_guest_session(&self) -> Result<Session, StoreError> {
        self.start_session(None)
    }

    fn login(&self, email: &Email, password: &Password) -> Result<(Session, User), StoreError> {
        let user = self.authenticate(email, password)?;
        Ok((self.start_session(Some(user.id))?, user))
    }

    fn caller(&self, token: &SessionToken) -> Result<Caller, StoreError> {
        self.read(|conn| caller(conn, token))
    }

    fn end_session(&self, token: &SessionToken) -> Result<(), StoreError> {
        self.write(|conn| {
            diesel::update(
                sessions::table
                    .find(token.digest().as_bytes().as_slice())
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(diesel::dsl::now))
            .execute(conn)?;
            Ok(())
        })
    }

    fn end_sessions_of(&self, user: UserId) -> Result<u64, StoreError> {
        self.write(|conn| {
            let ended = diesel::update(
                sessions::table
                    .filter(sessions::user_id.eq(user.get()))
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(diesel::dsl::now))
            .execute(conn)?;
            Ok(ended as u64)
        })
    }
}
