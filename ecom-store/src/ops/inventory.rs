//! Stock per location: locations, levels locked `FOR UPDATE` while they change, and
//! the ledger rows each change writes. The domain decides what a move does
//! ([`InventoryLevel::apply`]); the database checks it again (each ledger row
//! follows from the one before, and a level is its last row at commit).

use diesel::prelude::*;
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::rows::{corrupt, parse_enum};
use crate::schema::{inventory_levels, inventory_moves, orders, product_variants, stock_locations};
use crate::sql::{Bind, CachedSql, keyed};

type LocationRow = (i64, String, String, i32);

fn location(row: LocationRow) -> Result<StockLocation, StoreError> {
    let (id, name, country, priority) = row;
    Ok(StockLocation {
        id: StockLocationId::new(id),
        name: LocationName::parse(&name).map_err(|e| corrupt("location name", e))?,
        country: CountryCode::parse(&country).map_err(|e| corrupt("country", e))?,
        priority,
    })
}

const LOCATION_COLUMNS: (
    stock_locations::id,
    stock_locations::name,
    stock_locations::country,
    stock_locations::priority,
) = (
    stock_locations::id,
    stock_locations::name,
    stock_locations::country,
    stock_locations::priority,
);

type LevelRow = (i64, i64, i32, i32, i32);

const LEVEL_COLUMNS: (
    inventory_levels::location_id,
    inventory_levels::variant_id,
    inventory_levels::on_hand,
    inventory_levels::reserved,
    inventory_levels::safety_stock,
) = (
    inventory_levels::location_id,
    inventory_levels::variant_id,
    inventory_levels::on_hand,
    inventory_levels::reserved,
    inventory_levels::safety_stock,
);

fn units(what: &str, n: i32) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|e| corrupt(what, e))
}

/// A count as the database keeps it: the domain keeps counts at most
/// [`MAX_UNITS`](ecom_domain::inventory::MAX_UNITS), which an `integer` holds.
fn column(n: u32) -> Result<i32, StoreError> {
    i32::try_from(n).map_err(|_| DomainError::from(InventoryError::Overflow).into())
}

fn level(row: LevelRow) -> Result<InventoryLevel, StoreError> {
    let (location, variant, on_hand, reserved, safety_stock) = row;
    Ok(InventoryLevel {
        location: StockLocationId::new(location),
        variant: VariantId::new(variant),
        on_hand: units("on hand", on_hand)?,
        reserved: units("reserved", reserved)?,
        safety_stock: units("safety stock", safety_stock)?,
    })
}

/// Adds a location.
pub(crate) fn insert_location(
    conn: &mut PgConnection,
    new: &NewStockLocation,
) -> Result<StockLocation, StoreError> {
    let row: LocationRow = diesel::insert_into(stock_locations::table)
        .values((
            stock_locations::name.eq(new.name.as_str()),
            stock_locations::country.eq(new.country.as_str()),
            stock_locations::priority.eq(new.priority),
        ))
        .returning(LOCATION_COLUMNS)
        .get_result(conn)?;
    location(row)
}

/// Every location, by priority then id.
pub(crate) fn locations(conn: &mut PgConnection) -> Result<Vec<StockLocation>, StoreError> {
    stock_locations::table
        .order((stock_locations::priority, stock_locations::id))
        .select(LOCATION_COLUMNS)
        .load::<LocationRow>(conn)?
        .into_iter()
        .map(location)
        .collect()
}

/// Refuses an unknown location or variant as not found.
pub(crate) fn ensure_known(
    conn: &mut PgConnection,
    location: Option<StockLocationId>,
    variant: VariantId,
) -> Result<(), StoreError> {
    if let Some(location) = location {
        let found: bool = diesel::select(diesel::dsl::exists(
            stock_locations::table.find(location.get()),
        ))
        .get_result(conn)?;
        if !found {
            return Err(DomainError::not_found("stock location", location).into());
        }
    }
    let found: bool = diesel::select(diesel::dsl::exists(
        product_variants::table.find(variant.get()),
    ))
    .get_result(conn)?;
    if !found {
        return Err(DomainError::not_found("variant", variant).into());
    }
    Ok(())
}

/// The level of `variant` at `location`, made empty if it has none, locked
/// `FOR UPDATE` until the transaction ends.
pub(crate) fn lock_level(
    conn: &mut PgConnection,
    location: StockLocationId,
    variant: VariantId,
) -> Result<InventoryLevel, StoreError> {
    ensure_known(conn, Some(location), variant)?;
    diesel::insert_into(inventory_levels::table)
        .values((
            inventory_levels::location_id.eq(location.get()),
            inventory_levels::variant_id.eq(variant.get()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    let row: LevelRow = inventory_levels::table
        .find((location.get(), variant.get()))
        .select(LEVEL_COLUMNS)
        .for_update()
        .get_result(conn)?;
    level(row)
}

/// The level of `variant` at `location`, which must exist (an order's units are
/// reserved on it), locked `FOR UPDATE` until the transaction ends: one statement
/// where [`lock_level`] takes four.
pub(crate) fn lock_held_level(
    conn: &mut PgConnection,
    location: StockLocationId,
    variant: VariantId,
) -> Result<InventoryLevel, StoreError> {
    let row: LevelRow = inventory_levels::table
        .find((location.get(), variant.get()))
        .select(LEVEL_COLUMNS)
        .for_update()
        .first(conn)
        .optional()?
        .ok_or_else(|| {
            DomainError::not_found("inventory level", format!("{location}/{variant}"))
        })?;
    level(row)
}

/// Applies `movement` to a locked level: the level's new counts and its ledger
/// row. Returns the level after it.
pub(crate) fn book(
    conn: &mut PgConnection,
    locked: &InventoryLevel,
    movement: InventoryMove,
    reason: Option<&Reason>,
) -> Result<InventoryLevel, StoreError> {
    let next = locked.apply(movement).map_err(DomainError::from)?;
    let quantity = i32::try_from(movement.quantity)
        .map_err(|_| DomainError::from(InventoryError::Overflow))?;
    diesel::update(inventory_levels::table.find((locked.location.get(), locked.variant.get())))
        .set((
            inventory_levels::on_hand.eq(column(next.on_hand)?),
            inventory_levels::reserved.eq(column(next.reserved)?),
            inventory_levels::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    diesel::insert_into(inventory_moves::table)
        .values((
            inventory_moves::location_id.eq(locked.location.get()),
            inventory_moves::variant_id.eq(locked.variant.get()),
            inventory_moves::kind.eq(movement.kind.as_str()),
            inventory_moves::quantity.eq(quantity),
            inventory_moves::on_hand_after.eq(column(next.on_hand)?),
            inventory_moves::reserved_after.eq(column(next.reserved)?),
            inventory_moves::reason.eq(reason.map(Reason::as_str)),
        ))
        .execute(conn)?;
    Ok(next)
}

/// Sets a locked level's safety stock.
pub(crate) fn set_safety_stock(
    conn: &mut PgConnection,
    locked: &InventoryLevel,
    units: u32,
) -> Result<InventoryLevel, StoreError> {
    let next = locked.with_safety_stock(units).map_err(DomainError::from)?;
    diesel::update(inventory_levels::table.find((locked.location.get(), locked.variant.get())))
        .set((
            inventory_levels::safety_stock.eq(column(next.safety_stock)?),
            inventory_levels::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(next)
}

/// A variant's levels, by location id.
pub(crate) fn levels(
    conn: &mut PgConnection,
    variant: VariantId,
) -> Result<Vec<InventoryLevel>, StoreError> {
    inventory_levels::table
        .filter(inventory_levels::variant_id.eq(variant.get()))
        .order(inventory_levels::location_id)
        .select(LEVEL_COLUMNS)
        .load::<LevelRow>(conn)?
        .into_iter()
        .map(level)
        .collect()
}

type MoveRow = (
    String,
    i32,
    i32,
    i32,
    Option<String>,
    chrono::DateTime<chrono::Utc>,
);

/// One level's ledger, oldest first.
pub(crate) fn ledger(
    conn: &mut PgConnection,
    location: StockLocationId,
    variant: VariantId,
) -> Result<Vec<InventoryEntry>, StoreError> {
    inventory_moves::table
        .filter(inventory_moves::location_id.eq(location.get()))
        .filter(inventory_moves::variant_id.eq(variant.get()))
        .order(inventory_moves::id)
        .select((
            inventory_moves::kind,
            inventory_moves::quantity,
            inventory_moves::on_hand_after,
            inventory_moves::reserved_after,
            inventory_moves::reason,
            inventory_moves::at,
        ))
        .load::<MoveRow>(conn)?
        .into_iter()
        .map(|(kind, quantity, on_hand, reserved, reason, at)| {
            Ok(InventoryEntry {
                location,
                variant,
                movement: InventoryMove {
                    kind: parse_enum("inventory move kind", &kind)?,
                    quantity: i64::from(quantity),
                },
                on_hand_after: units("on hand", on_hand)?,
                reserved_after: units("reserved", reserved)?,
                reason: reason
                    .map(|r| Reason::parse(&r).map_err(|e| corrupt("reason", e)))
                    .transpose()?,
                at,
            })
        })
        .collect()
}

keyed! {
    // The levels of the order's variants with their locations, locked in
    // (location, variant) order: the order every change of levels locks in.
    ORDER_LEVELS = "\
SELECT l.location_id, l.variant_id, l.on_hand, l.reserved, l.safety_stock,
       s.name, s.country, s.priority
FROM inventory_levels l JOIN stock_locations s ON s.id = l.location_id
WHERE l.variant_id IN (SELECT variant_id FROM order_lines WHERE order_id = $1)
ORDER BY l.location_id, l.variant_id
FOR UPDATE OF l";
    // The same for a cart, read without a lock: checkout's first look.
    CART_LEVELS = "\
SELECT l.location_id, l.variant_id, l.on_hand, l.reserved, l.safety_stock,
       s.name, s.country, s.priority
FROM inventory_levels l JOIN stock_locations s ON s.id = l.location_id
WHERE l.variant_id IN (SELECT variant_id FROM cart_lines WHERE cart_id = $1)
ORDER BY l.location_id, l.variant_id";
    ORDER_RESERVATIONS = "\
SELECT line_no, location_id, variant_id, quantity FROM order_reservations
WHERE order_id = $1 ORDER BY line_no, location_id";
}

#[derive(QueryableByName)]
struct LocatedLevelRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    location_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    variant_id: i64,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    on_hand: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    reserved: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    safety_stock: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    country: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    priority: i32,
}

/// Levels with the locations they are at (each location once, by id).
type Located = (Vec<StockLocation>, Vec<InventoryLevel>);

fn located(rows: Vec<LocatedLevelRow>) -> Result<Located, StoreError> {
    let mut locations: Vec<StockLocation> = Vec::new();
    let mut levels = Vec::with_capacity(rows.len());
    for r in rows {
        levels.push(level((
            r.location_id,
            r.variant_id,
            r.on_hand,
            r.reserved,
            r.safety_stock,
        ))?);
        if !locations.iter().any(|l| l.id.get() == r.location_id) {
            locations.push(location((r.location_id, r.name, r.country, r.priority))?);
        }
    }
    Ok((locations, levels))
}

/// The levels of `order`'s variants and their locations, locked `FOR UPDATE`.
pub(crate) fn lock_order_levels(
    conn: &mut PgConnection,
    order: i64,
) -> Result<Located, StoreError> {
    located(CachedSql::keyed::<ORDER_LEVELS>(vec![Bind::BigInt(order)]).load(conn)?)
}

/// The levels of `cart`'s variants and their locations, as they are now.
pub(crate) fn cart_levels(conn: &mut PgConnection, cart: CartId) -> Result<Located, StoreError> {
    located(CachedSql::keyed::<CART_LEVELS>(vec![Bind::BigInt(cart.get())]).load(conn)?)
}

keyed! {
    // An order's reservations in one statement: each level's reserved count (the
    // levels are locked, so `reserved + units` is the count the domain checked),
    // its ledger row carrying the level after it, and the reservations' rows.
    RESERVE = "\
WITH r (line_no, location_id, variant_id, quantity) AS (
    SELECT * FROM unnest($2::smallint[], $3::bigint[], $4::bigint[], $5::integer[])
), held AS (
    SELECT location_id, variant_id, sum(quantity)::integer AS units
    FROM r GROUP BY location_id, variant_id
), reserved AS (
    UPDATE inventory_levels l SET reserved = l.reserved + h.units, updated_at = now()
    FROM held h WHERE l.location_id = h.location_id AND l.variant_id = h.variant_id
    RETURNING l.location_id, l.variant_id, h.units, l.on_hand, l.reserved
), moves AS (
    INSERT INTO inventory_moves
        (location_id, variant_id, kind, quantity, on_hand_after, reserved_after, reason)
    SELECT location_id, variant_id, 'reservation', units, on_hand, reserved, 'order ' || $1
    FROM reserved ORDER BY location_id, variant_id
)
INSERT INTO order_reservations (order_id, line_no, location_id, variant_id, quantity)
SELECT $1, line_no, location_id, variant_id, quantity FROM r";
}

/// Holds `reservations` for `order` at their levels (locked by
/// [`lock_order_levels`], given as `levels`), in one statement: each level's
/// reserved count and ledger row, and the reservations' rows. The domain checks
/// each level's move first ([`InventoryLevel::apply`]), so a reservation a level
/// cannot take is a typed error, not a refused statement.
pub(crate) fn reserve(
    conn: &mut PgConnection,
    order: i64,
    reservations: &[Reservation],
    levels: &[InventoryLevel],
) -> Result<(), StoreError> {
    if reservations.is_empty() {
        return Ok(());
    }
    for level in levels {
        let units = reservations
            .iter()
            .filter(|r| (r.location, r.variant) == (level.location, level.variant))
            .fold(0u32, |n, r| n.saturating_add(r.quantity));
        if units > 0 {
            let movement = InventoryMove {
                kind: MoveKind::Reservation,
                quantity: i64::from(units),
            };
            level.apply(movement).map_err(DomainError::from)?;
        }
    }
    let (mut lines, mut locations, mut variants, mut quantities) = (
        Vec::with_capacity(reservations.len()),
        Vec::with_capacity(reservations.len()),
        Vec::with_capacity(reservations.len()),
        Vec::with_capacity(reservations.len()),
    );
    for r in reservations {
        lines.push(i16::try_from(r.line_no).map_err(|e| corrupt("line number", e))?);
        locations.push(r.location.get());
        variants.push(r.variant.get());
        quantities.push(column(r.quantity)?);
    }
    CachedSql::keyed::<RESERVE>(vec![
        Bind::BigInt(order),
        Bind::SmallIntArray(lines),
        Bind::BigIntArray(locations),
        Bind::BigIntArray(variants),
        Bind::IntArray(quantities),
    ])
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct ReservationRow {
    #[diesel(sql_type = diesel::sql_types::SmallInt)]
    line_no: i16,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    location_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    variant_id: i64,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    quantity: i32,
}

/// Where `order`'s units were reserved, by line then location.
pub(crate) fn reservations(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<Reservation>, StoreError> {
    let found: bool =
        diesel::select(diesel::dsl::exists(orders::table.find(order.get()))).get_result(conn)?;
    if !found {
        return Err(DomainError::not_found("order", order).into());
    }
    CachedSql::keyed::<ORDER_RESERVATIONS>(vec![Bind::BigInt(order.get())])
        .load::<ReservationRow>(conn)?
        .into_iter()
        .map(|r| {
            Ok(Reservation {
                line_no: u16::try_from(r.line_no).map_err(|e| corrupt("line number", e))?,
                location: StockLocationId::new(r.location_id),
                variant: VariantId::new(r.variant_id),
                quantity: units("reserved units", r.quantity)?,
            })
        })
        .collect()
}
