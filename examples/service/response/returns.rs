//! Returns as the back office and the order's customer see them.

use chrono::{DateTime, Utc};
use ecom_domain::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

use super::{MoneyView, one_of, order_status_schema};

pub(in crate::service) fn return_status_schema() -> Object {
    one_of(
        ReturnStatus::ALL.iter().map(|s| s.as_str()),
        "where the return is",
    )
}

pub(in crate::service) fn return_reason_schema() -> Object {
    one_of(
        ReturnReason::ALL.iter().map(|s| s.as_str()),
        "why the units come back",
    )
}

pub(in crate::service) fn item_condition_schema() -> Object {
    one_of(
        ItemCondition::ALL.iter().map(|s| s.as_str()),
        "the state the units arrived in: sellable units are restocked",
    )
}

/// Units of one order line in a return.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReturnLine)]
pub(in crate::service) struct ReturnLineView {
    /// The order line, from 1.
    line_no: u16,
    quantity: u32,
}

/// How a return's units arrived.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReturnReceipt)]
pub(in crate::service) struct ReturnReceiptView {
    /// The stock location that received them.
    location_id: i64,
    #[schema(schema_with = item_condition_schema)]
    condition: &'static str,
    /// Whether the units' share of the shipping charge was refunded too.
    refund_shipping: bool,
}

/// A return: units of an order coming back.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Return)]
pub(in crate::service) struct ReturnView {
    id: i64,
    #[schema(schema_with = return_status_schema)]
    status: &'static str,
    #[schema(schema_with = return_reason_schema)]
    reason: &'static str,
    /// The customer's words.
    #[schema(required = true)]
    note: Option<String>,
    lines: Vec<ReturnLineView>,
    /// How its units arrived, once received.
    #[schema(required = true)]
    receipt: Option<ReturnReceiptView>,
    /// What it gave back, once received: its units' share of what was paid.
    #[schema(required = true)]
    refunded: Option<MoneyView>,
    created_at: DateTime<Utc>,
}

impl From<&Return> for ReturnView {
    fn from(r: &Return) -> Self {
        Self {
            id: r.id.get(),
            status: r.status.as_str(),
            reason: r.reason.as_str(),
            note: r.note.as_ref().map(|n| n.as_str().to_owned()),
            lines: r
                .lines
                .iter()
                .map(|l| ReturnLineView {
                    line_no: l.line_no,
                    quantity: l.quantity.get(),
                })
                .collect(),
            receipt: r.receipt.map(|receipt| ReturnReceiptView {
                location_id: receipt.location.get(),
                condition: receipt.condition.as_str(),
                refund_shipping: receipt.refund_shipping,
            }),
            refunded: r.refunded.map(MoneyView::from),
            created_at: r.created_at,
        }
    }
}

/// An order's returns, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReturnList)]
pub(in crate::service) struct ReturnListView {
    returns: Vec<ReturnView>,
}

impl ReturnListView {
    pub(in crate::service) fn new(returns: &[Return]) -> Self {
        Self {
            returns: returns.iter().map(ReturnView::from).collect(),
        }
    }
}

/// A return received, and its order's status after its refund.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReturnReceived)]
pub(in crate::service) struct ReturnReceivedView {
    #[serde(rename = "return")]
    #[schema(rename = "return")]
    ret: ReturnView,
    #[schema(schema_with = order_status_schema)]
    order_status: &'static str,
    /// False when the return was received before with this receipt: nothing
    /// changed.
    changed: bool,
}

impl From<&ReturnReceived> for ReturnReceivedView {
    fn from(r: &ReturnReceived) -> Self {
        Self {
            ret: ReturnView::from(&r.ret),
            order_status: r.order_status.as_str(),
            changed: r.applied == Applied::Changed,
        }
    }
}
