//! Stock per location in the reference store: the locations, the levels by
//! (location, variant), and each level's ledger.

use std::collections::BTreeMap;

use chrono::Utc;

use crate::catalog::Variant;
use crate::error::DomainError;
use crate::fulfillment::{cancelled_at, line_cancelled};
use crate::ids::{OrderId, StockLocationId, VariantId};
use crate::inventory::{
    AllocationStrategy, InventoryEntry, InventoryLevel, InventoryMove, MoveKind, NewStockLocation,
    Reservation, StockChange, StockLocation, StockTransfer, reserve_order,
};
use crate::order::OrderLine;
use crate::repo::InventoryRepository;
use crate::values::{Quantity, Reason};

use super::MemoryStore;
use super::state::State;

/// The locations, and each level with its ledger.
#[derive(Debug, Clone, Default)]
pub(super) struct Inventory {
    locations: BTreeMap<StockLocationId, StockLocation>,
    levels: BTreeMap<(StockLocationId, VariantId), (InventoryLevel, Vec<InventoryEntry>)>,
    /// Where checkout reserved each order's units.
    reservations: BTreeMap<OrderId, Vec<Reservation>>,
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
    pub(super) fn book_move(
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

/// The reason an order's moves are booked under.
fn order_reason(order: OrderId) -> Option<Reason> {
    Reason::parse(&format!("order {order}")).ok()
}

impl State {
    /// Takes the units of a new order's lines: reserved at locations for variants
    /// kept there ([`reserve_order`]), out of `stock_on_hand` for the others.
    pub(super) fn take_order_stock(
        &mut self,
        order: OrderId,
        lines: &[(u16, &Variant, Quantity)],
        strategy: AllocationStrategy,
    ) -> Result<(), DomainError> {
        let locations: Vec<StockLocation> = self.inventory.locations.values().cloned().collect();
        let levels: Vec<InventoryLevel> = self
            .inventory
            .levels
            .values()
            .map(|(level, _)| *level)
            .filter(|level| lines.iter().any(|(_, v, _)| v.id == level.variant))
            .collect();
        let reservations = reserve_order(lines, &locations, &levels, strategy)?;
        for (line_no, variant, quantity) in lines {
            if !reservations.iter().any(|r| r.line_no == *line_no) {
                self.variant_mut(variant.id)?.stock_on_hand -= quantity.get();
            }
        }
        for r in &reservations {
            let movement = InventoryMove {
                kind: MoveKind::Reservation,
                quantity: i64::from(r.quantity),
            };
            self.book_move(r.location, r.variant, movement, order_reason(order))?;
        }
        if !reservations.is_empty() {
            let mut reservations = reservations;
            reservations.sort_by_key(|r| (r.line_no, r.location));
            self.inventory.reservations.insert(order, reservations);
        }
        Ok(())
    }

    /// Puts a cancelled or expired order's units back: its reservations released,
    /// the units of its other lines back into `stock_on_hand`.
    pub(super) fn return_order_stock(
        &mut self,
        order: OrderId,
        lines: &[OrderLine],
    ) -> Result<(), DomainError> {
        let reservations = self
            .inventory
            .reservations
            .get(&order)
            .cloned()
            .unwrap_or_default();
        // Units cancelled before went back with their cancellation.
        let cancellations = self.cancellations_of(order);
        for line in lines {
            if !reservations.iter().any(|r| r.line_no == line.line_no) {
                let units = line
                    .quantity
                    .get()
                    .saturating_sub(line_cancelled(&cancellations, line.line_no));
                self.variant_mut(line.variant_id)?.stock_on_hand += units;
            }
        }
        for r in &reservations {
            let units =
                r.quantity
                    .saturating_sub(cancelled_at(&cancellations, r.line_no, r.location));
            if units == 0 {
                continue;
            }
            let movement = InventoryMove {
                kind: MoveKind::Release,
                quantity: i64::from(units),
            };
            self.book_move(r.location, r.variant, movement, order_reason(order))?;
        }
        Ok(())
    }
}

impl State {
    /// Whether the location exists.
    pub(super) fn inventory_has_location(&self, location: StockLocationId) -> bool {
        self.inventory.locations.contains_key(&location)
    }

    /// Where checkout reserved `order`'s units (empty for none).
    pub(super) fn reservations_of(&self, order: OrderId) -> Vec<Reservation> {
        self.inventory
            .reservations
            .get(&order)
            .cloned()
            .unwrap_or_default()
    }

    /// Books the units of a shipment leaving `location` (by variant) out of their
    /// levels: on hand and reserved both go down.
    pub(super) fn ship_units(
        &mut self,
        location: StockLocationId,
        leaving: &[(VariantId, u32)],
        reason: Option<Reason>,
    ) -> Result<(), DomainError> {
        for (variant, units) in leaving {
            let movement = InventoryMove {
                kind: MoveKind::Shipment,
                quantity: i64::from(*units),
            };
            self.book_move(location, *variant, movement, reason.clone())?;
        }
        Ok(())
    }

    /// Books every unit `order` holds reserved as shipped: the order shipped as a
    /// whole, without shipments.
    pub(super) fn ship_reserved(&mut self, order: OrderId) -> Result<(), DomainError> {
        for r in self.reservations_of(order) {
            let movement = InventoryMove {
                kind: MoveKind::Shipment,
                quantity: i64::from(r.quantity),
            };
            self.book_move(r.location, r.variant, movement, order_reason(order))?;
        }
        Ok(())
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

    fn order_reservations(&self, order: OrderId) -> Result<Vec<Reservation>, DomainError> {
        self.read(|s| {
            s.order(order)?;
            Ok(s.inventory
                .reservations
                .get(&order)
                .cloned()
                .unwrap_or_default())
        })
    }
}
