//! Rows of orders: the order, its lines, address snapshots and history.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ecom_domain::prelude::*;
use ecom_domain::promotion::AppliedPromotion;
use rust_decimal::Decimal;

use super::account::postal;
use super::value::{corrupt, from_json, money, parse_enum, quantity};
use crate::StoreError;
use crate::decode::{PgDecimal, PgTimestamp};
use crate::schema::{order_addresses, order_lines, order_status_history, order_tax_lines, orders};

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
    pub prices_include_tax: bool,
    pub shipping_method_code: Option<String>,
    pub shipping_method_name: Option<String>,
    pub shipping_net: Option<Decimal>,
    pub shipping_tax: Option<Decimal>,
    pub shipping_tax_rate_no: Option<i16>,
    #[diesel(deserialize_as = PgDecimal)]
    pub discount: Decimal,
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
    pub net: Option<Decimal>,
    pub tax: Option<Decimal>,
    pub tax_rate_no: Option<i16>,
    pub discount: Option<Decimal>,
}

/// One line of an order's tax summary.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = order_tax_lines, check_for_backend(diesel::pg::Pg))]
pub(crate) struct TaxLineRow {
    pub rate_no: i16,
    pub name: String,
    pub country: String,
    pub region: Option<String>,
    pub tax_class: String,
    #[diesel(deserialize_as = PgDecimal)]
    pub rate: Decimal,
    #[diesel(deserialize_as = PgDecimal)]
    pub taxable: Decimal,
    #[diesel(deserialize_as = PgDecimal)]
    pub tax: Decimal,
}

impl TaxLineRow {
    /// The rate the line is for, as the order keeps it.
    fn applied_rate(&self) -> Result<AppliedRate, StoreError> {
        Ok(AppliedRate {
            name: TaxRateName::parse(&self.name).map_err(|e| corrupt("tax rate name", e))?,
            country: CountryCode::parse(&self.country).map_err(|e| corrupt("tax country", e))?,
            region: self
                .region
                .as_deref()
                .map(RegionCode::parse)
                .transpose()
                .map_err(|e| corrupt("tax region", e))?,
            class: parse_enum("tax class", &self.tax_class)?,
            rate: self.rate.normalize(),
        })
    }
}

/// The rate numbered `no` among an order's tax lines.
fn rate_of(rates: &[(i16, AppliedRate)], no: i16) -> Result<AppliedRate, StoreError> {
    rates
        .iter()
        .find(|(n, _)| *n == no)
        .map(|(_, r)| r.clone())
        .ok_or_else(|| corrupt("order tax line", format!("no tax line {no}")))
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
    /// The order with its lines, address snapshots, history and tax lines.
    pub fn into_order(
        self,
        lines: Vec<OrderLineRow>,
        addresses: Vec<OrderAddressRow>,
        history: Vec<HistoryRow>,
        tax_lines: Vec<TaxLineRow>,
        promotions: Vec<AppliedPromotion>,
    ) -> Result<Order, StoreError> {
        let rates = rates_of(&tax_lines)?;
        let invoice = self.invoice(tax_lines, &rates, promotions)?;
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
        let lines = lines_of(lines, &self.currency, &rates)?;
        let history = history
            .into_iter()
            .map(HistoryRow::into_change)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let totals = Totals {
            subtotal: money(self.subtotal, &self.currency)?,
            discount: money(self.discount, &self.currency)?,
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
            invoice,
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

/// The rates an order's tax lines name, by rate number.
fn rates_of(tax_lines: &[TaxLineRow]) -> Result<Vec<(i16, AppliedRate)>, StoreError> {
    tax_lines
        .iter()
        .map(|t| Ok((t.rate_no, t.applied_rate()?)))
        .collect()
}

/// An order's lines as the domain sees them, in its `currency`, their rates
/// among `rates`.
fn lines_of(
    lines: Vec<OrderLineRow>,
    currency: &str,
    rates: &[(i16, AppliedRate)],
) -> Result<Vec<OrderLine>, StoreError> {
    lines
        .into_iter()
        .map(|l| l.into_line(currency, rates))
        .collect()
}

/// What an order's shipments and cancellations are checked against: its id,
/// status, currency and lines, without its addresses, history or invoice.
pub(crate) struct OrderHead {
    pub id: OrderId,
    pub status: OrderStatus,
    pub currency: Currency,
    pub lines: Vec<OrderLine>,
}

impl OrderRow {
    /// The order's head, its lines' rates read from its `tax_lines`.
    pub fn into_head(
        self,
        lines: Vec<OrderLineRow>,
        tax_lines: &[TaxLineRow],
    ) -> Result<OrderHead, StoreError> {
        let rates = rates_of(tax_lines)?;
        let lines = lines_of(lines, &self.currency, &rates)?;
        Ok(OrderHead {
            id: OrderId::new(self.id),
            status: parse_enum("order status", &self.status)?,
            currency: Currency::from_code(&self.currency).map_err(|e| corrupt("currency", e))?,
            lines,
        })
    }
}

impl OrderRow {
    /// The invoice of an order priced from the price book (one with a shipping
    /// method); `None` for the others.
    fn invoice(
        &self,
        tax_lines: Vec<TaxLineRow>,
        rates: &[(i16, AppliedRate)],
        promotions: Vec<AppliedPromotion>,
    ) -> Result<Option<Invoice>, StoreError> {
        let (Some(code), Some(name), Some(net), Some(tax)) = (
            &self.shipping_method_code,
            &self.shipping_method_name,
            self.shipping_net,
            self.shipping_tax,
        ) else {
            return Ok(None);
        };
        let currency = &self.currency;
        let shipping = QuotedShipping {
            code: Slug::parse(code).map_err(|e| corrupt("shipping method code", e))?,
            name: ShippingMethodName::try_from(name.clone())
                .map_err(|e| corrupt("shipping method name", e))?,
            amount: money(self.shipping, currency)?,
            net: money(net, currency)?,
            tax: money(tax, currency)?,
            rate: self
                .shipping_tax_rate_no
                .map(|no| rate_of(rates, no))
                .transpose()?,
        };
        let tax_lines = tax_lines
            .into_iter()
            .zip(rates)
            .map(|(row, (_, rate))| {
                Ok(TaxLine {
                    rate: rate.clone(),
                    taxable: money(row.taxable, currency)?,
                    tax: money(row.tax, currency)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(Invoice {
            prices_include_tax: self.prices_include_tax,
            shipping,
            tax_lines,
            promotions,
        }))
    }
}

impl OrderLineRow {
    /// The line as the domain sees it, its price in the order's `currency`, its
    /// rate one of the order's `rates`.
    fn into_line(
        self,
        currency: &str,
        rates: &[(i16, AppliedRate)],
    ) -> Result<OrderLine, StoreError> {
        let tax = match (self.net, self.tax) {
            (Some(net), Some(tax)) => Some(LineTax {
                discount: money(self.discount.unwrap_or_default(), currency)?,
                net: money(net, currency)?,
                tax: money(tax, currency)?,
                rate: self.tax_rate_no.map(|no| rate_of(rates, no)).transpose()?,
            }),
            _ => None,
        };
        Ok(OrderLine {
            line_no: u16::try_from(self.line_no).map_err(|e| corrupt("line number", e))?,
            variant_id: VariantId::new(self.variant_id),
            sku: Sku::parse(&self.sku).map_err(|e| corrupt("sku", e))?,
            name: ProductName::parse(&self.name).map_err(|e| corrupt("product name", e))?,
            selection: from_json("order line options", self.options)?,
            unit_price: money(self.unit_price, currency)?,
            quantity: quantity(self.quantity)?,
            tax,
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
