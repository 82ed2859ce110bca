//! Stock per location in the reference store: the locations, the levels by
//! (location, variant), and each level's ledger.

use std::collections::BTreeMap;

use chrono::Utc;

use crate::error::DomainError;
use crate::ids::{StockLocationId, VariantId};
use crate::inventory::{
    InventoryEntry, InventoryLevel, InventoryMove, NewStockLocation, StockChange, StockLocation,
    StockTransfer,
};
use crate::repo::InventoryRepository;
use crate::values::Reason;

use super::MemoryStore;
use super::state::State;

/// The locations, and each level with its ledger.
#[derive(Debug, Clone, Default)]
pub(super) struct Inventory {
    locations: BTreeMap<StockLocationId, StockLocation>,
    levels: BTreeMap<(StockLocationId, VariantId), (InventoryLevel, Vec<InventoryEntry>)>,
}

impl State {
    /// The level of a variant at a location, empty if it has none yet; the
    /// location and the variant must exist.
    fn level(
        &self,
        location: StockLocationId,
        variant: VariantId,
    ) -> Result<InventoryLevel, DomainError> {
        if !self.inventory.locations.contains_key(&location) {
            return Err(DomainError::not_found("stock location", location));
        }
        if !self.variant_products.contains_key(&variant) {
            return Err(DomainError::not_found("variant", variant));
        }
        Ok(self
            .inventory
            .levels
            .get(&(location, variant))
            .map_or_else(|| InventoryLevel::empty(location, variant, 0), |(l, _)| *l))
    }

    /// Applies `movement` to a level and books it in the ledger.
    fn book_move(
        &mut self,
        location: StockLocationId,
        variant: VariantId,
        movement: InventoryMove,
        reason: Option<Reason>,
    ) -> Result<InventoryLevel, DomainError> {
        let next = self.level(location, variant)?.apply(movement)?;
        let (level, ledger) = self
            .inventory
            .levels
            .entry((location, variant))
            .or_insert_with(|| (next, Vec::new()));
        *level = next;
        ledger.push(InventoryEntry {
            location,
            variant,
            movement,
            on_hand_after: next.on_hand,
            reserved_after: next.reserved,
            reason,
            at: Utc::now(),
        });
        Ok(next)
    }
}

impl InventoryRepository for MemoryStore {
    type Error = DomainError;

    fn add_stock_location(&self, new: NewStockLocation) -> Result<StockLocation, DomainError> {
        self.atomically(|s| {
            let location = StockLocation {
                id: s.next(),
                name: new.name,
                country: new.country,
                priority: new.priority,
            };
            s.inventory.locations.insert(location.id, location.clone());
            Ok(location)
        })
    }

    fn stock_locations(&self) -> Result<Vec<StockLocation>, DomainError> {
        self.read(|s| {
            let mut all: Vec<StockLocation> = s.inventory.locations.values().cloned().collect();
            all.sort_by_key(|l| (l.priority, l.id));
            Ok(all)
        })
    }

    fn change_stock(&self, change: StockChange) -> Result<InventoryLevel, DomainError> {
        let change = change.checked()?;
        self.atomically(|s| {
            s.book_move(
                change.location,
                change.variant,
                change.movement,
                change.reason,
            )
        })
    }

    fn transfer_stock(
        &self,
        transfer: StockTransfer,
    ) -> Result<(InventoryLevel, InventoryLevel), DomainError> {
        let transfer = transfer.checked()?;
        let [out, into] = transfer.moves();
        self.atomically(|s| {
            // Both ends known before anything moves, in the order PgStore checks.
            s.level(transfer.from, transfer.variant)?;
            s.level(transfer.to, transfer.variant)?;
            let from = s.book_move(
                transfer.from,
                transfer.variant,
                out,
                transfer.reason.clone(),
            )?;
            let to = s.book_move(transfer.to, transfer.variant, into, transfer.reason)?;
            Ok((from, to))
        })
    }

    fn set_safety_stock(
        &self,
        location: StockLocationId,
        variant: VariantId,
        units: u32,
    ) -> Result<InventoryLevel, DomainError> {
        self.atomically(|s| {
            let level = s.level(location, variant)?.with_safety_stock(units)?;
            s.inventory
                .levels
                .entry((location, variant))
                .or_insert_with(|| (level, Vec::new()))
                .0 = level;
            Ok(level)
        })
    }

    fn inventory_levels(&self, variant: VariantId) -> Result<Vec<InventoryLevel>, DomainError> {
        self.read(|s| {
            if !s.variant_products.contains_key(&variant) {
                return Err(DomainError::not_found("variant", variant));
            }
            Ok(s.inventory
                .levels
                .values()
                .map(|(level, _)| *level)
                .filter(|level| level.variant == variant)
                .collect())
        })
    }

    fn inventory_ledger(
        &self,
        location: StockLocationId,
        variant: VariantId,
    ) -> Result<Vec<InventoryEntry>, DomainError> {
        self.read(|s| {
            s.level(location, variant)?;
            Ok(s.inventory
                .levels
                .get(&(location, variant))
                .map(|(_, ledger)| ledger.clone())
                .unwrap_or_default())
        })
    }
}
