//! Rows as diesel reads and writes them, and their conversion to domain types.
//!
//! Reading a row back into the domain parses every value again: a row that a
//! client wrote around the store and that breaks a domain rule surfaces as
//! [`StoreError::Invalid`] instead of a half-valid value.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::prelude::*;
use rust_decimal::Decimal;

use crate::StoreError;
use crate::decode::{PgDecimal, PgTimestamp};
use crate::schema::{
    addresses, carts, categories, order_addresses, order_lines, order_status_history, orders,
    payment_events, payments, products, users,
};

/// A stored value that does not parse into its domain type.
pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid {
        constraint: None,
        message: format!("stored {what} is not valid: {err}"),
    }
}

/// Parses a stored enum name.
pub(crate) fn parse_enum<T: FromStr>(what: &str, raw: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    raw.parse().map_err(|e| corrupt(what, e))
}

/// Money from a stored amount and currency code.
pub(crate) fn money(amount: Decimal, currency: &str) -> Result<Money, StoreError> {
    let currency = Currency::from_code(currency).map_err(|e| corrupt("currency", e))?;
    Money::new(amount, currency).map_err(|e| corrupt("amount", e))
}

fn quantity(raw: i32) -> Result<Quantity, StoreError> {
    Quantity::new(i64::from(raw)).map_err(|e| corrupt("quantity", e))
}

fn non_negative(what: &str, raw: i32) -> Result<u32, StoreError> {
    u32::try_from(raw).map_err(|e| corrupt(what, e))
}

/// A stock level as the `integer` column it is stored in.
pub(crate) fn stock_column(value: u32) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|_| DomainError::StockOutOfRange(value).into())
}

/// A quantity as the `integer` column it is stored in (always fits: at most 999).
pub(crate) fn quantity_column(q: Quantity) -> i32 {
    i32::try_from(q.get()).unwrap_or(i32::MAX)
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = categories, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CategoryRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub slug: String,
    pub name: String,
}

impl TryFrom<CategoryRow> for Category {
    type Error = StoreError;
    fn try_from(row: CategoryRow) -> Result<Self, StoreError> {
        Ok(Category {
            id: CategoryId::new(row.id),
            parent_id: row.parent_id.map(CategoryId::new),
            slug: Slug::parse(&row.slug).map_err(|e| corrupt("slug", e))?,
            name: CategoryName::parse(&row.name).map_err(|e| corrupt("category name", e))?,
        })
    }
}

#[derive(Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ProductRow {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category_id: i64,
    #[diesel(deserialize_as = PgDecimal)]
    pub price: Decimal,
    pub currency: String,
    pub status: String,
    pub stock_on_hand: i32,
    #[diesel(deserialize_as = PgTimestamp)]
    pub created_at: DateTime<Utc>,
    #[diesel(deserialize_as = PgTimestamp)]
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<ProductRow> for Product {
    type Error = StoreError;
    fn try_from(row: ProductRow) -> Result<Self, StoreError> {
        Ok(Product {
            id: ProductId::new(row.id),
            sku: Sku::try_from(row.sku).map_err(|e| corrupt("sku", e))?,
            name: ProductName::try_from(row.name).map_err(|e| corrupt("product name", e))?,
            description: Description::try_from(row.description)
                .map_err(|e| corrupt("description", e))?,
            category_id: CategoryId::new(row.category_id),
            price: money(row.price, &row.currency)?,
            status: parse_enum("product status", &row.status)?,
            stock_on_hand: non_negative("stock", row.stock_on_hand)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

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
fn postal(
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

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = carts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CartRow {
    pub id: i64,
    pub user_id: Option<i64>,
    pub guest_token: Option<String>,
    pub currency: String,
    pub status: String,
}

impl CartRow {
    /// The cart with its lines (each `(product_id, quantity)`).
    pub fn into_cart(self, lines: Vec<(i64, i32)>) -> Result<Cart, StoreError> {
        let owner = match (self.user_id, self.guest_token) {
            (Some(user), _) => CartOwner::User(UserId::new(user)),
            (None, Some(token)) => {
                CartOwner::Guest(GuestToken::parse(&token).map_err(|e| corrupt("guest token", e))?)
            }
            (None, None) => return Err(corrupt("cart owner", "neither user nor guest")),
        };
        let mut lines = lines
            .into_iter()
            .map(|(product, q)| {
                Ok(CartLine {
                    product_id: ProductId::new(product),
                    quantity: quantity(q)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        lines.sort_by_key(|l| l.product_id);
        Ok(Cart {
            id: CartId::new(self.id),
            owner,
            currency: Currency::from_code(&self.currency).map_err(|e| corrupt("currency", e))?,
            status: parse_enum("cart status", &self.status)?,
            lines,
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
pub(crate) struct OrderRow {
    pub id: i64,
    pub user_id: Option<i64>,
    pub guest_email: Option<String>,
    pub cart_id: Option<i64>,
    pub currency: String,
    #[diesel(deserialize_as = PgDecimal)]
    pub subtotal: Decimal,
    #[diesel(deserialize_as = PgDecimal)]
    pub shipping: Decimal,
    #[diesel(deserialize_as = PgDecimal)]
    pub tax: Decimal,
    #[diesel(deserialize_as = PgDecimal)]
    pub grand_total: Decimal,
    pub status: String,
    #[diesel(deserialize_as = PgTimestamp)]
    pub payment_deadline: DateTime<Utc>,
    #[diesel(deserialize_as = PgTimestamp)]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = order_lines, check_for_backend(diesel::pg::Pg))]
pub(crate) struct OrderLineRow {
    pub line_no: i16,
    pub product_id: i64,
    pub sku: String,
    pub name: String,
    #[diesel(deserialize_as = PgDecimal)]
    pub unit_price: Decimal,
    pub quantity: i32,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = order_addresses, check_for_backend(diesel::pg::Pg))]
pub(crate) struct OrderAddressRow {
    pub kind: String,
    pub recipient: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    pub country: String,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = order_status_history, check_for_backend(diesel::pg::Pg))]
pub(crate) struct HistoryRow {
    pub from_status: Option<String>,
    pub to_status: String,
    pub event: String,
    pub note: Option<String>,
    #[diesel(deserialize_as = PgTimestamp)]
    pub at: DateTime<Utc>,
}

/// The `event` stored for the first history entry, written at checkout.
pub(crate) const CHECKOUT_EVENT: &str = "checkout";

impl OrderRow {
    /// The order with its lines, address snapshots and history.
    pub fn into_order(
        self,
        lines: Vec<OrderLineRow>,
        addresses: Vec<OrderAddressRow>,
        history: Vec<HistoryRow>,
    ) -> Result<Order, StoreError> {
        let customer = match (self.user_id, self.guest_email) {
            (Some(user), _) => Customer::User(UserId::new(user)),
            (None, Some(email)) => {
                Customer::Guest(Email::parse(&email).map_err(|e| corrupt("guest email", e))?)
            }
            (None, None) => return Err(corrupt("order customer", "neither user nor guest")),
        };
        let mut shipping_address = None;
        let mut billing_address = None;
        for a in addresses {
            let kind: AddressKind = parse_enum("address kind", &a.kind)?;
            let value = postal(
                a.recipient,
                a.line1,
                a.line2,
                a.city,
                a.region,
                a.postal_code,
                a.country,
            )?;
            match kind {
                AddressKind::Shipping => shipping_address = Some(value),
                AddressKind::Billing => billing_address = Some(value),
            }
        }
        let lines = lines
            .into_iter()
            .map(|l| {
                Ok(OrderLine {
                    line_no: u16::try_from(l.line_no).map_err(|e| corrupt("line number", e))?,
                    product_id: ProductId::new(l.product_id),
                    sku: Sku::parse(&l.sku).map_err(|e| corrupt("sku", e))?,
                    name: ProductName::parse(&l.name).map_err(|e| corrupt("product name", e))?,
                    unit_price: money(l.unit_price, &self.currency)?,
                    quantity: quantity(l.quantity)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let history = history
            .into_iter()
            .map(|h| {
                Ok(StatusChange {
                    from: h
                        .from_status
                        .as_deref()
                        .map(|s| parse_enum("order status", s))
                        .transpose()?,
                    to: parse_enum("order status", &h.to_status)?,
                    event: if h.event == CHECKOUT_EVENT {
                        None
                    } else {
                        Some(parse_enum("order event", &h.event)?)
                    },
                    note: h.note,
                    at: h.at,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let totals = Totals {
            subtotal: money(self.subtotal, &self.currency)?,
            shipping: money(self.shipping, &self.currency)?,
            tax: money(self.tax, &self.currency)?,
            grand_total: money(self.grand_total, &self.currency)?,
        };
        Ok(Order {
            id: OrderId::new(self.id),
            customer,
            cart_id: self.cart_id.map(CartId::new),
            currency: Currency::from_code(&self.currency).map_err(|e| corrupt("currency", e))?,
            lines,
            totals,
            shipping_address: shipping_address
                .ok_or_else(|| corrupt("order", "no shipping address"))?,
            billing_address: billing_address
                .ok_or_else(|| corrupt("order", "no billing address"))?,
            status: parse_enum("order status", &self.status)?,
            payment_deadline: self.payment_deadline,
            history,
            created_at: self.created_at,
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = payments, check_for_backend(diesel::pg::Pg))]
pub(crate) struct PaymentRow {
    pub id: i64,
    pub order_id: i64,
    pub provider: String,
    pub provider_ref: Option<String>,
    pub currency: String,
    #[diesel(deserialize_as = PgDecimal)]
    pub amount: Decimal,
    #[diesel(deserialize_as = PgDecimal)]
    pub authorized: Decimal,
    #[diesel(deserialize_as = PgDecimal)]
    pub captured: Decimal,
    #[diesel(deserialize_as = PgDecimal)]
    pub refunded: Decimal,
    pub status: String,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = payment_events, check_for_backend(diesel::pg::Pg))]
pub(crate) struct PaymentEventRow {
    pub payment_id: i64,
    pub kind: String,
    #[diesel(deserialize_as = PgDecimal)]
    pub amount: Decimal,
    pub idempotency_key: String,
    pub provider_event_id: Option<String>,
    pub reason: Option<String>,
}

// An authorization's provider reference is kept in its ledger row's
// `provider_event_id`, so that a replayed authorization compares equal.

impl PaymentRow {
    /// The payment with its ledger, oldest event first.
    pub fn into_payment(self, events: Vec<PaymentEventRow>) -> Result<Payment, StoreError> {
        let events = events
            .into_iter()
            .map(|e| {
                let amount = money(e.amount, &self.currency)?;
                let kind: PaymentActionKind = parse_enum("payment event kind", &e.kind)?;
                let reason = e
                    .reason
                    .map(Reason::try_from)
                    .transpose()
                    .map_err(|err| corrupt("reason", err))?;
                let action = match kind {
                    PaymentActionKind::Authorize => PaymentAction::Authorize {
                        amount,
                        provider_ref: e
                            .provider_event_id
                            .as_deref()
                            .map(ProviderRef::parse)
                            .transpose()
                            .map_err(|err| corrupt("provider reference", err))?,
                    },
                    PaymentActionKind::Capture => PaymentAction::Capture { amount },
                    PaymentActionKind::Void => PaymentAction::Void,
                    PaymentActionKind::Refund => PaymentAction::Refund { amount, reason },
                    PaymentActionKind::Fail => PaymentAction::Fail {
                        reason: reason.unwrap_or_default(),
                    },
                };
                let key = IdempotencyKey::parse(&e.idempotency_key)
                    .map_err(|err| corrupt("idempotency key", err))?;
                Ok(PaymentEvent { key, action })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Payment {
            id: PaymentId::new(self.id),
            order_id: OrderId::new(self.order_id),
            provider: ProviderName::parse(&self.provider).map_err(|e| corrupt("provider", e))?,
            provider_ref: self
                .provider_ref
                .as_deref()
                .map(ProviderRef::parse)
                .transpose()
                .map_err(|e| corrupt("provider reference", e))?,
            amount: money(self.amount, &self.currency)?,
            authorized: money(self.authorized, &self.currency)?,
            captured: money(self.captured, &self.currency)?,
            refunded: money(self.refunded, &self.currency)?,
            status: parse_enum("payment status", &self.status)?,
            events,
        })
    }
}

// ---------------------------------------------------------------------------
// Writes of the catalog and account aggregates: insert and changeset structs.
// They borrow from the domain values, so a write copies no text.
// ---------------------------------------------------------------------------

/// A new `categories` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = categories, check_for_backend(diesel::pg::Pg))]
pub(crate) struct NewCategoryRow<'a> {
    pub parent_id: Option<i64>,
    pub slug: &'a str,
    pub name: &'a str,
}

impl<'a> From<&'a NewCategory> for NewCategoryRow<'a> {
    fn from(new: &'a NewCategory) -> Self {
        NewCategoryRow {
            parent_id: new.parent_id.map(CategoryId::get),
            slug: new.slug.as_str(),
            name: new.name.as_str(),
        }
    }
}

/// A new `products` row; status and timestamps take the column defaults.
#[derive(Debug, Insertable)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub(crate) struct NewProductRow<'a> {
    pub sku: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub category_id: i64,
    #[diesel(deserialize_as = PgDecimal)]
    pub price: Decimal,
    pub currency: &'a str,
    pub stock_on_hand: i32,
}

impl<'a> NewProductRow<'a> {
    /// The row for `new`; a stock beyond the `integer` column is `StockOutOfRange`.
    pub fn new(new: &'a NewProduct) -> Result<Self, StoreError> {
        Ok(NewProductRow {
            sku: new.sku.as_str(),
            name: new.name.as_str(),
            description: new.description.as_str(),
            category_id: new.category_id.get(),
            price: new.price.amount(),
            currency: new.price.currency().code(),
            stock_on_hand: stock_column(new.stock_on_hand)?,
        })
    }
}

/// Changes to a product's descriptive columns; `None` leaves a column alone.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ProductChangeset<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub category_id: Option<i64>,
}

impl<'a> From<&'a ProductUpdate> for ProductChangeset<'a> {
    fn from(update: &'a ProductUpdate) -> Self {
        ProductChangeset {
            name: update.name.as_ref().map(ProductName::as_str),
            description: update.description.as_ref().map(Description::as_str),
            category_id: update.category_id.map(CategoryId::get),
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
