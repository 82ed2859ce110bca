//! Cancellations of part of an order, as the back office and the order's
//! customer see them.

use chrono::{DateTime, Utc};
use ecom_domain::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::{MoneyView, order_status_schema};

/// Units of one order line cancelled, and the stock location they were released
/// at (none: the variant's own count).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CancelledUnits)]
pub(in crate::service) struct CancelledUnitsView {
    /// The order line, from 1.
    line_no: u16,
    #[schema(required = true)]
    location_id: Option<i64>,
    quantity: u32,
}

/// Units of an order cancelled before they shipped.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Cancellation)]
pub(in crate::service) struct CancellationView {
    id: i64,
    units: Vec<CancelledUnitsView>,
    /// Why, as the shop recorded it.
    #[schema(required = true)]
    reason: Option<String>,
    /// What it gave back: the units' share of what was paid, once the order was.
    refunded: MoneyView,
    /// What it took off the amount due of an order not paid yet (the provider's
    /// authorization is lowered to what is still due).
    released: MoneyView,
    created_at: DateTime<Utc>,
}

impl From<&Cancellation> for CancellationView {
    fn from(c: &Cancellation) -> Self {
        Self {
            id: c.id.get(),
            units: c
                .units
                .iter()
                .map(|u| CancelledUnitsView {
                    line_no: u.line_no,
                    location_id: u.location.map(StockLocationId::get),
                    quantity: u.quantity.get(),
                })
                .collect(),
            reason: c.reason.as_ref().map(|r| r.as_str().to_owned()),
            refunded: MoneyView::from(c.refunded),
            released: MoneyView::from(c.released),
            created_at: c.created_at,
        }
    }
}

/// An order's cancellations, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CancellationList)]
pub(in crate::service) struct CancellationListView {
    cancellations: Vec<CancellationView>,
}

impl CancellationListView {
    pub(in crate::service) fn new(cancellations: &[Cancellation]) -> Self {
        Self {
            cancellations: cancellations.iter().map(CancellationView::from).collect(),
        }
    }
}

/// Units cancelled, and the order's status after the refund and its shipments.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnitsCancelled)]
pub(in crate::service) struct UnitsCancelledView {
    cancellation: CancellationView,
    #[schema(schema_with = order_status_schema)]
    order_status: &'static str,
    /// False when the cancellation was made before with this key: nothing
    /// changed.
    changed: bool,
}

impl From<&UnitsCancelled> for UnitsCancelledView {
    fn from(c: &UnitsCancelled) -> Self {
        Self {
            cancellation: CancellationView::from(&c.cancellation),
            order_status: c.order_status.as_str(),
            changed: c.applied == Applied::Changed,
        }
    }
}
