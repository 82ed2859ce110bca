//! Prices, tax and shipping as data: markets, price lists and their entries, tax
//! classes and rates, shipping zones and methods, customer groups; written by the
//! back office, read whole (or for one cart) into a [`PriceBook`].

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Bool, Bpchar, Integer, Jsonb, Nullable, Numeric, Text, Timestamptz,
};
use ecom_domain::prelude::*;
use ecom_domain::pricing::{
    Area, NewPriceList, NewShippingMethod, NewShippingZone, PriceBook, TaxError,
};
use rust_decimal::Decimal;

use crate::StoreError;
use crate::error::taken;
use crate::rows::{IdRow, MaybeIdRow, corrupt, from_json, money, parse_enum};
use crate::sql::{Bind, CachedSql, keyed};

/// The id a `RETURNING id` statement gave.
fn returned_id(rows: Vec<IdRow>, what: &'static str) -> Result<i64, StoreError> {
    rows.first()
        .map(|r| r.id)
        .ok_or_else(|| corrupt(what, "INSERT returned no row"))
}

fn slug(what: &'static str, raw: String) -> Result<Slug, StoreError> {
    Slug::try_from(raw).map_err(|e| corrupt(what, e))
}

fn currency(what: &'static str, code: &str) -> Result<Currency, StoreError> {
    Currency::from_code(code.trim()).map_err(|e| corrupt(what, e))
}

fn country(code: &str) -> Result<CountryCode, StoreError> {
    CountryCode::parse(code.trim()).map_err(|e| corrupt("country", e))
}

fn region(code: Option<String>) -> Result<Option<RegionCode>, StoreError> {
    code.map(|r| RegionCode::parse(&r).map_err(|e| corrupt("region", e)))
        .transpose()
}

keyed! {
    SET_MARKET = "INSERT INTO markets (currency, prices_include_tax) VALUES ($1, $2)
ON CONFLICT (currency) DO UPDATE SET prices_include_tax = EXCLUDED.prices_include_tax";
}

/// Sets a currency's market.
pub(crate) fn set_market(conn: &mut PgConnection, market: Market) -> Result<(), StoreError> {
    CachedSql::keyed::<SET_MARKET>(vec![
        Bind::Text(market.currency.code().to_owned()),
        Bind::Bool(market.prices_include_tax),
    ])
    .execute(conn)?;
    Ok(())
}

keyed! {
    CREATE_PRICE_LIST = "INSERT INTO price_lists (name, currency, customer_group, starts_at, ends_at)
VALUES ($1, $2, $3, $4, $5) RETURNING id";
}

/// Stores a checked price list; its id.
pub(crate) fn create_price_list(
    conn: &mut PgConnection,
    new: &NewPriceList,
) -> Result<PriceListId, StoreError> {
    let rows: Vec<IdRow> = CachedSql::keyed::<CREATE_PRICE_LIST>(vec![
        Bind::Text(new.name.as_str().to_owned()),
        Bind::Text(new.currency.code().to_owned()),
        Bind::NullableText(new.group.as_ref().map(|g| g.as_str().to_owned())),
        Bind::NullableTimestamptz(new.starts_at),
        Bind::NullableTimestamptz(new.ends_at),
    ])
    .load(conn)?;
    returned_id(rows, "price list").map(PriceListId::new)
}

#[derive(QueryableByName)]
struct PriceListRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bpchar)]
    currency: String,
    #[diesel(sql_type = Nullable<Text>)]
    customer_group: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    starts_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    ends_at: Option<DateTime<Utc>>,
}

impl TryFrom<PriceListRow> for PriceList {
    type Error = StoreError;
    fn try_from(row: PriceListRow) -> Result<Self, StoreError> {
        Ok(PriceList {
            id: PriceListId::new(row.id),
            name: PriceListName::try_from(row.name).map_err(|e| corrupt("price list name", e))?,
            currency: currency("price list currency", &row.currency)?,
            group: row
                .customer_group
                .map(|g| slug("customer group", g))
                .transpose()?,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
        })
    }
}

macro_rules! price_lists {
    ($tail:literal) => {
        concat!(
            "SELECT id, name, currency, customer_group, starts_at, ends_at FROM price_lists ",
            $tail
        )
    };
}
keyed! {
    PRICE_LISTS = price_lists!("ORDER BY id");
}
keyed! {
    LOCK_PRICE_LIST = price_lists!("WHERE id = $1 FOR UPDATE");
}

/// Price list `id`, locked until commit; "price list not found" when there is none.
pub(crate) fn lock_price_list(
    conn: &mut PgConnection,
    id: PriceListId,
) -> Result<PriceList, StoreError> {
    CachedSql::keyed::<LOCK_PRICE_LIST>(vec![Bind::BigInt(id.get())])
        .load::<PriceListRow>(conn)?
        .pop()
        .ok_or_else(|| DomainError::not_found("price list", id).into())
        .and_then(PriceList::try_from)
}

keyed! {
    CLEAR_ENTRIES = "DELETE FROM price_list_entries WHERE price_list_id = $1";
}
keyed! {
    FILL_ENTRIES = "INSERT INTO price_list_entries (price_list_id, variant_id, min_quantity, price)
SELECT $1, e.variant_id, e.min_quantity, e.price
FROM unnest($2::bigint[], $3::int[], $4::numeric[]) e (variant_id, min_quantity, price)";
}

keyed! {
    FIRST_ABSENT_VARIANT = "SELECT (SELECT w.id FROM unnest($1::bigint[]) WITH ORDINALITY w (id, ord)
        WHERE NOT EXISTS (SELECT 1 FROM product_variants v WHERE v.id = w.id)
        ORDER BY w.ord LIMIT 1) AS id";
}

/// Replaces the entries of a locked list with `entries` (already checked); "variant
/// not found" names the first that is missing.
pub(crate) fn replace_entries(
    conn: &mut PgConnection,
    list: PriceListId,
    entries: &[PriceEntry],
) -> Result<(), StoreError> {
    let variants: Vec<i64> = entries.iter().map(|e| e.variant.get()).collect();
    let absent =
        CachedSql::keyed::<FIRST_ABSENT_VARIANT>(vec![Bind::BigIntArray(variants.clone())])
            .load::<MaybeIdRow>(conn)?
            .pop()
            .and_then(|r| r.id);
    if let Some(id) = absent {
        return Err(DomainError::not_found("variant", id).into());
    }
    CachedSql::keyed::<CLEAR_ENTRIES>(vec![Bind::BigInt(list.get())]).execute(conn)?;
    CachedSql::keyed::<FILL_ENTRIES>(vec![
        Bind::BigInt(list.get()),
        Bind::BigIntArray(variants),
        Bind::IntArray(entries.iter().map(|e| e.min_quantity as i32).collect()),
        Bind::NumericArray(entries.iter().map(|e| e.price.amount()).collect()),
    ])
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct EntryRow {
    #[diesel(sql_type = BigInt)]
    price_list_id: i64,
    #[diesel(sql_type = BigInt)]
    variant_id: i64,
    #[diesel(sql_type = Integer)]
    min_quantity: i32,
    #[diesel(sql_type = Numeric)]
    price: Decimal,
    #[diesel(sql_type = Bpchar)]
    currency: String,
}

keyed! {
    ENTRIES = "SELECT e.price_list_id, e.variant_id, e.min_quantity, e.price, l.currency
FROM price_list_entries e JOIN price_lists l ON l.id = e.price_list_id
ORDER BY e.price_list_id, e.variant_id, e.min_quantity";
}
keyed! {
    CART_ENTRIES = "SELECT e.price_list_id, e.variant_id, e.min_quantity, e.price, l.currency
FROM price_list_entries e JOIN price_lists l ON l.id = e.price_list_id
WHERE e.variant_id IN (SELECT variant_id FROM cart_lines WHERE cart_id = $1)
ORDER BY e.price_list_id, e.variant_id, e.min_quantity";
}

fn entries(rows: Vec<EntryRow>) -> Result<Vec<PriceEntry>, StoreError> {
    rows.into_iter()
        .map(|r| {
            Ok(PriceEntry {
                list: PriceListId::new(r.price_list_id),
                variant: VariantId::new(r.variant_id),
                min_quantity: u32::try_from(r.min_quantity)
                    .map_err(|e| corrupt("price tier", e))?,
                price: money(r.price, &r.currency)?,
            })
        })
        .collect()
}

keyed! {
    SET_TAX_CLASS = "UPDATE products SET tax_class = $2, updated_at = now() WHERE id = $1 RETURNING id";
}

/// Sets a product's tax class; "product not found" when there is none.
pub(crate) fn set_tax_class(
    conn: &mut PgConnection,
    product: ProductId,
    class: TaxClass,
) -> Result<(), StoreError> {
    let rows: Vec<IdRow> = CachedSql::keyed::<SET_TAX_CLASS>(vec![
        Bind::BigInt(product.get()),
        Bind::Text(class.as_str().to_owned()),
    ])
    .load(conn)?;
    if rows.is_empty() {
        return Err(DomainError::not_found("product", product).into());
    }
    Ok(())
}

#[derive(QueryableByName)]
struct TaxRateRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bpchar)]
    country: String,
    #[diesel(sql_type = Nullable<Text>)]
    region: Option<String>,
    #[diesel(sql_type = Text)]
    class: String,
    #[diesel(sql_type = Numeric)]
    rate: Decimal,
    #[diesel(sql_type = Timestamptz)]
    valid_from: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    valid_until: Option<DateTime<Utc>>,
}

impl TryFrom<TaxRateRow> for TaxRate {
    type Error = StoreError;
    fn try_from(row: TaxRateRow) -> Result<Self, StoreError> {
        Ok(TaxRate {
            name: TaxRateName::try_from(row.name).map_err(|e| corrupt("tax rate name", e))?,
            country: country(&row.country)?,
            region: region(row.region)?,
            class: parse_enum("tax class", &row.class)?,
            rate: row.rate.normalize(),
            valid_from: row.valid_from,
            valid_until: row.valid_until,
        })
    }
}

macro_rules! tax_rates {
    ($tail:literal) => {
        concat!(
            "SELECT name, country, region, class, rate, valid_from, valid_until FROM tax_rates ",
            $tail
        )
    };
}
keyed! {
    TAX_RATES = tax_rates!("ORDER BY id");
}
keyed! {
    OVERLAPPING_RATE = tax_rates!(
    "WHERE country = $1 AND coalesce(region, '') = coalesce($2, '') AND class = $3
  AND tstzrange(valid_from, valid_until) && tstzrange($4, $5)
ORDER BY id LIMIT 1"
);
}
keyed! {
    ADD_TAX_RATE = "INSERT INTO tax_rates (name, country, region, class, rate, valid_from, valid_until)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
}

/// Stores a checked rate; an overlap with another rate of its country, region and
/// class is the domain's `Overlap`, found first by a query and, should a concurrent
/// writer add one between, by the exclusion constraint.
pub(crate) fn add_tax_rate(conn: &mut PgConnection, rate: &TaxRate) -> Result<(), StoreError> {
    let overlap = |first: TaxRateName| -> StoreError {
        DomainError::Tax(TaxError::Overlap {
            first,
            second: rate.name.clone(),
            country: rate.country,
            class: rate.class,
        })
        .into()
    };
    let window = [
        Bind::NullableTimestamptz(Some(rate.valid_from)),
        Bind::NullableTimestamptz(rate.valid_until),
    ];
    let key = [
        Bind::Text(rate.country.as_str().to_owned()),
        Bind::NullableText(rate.region.as_ref().map(|r| r.as_str().to_owned())),
        Bind::Text(rate.class.as_str().to_owned()),
    ];
    let found = CachedSql::keyed::<OVERLAPPING_RATE>(key.iter().chain(&window).cloned().collect())
        .load::<TaxRateRow>(conn)?
        .pop();
    if let Some(existing) = found {
        return Err(overlap(
            TaxRateName::try_from(existing.name).map_err(|e| corrupt("tax rate name", e))?,
        ));
    }
    let mut binds = vec![Bind::Text(rate.name.as_str().to_owned())];
    binds.extend(key);
    binds.push(Bind::Numeric(rate.rate));
    binds.extend(window);
    CachedSql::keyed::<ADD_TAX_RATE>(binds)
        .load::<IdRow>(conn)
        .map_err(|err| match StoreError::from(err) {
            StoreError::Conflict { constraint, .. } if constraint == "tax_rates_no_overlap" => {
                overlap(rate.name.clone())
            }
            other => other,
        })?;
    Ok(())
}

keyed! {
    CREATE_ZONE = "INSERT INTO shipping_zones (name) VALUES ($1) RETURNING id";
}
keyed! {
    ADD_AREAS = "INSERT INTO shipping_zone_areas (zone_id, country, region)
SELECT $1, a.country, nullif(a.region, '') FROM unnest($2::text[], $3::text[]) a (country, region)";
}

/// Stores a checked zone; its id.
pub(crate) fn create_zone(
    conn: &mut PgConnection,
    new: &NewShippingZone,
) -> Result<ShippingZoneId, StoreError> {
    let rows: Vec<IdRow> =
        CachedSql::keyed::<CREATE_ZONE>(vec![Bind::Text(new.name.as_str().to_owned())])
            .load(conn)?;
    let id = returned_id(rows, "shipping zone")?;
    // An empty text stands for "no region": unnest cannot carry a NULL in a
    // text[] bound from Rust strings, and no region code is empty.
    CachedSql::keyed::<ADD_AREAS>(vec![
        Bind::BigInt(id),
        Bind::TextArray(
            new.areas
                .iter()
                .map(|a| a.country.as_str().to_owned())
                .collect(),
        ),
        Bind::TextArray(
            new.areas
                .iter()
                .map(|a| {
                    a.region
                        .as_ref()
                        .map_or_else(String::new, |r| r.as_str().to_owned())
                })
                .collect(),
        ),
    ])
    .execute(conn)?;
    Ok(ShippingZoneId::new(id))
}

keyed! {
    CREATE_METHOD = "INSERT INTO shipping_methods (zone_id, code, name, currency, rate, free_from, tax_class)
VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7) RETURNING id";
}

/// Stores a checked method; its id. "Shipping zone not found" for a missing zone;
/// a code the zone has is "already taken".
pub(crate) fn create_method(
    conn: &mut PgConnection,
    new: &NewShippingMethod,
) -> Result<ShippingMethodId, StoreError> {
    let rate = serde_json::to_string(&new.rate).map_err(|e| corrupt("shipping rate", e))?;
    let rows: Vec<IdRow> = CachedSql::keyed::<CREATE_METHOD>(vec![
        Bind::BigInt(new.zone.get()),
        Bind::Text(new.code.as_str().to_owned()),
        Bind::Text(new.name.as_str().to_owned()),
        Bind::Text(new.currency.code().to_owned()),
        Bind::Text(rate),
        Bind::NullableNumeric(new.free_from.map(|m| m.amount())),
        Bind::Text(new.tax_class.as_str().to_owned()),
    ])
    .load(conn)
    .map_err(|err| {
        let err = taken(
            err.into(),
            "shipping_methods_code_key",
            Taken::ShippingMethod,
            new.code.as_str(),
        );
        crate::error::missing(err, "shipping zone", new.zone)
    })?;
    returned_id(rows, "shipping method").map(ShippingMethodId::new)
}

#[derive(QueryableByName)]
struct ZoneRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Array<Text>)]
    countries: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    regions: Vec<String>,
}

keyed! {
    ZONES = "SELECT z.id, z.name,
       ARRAY(SELECT a.country::text FROM shipping_zone_areas a WHERE a.zone_id = z.id ORDER BY a.id) AS countries,
       ARRAY(SELECT coalesce(a.region, '') FROM shipping_zone_areas a WHERE a.zone_id = z.id ORDER BY a.id) AS regions
FROM shipping_zones z ORDER BY z.id";
}

fn zones(conn: &mut PgConnection) -> Result<Vec<ShippingZone>, StoreError> {
    CachedSql::keyed::<ZONES>(vec![])
        .load::<ZoneRow>(conn)?
        .into_iter()
        .map(|row| {
            let areas = row
                .countries
                .iter()
                .zip(row.regions)
                .map(|(c, r)| {
                    Ok(Area {
                        country: country(c)?,
                        region: region((!r.is_empty()).then_some(r))?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(ShippingZone {
                id: ShippingZoneId::new(row.id),
                name: ShippingZoneName::try_from(row.name).map_err(|e| corrupt("zone name", e))?,
                areas,
            })
        })
        .collect()
}

#[derive(QueryableByName)]
struct MethodRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    zone_id: i64,
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bpchar)]
    currency: String,
    #[diesel(sql_type = Jsonb)]
    rate: serde_json::Value,
    #[diesel(sql_type = Nullable<Numeric>)]
    free_from: Option<Decimal>,
    #[diesel(sql_type = Text)]
    tax_class: String,
}

keyed! {
    METHODS = "SELECT id, zone_id, code, name, currency, rate, free_from, tax_class FROM shipping_methods ORDER BY id";
}

impl TryFrom<MethodRow> for ShippingMethod {
    type Error = StoreError;
    fn try_from(row: MethodRow) -> Result<Self, StoreError> {
        Ok(ShippingMethod {
            id: ShippingMethodId::new(row.id),
            zone: ShippingZoneId::new(row.zone_id),
            code: slug("shipping method code", row.code)?,
            name: ShippingMethodName::try_from(row.name).map_err(|e| corrupt("method name", e))?,
            free_from: row.free_from.map(|f| money(f, &row.currency)).transpose()?,
            currency: currency("method currency", &row.currency)?,
            rate: from_json("shipping rate", row.rate)?,
            tax_class: parse_enum("tax class", &row.tax_class)?,
        })
    }
}

fn methods(conn: &mut PgConnection) -> Result<Vec<ShippingMethod>, StoreError> {
    CachedSql::keyed::<METHODS>(vec![])
        .load::<MethodRow>(conn)?
        .into_iter()
        .map(ShippingMethod::try_from)
        .collect()
}

#[derive(QueryableByName)]
struct MarketRow {
    #[diesel(sql_type = Bpchar)]
    currency: String,
    #[diesel(sql_type = Bool)]
    prices_include_tax: bool,
}

keyed! {
    MARKETS = "SELECT currency, prices_include_tax FROM markets ORDER BY currency";
}

/// The whole price book, or, for a cart, only the entries of its variants.
pub(crate) fn load_book(
    conn: &mut PgConnection,
    cart: Option<CartId>,
) -> Result<PriceBook, StoreError> {
    let markets = CachedSql::keyed::<MARKETS>(vec![])
        .load::<MarketRow>(conn)?
        .into_iter()
        .map(|r| {
            Ok(Market {
                currency: currency("market", &r.currency)?,
                prices_include_tax: r.prices_include_tax,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let lists = CachedSql::keyed::<PRICE_LISTS>(vec![])
        .load::<PriceListRow>(conn)?
        .into_iter()
        .map(PriceList::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let entry_rows = match cart {
        Some(cart) => {
            CachedSql::keyed::<CART_ENTRIES>(vec![Bind::BigInt(cart.get())]).load(conn)?
        }
        None => CachedSql::keyed::<ENTRIES>(vec![]).load(conn)?,
    };
    let rates = CachedSql::keyed::<TAX_RATES>(vec![])
        .load::<TaxRateRow>(conn)?
        .into_iter()
        .map(TaxRate::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PriceBook {
        markets,
        lists,
        entries: entries(entry_rows)?,
        taxes: TaxTable::new(rates).map_err(|e| corrupt("tax rates", e))?,
        zones: zones(conn)?,
        methods: methods(conn)?,
    })
}

keyed! {
    TAX_CLASSES = "SELECT v.id, p.tax_class FROM cart_lines l
JOIN product_variants v ON v.id = l.variant_id JOIN products p ON p.id = v.product_id
WHERE l.cart_id = $1";
}

#[derive(QueryableByName)]
struct ClassRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    tax_class: String,
}

/// The tax class of each variant in a cart.
pub(crate) fn cart_tax_classes(
    conn: &mut PgConnection,
    cart: CartId,
) -> Result<Vec<(VariantId, TaxClass)>, StoreError> {
    CachedSql::keyed::<TAX_CLASSES>(vec![Bind::BigInt(cart.get())])
        .load::<ClassRow>(conn)?
        .into_iter()
        .map(|r| Ok((VariantId::new(r.id), parse_enum("tax class", &r.tax_class)?)))
        .collect()
}

keyed! {
    CLEAR_GROUPS = "DELETE FROM customer_groups WHERE user_id = $1";
}
keyed! {
    ADD_GROUPS = "INSERT INTO customer_groups (user_id, customer_group) SELECT $1, g FROM unnest($2::text[]) g";
}
keyed! {
    GROUPS = "SELECT customer_group AS name FROM customer_groups WHERE user_id = $1 ORDER BY customer_group";
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Replaces a user's groups (the user checked by the caller).
pub(crate) fn set_groups(
    conn: &mut PgConnection,
    user: UserId,
    groups: &[Slug],
) -> Result<(), StoreError> {
    CachedSql::keyed::<CLEAR_GROUPS>(vec![Bind::BigInt(user.get())]).execute(conn)?;
    CachedSql::keyed::<ADD_GROUPS>(vec![
        Bind::BigInt(user.get()),
        Bind::TextArray(groups.iter().map(|g| g.as_str().to_owned()).collect()),
    ])
    .execute(conn)?;
    Ok(())
}

/// A user's groups, by name.
pub(crate) fn groups(conn: &mut PgConnection, user: UserId) -> Result<Vec<Slug>, StoreError> {
    CachedSql::keyed::<GROUPS>(vec![Bind::BigInt(user.get())])
        .load::<Name>(conn)?
        .into_iter()
        .map(|n| slug("customer group", n.name))
        .collect()
}

// What one checkout reads of the price book: three statements, each only the rows
// its cart, customer and destination need.

keyed! {
    /// Each line of the cart with its product's tax class, and the entries that may
    /// price it: in lists of the cart's currency, for everyone or for one of the
    /// customer's groups, valid at the moment of pricing, from a tier the line reaches.
    pub(crate) CHECKOUT_PRICES = "\
SELECT c.variant_id, p.tax_class, l.id AS list_id, l.name, l.currency, l.customer_group,
       l.starts_at, l.ends_at, e.min_quantity, e.price
FROM cart_lines c
JOIN product_variants v ON v.id = c.variant_id
JOIN products p ON p.id = v.product_id
LEFT JOIN (price_list_entries e
           JOIN price_lists l ON l.id = e.price_list_id AND l.currency = $2
                AND (l.starts_at IS NULL OR l.starts_at <= $4)
                AND (l.ends_at IS NULL OR $4 < l.ends_at)
                AND (l.customer_group IS NULL OR l.customer_group IN (
                     SELECT g.customer_group FROM customer_groups g WHERE g.user_id = $3)))
       ON e.variant_id = c.variant_id AND e.min_quantity <= c.quantity
WHERE c.cart_id = $1
ORDER BY c.variant_id, l.id, e.min_quantity";
}

#[derive(QueryableByName)]
struct CheckoutPriceRow {
    #[diesel(sql_type = BigInt)]
    variant_id: i64,
    #[diesel(sql_type = Text)]
    tax_class: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    list_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Nullable<Bpchar>)]
    currency: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    customer_group: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    starts_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    ends_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Integer>)]
    min_quantity: Option<i32>,
    #[diesel(sql_type = Nullable<Numeric>)]
    price: Option<Decimal>,
}

/// The prices a checkout reads: each variant's tax class, the lists and entries
/// that apply, and the customer groups those lists are for (the customer's).
pub(crate) struct CheckoutPrices {
    pub classes: Vec<(VariantId, TaxClass)>,
    pub lists: Vec<PriceList>,
    pub entries: Vec<PriceEntry>,
    pub groups: Vec<Slug>,
}

/// [`CHECKOUT_PRICES`] for `cart` in `currency`, bought by `user`, at `at`.
pub(crate) fn checkout_prices(
    conn: &mut PgConnection,
    cart: CartId,
    currency: Currency,
    user: Option<UserId>,
    at: DateTime<Utc>,
) -> Result<CheckoutPrices, StoreError> {
    let binds = vec![
        Bind::BigInt(cart.get()),
        Bind::Text(currency.code().to_owned()),
        Bind::NullableBigInt(user.map(UserId::get)),
        Bind::NullableTimestamptz(Some(at)),
    ];
    let mut prices = CheckoutPrices {
        classes: Vec::new(),
        lists: Vec::new(),
        entries: Vec::new(),
        groups: Vec::new(),
    };
    for row in CachedSql::keyed::<CHECKOUT_PRICES>(binds).load::<CheckoutPriceRow>(conn)? {
        let variant = VariantId::new(row.variant_id);
        if prices.classes.last().is_none_or(|(v, _)| *v != variant) {
            prices
                .classes
                .push((variant, parse_enum("tax class", &row.tax_class)?));
        }
        let (Some(id), Some(name), Some(list_currency), Some(min_quantity), Some(price)) = (
            row.list_id,
            row.name,
            row.currency,
            row.min_quantity,
            row.price,
        ) else {
            continue;
        };
        let list = PriceList::try_from(PriceListRow {
            id,
            name,
            currency: list_currency,
            customer_group: row.customer_group,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
        })?;
        prices.entries.push(PriceEntry {
            list: list.id,
            variant,
            min_quantity: u32::try_from(min_quantity).map_err(|e| corrupt("price tier", e))?,
            price: money(price, list.currency.code())?,
        });
        if let Some(group) = &list.group
            && !prices.groups.contains(group)
        {
            prices.groups.push(group.clone());
        }
        if !prices.lists.iter().any(|l| l.id == list.id) {
            prices.lists.push(list);
        }
    }
    Ok(prices)
}

keyed! {
    /// The rates of the destination's country valid at the moment of pricing.
    pub(crate) CHECKOUT_RATES = tax_rates!(
    "WHERE country = $1 AND valid_from <= $2 AND (valid_until IS NULL OR $2 < valid_until)
ORDER BY id"
);
}

/// [`CHECKOUT_RATES`]: the rates a checkout to `to` at `at` may apply.
pub(crate) fn checkout_rates(
    conn: &mut PgConnection,
    to: &Destination,
    at: DateTime<Utc>,
) -> Result<TaxTable, StoreError> {
    let binds = vec![
        Bind::Text(to.country.as_str().to_owned()),
        Bind::NullableTimestamptz(Some(at)),
    ];
    let rates = CachedSql::keyed::<CHECKOUT_RATES>(binds)
        .load::<TaxRateRow>(conn)?
        .into_iter()
        .map(TaxRate::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    TaxTable::new(rates).map_err(|e| corrupt("tax rates", e))
}

keyed! {
    /// The first method (by id) of the code and currency whose zone covers the
    /// destination (the whole country, or its region), and whether the currency's
    /// prices include tax.
    pub(crate) CHECKOUT_METHOD = "\
SELECT m.id, m.zone_id, m.code, m.name, m.currency, m.rate, m.free_from, m.tax_class,
       coalesce((SELECT k.prices_include_tax FROM markets k WHERE k.currency = m.currency),
                false) AS prices_include_tax
FROM shipping_methods m
WHERE m.code = $1 AND m.currency = $2
  AND EXISTS (SELECT FROM shipping_zone_areas a
              WHERE a.zone_id = m.zone_id AND a.country = $3
                AND (a.region IS NULL OR a.region = $4))
ORDER BY m.id
LIMIT 1";
}

#[derive(QueryableByName)]
struct CheckoutMethodRow {
    #[diesel(embed)]
    method: MethodRow,
    #[diesel(sql_type = Bool)]
    prices_include_tax: bool,
}

/// [`CHECKOUT_METHOD`]: the method `code` to `to` in `currency`, and the market.
pub(crate) fn checkout_method(
    conn: &mut PgConnection,
    code: &Slug,
    currency: Currency,
    to: &Destination,
) -> Result<Option<(ShippingMethod, Market)>, StoreError> {
    let binds = vec![
        Bind::Text(code.as_str().to_owned()),
        Bind::Text(currency.code().to_owned()),
        Bind::Text(to.country.as_str().to_owned()),
        Bind::NullableText(to.region.as_ref().map(|r| r.as_str().to_owned())),
    ];
    CachedSql::keyed::<CHECKOUT_METHOD>(binds)
        .load::<CheckoutMethodRow>(conn)?
        .into_iter()
        .next()
        .map(|row| {
            let market = Market {
                currency,
                prices_include_tax: row.prices_include_tax,
            };
            Ok((ShippingMethod::try_from(row.method)?, market))
        })
        .transpose()
}
