//! [`PriceBookRepository`] on PostgreSQL: prices, tax and shipping as data, and a
//! cart priced with it by the domain's [`PriceBook`] rules.

use chrono::Utc;
use diesel::PgConnection;
use ecom_domain::prelude::*;
use ecom_domain::pricing::{
    CartToPrice, ListPrice, NewPriceList, NewShippingMethod, NewShippingZone, PriceBook, Promotions,
};
use ecom_domain::repo::{PriceBookRepository, distinct_groups};

use crate::ops::cart::{cart_sellables, load_cart};
use crate::ops::price_book as book;
use crate::ops::promotion as promo;
use crate::ops::session::caller_and_cart;
use crate::ops::user::require_user;
use crate::{PgStore, StoreError};

/// The cart's currency, its lines with their products' tax classes, its owner's
/// groups, and the price book it needs.
type CartInputs = (
    Currency,
    Vec<(Sellable, Quantity, TaxClass)>,
    Vec<Slug>,
    PriceBook,
);

fn cart_inputs(conn: &mut PgConnection, id: CartId) -> Result<CartInputs, StoreError> {
    let cart = load_cart(conn, id, false)?;
    let items = cart_sellables(conn, cart.id)?;
    let classes = book::cart_tax_classes(conn, cart.id)?;
    let lines = cart
        .lines_with(&items)
        .into_iter()
        .map(|(item, quantity)| {
            let class = classes
                .iter()
                .find(|(v, _)| *v == item.id())
                .map_or(TaxClass::Standard, |(_, c)| *c);
            (item.clone(), quantity, class)
        })
        .collect();
    let groups = match cart.owner {
        CartOwner::User(user) => book::groups(conn, user)?,
        CartOwner::Guest(_) => Vec::new(),
    };
    Ok((
        cart.currency,
        lines,
        groups,
        book::load_book(conn, Some(cart.id))?,
    ))
}

/// The owner-scoped calls behind `CustomerRepository` (see `customer.rs`): the cart
/// is found by reference and owner, in the statement that finds the caller.
impl PgStore {
    pub(super) fn my_shipping_options(
        &self,
        who: &SessionToken,
        reference: CartRef,
        to: &Destination,
    ) -> Result<Vec<ShippingOption>, StoreError> {
        self.read(|conn| {
            let (_, row) = caller_and_cart(conn, who, reference, false)?;
            let (currency, lines, groups, book) = cart_inputs(conn, CartId::new(row.id))?;
            let cart = CartToPrice {
                currency,
                lines: &lines,
                groups: &groups,
                at: Utc::now(),
                promotions: Promotions::default(),
            };
            Ok(book.shipping_options(&cart, to)?)
        })
    }

    pub(super) fn quote_my_cart(
        &self,
        who: &SessionToken,
        reference: CartRef,
        to: &Destination,
        code: &Slug,
        coupons: &[CouponCode],
    ) -> Result<Quote, StoreError> {
        self.read(|conn| {
            let (_, row) = caller_and_cart(conn, who, reference, false)?;
            self.quote_in(conn, CartId::new(row.id), to, code, coupons)
        })
    }

    /// The cart quoted to `to` by the method `code`, with the automatic
    /// promotions and those of `coupons`: what its checkout would charge.
    fn quote_in(
        &self,
        conn: &mut PgConnection,
        cart: CartId,
        to: &Destination,
        code: &Slug,
        coupons: &[CouponCode],
    ) -> Result<Quote, StoreError> {
        let (currency, lines, groups, book) = cart_inputs(conn, cart)?;
        let at = Utc::now();
        let offered = promo::offered(conn, coupons, currency, at)?;
        let offers = offered.offers();
        let places = if offers.is_empty() {
            Vec::new()
        } else {
            promo::cart_places(conn, cart)?
        };
        let cart = CartToPrice {
            currency,
            lines: &lines,
            groups: &groups,
            at,
            promotions: Promotions {
                offers: &offers,
                places: &places,
                groups: &groups,
            },
        };
        let taxes = self.rules().tax_rates.as_deref().unwrap_or(&book.taxes);
        Ok(book.quote_with(&cart, to, code, taxes)?)
    }
}

impl PriceBookRepository for PgStore {
    type Error = StoreError;

    fn set_market(&self, market: Market) -> Result<Market, StoreError> {
        self.write(|conn| book::set_market(conn, market))?;
        Ok(market)
    }

    fn create_price_list(&self, new: NewPriceList) -> Result<PriceList, StoreError> {
        let new = new.checked().map_err(DomainError::from)?;
        let id = self.write(|conn| book::create_price_list(conn, &new))?;
        Ok(new.with_id(id))
    }

    fn set_list_prices(
        &self,
        list: PriceListId,
        prices: Vec<ListPrice>,
    ) -> Result<Vec<PriceEntry>, StoreError> {
        self.write(|conn| {
            let found = book::lock_price_list(conn, list)?;
            let entries =
                ListPrice::entries_of(&found, prices.clone()).map_err(DomainError::from)?;
            book::replace_entries(conn, list, &entries)?;
            Ok(entries)
        })
    }

    fn set_tax_class(&self, product: ProductId, class: TaxClass) -> Result<(), StoreError> {
        self.write(|conn| book::set_tax_class(conn, product, class))
    }

    fn add_tax_rate(&self, rate: TaxRate) -> Result<TaxRate, StoreError> {
        let rate = rate.checked().map_err(DomainError::from)?;
        self.write(|conn| book::add_tax_rate(conn, &rate))?;
        Ok(rate)
    }

    fn create_shipping_zone(&self, new: NewShippingZone) -> Result<ShippingZone, StoreError> {
        let new = new.checked().map_err(DomainError::from)?;
        let id = self.write(|conn| book::create_zone(conn, &new))?;
        Ok(new.with_id(id))
    }

    fn create_shipping_method(&self, new: NewShippingMethod) -> Result<ShippingMethod, StoreError> {
        let new = new.checked().map_err(DomainError::from)?;
        let id = self.write(|conn| book::create_method(conn, &new))?;
        Ok(new.with_id(id))
    }

    fn set_customer_groups(
        &self,
        user: UserId,
        groups: Vec<Slug>,
    ) -> Result<Vec<Slug>, StoreError> {
        let groups = distinct_groups(groups)?;
        self.write(|conn| {
            require_user(conn, user, true)?;
            book::set_groups(conn, user, &groups)
        })?;
        Ok(groups)
    }

    fn price_book(&self) -> Result<PriceBook, StoreError> {
        self.read(|conn| book::load_book(conn, None))
    }

    fn shipping_options(
        &self,
        cart: CartId,
        to: &Destination,
    ) -> Result<Vec<ShippingOption>, StoreError> {
        self.read(|conn| {
            let (currency, lines, groups, book) = cart_inputs(conn, cart)?;
            let cart = CartToPrice {
                currency,
                lines: &lines,
                groups: &groups,
                at: Utc::now(),
                promotions: Promotions::default(),
            };
            Ok(book.shipping_options(&cart, to)?)
        })
    }

    fn quote_cart(&self, cart: CartId, to: &Destination, code: &Slug) -> Result<Quote, StoreError> {
        self.read(|conn| self.quote_in(conn, cart, to, code, &[]))
    }
}
