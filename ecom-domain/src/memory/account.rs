//! Users and their address books in the reference store.

use chrono::Utc;

use crate::account::{Address, NewAddress, NewUser, ProfileUpdate, User};
use crate::error::DomainError;
use crate::ids::{AddressId, UserId};
use crate::password::{Password, PasswordHash};
use crate::repo::AccountRepository;
use crate::values::{Email, PostalAddress};

use super::MemoryStore;

impl AccountRepository for MemoryStore {
    type Error = DomainError;

    fn register(&self, new: NewUser) -> Result<User, DomainError> {
        // Hash outside the lock: it is the slow part.
        let hash = PasswordHash::hash(&new.password, self.rules.hash_cost)?;
        self.atomically(|s| {
            s.email_taken(&new.email, None)?;
            let now = Utc::now();
            let user = User {
                id: s.next(),
                email: new.email,
                name: new.name,
                password_hash: hash,
                created_at: now,
                updated_at: now,
            };
            s.users.insert(user.id, user.clone());
            Ok(user)
        })
    }

    fn authenticate(&self, email: &Email, password: &Password) -> Result<User, DomainError> {
        let found = self.read(|s| Ok(s.users.values().find(|u| u.email == *email).cloned()))?;
        match found {
            Some(user) if user.password_hash.verify(password) => {
                // A hash made with weaker parameters is upgraded while the password
                // is at hand.
                if !user.password_hash.needs_rehash(self.rules.hash_cost) {
                    return Ok(user);
                }
                let hash = PasswordHash::hash(password, self.rules.hash_cost)?;
                self.atomically(|s| {
                    let stored = s
                        .users
                        .get_mut(&user.id)
                        .ok_or_else(|| DomainError::not_found("user", user.id))?;
                    if stored.password_hash == user.password_hash {
                        stored.password_hash = hash;
                    }
                    Ok(stored.clone())
                })
            }
            Some(_) => Err(DomainError::InvalidCredentials),
            None => {
                PasswordHash::verify_unknown_user(password, self.rules.hash_cost);
                Err(DomainError::InvalidCredentials)
            }
        }
    }

    fn user(&self, id: UserId) -> Result<User, DomainError> {
        self.read(|s| s.user(id).cloned())
    }

    fn update_profile(&self, id: UserId, update: ProfileUpdate) -> Result<User, DomainError> {
        self.atomically(|s| {
            s.user(id)?;
            if let Some(email) = &update.email {
                s.email_taken(email, Some(id))?;
            }
            let user = s
                .users
                .get_mut(&id)
                .ok_or_else(|| DomainError::not_found("user", id))?;
            if let Some(email) = update.email {
                user.email = email;
            }
            if let Some(name) = update.name {
                user.name = name;
            }
            user.updated_at = Utc::now();
            Ok(user.clone())
        })
    }

    fn change_password(
        &self,
        id: UserId,
        current: &Password,
        new: &Password,
    ) -> Result<(), DomainError> {
        let user = self.user(id)?;
        if !user.password_hash.verify(current) {
            return Err(DomainError::InvalidCredentials);
        }
        let hash = PasswordHash::hash(new, self.rules.hash_cost)?;
        self.atomically(|s| {
            let user = s
                .users
                .get_mut(&id)
                .ok_or_else(|| DomainError::not_found("user", id))?;
            user.password_hash = hash;
            user.updated_at = Utc::now();
            Ok(())
        })
    }

    fn add_address(&self, user: UserId, new: NewAddress) -> Result<Address, DomainError> {
        self.atomically(|s| {
            s.user(user)?;
            let has_default = s
                .addresses
                .values()
                .any(|a| a.user_id == user && a.kind == new.kind && a.is_default);
            let is_default = new.make_default || !has_default;
            if is_default {
                for a in s
                    .addresses
                    .values_mut()
                    .filter(|a| a.user_id == user && a.kind == new.kind)
                {
                    a.is_default = false;
                }
            }
            let address = Address {
                id: s.next(),
                user_id: user,
                kind: new.kind,
                is_default,
                postal: new.postal,
            };
            s.addresses.insert(address.id, address.clone());
            Ok(address)
        })
    }

    fn update_address(
        &self,
        user: UserId,
        id: AddressId,
        postal: PostalAddress,
    ) -> Result<Address, DomainError> {
        self.atomically(|s| {
            s.address(user, id)?;
            let address = s
                .addresses
                .get_mut(&id)
                .ok_or_else(|| DomainError::not_found("address", id))?;
            address.postal = postal;
            Ok(address.clone())
        })
    }

    fn remove_address(&self, user: UserId, id: AddressId) -> Result<(), DomainError> {
        self.atomically(|s| {
            let removed = s.address(user, id)?.clone();
            s.addresses.remove(&id);
            if removed.is_default {
                let heir = s
                    .addresses
                    .values_mut()
                    .rev()
                    .find(|a| a.user_id == user && a.kind == removed.kind);
                if let Some(heir) = heir {
                    heir.is_default = true;
                }
            }
            Ok(())
        })
    }

    fn set_default_address(&self, user: UserId, id: AddressId) -> Result<Address, DomainError> {
        self.atomically(|s| {
            let kind = s.address(user, id)?.kind;
            for a in s
                .addresses
                .values_mut()
                .filter(|a| a.user_id == user && a.kind == kind)
            {
                a.is_default = a.id == id;
            }
            Ok(s.address(user, id)?.clone())
        })
    }

    fn addresses(&self, user: UserId) -> Result<Vec<Address>, DomainError> {
        self.read(|s| {
            s.user(user)?;
            Ok(s.addresses
                .values()
                .filter(|a| a.user_id == user)
                .cloned()
                .collect())
        })
    }
}
