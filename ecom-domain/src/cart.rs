//! Carts: what a user or a guest is about to buy.

use serde::{Deserialize, Serialize};

use crate::catalog::Sellable;
use crate::ids::{CartId, CartRef, UserId, VariantId};
use crate::money::{Currency, MoneyError};
use crate::values::{GuestToken, Quantity, TokenDigest, ValidationError};

/// What a cart refuses. Each converts into the domain's error variant of the same
/// name, the error callers match on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CartError {
    /// The cart was converted or abandoned.
    #[error("cart {cart_id} is {status} and can't change")]
    NotOpen {
        /// The cart.
        cart_id: CartId,
        /// Its status.
        status: CartStatus,
    },
    /// The cart already holds [`Cart::MAX_LINES`] lines.
    #[error("cart {cart_id} already holds {max_lines} products, the most a cart can")]
    Full {
        /// The cart.
        cart_id: CartId,
        /// The limit.
        max_lines: usize,
    },
    /// The variant has no line in the cart.
    #[error("variant {variant_id} is not in cart {cart_id}")]
    NotInCart {
        /// The cart.
        cart_id: CartId,
        /// The variant.
        variant_id: VariantId,
    },
    /// The variant's product is a draft or archived.
    #[error("variant {0} is not on sale")]
    NotOnSale(VariantId),
    /// The variant is priced in another currency than the cart's.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// The quantity would leave its range.
    #[error(transparent)]
    Validation(#[from] ValidationError),
}

/// Who a cart belongs to, and the orders placed from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CartOwner {
    /// A registered user (one open cart each).
    User(UserId),
    /// A guest, known by the digest of a token only the guest holds (a guest
    /// session's, see [`SessionToken`](crate::values::SessionToken)); the cart can
    /// later be attached to a user.
    Guest(TokenDigest),
}

impl CartOwner {
    /// The owner a guest holding `token` is.
    pub fn guest(token: &GuestToken) -> Self {
        Self::Guest(token.digest())
    }
}

/// Where a cart is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartStatus {
    /// Being filled.
    Open,
    /// Turned into an order; read-only from then on.
    Converted,
    /// Left behind; read-only.
    Abandoned,
}

crate::text_enum!(CartStatus { Open = "open", Converted = "converted", Abandoned = "abandoned" });

/// One variant in a cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CartLine {
    /// The variant.
    pub variant_id: VariantId,
    /// How many.
    pub quantity: Quantity,
}

/// A cart: one line per variant, ordered by variant id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart {
    /// Its id.
    pub id: CartId,
    /// How its owner names it.
    pub reference: CartRef,
    /// Its owner.
    pub owner: CartOwner,
    /// The currency every variant in it must be priced in.
    pub currency: Currency,
    /// Open, converted or abandoned.
    pub status: CartStatus,
    /// The lines, ordered by variant id.
    pub lines: Vec<CartLine>,
}

impl Cart {
    /// The most variants (lines) one cart holds. An order numbers its lines from 1
    /// in a `smallint`; a bound this size also keeps a checkout one short
    /// transaction.
    pub const MAX_LINES: usize = 100;

    /// A new, empty, open cart.
    pub fn new(id: CartId, reference: CartRef, owner: CartOwner, currency: Currency) -> Self {
        Self {
            id,
            reference,
            owner,
            currency,
            status: CartStatus::Open,
            lines: Vec::new(),
        }
    }

    /// Fails unless the cart can still change.
    pub fn ensure_open(&self) -> Result<(), CartError> {
        if self.status != CartStatus::Open {
            return Err(CartError::NotOpen {
                cart_id: self.id,
                status: self.status,
            });
        }
        Ok(())
    }

    /// Checks that `item` may go into this cart: open cart, its product on sale,
    /// priced in the cart's currency (its own price, or, when `listed`, a price
    /// list's).
    pub fn check_item(&self, item: &Sellable, listed: bool) -> Result<(), CartError> {
        self.ensure_open()?;
        if !item.is_buyable() {
            return Err(CartError::NotOnSale(item.id()));
        }
        let currency = item.variant.price.currency();
        if currency != self.currency && !listed {
            return Err(CartError::Money(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: currency,
            }));
        }
        Ok(())
    }

    /// The quantity of a variant in the cart, if any.
    pub fn quantity_of(&self, variant_id: VariantId) -> Option<Quantity> {
        self.lines
            .iter()
            .find(|l| l.variant_id == variant_id)
            .map(|l| l.quantity)
    }

    /// Each of `items` that is in this cart, with the quantity the cart asks of it:
    /// what pricing and the stock check take.
    pub fn lines_with<'a>(&self, items: &'a [Sellable]) -> Vec<(&'a Sellable, Quantity)> {
        items
            .iter()
            .filter_map(|s| self.quantity_of(s.id()).map(|q| (s, q)))
            .collect()
    }

    /// Adds units of a variant (summing with a line already there); a new variant
    /// in a cart of [`Cart::MAX_LINES`] lines is [`CartError::Full`]. `listed`:
    /// a price list has a price for it in the cart's currency
    /// ([`Cart::check_item`]).
    pub fn add(
        &mut self,
        item: &Sellable,
        quantity: Quantity,
        listed: bool,
    ) -> Result<Quantity, CartError> {
        self.check_item(item, listed)?;
        let total = match self.quantity_of(item.id()) {
            Some(existing) => existing.checked_add(quantity)?,
            None if self.lines.len() >= Self::MAX_LINES => {
                return Err(CartError::Full {
                    cart_id: self.id,
                    max_lines: Self::MAX_LINES,
                });
            }
            None => quantity,
        };
        self.put(item.id(), total);
        Ok(total)
    }

    /// Sets the quantity of a variant already in the cart.
    pub fn set_quantity(
        &mut self,
        variant_id: VariantId,
        quantity: Quantity,
    ) -> Result<(), CartError> {
        self.ensure_open()?;
        if self.quantity_of(variant_id).is_none() {
            return Err(CartError::NotInCart {
                cart_id: self.id,
                variant_id,
            });
        }
        self.put(variant_id, quantity);
        Ok(())
    }

    /// Removes a variant's line.
    pub fn remove(&mut self, variant_id: VariantId) -> Result<(), CartError> {
        self.ensure_open()?;
        let before = self.lines.len();
        self.lines.retain(|l| l.variant_id != variant_id);
        if self.lines.len() == before {
            return Err(CartError::NotInCart {
                cart_id: self.id,
                variant_id,
            });
        }
        Ok(())
    }

    /// Removes every line.
    pub fn clear(&mut self) -> Result<(), CartError> {
        self.ensure_open()?;
        self.lines.clear();
        Ok(())
    }

    fn put(&mut self, variant_id: VariantId, quantity: Quantity) {
        match self
            .lines
            .binary_search_by_key(&variant_id, |l| l.variant_id)
        {
            Ok(i) => self.lines[i].quantity = quantity,
            Err(i) => self.lines.insert(
                i,
                CartLine {
                    variant_id,
                    quantity,
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: i64) -> Sellable {
        crate::catalog::tests::sellable(id, &format!("SKU-{id}"), 10)
    }

    #[test]
    fn a_full_cart_takes_more_units_but_no_new_product() {
        let mut cart = Cart::new(
            CartId::new(7),
            CartRef::new(7),
            CartOwner::guest(&GuestToken::parse("guest-token-0123456789").unwrap()),
            Currency::EUR,
        );
        let one = Quantity::new(1).unwrap();
        for id in 1..=Cart::MAX_LINES as i64 {
            cart.add(&product(id), one, false).unwrap();
        }
        let before = cart.clone();
        assert_eq!(
            cart.add(&product(1_000), one, false),
            Err(CartError::Full {
                cart_id: CartId::new(7),
                max_lines: Cart::MAX_LINES,
            })
        );
        assert_eq!(cart, before, "a refused add changes nothing");
        assert_eq!(
            cart.add(&product(1), one, false),
            Ok(Quantity::new(2).unwrap())
        );
        let (in_cart, elsewhere) = (product(1), product(1_000));
        let pairs = [in_cart.clone(), elsewhere];
        assert_eq!(
            cart.lines_with(&pairs),
            vec![(&in_cart, Quantity::new(2).unwrap())],
            "only the products in the cart, with their quantities"
        );
        cart.remove(VariantId::new(1)).unwrap();
        cart.add(&product(1_000), one, false).unwrap();
        assert_eq!(cart.lines.len(), Cart::MAX_LINES);
    }
}
