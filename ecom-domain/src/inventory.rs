//! Stock across locations: where a variant's units are, what is promised of them,
//! the ledger every change is a row of, and which locations an order's lines are
//! taken from.
//!
//! - A **[`StockLocation`]** (a warehouse, a shop) has a name, a country and a
//!   priority: the lower, the sooner it is drawn from.
//! - An **[`InventoryLevel`]** is one variant at one location: units on hand,
//!   units reserved for orders not yet shipped, and a safety stock never sold.
//!   [`InventoryLevel::available`] is on hand − reserved − safety stock.
//! - Every change of a level is an [`InventoryMove`] of some [`MoveKind`]
//!   (receipt, reservation, release, shipment, return, adjustment, transfer),
//!   applied by [`InventoryLevel::apply`], which refuses a move that would leave
//!   fewer units on hand than reserved, or a negative count. The moves are a ledger:
//!   a level is always what [`InventoryLevel::from_moves`] sums from its moves.
//! - **[`allocate`]** chooses the locations an order's lines are reserved at,
//!   by an [`AllocationStrategy`]; a line may be split across locations. It never
//!   takes more than a level's available units, and either places every unit or
//!   names every short variant in one [`InventoryError::Short`].
//! - At checkout, **[`reserve_order`]** decides how each line's units are taken: a
//!   variant kept at locations (it has a level somewhere) is reserved there as
//!   [`Reservation`]s, chosen by the store's [`ReservationStrategy`]; a variant kept
//!   as one count (`stock_on_hand`, a shop without locations) is taken from it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::{CatalogError, Shortage, Variant, ensure_in_stock};
use crate::ids::{StockLocationId, VariantId};
use crate::values::{CountryCode, LocationName, Quantity, Reason};

/// The most units one level counts (on hand, reserved or safety stock): what a
/// PostgreSQL `integer` holds, with room to spare.
pub const MAX_UNITS: u32 = 1_000_000_000;

/// A stock location to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStockLocation {
    /// Its name.
    pub name: LocationName,
    /// The country it ships from.
    pub country: CountryCode,
    /// Lower is drawn from first.
    pub priority: i32,
}

/// A change of stock made by hand: a [`MoveKind::Receipt`] or a
/// [`MoveKind::Adjustment`]. The other kinds come from orders, shipments, returns
/// and transfers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockChange {
    /// Where.
    pub location: StockLocationId,
    /// What.
    pub variant: VariantId,
    /// The move.
    pub movement: InventoryMove,
    /// Why, for the ledger.
    pub reason: Option<Reason>,
}

impl StockChange {
    /// Refuses a kind that is not made by hand.
    pub fn checked(self) -> Result<Self, InventoryError> {
        match self.movement.kind {
            MoveKind::Receipt | MoveKind::Adjustment => Ok(self),
            kind => Err(InventoryError::NotByHand(kind)),
        }
    }
}

/// Units sent from one location to another: a [`MoveKind::TransferOut`] there and
/// a [`MoveKind::TransferIn`] here, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockTransfer {
    /// From.
    pub from: StockLocationId,
    /// To.
    pub to: StockLocationId,
    /// What.
    pub variant: VariantId,
    /// How many units.
    pub quantity: Quantity,
    /// Why, for the ledger.
    pub reason: Option<Reason>,
}

impl StockTransfer {
    /// Refuses a transfer from a location to itself.
    pub fn checked(self) -> Result<Self, InventoryError> {
        if self.from == self.to {
            return Err(InventoryError::SameLocation(self.from));
        }
        Ok(self)
    }

    /// The two moves, out then in.
    pub fn moves(&self) -> [InventoryMove; 2] {
        let quantity = i64::from(self.quantity.get());
        [
            InventoryMove {
                kind: MoveKind::TransferOut,
                quantity,
            },
            InventoryMove {
                kind: MoveKind::TransferIn,
                quantity,
            },
        ]
    }
}

/// One row of a level's ledger as a store keeps it: the move, the level after
/// it, why and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryEntry {
    /// Where.
    pub location: StockLocationId,
    /// What.
    pub variant: VariantId,
    /// The move.
    pub movement: InventoryMove,
    /// Units on hand after it.
    pub on_hand_after: u32,
    /// Units reserved after it.
    pub reserved_after: u32,
    /// Why.
    pub reason: Option<Reason>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A place stock is kept and shipped from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLocation {
    /// Its id.
    pub id: StockLocationId,
    /// Its name.
    pub name: LocationName,
    /// The country it ships from.
    pub country: CountryCode,
    /// Lower is drawn from first; ties go to the lower id.
    pub priority: i32,
}

/// What can go wrong with stock.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    /// A move would take more units than the level has on hand, or release more
    /// than is reserved; nothing changed.
    #[error("{kind} of {quantity} at location {location} for variant {variant}: {reason}")]
    Refused {
        /// The move.
        kind: MoveKind,
        /// Its units.
        quantity: u32,
        /// Where.
        location: StockLocationId,
        /// What.
        variant: VariantId,
        /// Why, in words.
        reason: &'static str,
    },
    /// Some variants have fewer available units over all locations than asked
    /// for; nothing was allocated.
    #[error("short of stock: {}", short_list(.0))]
    Short(Vec<LocationShortage>),
    /// A count went past [`MAX_UNITS`].
    #[error("more than {MAX_UNITS} units at one location")]
    Overflow,
    /// Receipts and adjustments are made by hand; the other kinds come from
    /// orders, shipments, returns and transfers.
    #[error("a {0} is not made by hand")]
    NotByHand(MoveKind),
    /// A transfer from a location to itself.
    #[error("a transfer from location {0} to itself")]
    SameLocation(StockLocationId),
}

fn short_list(short: &[LocationShortage]) -> String {
    short
        .iter()
        .map(|s| {
            format!(
                "variant {} ({} asked, {} available)",
                s.variant, s.requested, s.available
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A variant an allocation could not place in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationShortage {
    /// The variant.
    pub variant: VariantId,
    /// Units asked for, over every line of it.
    pub requested: u32,
    /// Units available, over every location.
    pub available: u32,
}

/// Why a level changed: the kinds of the inventory ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MoveKind {
    /// Units arrived (a delivery from a supplier): on hand up.
    Receipt,
    /// Units promised to an order: reserved up, within what is available.
    Reservation,
    /// A promise withdrawn (a cancellation, an expiry, an edit): reserved down.
    Release,
    /// Reserved units left in a shipment: on hand and reserved down.
    Shipment,
    /// Returned units put back on the shelf: on hand up.
    Return,
    /// A count corrected (a stocktake, damage): on hand up or down.
    Adjustment,
    /// Units sent to another location: on hand down, within what is available.
    TransferOut,
    /// Units received from another location: on hand up.
    TransferIn,
}

crate::text_enum!(MoveKind {
    Receipt = "receipt",
    Reservation = "reservation",
    Release = "release",
    Shipment = "shipment",
    Return = "return",
    Adjustment = "adjustment",
    TransferOut = "transfer_out",
    TransferIn = "transfer_in",
});

/// One row of the inventory ledger: a signed change of one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryMove {
    /// What kind of change.
    pub kind: MoveKind,
    /// Units; signed for an [`MoveKind::Adjustment`] (negative takes away),
    /// positive for every other kind, never 0.
    pub quantity: i64,
}

impl InventoryMove {
    /// The change of on hand and of reserved this move makes.
    pub fn deltas(self) -> (i64, i64) {
        let q = self.quantity;
        match self.kind {
            MoveKind::Receipt | MoveKind::Return | MoveKind::TransferIn => (q, 0),
            MoveKind::Reservation => (0, q),
            MoveKind::Release => (0, -q),
            MoveKind::Shipment => (-q, -q),
            MoveKind::Adjustment => (q, 0),
            MoveKind::TransferOut => (-q, 0),
        }
    }
}

/// One variant's stock at one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryLevel {
    /// Where.
    pub location: StockLocationId,
    /// What.
    pub variant: VariantId,
    /// Units physically there.
    pub on_hand: u32,
    /// Units promised to orders not yet shipped; never more than on hand.
    pub reserved: u32,
    /// Units kept back: never reserved, never transferred.
    pub safety_stock: u32,
}

impl InventoryLevel {
    /// An empty level: nothing on hand, nothing reserved.
    pub fn empty(location: StockLocationId, variant: VariantId, safety_stock: u32) -> Self {
        Self {
            location,
            variant,
            on_hand: 0,
            reserved: 0,
            safety_stock,
        }
    }

    /// Units that may still be promised: on hand − reserved − safety stock, or 0.
    pub fn available(&self) -> u32 {
        self.on_hand
            .saturating_sub(self.reserved)
            .saturating_sub(self.safety_stock)
    }

    /// The level after `movement`, or why it is refused (the level is unchanged):
    /// counts stay between 0 and `u32::MAX`, reserved never exceeds on hand, and a
    /// reservation or a transfer out takes only available units.
    pub fn apply(&self, movement: InventoryMove) -> Result<Self, InventoryError> {
        let refuse = |reason| InventoryError::Refused {
            kind: movement.kind,
            quantity: u32::try_from(movement.quantity.unsigned_abs()).unwrap_or(u32::MAX),
            location: self.location,
            variant: self.variant,
            reason,
        };
        if movement.quantity == 0 {
            return Err(refuse("a move of no units"));
        }
        if movement.quantity < 0 && movement.kind != MoveKind::Adjustment {
            return Err(refuse("only an adjustment takes a negative count"));
        }
        let wanted = u64::try_from(movement.quantity).unwrap_or(0);
        match movement.kind {
            MoveKind::Reservation | MoveKind::TransferOut
                if wanted > u64::from(self.available()) =>
            {
                return Err(refuse("more than is available"));
            }
            MoveKind::Release if wanted > u64::from(self.reserved) => {
                return Err(refuse("more than is reserved"));
            }
            MoveKind::Shipment if wanted > u64::from(self.reserved) => {
                return Err(refuse("ships only reserved units"));
            }
            _ => {}
        }
        let (on_hand, reserved) = movement.deltas();
        let count = |now: u32, delta: i64| -> Result<u32, InventoryError> {
            let next = i64::from(now) + delta;
            if next < 0 {
                return Err(refuse("would leave a negative count"));
            }
            u32::try_from(next)
                .ok()
                .filter(|n| *n <= MAX_UNITS)
                .ok_or(InventoryError::Overflow)
        };
        let next = Self {
            on_hand: count(self.on_hand, on_hand)?,
            reserved: count(self.reserved, reserved)?,
            ..*self
        };
        if next.reserved > next.on_hand {
            return Err(refuse("would leave fewer units on hand than reserved"));
        }
        Ok(next)
    }

    /// The level with another safety stock.
    pub fn with_safety_stock(self, units: u32) -> Result<Self, InventoryError> {
        if units > MAX_UNITS {
            return Err(InventoryError::Overflow);
        }
        Ok(Self {
            safety_stock: units,
            ..self
        })
    }

    /// The level its ledger describes: `moves` applied in order to an empty level.
    pub fn from_moves(
        location: StockLocationId,
        variant: VariantId,
        safety_stock: u32,
        moves: impl IntoIterator<Item = InventoryMove>,
    ) -> Result<Self, InventoryError> {
        moves
            .into_iter()
            .try_fold(Self::empty(location, variant, safety_stock), |level, m| {
                level.apply(m)
            })
    }
}

/// How [`allocate`] orders the locations it draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllocationStrategy {
    /// By priority, then id: the default.
    Priority,
    /// Locations in the shipping country first, then by priority.
    ClosestTo(CountryCode),
    /// As few locations as possible: repeatedly the location that can take the
    /// most of the remaining lines whole (ties by priority), then what is left by
    /// priority, split where it must be.
    FewestShipments,
}

/// One line to place: a variant and its units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Want {
    /// The variant.
    pub variant: VariantId,
    /// Units.
    pub quantity: Quantity,
}

/// Units of one line taken from one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// The line's position in the wants given to [`allocate`].
    pub line: usize,
    /// The variant.
    pub variant: VariantId,
    /// Where from.
    pub location: StockLocationId,
    /// Units.
    pub quantity: u32,
}

/// Places every unit of `wants` at `locations`, drawing on `levels` (their
/// available units) in the order `strategy` gives; a line may be split. The result
/// is in line order, then in the order its locations were drawn from; the same
/// inputs always give the same result. Levels at locations not among `locations`
/// are not drawn from. Refuses, naming every short variant, when some variant has
/// fewer available units than its lines ask for.
pub fn allocate(
    wants: &[Want],
    locations: &[StockLocation],
    levels: &[InventoryLevel],
    strategy: AllocationStrategy,
) -> Result<Vec<Allocation>, InventoryError> {
    let order = location_order(locations, strategy);
    let mut left: BTreeMap<(StockLocationId, VariantId), u32> = BTreeMap::new();
    for level in levels {
        if order.contains(&level.location) {
            *left.entry((level.location, level.variant)).or_default() += level.available();
        }
    }
    let mut short: BTreeMap<VariantId, (u32, u32)> = BTreeMap::new();
    for want in wants {
        short.entry(want.variant).or_default().0 += want.quantity.get();
    }
    let short: Vec<LocationShortage> = short
        .into_iter()
        .map(|(variant, (requested, _))| LocationShortage {
            variant,
            requested,
            available: order
                .iter()
                .map(|l| left.get(&(*l, variant)).copied().unwrap_or(0))
                .fold(0u32, u32::saturating_add),
        })
        .filter(|s| s.available < s.requested)
        .collect();
    if !short.is_empty() {
        return Err(InventoryError::Short(short));
    }
    let mut placed: Vec<Vec<Allocation>> = vec![Vec::new(); wants.len()];
    let mut open: Vec<usize> = (0..wants.len()).collect();
    if strategy == AllocationStrategy::FewestShipments {
        // Whole lines first, at the location that can take the most of them.
        loop {
            let best = order
                .iter()
                .map(|location| {
                    let whole = whole_lines(wants, &open, *location, &left);
                    (whole.len(), *location, whole)
                })
                .filter(|(n, _, _)| *n > 0)
                // The first of the most: `order` is by priority.
                .fold(
                    None,
                    |best: Option<(usize, StockLocationId, Vec<usize>)>, c| match best {
                        Some(b) if b.0 >= c.0 => Some(b),
                        _ => Some(c),
                    },
                );
            let Some((_, location, lines)) = best else {
                break;
            };
            for line in lines {
                let units = wants[line].quantity.get();
                take(&mut left, location, wants[line].variant, units);
                placed[line].push(Allocation {
                    line,
                    variant: wants[line].variant,
                    location,
                    quantity: units,
                });
                open.retain(|l| *l != line);
            }
        }
    }
    for line in open {
        let want = wants[line];
        let mut needed = want.quantity.get();
        for location in &order {
            if needed == 0 {
                break;
            }
            let units = needed.min(left.get(&(*location, want.variant)).copied().unwrap_or(0));
            if units > 0 {
                take(&mut left, *location, want.variant, units);
                placed[line].push(Allocation {
                    line,
                    variant: want.variant,
                    location: *location,
                    quantity: units,
                });
                needed -= units;
            }
        }
    }
    Ok(placed.into_iter().flatten().collect())
}

/// The lines of `open` that `location` can take whole, in turn (two lines of one
/// variant count against the same units).
fn whole_lines(
    wants: &[Want],
    open: &[usize],
    location: StockLocationId,
    left: &BTreeMap<(StockLocationId, VariantId), u32>,
) -> Vec<usize> {
    let mut there: BTreeMap<VariantId, u32> = BTreeMap::new();
    let mut lines = Vec::new();
    for line in open {
        let want = wants[*line];
        let units = there
            .entry(want.variant)
            .or_insert_with(|| left.get(&(location, want.variant)).copied().unwrap_or(0));
        if *units >= want.quantity.get() {
            *units -= want.quantity.get();
            lines.push(*line);
        }
    }
    lines
}

fn take(
    left: &mut BTreeMap<(StockLocationId, VariantId), u32>,
    location: StockLocationId,
    variant: VariantId,
    units: u32,
) {
    if let Some(n) = left.get_mut(&(location, variant)) {
        *n = n.saturating_sub(units);
    }
}

/// The locations in the order `strategy` draws from them.
fn location_order(
    locations: &[StockLocation],
    strategy: AllocationStrategy,
) -> Vec<StockLocationId> {
    let mut sorted: Vec<&StockLocation> = locations.iter().collect();
    sorted.sort_by_key(|l| {
        let far = match strategy {
            AllocationStrategy::ClosestTo(country) => l.country != country,
            AllocationStrategy::Priority | AllocationStrategy::FewestShipments => false,
        };
        (far, l.priority, l.id)
    });
    sorted.dedup_by_key(|l| l.id);
    sorted.into_iter().map(|l| l.id).collect()
}

/// How checkout chooses the locations it reserves an order's units at: a store
/// rule ([`StoreRules::reservation`](crate::rules::StoreRules::reservation)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStrategy {
    /// By location priority, then id.
    #[default]
    Priority,
    /// Locations in the order's shipping country first, then by priority.
    ClosestToShipping,
    /// As few locations as possible ([`AllocationStrategy::FewestShipments`]).
    FewestShipments,
}

impl ReservationStrategy {
    /// The allocation strategy for an order shipped to `country`.
    pub fn for_destination(self, country: CountryCode) -> AllocationStrategy {
        match self {
            ReservationStrategy::Priority => AllocationStrategy::Priority,
            ReservationStrategy::ClosestToShipping => AllocationStrategy::ClosestTo(country),
            ReservationStrategy::FewestShipments => AllocationStrategy::FewestShipments,
        }
    }
}

/// Units of one order line held at one location for the order, from checkout
/// until they ship or the order is cancelled or expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// The order line, numbered from 1.
    pub line_no: u16,
    /// Its variant.
    pub variant: VariantId,
    /// Where the units are held.
    pub location: StockLocationId,
    /// Units.
    pub quantity: u32,
}

/// How checkout takes the units of an order's lines (`lines`: line number,
/// variant as locked, units). A variant with a level in `levels` is kept at
/// locations: its lines are reserved there by [`allocate`] and come back as
/// [`Reservation`]s. The others are taken from their `stock_on_hand`. Refuses,
/// naming every short variant of either kind in one [`CatalogError::OutOfStock`]
/// (in line order), when the stock does not cover the lines; the available units
/// of a variant kept at locations are its available units over every location.
pub fn reserve_order(
    lines: &[(u16, &Variant, Quantity)],
    locations: &[StockLocation],
    levels: &[InventoryLevel],
    strategy: AllocationStrategy,
) -> Result<Vec<Reservation>, CatalogError> {
    let located = |v: &Variant| levels.iter().any(|l| l.variant == v.id);
    let (at_locations, counted): (Vec<_>, Vec<_>) =
        lines.iter().copied().partition(|(_, v, _)| located(v));
    let counted: Vec<(&Variant, Quantity)> = counted.iter().map(|(_, v, q)| (*v, *q)).collect();
    let mut short = match ensure_in_stock(&counted) {
        Ok(()) => Vec::new(),
        Err(CatalogError::OutOfStock(short)) => short,
        Err(other) => return Err(other),
    };
    let wants: Vec<Want> = at_locations
        .iter()
        .map(|(_, v, q)| Want {
            variant: v.id,
            quantity: *q,
        })
        .collect();
    let placed = match allocate(&wants, locations, levels, strategy) {
        Ok(placed) => placed,
        Err(refused) => {
            // `allocate` refuses only with a shortage; were it ever to refuse
            // otherwise, every line at locations counts as short.
            let missing = match refused {
                InventoryError::Short(missing) => missing,
                _ => at_locations
                    .iter()
                    .map(|(_, v, q)| LocationShortage {
                        variant: v.id,
                        requested: q.get(),
                        available: 0,
                    })
                    .collect(),
            };
            short.extend(missing.into_iter().filter_map(|m| {
                let (_, variant, _) = at_locations.iter().find(|(_, v, _)| v.id == m.variant)?;
                Some(Shortage {
                    variant_id: m.variant,
                    sku: variant.sku.clone(),
                    requested: m.requested,
                    available: m.available,
                })
            }));
            Vec::new()
        }
    };
    if !short.is_empty() {
        let position = |id: VariantId| lines.iter().position(|(_, v, _)| v.id == id);
        short.sort_by_key(|s| position(s.variant_id));
        return Err(CatalogError::OutOfStock(short));
    }
    Ok(placed
        .into_iter()
        .map(|a| Reservation {
            line_no: at_locations[a.line].0,
            variant: a.variant,
            location: a.location,
            quantity: a.quantity,
        })
        .collect())
}

#[cfg(test)]
#[path = "inventory_tests.rs"]
mod tests;
