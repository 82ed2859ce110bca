//! [`AccountRepository`] on PostgreSQL: users, credentials and address books.
//!
//! Password hashing and verifying (argon2id, tens of milliseconds at production
//! cost) always run outside a transaction, so no connection or lock is held
//! meanwhile.
//!
//! Every address write first locks its user's row (`FOR NO KEY UPDATE`), so that
//! writes to one address book run one after the other. That is what keeps exactly
//! one default per kind: two concurrent "make this the default" calls would
//! otherwise each clear the old default on their own snapshot and then collide on
//! `addresses_one_default_per_kind` (or, for a removal, promote an heir the other
//! has just deleted).

use diesel::dsl::{exists, max, now};
use diesel::prelude::*;
use diesel::sql_types::Text;

use ecom_domain::prelude::*;

use crate::error::taken;
use crate::rows::{
    AddressPostalRow, AddressRow, NewAddressRow, NewUserRow, UserChangeset, UserRow,
};
use crate::schema::{addresses, users};
use crate::{PgStore, StoreError};

#[diesel::declare_sql_function]
extern "SQL" {
    /// SQL `lower(text)`: e-mails are unique and looked up by their lower case
    /// (index `users_email_key`).
    fn lower(x: Text) -> Text;
}

fn not_found(entity: &'static str, id: impl ToString) -> StoreError {
    DomainError::not_found(entity, id).into()
}

fn user_row(conn: &mut PgConnection, id: UserId) -> Result<UserRow, StoreError> {
    users::table
        .find(id.get())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("user", id))
}

/// Locks the user's row until commit; false when there is no such user.
fn lock_user(conn: &mut PgConnection, id: UserId) -> Result<bool, StoreError> {
    Ok(users::table
        .find(id.get())
        .select(users::id)
        .for_no_key_update()
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

/// Locks the address book of `user` for a write to address `id`; a missing user
/// means the address is not found (it cannot be theirs).
fn lock_book(conn: &mut PgConnection, user: UserId, id: AddressId) -> Result<(), StoreError> {
    if lock_user(conn, user)? {
        Ok(())
    } else {
        Err(not_found("address", id))
    }
}

/// The user's address `id`, or "address not found" (also when it is someone else's).
fn own_address(
    conn: &mut PgConnection,
    user: UserId,
    id: AddressId,
) -> Result<AddressRow, StoreError> {
    addresses::table
        .find(id.get())
        .filter(addresses::user_id.eq(user.get()))
        .select(AddressRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("address", id))
}

/// Clears the default of `kind` in the user's book, except on `keep`. Must run
/// before a new default is set: the partial unique index is checked row by row.
fn clear_default(
    conn: &mut PgConnection,
    user: UserId,
    kind: AddressKind,
    keep: Option<AddressId>,
) -> Result<(), StoreError> {
    diesel::update(
        addresses::table
            .filter(addresses::user_id.eq(user.get()))
            .filter(addresses::kind.eq(kind.as_str()))
            .filter(addresses::is_default)
            .filter(addresses::id.ne(keep.map_or(0, AddressId::get))),
    )
    .set(addresses::is_default.eq(false))
    .execute(conn)?;
    Ok(())
}

impl PgStore {
    /// After a successful login: a hash made with weaker parameters than the current
    /// ones is replaced by one made with them, while the password is at hand. Best
    /// effort: the old hash still verifies, so a failure here does not fail the login.
    fn upgrade_hash(&self, user: User, password: &Password) -> User {
        let cost = self.rules().hash_cost;
        if !user.password_hash.needs_rehash(cost) {
            return user;
        }
        let Ok(hash) = PasswordHash::hash(password, cost) else {
            return user;
        };
        let upgraded = self.write(|conn| {
            // Compare-and-set: a password changed meanwhile wins.
            Ok(diesel::update(
                users::table
                    .find(user.id.get())
                    .filter(users::password_hash.eq(user.password_hash.as_str())),
            )
            .set(users::password_hash.eq(hash.as_str()))
            .execute(conn)?)
        });
        match upgraded {
            Ok(1) => User {
                password_hash: hash,
                ..user
            },
            _ => user,
        }
    }
}

impl AccountRepository for PgStore {
    type Error = StoreError;

    fn register(&self, new: NewUser) -> Result<User, StoreError> {
        let hash =
            PasswordHash::hash(&new.password, self.rules().hash_cost).map_err(DomainError::from)?;
        self.write(|conn| {
            let row = diesel::insert_into(users::table)
                .values(NewUserRow {
                    email: new.email.as_str(),
                    name: new.name.as_str(),
                    password_hash: hash.as_str(),
                })
                .returning(UserRow::as_returning())
                .get_result(conn)
                .map_err(|err| {
                    taken(
                        err.into(),
                        "users_email_key",
                        Taken::Email,
                        new.email.as_str(),
                    )
                })?;
            User::try_from(row)
        })
    }

    fn authenticate(&self, email: &Email, password: &Password) -> Result<User, StoreError> {
        let found = self.read(|conn| {
            users::table
                .filter(lower(users::email).eq(lower(email.as_str())))
                .select(UserRow::as_select())
                .first(conn)
                .optional()?
                .map(User::try_from)
                .transpose()
        })?;
        match found {
            Some(user) if user.password_hash.verify(password) => {
                Ok(self.upgrade_hash(user, password))
            }
            Some(_) => Err(DomainError::InvalidCredentials.into()),
            None => {
                // The same argon2 work as a wrong password, so timing tells nothing.
                PasswordHash::verify_unknown_user(password, self.rules().hash_cost);
                Err(DomainError::InvalidCredentials.into())
            }
        }
    }

    fn user(&self, id: UserId) -> Result<User, StoreError> {
        self.read(|conn| user_row(conn, id).and_then(User::try_from))
    }

    fn update_profile(&self, id: UserId, update: ProfileUpdate) -> Result<User, StoreError> {
        let changes = UserChangeset::from(&update);
        self.write(|conn| {
            let row = diesel::update(users::table.find(id.get()))
                .set((&changes, users::updated_at.eq(now)))
                .returning(UserRow::as_returning())
                .get_result(conn)
                .optional()
                .map_err(|err| {
                    let value = update.email.as_ref().map(Email::as_str).unwrap_or_default();
                    taken(err.into(), "users_email_key", Taken::Email, value)
                })?;
            row.ok_or_else(|| not_found("user", id))
                .and_then(User::try_from)
        })
    }

    fn change_password(
        &self,
        id: UserId,
        current: &Password,
        new: &Password,
    ) -> Result<(), StoreError> {
        let user = self.user(id)?;
        if !user.password_hash.verify(current) {
            return Err(DomainError::InvalidCredentials.into());
        }
        let hash = PasswordHash::hash(new, self.rules().hash_cost).map_err(DomainError::from)?;
        self.write(|conn| {
            // Compare-and-set on the hash that `current` was checked against: if the
            // password changed in between, `current` proved nothing.
            let changed = diesel::update(
                users::table
                    .find(id.get())
                    .filter(users::password_hash.eq(user.password_hash.as_str())),
            )
            .set((
                users::password_hash.eq(hash.as_str()),
                users::updated_at.eq(now),
            ))
            .execute(conn)?;
            if changed == 1 {
                return Ok(());
            }
            user_row(conn, id)?;
            Err(DomainError::ConcurrentUpdate {
                entity: "user",
                id: id.to_string(),
            }
            .into())
        })
    }

    fn add_address(&self, user: UserId, new: NewAddress) -> Result<Address, StoreError> {
        self.write(|conn| {
            if !lock_user(conn, user)? {
                return Err(not_found("user", user));
            }
            let has_default = diesel::select(exists(
                addresses::table
                    .filter(addresses::user_id.eq(user.get()))
                    .filter(addresses::kind.eq(new.kind.as_str()))
                    .filter(addresses::is_default),
            ))
            .get_result::<bool>(conn)?;
            let is_default = new.make_default || !has_default;
            if is_default && has_default {
                clear_default(conn, user, new.kind, None)?;
            }
            let row = diesel::insert_into(addresses::table)
                .values(NewAddressRow {
                    user_id: user.get(),
                    kind: new.kind.as_str(),
                    is_default,
                    postal: AddressPostalRow::from(&new.postal),
                })
                .returning(AddressRow::as_returning())
                .get_result(conn)?;
            Address::try_from(row)
        })
    }

    fn update_address(
        &self,
        user: UserId,
        id: AddressId,
        postal: PostalAddress,
    ) -> Result<Address, StoreError> {
        let changes = AddressPostalRow::from(&postal);
        self.write(|conn| {
            lock_book(conn, user, id)?;
            diesel::update(
                addresses::table
                    .find(id.get())
                    .filter(addresses::user_id.eq(user.get())),
            )
            .set(&changes)
            .returning(AddressRow::as_returning())
            .get_result(conn)
            .optional()?
            .ok_or_else(|| not_found("address", id))
            .and_then(Address::try_from)
        })
    }

    fn remove_address(&self, user: UserId, id: AddressId) -> Result<(), StoreError> {
        self.write(|conn| {
            lock_book(conn, user, id)?;
            let (kind, was_default) = diesel::delete(
                addresses::table
                    .find(id.get())
                    .filter(addresses::user_id.eq(user.get())),
            )
            .returning((addresses::kind, addresses::is_default))
            .get_result::<(String, bool)>(conn)
            .optional()?
            .ok_or_else(|| not_found("address", id))?;
            if was_default {
                // The newest remaining address of the kind inherits the default.
                let heir = addresses::table
                    .filter(addresses::user_id.eq(user.get()))
                    .filter(addresses::kind.eq(&kind))
                    .select(max(addresses::id))
                    .first::<Option<i64>>(conn)?;
                if let Some(heir) = heir {
                    diesel::update(addresses::table.find(heir))
                        .set(addresses::is_default.eq(true))
                        .execute(conn)?;
                }
            }
            Ok(())
        })
    }

    fn set_default_address(&self, user: UserId, id: AddressId) -> Result<Address, StoreError> {
        self.write(|conn| {
            lock_book(conn, user, id)?;
            let address = Address::try_from(own_address(conn, user, id)?)?;
            clear_default(conn, user, address.kind, Some(id))?;
            if address.is_default {
                return Ok(address);
            }
            diesel::update(addresses::table.find(id.get()))
                .set(addresses::is_default.eq(true))
                .returning(AddressRow::as_returning())
                .get_result(conn)
                .map_err(StoreError::from)
                .and_then(Address::try_from)
        })
    }

    fn addresses(&self, user: UserId) -> Result<Vec<Address>, StoreError> {
        self.read(|conn| {
            user_row(conn, user)?;
            addresses::table
                .filter(addresses::user_id.eq(user.get()))
                .order_by(addresses::id)
                .select(AddressRow::as_select())
                .load(conn)?
                .into_iter()
                .map(Address::try_from)
                .collect()
        })
    }
}
