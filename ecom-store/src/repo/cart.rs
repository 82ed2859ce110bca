//! Carts: every change locks the cart row, applies the domain's cart rules to the
//! loaded cart, and writes back only the lines that changed.

use diesel::prelude::*;
use ecom_domain::prelude::*;

use crate::error::missing;
use crate::ops::cart::{
    cart_sellables, find_open, listed_in, load_cart, open_in, owner_columns, with_lines,
};
use crate::ops::product::load_sellable;
use crate::ops::session::{caller, caller_and_cart};
use crate::ops::user::require_user;
use crate::rows::quantity_column;
use crate::schema::cart_lines;
use crate::sql::{Bind, CachedSql, keyed};
use crate::{PgStore, StoreError};

// A cart's writes, kept prepared (see `crate::sql`): each add to a cart runs them.

keyed! {
    /// The cart's row after a change.
    UPDATE_CART = "UPDATE carts SET status = $1, user_id = $2, guest_token_digest = $3, updated_at = now() \
     WHERE id = $4";
}

keyed! {
    /// Lines set to their quantities (any number of them) and the cart's row after the
    /// change, in one statement.
    UPSERT_LINES_UPDATE_CART = "WITH lines AS ( \
       INSERT INTO cart_lines (cart_id, variant_id, quantity) \
       SELECT $4, * FROM unnest($5::bigint[], $6::int[]) \
       ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = excluded.quantity \
     ) \
     UPDATE carts SET status = $1, user_id = $2, guest_token_digest = $3, updated_at = now() \
     WHERE id = $4";
}

/// Writes the difference between two versions of a cart's lines.
fn sync_lines(conn: &mut PgConnection, before: &Cart, after: &Cart) -> Result<(), StoreError> {
    let removed: Vec<i64> = before
        .lines
        .iter()
        .filter(|l| after.quantity_of(l.variant_id).is_none())
        .map(|l| l.variant_id.get())
        .collect();
    if !removed.is_empty() {
        diesel::delete(
            cart_lines::table
                .filter(cart_lines::cart_id.eq(after.id.get()))
                .filter(cart_lines::variant_id.eq_any(&removed)),
        )
        .execute(conn)?;
    }
    let (variants, quantities): (Vec<i64>, Vec<i32>) = after
        .lines
        .iter()
        .filter(|l| before.quantity_of(l.variant_id) != Some(l.quantity))
        .map(|l| (l.variant_id.get(), quantity_column(l.quantity)))
        .unzip();
    let (user, guest) = owner_columns(&after.owner);
    let mut binds = vec![
        Bind::Text(after.status.as_str().to_owned()),
        Bind::NullableBigInt(user),
        Bind::NullableBytea(guest),
        Bind::BigInt(after.id.get()),
    ];
    if !variants.is_empty() {
        binds.push(Bind::BigIntArray(variants));
        binds.push(Bind::IntArray(quantities));
        CachedSql::keyed::<UPSERT_LINES_UPDATE_CART>(binds)
            .execute(conn)
            .map_err(|e| missing(e.into(), "variant", "in cart"))?;
    } else if !removed.is_empty() || before.status != after.status || before.owner != after.owner {
        CachedSql::keyed::<UPDATE_CART>(binds).execute(conn)?;
    }
    Ok(())
}

/// Locks the cart, lets `change` apply domain rules to it, writes the difference,
/// in the caller's transaction.
fn change_cart_in(
    conn: &mut PgConnection,
    id: CartId,
    change: &mut impl FnMut(&mut PgConnection, &mut Cart) -> Result<(), StoreError>,
) -> Result<Cart, StoreError> {
    let before = load_cart(conn, id, true)?;
    change_locked(conn, before, change)
}

/// Lets `change` apply domain rules to `before`, a cart whose row the transaction
/// has locked, and writes the difference.
fn change_locked(
    conn: &mut PgConnection,
    before: Cart,
    change: &mut impl FnMut(&mut PgConnection, &mut Cart) -> Result<(), StoreError>,
) -> Result<Cart, StoreError> {
    let mut cart = before.clone();
    change(conn, &mut cart)?;
    sync_lines(conn, &before, &cart)?;
    Ok(cart)
}

impl PgStore {
    /// Locks the cart, lets `change` apply domain rules to it, writes the difference.
    fn change_cart(
        &self,
        id: CartId,
        mut change: impl FnMut(&mut PgConnection, &mut Cart) -> Result<(), StoreError>,
    ) -> Result<Cart, StoreError> {
        self.write(|conn| change_cart_in(conn, id, &mut change))
    }
}

impl CartRepository for PgStore {
    type Error = StoreError;

    fn open_cart(&self, owner: &CartOwner, currency: Currency) -> Result<Cart, StoreError> {
        self.write(|conn| open_in(conn, owner, currency))
    }

    fn cart(&self, id: CartId) -> Result<Cart, StoreError> {
        self.read(|conn| load_cart(conn, id, false))
    }

    fn add_item(
        &self,
        cart: CartId,
        variant: VariantId,
        quantity: Quantity,
    ) -> Result<Cart, StoreError> {
        self.change_cart(cart, |conn, cart| {
            let item = load_sellable(conn, variant)?;
            let listed = listed_in(conn, &item, cart.currency)?;
            cart.add(&item, quantity, listed)?;
            Ok(())
        })
    }

    fn set_quantity(
        &self,
        cart: CartId,
        variant: VariantId,
        quantity: Quantity,
    ) -> Result<Cart, StoreError> {
        self.change_cart(cart, |_, cart| Ok(cart.set_quantity(variant, quantity)?))
    }

    fn remove_item(&self, cart: CartId, variant: VariantId) -> Result<Cart, StoreError> {
        self.change_cart(cart, |_, cart| Ok(cart.remove(variant)?))
    }

    fn clear_cart(&self, cart: CartId) -> Result<Cart, StoreError> {
        self.change_cart(cart, |_, cart| Ok(cart.clear()?))
    }

    fn attach_cart(&self, cart_id: CartId, user: UserId) -> Result<Cart, StoreError> {
        self.write(|conn| attach_in(conn, cart_id, user))
    }

    fn price_cart(&self, cart: CartId, ship_to: CountryCode) -> Result<OrderDraft, StoreError> {
        self.read(|conn| {
            let cart = load_cart(conn, cart, false)?;
            let items = cart_sellables(conn, cart.id)?;
            let lines = cart.lines_with(&items);
            Ok(self.rules().pricing.price(cart.currency, &lines, ship_to)?)
        })
    }
}

/// Gives cart `cart_id` to `user`, merged into the user's open cart if there is one,
/// in the caller's transaction.
fn attach_in(conn: &mut PgConnection, cart_id: CartId, user: UserId) -> Result<Cart, StoreError> {
    require_user(conn, user, true)?;
    let guest = load_cart(conn, cart_id, true)?;
    guest.ensure_open()?;
    let owned = CartOwner::User(user);
    if guest.owner == owned {
        return Ok(guest);
    }
    match find_open(conn, &owned)? {
        None => {
            let mut cart = guest.clone();
            cart.owner = owned;
            sync_lines(conn, &guest, &cart)?;
            Ok(cart)
        }
        Some(target_id) => {
            let before = load_cart(conn, target_id, true)?;
            let mut target = before.clone();
            for line in &guest.lines {
                let item = load_sellable(conn, line.variant_id)?;
                let listed = listed_in(conn, &item, target.currency)?;
                target.add(&item, line.quantity, listed)?;
            }
            sync_lines(conn, &before, &target)?;
            let mut abandoned = guest.clone();
            abandoned.status = CartStatus::Abandoned;
            sync_lines(conn, &guest, &abandoned)?;
            Ok(target)
        }
    }
}

/// The owner-scoped cart operations behind `CustomerRepository` (see `customer.rs`):
/// each finds the caller and the cart (by reference and owner, in one statement)
/// in the transaction that changes it.
impl PgStore {
    pub(super) fn my_open_cart(
        &self,
        who: &SessionToken,
        currency: Currency,
    ) -> Result<Cart, StoreError> {
        self.write(|conn| {
            let owner = caller(conn, who)?.owner();
            open_in(conn, &owner, currency)
        })
    }

    pub(super) fn my_cart_by_ref(
        &self,
        who: &SessionToken,
        reference: CartRef,
    ) -> Result<Cart, StoreError> {
        self.read(|conn| {
            let (_, row) = caller_and_cart(conn, who, reference, false)?;
            with_lines(conn, row)
        })
    }

    /// Changes one of the caller's carts with the domain's cart rules.
    pub(super) fn change_my_cart(
        &self,
        who: &SessionToken,
        reference: CartRef,
        mut change: impl FnMut(&mut PgConnection, &mut Cart) -> Result<(), StoreError>,
    ) -> Result<Cart, StoreError> {
        self.write(|conn| {
            let (_, row) = caller_and_cart(conn, who, reference, true)?;
            let before = with_lines(conn, row)?;
            change_locked(conn, before, &mut change)
        })
    }

    pub(super) fn claim_open_guest_cart(
        &self,
        user: &SessionToken,
        guest: &SessionToken,
    ) -> Result<Cart, StoreError> {
        self.write(|conn| {
            let Caller::User(user) = caller(conn, user)? else {
                return Err(DomainError::Unauthenticated.into());
            };
            let Caller::Guest(digest) = caller(conn, guest)? else {
                return Err(DomainError::not_found("guest cart", "open").into());
            };
            let id = find_open(conn, &CartOwner::Guest(digest))?
                .ok_or_else(|| DomainError::not_found("guest cart", "open"))?;
            attach_in(conn, id, user)
        })
    }
}
