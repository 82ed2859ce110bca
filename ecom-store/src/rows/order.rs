//! Rows of orders: the order, its lines, address snapshots and history.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::prelude::*;
use rust_decimal::Decimal;

use super::account::postal;
use super::value::{corrupt, from_json, money, parse_enum, quantity};
use crate::StoreError;
use crate::decode::{PgDecimal, PgTimestamp};
use crate::schema::{order_addresses, order_lines, order_status_history, orders};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
pub(crate) struct OrderRow {
    pub id: i64,
    pub public_id: uuid::Uuid,
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
    pub variant_id: i64,
    pub sku: String,
    pub name: String,
    pub options: serde_json::Value,
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
            .map(|l| l.into_line(&self.currency))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let history = history
            .into_iter()
            .map(HistoryRow::into_change)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let totals = Totals {
            subtotal: money(self.subtotal, &self.currency)?,
            shipping: money(self.shipping, &self.currency)?,
            tax: money(self.tax, &self.currency)?,
            grand_total: money(self.grand_total, &self.currency)?,
        };
        Ok(Order {
            id: OrderId::new(self.id),
            reference: OrderRef::new(self.public_id.as_u128()),
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

impl OrderLineRow {
    /// The line as the domain sees it, its price in the order's `currency`.
    fn into_line(self, currency: &str) -> Result<OrderLine, StoreError> {
        Ok(OrderLine {
            line_no: u16::try_from(self.line_no).map_err(|e| corrupt("line number", e))?,
            variant_id: VariantId::new(self.variant_id),
            sku: Sku::parse(&self.sku).map_err(|e| corrupt("sku", e))?,
            name: ProductName::parse(&self.name).map_err(|e| corrupt("product name", e))?,
            selection: from_json("order line options", self.options)?,
            unit_price: money(self.unit_price, currency)?,
            quantity: quantity(self.quantity)?,
        })
    }
}

impl HistoryRow {
    /// The entry as the domain sees it; checkout's first entry has no event.
    fn into_change(self) -> Result<StatusChange, StoreError> {
        Ok(StatusChange {
            from: self
                .from_status
                .as_deref()
                .map(|s| parse_enum("order status", s))
                .transpose()?,
            to: parse_enum("order status", &self.to_status)?,
            event: if self.event == CHECKOUT_EVENT {
                None
            } else {
                Some(parse_enum("order event", &self.event)?)
            },
            note: self.note,
            at: self.at,
        })
    }
}
