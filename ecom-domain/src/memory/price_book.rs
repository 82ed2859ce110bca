//! Prices, tax and shipping as data in the reference store.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::cart::CartOwner;
use crate::error::{DomainError, Taken};
use crate::ids::{CartId, PriceListId, ProductId, UserId, VariantId};
use crate::money::Currency;
use crate::pricing::{
    CartToPrice, Destination, ListPrice, Market, NewPriceList, NewShippingMethod, NewShippingZone,
    PriceBook, PriceEntry, PriceList, Promotions, Quote, ShippingMethod, ShippingOption,
    ShippingZone, TaxClass, TaxRate, TaxRates, TaxTable,
};
use crate::promotion::Offer;
use crate::repo::{PriceBookRepository, distinct_groups};
use crate::values::{CouponCode, Slug};

use super::MemoryStore;

/// The price book as the reference store keeps it.
#[derive(Debug, Clone, Default)]
pub(super) struct Book {
    markets: BTreeMap<Currency, Market>,
    lists: BTreeMap<PriceListId, (PriceList, Vec<PriceEntry>)>,
    rates: Vec<TaxRate>,
    zones: Vec<ShippingZone>,
    methods: Vec<ShippingMethod>,
    tax_classes: BTreeMap<ProductId, TaxClass>,
    groups: BTreeMap<UserId, Vec<Slug>>,
}

impl Book {
    fn book(&self) -> Result<PriceBook, DomainError> {
        Ok(PriceBook {
            markets: self.markets.values().copied().collect(),
            lists: self.lists.values().map(|(l, _)| l.clone()).collect(),
            entries: self.lists.values().flat_map(|(_, e)| e.clone()).collect(),
            taxes: TaxTable::new(self.rates.clone())?,
            zones: self.zones.clone(),
            methods: self.methods.clone(),
        })
    }
}

/// A cart's currency, its lines with their products' tax classes, and its owner's
/// customer groups.
type CartInputs = (
    Currency,
    Vec<(crate::catalog::Sellable, crate::values::Quantity, TaxClass)>,
    Vec<Slug>,
);

impl super::state::State {
    /// The cart's lines with their tax classes, and its owner's groups.
    fn cart_to_price(&self, cart: CartId) -> Result<CartInputs, DomainError> {
        let cart = self.cart(cart)?;
        let lines = cart
            .lines
            .iter()
            .map(|l| {
                let item = self.sellable(l.variant_id)?;
                let class = self
                    .book
                    .tax_classes
                    .get(&item.variant.product_id)
                    .copied()
                    .unwrap_or_default();
                Ok((item, l.quantity, class))
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        let groups = match &cart.owner {
            CartOwner::User(user) => self.book.groups.get(user).cloned().unwrap_or_default(),
            CartOwner::Guest(_) => Vec::new(),
        };
        Ok((cart.currency, lines, groups))
    }
}

impl super::state::State {
    /// The cart quoted as a checkout prices it: to `to` by the method `code`, at
    /// `at`, with the rates of `taxes` (the book's when `None`), the automatic
    /// promotions and those of `codes`.
    pub(super) fn quote_for_checkout(
        &self,
        cart: CartId,
        to: &Destination,
        code: &Slug,
        codes: &[CouponCode],
        taxes: Option<&dyn TaxRates>,
        at: DateTime<Utc>,
    ) -> Result<Quote, DomainError> {
        let (currency, lines, groups) = self.cart_to_price(cart)?;
        let (automatic, coded) = self.offered(codes)?;
        let offers: Vec<Offer<'_>> = automatic
            .into_iter()
            .map(|promotion| Offer {
                promotion,
                code: None,
            })
            .chain(coded.into_iter().map(|(promotion, code)| Offer {
                promotion,
                code: Some(code),
            }))
            .collect();
        let variants: Vec<_> = lines.iter().map(|(item, _, _)| item.id()).collect();
        let places = self.places(&variants)?;
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
        let book = self.book.book()?;
        Ok(book.quote_with(&cart, to, code, taxes.unwrap_or(&book.taxes))?)
    }

    /// The shipping methods that take the cart to `to`, cheapest first.
    pub(super) fn shipping_options_for(
        &self,
        cart: CartId,
        to: &Destination,
    ) -> Result<Vec<ShippingOption>, DomainError> {
        let (currency, lines, groups) = self.cart_to_price(cart)?;
        let cart = CartToPrice {
            currency,
            lines: &lines,
            groups: &groups,
            at: Utc::now(),
            promotions: Promotions::default(),
        };
        Ok(self.book.book()?.shipping_options(&cart, to)?)
    }

    /// True when a price list in `currency` has a price for `variant`: a cart in
    /// that currency may take it.
    pub(super) fn listed_in(&self, variant: VariantId, currency: Currency) -> bool {
        self.book.lists.values().any(|(list, entries)| {
            list.currency == currency && entries.iter().any(|e| e.variant == variant)
        })
    }
}

impl PriceBookRepository for MemoryStore {
    type Error = DomainError;

    fn set_market(&self, market: Market) -> Result<Market, DomainError> {
        self.atomically(|s| {
            s.book.markets.insert(market.currency, market);
            Ok(market)
        })
    }

    fn create_price_list(&self, new: NewPriceList) -> Result<PriceList, DomainError> {
        self.atomically(|s| {
            let list = new.checked()?.with_id(s.next());
            s.book.lists.insert(list.id, (list.clone(), Vec::new()));
            Ok(list)
        })
    }

    fn set_list_prices(
        &self,
        list: PriceListId,
        prices: Vec<ListPrice>,
    ) -> Result<Vec<PriceEntry>, DomainError> {
        self.atomically(|s| {
            let (found, _) = s
                .book
                .lists
                .get(&list)
                .ok_or_else(|| DomainError::not_found("price list", list))?;
            let entries = ListPrice::entries_of(found, prices)?;
            for e in &entries {
                s.sellable(e.variant)?;
            }
            if let Some((_, stored)) = s.book.lists.get_mut(&list) {
                stored.clone_from(&entries);
            }
            Ok(entries)
        })
    }

    fn set_tax_class(&self, product: ProductId, class: TaxClass) -> Result<(), DomainError> {
        self.atomically(|s| {
            s.product(product)?;
            s.book.tax_classes.insert(product, class);
            Ok(())
        })
    }

    fn add_tax_rate(&self, rate: TaxRate) -> Result<TaxRate, DomainError> {
        self.atomically(|s| {
            let rate = rate.checked()?;
            let mut all = s.book.rates.clone();
            all.push(rate.clone());
            TaxTable::new(all)?;
            s.book.rates.push(rate.clone());
            Ok(rate)
        })
    }

    fn create_shipping_zone(&self, new: NewShippingZone) -> Result<ShippingZone, DomainError> {
        self.atomically(|s| {
            let zone = new.checked()?.with_id(s.next());
            s.book.zones.push(zone.clone());
            Ok(zone)
        })
    }

    fn create_shipping_method(
        &self,
        new: NewShippingMethod,
    ) -> Result<ShippingMethod, DomainError> {
        self.atomically(|s| {
            let new = new.checked()?;
            if !s.book.zones.iter().any(|z| z.id == new.zone) {
                return Err(DomainError::not_found("shipping zone", new.zone));
            }
            if s.book
                .methods
                .iter()
                .any(|m| m.zone == new.zone && m.code == new.code)
            {
                return Err(DomainError::AlreadyTaken {
                    what: Taken::ShippingMethod,
                    value: new.code.as_str().to_owned(),
                });
            }
            let method = new.with_id(s.next());
            s.book.methods.push(method.clone());
            Ok(method)
        })
    }

    fn set_customer_groups(
        &self,
        user: UserId,
        groups: Vec<Slug>,
    ) -> Result<Vec<Slug>, DomainError> {
        self.atomically(|s| {
            s.user(user)?;
            let groups = distinct_groups(groups)?;
            s.book.groups.insert(user, groups.clone());
            Ok(groups)
        })
    }

    fn price_book(&self) -> Result<PriceBook, DomainError> {
        self.read(|s| s.book.book())
    }

    fn shipping_options(
        &self,
        cart: CartId,
        to: &Destination,
    ) -> Result<Vec<ShippingOption>, DomainError> {
        self.read(|s| s.shipping_options_for(cart, to))
    }

    fn quote_cart(
        &self,
        cart: CartId,
        to: &Destination,
        code: &Slug,
    ) -> Result<Quote, DomainError> {
        self.read(|s| {
            s.quote_for_checkout(
                cart,
                to,
                code,
                &[],
                self.rules.tax_rates.as_deref(),
                Utc::now(),
            )
        })
    }
}
