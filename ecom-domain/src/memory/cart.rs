//! Carts in the reference store.

use crate::cart::{Cart, CartOwner, CartStatus};
use crate::error::DomainError;
use crate::ids::{CartId, CartRef, UserId, VariantId};
use crate::money::Currency;
use crate::pricing::OrderDraft;
use crate::repo::CartRepository;
use crate::values::{CountryCode, Quantity};

use super::MemoryStore;
use super::state::State;

impl CartRepository for MemoryStore {
    type Error = DomainError;

    fn open_cart(&self, owner: &CartOwner, currency: Currency) -> Result<Cart, DomainError> {
        self.atomically(|s| open_for(s, owner, currency))
    }

    fn cart(&self, id: CartId) -> Result<Cart, DomainError> {
        self.read(|s| s.cart(id).cloned())
    }

    fn add_item(
        &self,
        cart: CartId,
        variant: VariantId,
        quantity: Quantity,
    ) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            let item = s.sellable(variant)?;
            let listed = s.listed_in(variant, s.cart(cart)?.currency);
            let cart = s
                .carts
                .get_mut(&cart)
                .ok_or_else(|| DomainError::not_found("cart", cart))?;
            cart.add(&item, quantity, listed)?;
            Ok(cart.clone())
        })
    }

    fn set_quantity(
        &self,
        cart: CartId,
        variant: VariantId,
        quantity: Quantity,
    ) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            let cart = s
                .carts
                .get_mut(&cart)
                .ok_or_else(|| DomainError::not_found("cart", cart))?;
            cart.set_quantity(variant, quantity)?;
            Ok(cart.clone())
        })
    }

    fn remove_item(&self, cart: CartId, variant: VariantId) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            let cart = s
                .carts
                .get_mut(&cart)
                .ok_or_else(|| DomainError::not_found("cart", cart))?;
            cart.remove(variant)?;
            Ok(cart.clone())
        })
    }

    fn clear_cart(&self, cart: CartId) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            let cart = s
                .carts
                .get_mut(&cart)
                .ok_or_else(|| DomainError::not_found("cart", cart))?;
            cart.clear()?;
            Ok(cart.clone())
        })
    }

    fn attach_cart(&self, cart_id: CartId, user: UserId) -> Result<Cart, DomainError> {
        self.atomically(|s| attach(s, cart_id, user))
    }

    fn price_cart(&self, cart: CartId, ship_to: CountryCode) -> Result<OrderDraft, DomainError> {
        self.read(|s| {
            let cart = s.cart(cart)?;
            let items = cart
                .lines
                .iter()
                .map(|l| s.sellable(l.variant_id))
                .collect::<Result<Vec<_>, DomainError>>()?;
            Ok(self
                .rules
                .pricing
                .price(cart.currency, &cart.lines_with(&items), ship_to)?)
        })
    }
}

/// Gives cart `cart_id` to `user`, merging it into the user's open cart if any.
pub(super) fn attach(s: &mut State, cart_id: CartId, user: UserId) -> Result<Cart, DomainError> {
    s.user(user)?;
    let guest = s.cart(cart_id)?.clone();
    guest.ensure_open()?;
    if guest.owner == CartOwner::User(user) {
        return Ok(guest);
    }
    let owned = CartOwner::User(user);
    let existing = s
        .carts
        .values()
        .find(|c| c.owner == owned && c.status == CartStatus::Open)
        .cloned();
    match existing {
        None => {
            let cart = s
                .carts
                .get_mut(&cart_id)
                .ok_or_else(|| DomainError::not_found("cart", cart_id))?;
            cart.owner = owned;
            Ok(cart.clone())
        }
        Some(mut target) => {
            for line in &guest.lines {
                let item = s.sellable(line.variant_id)?;
                let listed = s.listed_in(line.variant_id, target.currency);
                target.add(&item, line.quantity, listed)?;
            }
            s.carts.insert(target.id, target.clone());
            if let Some(g) = s.carts.get_mut(&cart_id) {
                g.status = CartStatus::Abandoned;
            }
            Ok(target)
        }
    }
}

/// The open cart of `owner`, created empty if there is none.
pub(super) fn open_for(
    s: &mut State,
    owner: &CartOwner,
    currency: Currency,
) -> Result<Cart, DomainError> {
    if let CartOwner::User(user) = owner {
        s.user(*user)?;
    }
    if let Some(cart) = s
        .carts
        .values()
        .find(|c| c.owner == *owner && c.status == CartStatus::Open)
    {
        return Ok(cart.clone());
    }
    let cart = Cart::new(s.next(), CartRef::generate(), owner.clone(), currency);
    s.carts.insert(cart.id, cart.clone());
    Ok(cart)
}
