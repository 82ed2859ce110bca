//! The domain's error: every business outcome a caller can act on.

use crate::cart::{CartError, CartStatus};
pub use crate::catalog::Shortage;
use crate::catalog::{
    AttributeError, BrowseError, CatalogError, CollectionError, MediaError, OptionError, shortages,
};
use crate::ids::{CartId, CategoryId, OrderId, PaymentId, VariantId};
use crate::money::{Money, MoneyError};
use crate::order::{OrderEvent, OrderStatus, OrderTransitionError};
use crate::password::PasswordError;
use crate::payment::PaymentError;
use crate::pricing::PricingError;
use crate::values::ValidationError;

/// Which unique rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Taken {
    /// A user already has this e-mail (compared case-insensitively).
    Email,
    /// A variant already has this SKU.
    Sku,
    /// A variant already has this barcode.
    Gtin,
    /// A category, product or collection already has this slug.
    Slug,
    /// An attribute already has this name (compared ignoring case).
    Attribute,
    /// A shipping method of the zone already has this code.
    ShippingMethod,
    /// The provider already used this reference for another payment.
    ProviderRef,
}

/// Everything that can refuse a domain operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A value failed validation.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Money arithmetic failed (mixed currencies, overflow).
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A stored password hash is unusable.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// The order's state machine refused an event.
    #[error(transparent)]
    OrderTransition(#[from] OrderTransitionError),
    /// The payment's state machine or amount rules refused an event.
    #[error(transparent)]
    Payment(#[from] PaymentError),
    /// No such entity.
    #[error("{entity} {id} not found")]
    NotFound {
        /// What was looked for ("product", "order"...).
        entity: &'static str,
        /// The key it was looked up by.
        id: String,
    },
    /// A unique value is already in use.
    #[error("{what:?} {value:?} is already taken")]
    AlreadyTaken {
        /// Which rule.
        what: Taken,
        /// The value.
        value: String,
    },
    /// Unknown e-mail or wrong password (deliberately not saying which).
    #[error("invalid e-mail or password")]
    InvalidCredentials,
    /// The session token names no live session: unknown, expired or ended.
    #[error("no valid session: sign in again")]
    Unauthenticated,
    /// Prices can't be negative.
    #[error("price {0} is negative")]
    NegativePrice(Money),
    /// Stock beyond what the store can hold.
    #[error("stock {0} is out of range")]
    StockOutOfRange(u32),
    /// Moving a category under itself or one of its descendants.
    #[error("category {category} can't move under {new_parent}: that would make a cycle")]
    CategoryCycle {
        /// The category moved.
        category: CategoryId,
        /// The parent asked for.
        new_parent: CategoryId,
    },
    /// The cart was converted or abandoned.
    #[error("cart {cart_id} is {status} and can't change")]
    CartNotOpen {
        /// The cart.
        cart_id: CartId,
        /// Its status.
        status: CartStatus,
    },
    /// The cart already holds [`Cart::MAX_LINES`](crate::cart::Cart::MAX_LINES) products.
    #[error("cart {cart_id} already holds {max_lines} products, the most a cart can")]
    CartFull {
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
    /// A product's option types or its variants' selections break the variant rules.
    #[error(transparent)]
    Options(#[from] OptionError),
    /// Attribute values break their definitions, or a definition is malformed.
    #[error(transparent)]
    Attribute(#[from] AttributeError),
    /// A product's images break the media rules.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// A collection's products break the collection rules.
    #[error(transparent)]
    Collection(#[from] CollectionError),
    /// A listing's filter or a search query is refused.
    #[error(transparent)]
    Browse(#[from] BrowseError),
    /// Checkout of an empty cart.
    #[error("the cart is empty")]
    EmptyCart,
    /// Not enough stock for some lines; nothing was reserved.
    #[error("out of stock: {}", shortages(.0))]
    OutOfStock(Vec<Shortage>),
    /// A guest checkout needs an e-mail address.
    #[error("a guest checkout needs an e-mail address")]
    GuestEmailRequired,
    /// The idempotency key was used before for a different request.
    #[error("idempotency key {key:?} was already used for a different request")]
    IdempotencyConflict {
        /// The key.
        key: String,
    },
    /// The order's status does not allow this payment event (e.g. it expired).
    #[error("order {order_id} is {status} and does not take this payment event")]
    OrderNotPayable {
        /// The order.
        order_id: OrderId,
        /// Its status.
        status: OrderStatus,
    },
    /// A gift card's payment takes no provider report: the store books its events.
    #[error("payment {0} is a gift card's: the store books its events")]
    GiftCardPayment(PaymentId),
    /// A refund of a line the order does not have, or cannot refund by line (an
    /// order priced by the flat rules keeps no tax per line).
    #[error("order {order_id} has no line {line_no} to refund")]
    NoRefundableLine {
        /// The order.
        order_id: OrderId,
        /// The line asked for.
        line_no: u16,
    },
    /// A gift card refused, or a code not read.
    #[error(transparent)]
    GiftCard(#[from] crate::gift_card::GiftCardError),
    /// A stock move, transfer or allocation refused.
    #[error(transparent)]
    Inventory(#[from] crate::inventory::InventoryError),
    /// A shipment refused, or its state machine refusing an event.
    #[error(transparent)]
    Fulfillment(#[from] crate::fulfillment::FulfillmentError),
    /// A return refused, or a return's state refusing a step.
    #[error(transparent)]
    Return(#[from] crate::returns::ReturnError),
    /// The event is driven by payments or by expiry, not requested directly.
    #[error("{0} happens through payments or expiry, not as a direct request")]
    NotAManualEvent(OrderEvent),
    /// Someone else changed the entity first; reload and retry.
    #[error("{entity} {id} was changed concurrently")]
    ConcurrentUpdate {
        /// What.
        entity: &'static str,
        /// Which.
        id: String,
    },
    /// A pluggable pricing policy returned something unusable.
    #[error("pricing policy error: {0}")]
    PolicyError(String),
    /// A price list or one of its prices is refused.
    #[error(transparent)]
    PriceList(#[from] crate::pricing::PriceListError),
    /// A tax rate is refused (out of range, an empty window, an overlap).
    #[error(transparent)]
    Tax(#[from] crate::pricing::TaxError),
    /// A shipping zone or method is refused.
    #[error(transparent)]
    Shipping(#[from] crate::pricing::ShippingError),
    /// More customer groups than [`MAX_GROUPS`](crate::repo::MAX_GROUPS).
    #[error("{0} customer groups, at most 20 are allowed")]
    TooManyGroups(usize),
    /// No price of the variant applies in the cart's currency.
    #[error("variant {variant} has no price in {currency}")]
    NoPrice {
        /// The variant.
        variant: VariantId,
        /// The cart's currency.
        currency: crate::money::Currency,
    },
    /// No tax rate for a class the cart needs at its destination.
    #[error("no {class} tax rate for {country}{}", region.as_ref().map(|r| format!("-{r}")).unwrap_or_default())]
    NoTaxRate {
        /// The country.
        country: crate::values::CountryCode,
        /// The region, if the destination has one.
        region: Option<crate::pricing::RegionCode>,
        /// The class.
        class: crate::pricing::TaxClass,
    },
    /// The chosen shipping method does not take the cart.
    #[error("shipping method {0} does not take this cart")]
    ShippingUnavailable(crate::values::Slug),
    /// A coupon code refused, or codes that could not be made.
    #[error(transparent)]
    Coupon(#[from] crate::promotion::CouponError),
    /// A promotion the rules refuse.
    #[error(transparent)]
    Promotion(#[from] crate::promotion::PromotionError),
}

impl DomainError {
    /// A [`DomainError::NotFound`] for `entity` with key `id`.
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        DomainError::NotFound {
            entity,
            id: id.to_string(),
        }
    }
}

// Each aggregate refuses with its own error; callers see one flat `DomainError`, so
// the conversions below map each onto the variant of the same name.

impl From<CatalogError> for DomainError {
    fn from(err: CatalogError) -> Self {
        match err {
            CatalogError::NegativePrice(price) => DomainError::NegativePrice(price),
            CatalogError::StockOutOfRange(stock) => DomainError::StockOutOfRange(stock),
            CatalogError::OutOfStock(short) => DomainError::OutOfStock(short),
            CatalogError::Options(err) => DomainError::Options(err),
            CatalogError::DuplicateSku(sku) => DomainError::AlreadyTaken {
                what: Taken::Sku,
                value: sku.as_str().to_owned(),
            },
            CatalogError::DuplicateGtin(gtin) => DomainError::AlreadyTaken {
                what: Taken::Gtin,
                value: gtin.as_str().to_owned(),
            },
            CatalogError::Money(err) => DomainError::Money(err),
        }
    }
}

impl From<CartError> for DomainError {
    fn from(err: CartError) -> Self {
        match err {
            CartError::NotOpen { cart_id, status } => DomainError::CartNotOpen { cart_id, status },
            CartError::Full { cart_id, max_lines } => DomainError::CartFull { cart_id, max_lines },
            CartError::NotInCart {
                cart_id,
                variant_id,
            } => DomainError::NotInCart {
                cart_id,
                variant_id,
            },
            CartError::NotOnSale(id) => DomainError::NotOnSale(id),
            CartError::Money(err) => DomainError::Money(err),
            CartError::Validation(err) => DomainError::Validation(err),
        }
    }
}

impl From<PricingError> for DomainError {
    fn from(err: PricingError) -> Self {
        match err {
            PricingError::EmptyCart => DomainError::EmptyCart,
            PricingError::NotOnSale(id) => DomainError::NotOnSale(id),
            PricingError::Money(err) => DomainError::Money(err),
            PricingError::Policy(message) => DomainError::PolicyError(message),
            PricingError::NoPrice { variant, currency } => {
                DomainError::NoPrice { variant, currency }
            }
            PricingError::NoTaxRate {
                country,
                region,
                class,
            } => DomainError::NoTaxRate {
                country,
                region,
                class,
            },
            PricingError::ShippingUnavailable(code) => DomainError::ShippingUnavailable(code),
            PricingError::Coupon(err) => DomainError::Coupon(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::VariantId;
    use crate::money::Currency;
    use crate::values::Sku;

    /// Every variant of the aggregates' errors becomes the domain variant of the same
    /// name, and says the same thing: a caller matching on `DomainError` or showing
    /// its text cannot tell which layer refused.
    #[test]
    fn aggregate_errors_become_the_domain_variant_of_the_same_name() {
        let (cart_id, variant_id) = (CartId::new(3), VariantId::new(5));
        let mismatch = MoneyError::CurrencyMismatch {
            left: Currency::EUR,
            right: Currency::USD,
        };
        let too_many = ValidationError::QuantityOutOfRange {
            value: 1000,
            max: 999,
        };
        let short = vec![Shortage {
            variant_id,
            sku: Sku::parse("LAMP-1").unwrap(),
            requested: 2,
            available: 1,
        }];
        let price = Money::from_minor(-1, Currency::EUR);
        let cases: Vec<(String, DomainError, DomainError)> = vec![
            case(
                CartError::NotOpen {
                    cart_id,
                    status: CartStatus::Converted,
                },
                DomainError::CartNotOpen {
                    cart_id,
                    status: CartStatus::Converted,
                },
            ),
            case(
                CartError::Full {
                    cart_id,
                    max_lines: 100,
                },
                DomainError::CartFull {
                    cart_id,
                    max_lines: 100,
                },
            ),
            case(
                CartError::NotInCart {
                    cart_id,
                    variant_id,
                },
                DomainError::NotInCart {
                    cart_id,
                    variant_id,
                },
            ),
            case(
                CartError::NotOnSale(variant_id),
                DomainError::NotOnSale(variant_id),
            ),
            case(
                CartError::Money(mismatch.clone()),
                DomainError::Money(mismatch.clone()),
            ),
            case(
                CartError::Validation(too_many.clone()),
                DomainError::Validation(too_many),
            ),
            case(
                CatalogError::NegativePrice(price),
                DomainError::NegativePrice(price),
            ),
            case(
                CatalogError::StockOutOfRange(u32::MAX),
                DomainError::StockOutOfRange(u32::MAX),
            ),
            case(
                CatalogError::OutOfStock(short.clone()),
                DomainError::OutOfStock(short),
            ),
            case(
                CatalogError::Options(OptionError::NoVariants),
                DomainError::Options(OptionError::NoVariants),
            ),
            case(
                CatalogError::DuplicateSku(Sku::parse("LAMP-1").unwrap()),
                DomainError::AlreadyTaken {
                    what: Taken::Sku,
                    value: "LAMP-1".into(),
                },
            ),
            case(
                CatalogError::Money(mismatch.clone()),
                DomainError::Money(mismatch.clone()),
            ),
            case(PricingError::EmptyCart, DomainError::EmptyCart),
            case(
                PricingError::NotOnSale(variant_id),
                DomainError::NotOnSale(variant_id),
            ),
            case(
                PricingError::Money(mismatch.clone()),
                DomainError::Money(mismatch),
            ),
            case(
                PricingError::Policy("tax of -1 EUR".into()),
                DomainError::PolicyError("tax of -1 EUR".into()),
            ),
            case(
                PricingError::NoPrice {
                    variant: variant_id,
                    currency: Currency::GBP,
                },
                DomainError::NoPrice {
                    variant: variant_id,
                    currency: Currency::GBP,
                },
            ),
            case(
                PricingError::NoTaxRate {
                    country: crate::values::CountryCode::parse("US").unwrap(),
                    region: Some(crate::pricing::RegionCode::parse("ny").unwrap()),
                    class: crate::pricing::TaxClass::Reduced,
                },
                DomainError::NoTaxRate {
                    country: crate::values::CountryCode::parse("US").unwrap(),
                    region: Some(crate::pricing::RegionCode::parse("NY").unwrap()),
                    class: crate::pricing::TaxClass::Reduced,
                },
            ),
            case(
                PricingError::ShippingUnavailable(crate::values::Slug::parse("express").unwrap()),
                DomainError::ShippingUnavailable(crate::values::Slug::parse("express").unwrap()),
            ),
        ];
        for (text, converted, expected) in cases {
            assert_eq!(converted, expected);
            assert_eq!(converted.to_string(), text, "{expected:?} says the same");
        }
    }

    fn case<E>(err: E, expected: DomainError) -> (String, DomainError, DomainError)
    where
        E: std::fmt::Display + Into<DomainError>,
    {
        (err.to_string(), err.into(), expected)
    }
}
