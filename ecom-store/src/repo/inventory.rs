//! Stock per location: each change locks its level (a transfer locks both, in
//! location id order, so two opposite transfers queue instead of deadlocking) and
//! books a ledger row.

use ecom_domain::prelude::*;

use crate::ops::inventory as stock;
use crate::{PgStore, StoreError};

impl InventoryRepository for PgStore {
    type Error = StoreError;

    fn add_stock_location(&self, new: NewStockLocation) -> Result<StockLocation, StoreError> {
        self.write(|conn| stock::insert_location(conn, &new))
    }

    fn stock_locations(&self) -> Result<Vec<StockLocation>, StoreError> {
        self.read(stock::locations)
    }

    fn change_stock(&self, change: StockChange) -> Result<InventoryLevel, StoreError> {
        let change = change.checked().map_err(DomainError::from)?;
        self.write(|conn| {
            let locked = stock::lock_level(conn, change.location, change.variant)?;
            stock::book(conn, &locked, change.movement, change.reason.as_ref())
        })
    }

    fn transfer_stock(
        &self,
        transfer: StockTransfer,
    ) -> Result<(InventoryLevel, InventoryLevel), StoreError> {
        let transfer = transfer.checked().map_err(DomainError::from)?;
        let [out, into] = transfer.moves();
        self.write(|conn| {
            // Both ends known before anything is locked: the same refusal whichever
            // is unknown, as MemoryStore gives.
            stock::ensure_known(conn, Some(transfer.from), transfer.variant)?;
            stock::ensure_known(conn, Some(transfer.to), transfer.variant)?;
            let (first, second) = if transfer.from < transfer.to {
                (transfer.from, transfer.to)
            } else {
                (transfer.to, transfer.from)
            };
            let first = stock::lock_level(conn, first, transfer.variant)?;
            let second = stock::lock_level(conn, second, transfer.variant)?;
            let (from, to) = if first.location == transfer.from {
                (first, second)
            } else {
                (second, first)
            };
            let reason = transfer.reason.as_ref();
            Ok((
                stock::book(conn, &from, out, reason)?,
                stock::book(conn, &to, into, reason)?,
            ))
        })
    }

    fn set_safety_stock(
        &self,
        location: StockLocationId,
        variant: VariantId,
        units: u32,
    ) -> Result<InventoryLevel, StoreError> {
        self.write(|conn| {
            let locked = stock::lock_level(conn, location, variant)?;
            stock::set_safety_stock(conn, &locked, units)
        })
    }

    fn inventory_levels(&self, variant: VariantId) -> Result<Vec<InventoryLevel>, StoreError> {
        self.read(|conn| {
            stock::ensure_known(conn, None, variant)?;
            stock::levels(conn, variant)
        })
    }

    fn inventory_ledger(
        &self,
        location: StockLocationId,
        variant: VariantId,
    ) -> Result<Vec<InventoryEntry>, StoreError> {
        self.read(|conn| {
            stock::ensure_known(conn, Some(location), variant)?;
            stock::ledger(conn, location, variant)
        })
    }

    fn order_reservations(&self, order: OrderId) -> Result<Vec<Reservation>, StoreError> {
        self.read(|conn| stock::reservations(conn, order))
    }
}
