//! Shipments as the back office and the order's customer see them.

use chrono::{DateTime, Utc};
use ecom_domain::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

use super::{one_of, order_status_schema};

pub(in crate::service) fn shipment_status_schema() -> Object {
    one_of(
        ShipmentStatus::ALL.iter().map(|s| s.as_str()),
        "where the shipment is",
    )
}

/// Units of one order line in a shipment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShipmentLine)]
pub(in crate::service) struct ShipmentLineView {
    /// The order line, from 1.
    line_no: u16,
    quantity: u32,
}

/// A shipment: units of an order leaving one stock location together.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Shipment)]
pub(in crate::service) struct ShipmentView {
    id: i64,
    /// The stock location its units leave from.
    location_id: i64,
    #[schema(schema_with = shipment_status_schema)]
    status: &'static str,
    lines: Vec<ShipmentLineView>,
    #[schema(required = true)]
    carrier: Option<String>,
    #[schema(required = true)]
    tracking_number: Option<String>,
    /// Where the parcel is followed: an https URL.
    #[schema(required = true)]
    tracking_url: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<&Shipment> for ShipmentView {
    fn from(s: &Shipment) -> Self {
        Self {
            id: s.id.get(),
            location_id: s.location.get(),
            status: s.status.as_str(),
            lines: s
                .lines
                .iter()
                .map(|l| ShipmentLineView {
                    line_no: l.line_no,
                    quantity: l.quantity.get(),
                })
                .collect(),
            carrier: s.tracking.carrier.as_ref().map(|c| c.as_str().to_owned()),
            tracking_number: s.tracking.number.as_ref().map(|n| n.as_str().to_owned()),
            tracking_url: s.tracking.url.as_ref().map(|u| u.as_str().to_owned()),
            created_at: s.created_at,
        }
    }
}

/// An order's shipments, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShipmentList)]
pub(in crate::service) struct ShipmentListView {
    shipments: Vec<ShipmentView>,
}

impl ShipmentListView {
    pub(in crate::service) fn new(shipments: &[Shipment]) -> Self {
        Self {
            shipments: shipments.iter().map(ShipmentView::from).collect(),
        }
    }
}

/// A shipment after a change, and its order's status after the order followed it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShipmentChange)]
pub(in crate::service) struct ShipmentChangeView {
    shipment: ShipmentView,
    #[schema(schema_with = order_status_schema)]
    order_status: &'static str,
}

impl From<&ShipmentChange> for ShipmentChangeView {
    fn from(c: &ShipmentChange) -> Self {
        Self {
            shipment: ShipmentView::from(&c.shipment),
            order_status: c.order_status.as_str(),
        }
    }
}

/// A stock location: a warehouse or a shop stock is kept at.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StockLocation)]
pub(in crate::service) struct StockLocationView {
    id: i64,
    name: String,
    /// ISO 3166-1 alpha-2: the country it ships from.
    country: String,
    /// Lower is drawn from first.
    priority: i32,
}

impl From<&StockLocation> for StockLocationView {
    fn from(l: &StockLocation) -> Self {
        Self {
            id: l.id.get(),
            name: l.name.as_str().to_owned(),
            country: l.country.as_str().to_owned(),
            priority: l.priority,
        }
    }
}

/// Every stock location, by priority then id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StockLocationList)]
pub(in crate::service) struct StockLocationListView {
    locations: Vec<StockLocationView>,
}

impl StockLocationListView {
    pub(in crate::service) fn new(locations: &[StockLocation]) -> Self {
        Self {
            locations: locations.iter().map(StockLocationView::from).collect(),
        }
    }
}

/// A variant's stock at one location.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InventoryLevel)]
pub(in crate::service) struct InventoryLevelView {
    location_id: i64,
    variant_id: i64,
    on_hand: u32,
    /// Held for orders not yet shipped.
    reserved: u32,
    /// Never promised.
    safety_stock: u32,
    /// On hand − reserved − safety stock: what checkout may reserve.
    available: u32,
}

impl From<&InventoryLevel> for InventoryLevelView {
    fn from(l: &InventoryLevel) -> Self {
        Self {
            location_id: l.location.get(),
            variant_id: l.variant.get(),
            on_hand: l.on_hand,
            reserved: l.reserved,
            safety_stock: l.safety_stock,
            available: l.available(),
        }
    }
}
