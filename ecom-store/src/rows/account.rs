//! Rows of accounts: users, their addresses, and postal columns.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::prelude::*;

use super::value::{corrupt, parse_enum};
use crate::StoreError;
use crate::decode::PgTimestamp;
use crate::schema::{addresses, users};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    #[diesel(deserialize_as = PgTimestamp)]
    pub created_at: DateTime<Utc>,
    #[diesel(deserialize_as = PgTimestamp)]
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId::new(row.id),
            email: Email::parse(&row.email).map_err(|e| corrupt("email", e))?,
            name: PersonName::parse(&row.name).map_err(|e| corrupt("name", e))?,
            password_hash: PasswordHash::parse(&row.password_hash)
                .map_err(|e| corrupt("password hash", e))?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The postal columns shared by `addresses` and `order_addresses`.
pub(crate) fn postal(
    recipient: String,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postal_code: String,
    country: String,
) -> Result<PostalAddress, StoreError> {
    PostalAddress::parse(&RawAddress {
        recipient,
        line1,
        line2: line2.unwrap_or_default(),
        city,
        region: region.unwrap_or_default(),
        postal_code,
        country,
    })
    .map_err(|e| corrupt("address", e))
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = addresses, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AddressRow {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub is_default: bool,
    pub recipient: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
}

impl TryFrom<AddressRow> for Address {
    type Error = StoreError;
    fn try_from(row: AddressRow) -> Result<Self, StoreError> {
        Ok(Address {
            id: AddressId::new(row.id),
            user_id: UserId::new(row.user_id),
            kind: parse_enum("address kind", &row.kind)?,
            is_default: row.is_default,
            postal: postal(
                row.recipient,
                row.line1,
                row.line2,
                row.city,
                row.region,
                row.postal_code,
                row.country,
            )?,
        })
    }
}

/// The postal columns of a new `addresses` or `order_addresses` row.
#[derive(Debug, Clone)]
pub(crate) struct PostalColumns {
    pub recipient: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
}

impl From<&PostalAddress> for PostalColumns {
    fn from(a: &PostalAddress) -> Self {
        PostalColumns {
            recipient: a.recipient().as_str().to_owned(),
            line1: a.line1().to_owned(),
            line2: a.line2().map(str::to_owned),
            city: a.city().to_owned(),
            region: a.region().map(str::to_owned),
            postal_code: a.postal_code().to_owned(),
            country: a.country().as_str().to_owned(),
        }
    }
}

/// A new `users` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct NewUserRow<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
}

/// Changes to a user's profile columns; `None` leaves a column alone.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserChangeset<'a> {
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
}

impl<'a> From<&'a ProfileUpdate> for UserChangeset<'a> {
    fn from(update: &'a ProfileUpdate) -> Self {
        UserChangeset {
            email: update.email.as_ref().map(Email::as_str),
            name: update.name.as_ref().map(PersonName::as_str),
        }
    }
}

/// The postal columns of an `addresses` row, to insert or to replace whole: an
/// absent `line2` or `region` is written as NULL.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = addresses, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub(crate) struct AddressPostalRow<'a> {
    pub recipient: &'a str,
    pub line1: &'a str,
    pub line2: Option<&'a str>,
    pub city: &'a str,
    pub region: Option<&'a str>,
    pub postal_code: &'a str,
    pub country: String,
}

impl<'a> From<&'a PostalAddress> for AddressPostalRow<'a> {
    fn from(a: &'a PostalAddress) -> Self {
        AddressPostalRow {
            recipient: a.recipient().as_str(),
            line1: a.line1(),
            line2: a.line2(),
            city: a.city(),
            region: a.region(),
            postal_code: a.postal_code(),
            country: a.country().as_str().to_owned(),
        }
    }
}

/// A new `addresses` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = addresses, check_for_backend(diesel::pg::Pg))]
pub(crate) struct NewAddressRow<'a> {
    pub user_id: i64,
    pub kind: &'a str,
    pub is_default: bool,
    #[diesel(embed)]
    pub postal: AddressPostalRow<'a>,
}
