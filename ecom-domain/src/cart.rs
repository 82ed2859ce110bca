//! Carts: what a user or a guest is about to buy.

use serde::{Deserialize, Serialize};

use crate::catalog::Product;
use crate::error::DomainError;
use crate::ids::{CartId, ProductId, UserId};
use crate::money::Currency;
use crate::values::{Quantity, ValidationError};

/// An opaque token that identifies a guest's cart (e.g. kept in a cookie):
/// 16 to 64 characters of `A-Z a-z 0-9 - _`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GuestToken(String);

impl GuestToken {
    /// Validates a token.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let len = raw.chars().count();
        if len < 16 {
            return Err(ValidationError::TooShort {
                field: "guest token",
                len,
                min: 16,
            });
        }
        if len > 64 {
            return Err(ValidationError::TooLong {
                field: "guest token",
                len,
                max: 64,
            });
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ValidationError::Malformed {
                field: "guest token",
                value: raw.to_owned(),
                rule: "only A-Z, a-z, 0-9, '-' and '_'",
            });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for GuestToken {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<GuestToken> for String {
    fn from(token: GuestToken) -> String {
        token.0
    }
}

/// Who a cart belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CartOwner {
    /// A registered user (one open cart each).
    User(UserId),
    /// A guest, known by a token; the cart can later be attached to a user.
    Guest(GuestToken),
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
    pub fn new(id: CartId, owner: CartOwner, currency: Currency) -> Self {
        Self {
            id,
            owner,
            currency,
            status: CartStatus::Open,
            lines: Vec::new(),
        }
    }

    /// Fails unless the cart can still change.
    pub fn ensure_open(&self) -> Result<(), DomainError> {
        if self.status != CartStatus::Open {
            return Err(DomainError::CartNotOpen {
                cart_id: self.id,
                status: self.status,
            });
        }
        Ok(())
    }

    /// Checks that `product` may go into this cart: open cart, product on sale, same
    /// currency.
    pub fn check_product(&self, product: &Product) -> Result<(), DomainError> {
        self.ensure_open()?;
        if !product.is_buyable() {
            return Err(DomainError::ProductUnavailable(product.id));
        }
        if product.price.currency() != self.currency {
            return Err(DomainError::Money(
                crate::money::MoneyError::CurrencyMismatch {
                    left: self.currency,
                    right: product.price.currency(),
                },
            ));
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
    /// in a cart of [`Cart::MAX_LINES`] lines is [`DomainError::CartFull`].
    pub fn add(&mut self, product: &Product, quantity: Quantity) -> Result<Quantity, DomainError> {
        self.check_product(product)?;
        let total = match self.quantity_of(product.id) {
            Some(existing) => existing.checked_add(quantity)?,
            None if self.lines.len() >= Self::MAX_LINES => {
                return Err(DomainError::CartFull {
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
    ) -> Result<(), DomainError> {
        self.ensure_open()?;
        if self.quantity_of(product_id).is_none() {
            return Err(DomainError::NotInCart {
                cart_id: self.id,
                product_id,
            });
        }
        self.put(product_id, quantity);
        Ok(())
    }

    /// Removes a product's line.
    pub fn remove(&mut self, product_id: ProductId) -> Result<(), DomainError> {
        self.ensure_open()?;
        let before = self.lines.len();
        self.lines.retain(|l| l.product_id != product_id);
        if self.lines.len() == before {
            return Err(DomainError::NotInCart {
                cart_id: self.id,
                product_id,
            });
        }
        Ok(())
    }

    /// Removes every line.
    pub fn clear(&mut self) -> Result<(), DomainError> {
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
            CartOwner::Guest(GuestToken::parse("guest-token-0123456789").unwrap()),
            Currency::EUR,
        );
        let one = Quantity::new(1).unwrap();
        for id in 1..=Cart::MAX_LINES as i64 {
            cart.add(&product(id), one).unwrap();
        }
        let before = cart.clone();
        assert_eq!(
            cart.add(&product(1_000), one),
            Err(DomainError::CartFull {
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
