//! Accounts: users and their addresses.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AddressId, UserId};
use crate::password::{Password, PasswordHash};
use crate::values::{Email, PersonName, PostalAddress};

/// A registered customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Login and contact address, unique case-insensitively.
    pub email: Email,
    /// Display name.
    pub name: PersonName,
    /// argon2id hash of the password.
    pub password_hash: PasswordHash,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What it takes to register.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login e-mail.
    pub email: Email,
    /// Display name.
    pub name: PersonName,
    /// The chosen password (hashed before it is stored).
    pub password: Password,
}

/// Profile changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    /// New e-mail (must stay unique).
    pub email: Option<Email>,
    /// New display name.
    pub name: Option<PersonName>,
}

/// What an address is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    /// Where parcels go.
    Shipping,
    /// Where invoices go.
    Billing,
}

crate::text_enum!(AddressKind { Shipping = "shipping", Billing = "billing" });

/// An address in a user's address book. Each user has at most one default per kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Its id.
    pub id: AddressId,
    /// Its owner.
    pub user_id: UserId,
    /// Shipping or billing.
    pub kind: AddressKind,
    /// True for the one default of its kind.
    pub is_default: bool,
    /// The postal address.
    pub postal: PostalAddress,
}

/// What it takes to add an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAddress {
    /// Shipping or billing.
    pub kind: AddressKind,
    /// The postal address.
    pub postal: PostalAddress,
    /// Make it the default of its kind (the first address of a kind always is).
    pub make_default: bool,
}
