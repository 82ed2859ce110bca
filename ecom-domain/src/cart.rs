//! Carts: what a user or a guest is about to buy.

use serde::{Deserialize, Serialize};

use crate::catalog::Product;
use crate::ids::{CartId, CartRef, ProductId, UserId};
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
    /// The cart already holds [`Cart::MAX_LINES`] products.
    #[error("cart {cart_id} already holds {max_lines} products, the most a cart can")]
    Full {
        /// The cart.
        cart_id: CartId,
        /// The limit.
        max_lines: usize,
    },
    /// The product has no line in the cart.
    #[error("product {product_id} is not in cart {cart_id}")]
    NotInCart {
        /// The cart.
        cart_id: CartId,
        /// The product.
        product_id: ProductId,
    },
    /// The product is archived.
    #[error("product {0} is not on sale")]
    ProductUnavailable(ProductId),
    /// The product is priced in another currency than the cart's.
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

/// One product in a cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CartLine {
    /// The product.
    pub product_id: ProductId,
    /// How many.
    pub quantity: Quantity,
}

/// A cart: one line per product, ordered by product id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart {
    /// Its id.
    pub id: CartId,
    /// How its owner names it.
    pub reference: CartRef,
    /// Its owner.
    pub owner: CartOwner,
    /// The currency every product in it must be priced in.
    pub currency: Currency,
    /// Open, converted or abandoned.
    pub status: CartStatus,
    /// The lines, ordered by product id.
    pub lines: Vec<CartLine>,
}

impl Cart {
    /// The most products (lines) one cart holds. An order numbers its lines from 1
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

    /// Checks that `product` may go into this cart: open cart, product on sale, same
    /// currency.
    pub fn check_product(&self, product: &Product) -> Result<(), CartError> {
        self.ensure_open()?;
        if !product.is_buyable() {
            return Err(CartError::ProductUnavailable(product.id));
        }
        if product.price.currency() != self.currency {
            return Err(CartError::Money(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: product.price.currency(),
            }));
        }
        Ok(())
    }

    /// The quantity of a product in the cart, if any.
    pub fn quantity_of(&self, product_id: ProductId) -> Option<Quantity> {
        self.lines
            .iter()
            .find(|l| l.product_id == product_id)
            .map(|l| l.quantity)
    }

    /// Each of `products` that is in this cart, with the quantity the cart asks of
    /// it: what pricing and the stock check take.
    pub fn lines_with<'a>(&self, products: &'a [Product]) -> Vec<(&'a Product, Quantity)> {
        products
            .iter()
            .filter_map(|p| self.quantity_of(p.id).map(|q| (p, q)))
            .collect()
    }

    /// Adds units of a product (summing with a line already there); a new product
    /// in a cart of [`Cart::MAX_LINES`] lines is [`CartError::Full`].
    pub fn add(&mut self, product: &Product, quantity: Quantity) -> Result<Quantity, CartError> {
        self.check_product(product)?;
        let total = match self.quantity_of(product.id) {
            Some(existing) => existing.checked_add(quantity)?,
            None if self.lines.len() >= Self::MAX_LINES => {
                return Err(CartError::Full {
                    cart_id: self.id,
                    max_lines: Self::MAX_LINES,
                });
            }
            None => quantity,
        };
        self.put(product.id, total);
        Ok(total)
    }

    /// Sets the quantity of a product already in the cart.
    pub fn set_quantity(
        &mut self,
        product_id: ProductId,
        quantity: Quantity,
    ) -> Result<(), CartError> {
        self.ensure_open()?;
        if self.quantity_of(product_id).is_none() {
            return Err(CartError::NotInCart {
                cart_id: self.id,
                product_id,
            });
        }
        self.put(product_id, quantity);
        Ok(())
    }

    /// Removes a product's line.
    pub fn remove(&mut self, product_id: ProductId) -> Result<(), CartError> {
        self.ensure_open()?;
        let before = self.lines.len();
        self.lines.retain(|l| l.product_id != product_id);
        if self.lines.len() == before {
            return Err(CartError::NotInCart {
                cart_id: self.id,
                product_id,
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

    fn put(&mut self, product_id: ProductId, quantity: Quantity) {
        match self
            .lines
            .binary_search_by_key(&product_id, |l| l.product_id)
        {
            Ok(i) => self.lines[i].quantity = quantity,
            Err(i) => self.lines.insert(
                i,
                CartLine {
                    product_id,
                    quantity,
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: i64) -> Product {
        crate::catalog::tests::product(id, &format!("SKU-{id}"), 10)
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
            cart.add(&product(id), one).unwrap();
        }
        let before = cart.clone();
        assert_eq!(
            cart.add(&product(1_000), one),
            Err(CartError::Full {
                cart_id: CartId::new(7),
                max_lines: Cart::MAX_LINES,
            })
        );
        assert_eq!(cart, before, "a refused add changes nothing");
        assert_eq!(cart.add(&product(1), one), Ok(Quantity::new(2).unwrap()));
        let (in_cart, elsewhere) = (product(1), product(1_000));
        let pairs = [in_cart.clone(), elsewhere];
        assert_eq!(
            cart.lines_with(&pairs),
            vec![(&in_cart, Quantity::new(2).unwrap())],
            "only the products in the cart, with their quantities"
        );
        cart.remove(ProductId::new(1)).unwrap();
        cart.add(&product(1_000), one).unwrap();
        assert_eq!(cart.lines.len(), Cart::MAX_LINES);
    }
}
