//! What the reference store holds, and the lookups every operation shares.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::account::{Address, User};
use crate::cart::{Cart, CartOwner};
use crate::catalog::{
    AttributeDefinition, Category, Collection, Product, SearchLanguage, Sellable, Variant,
};
use crate::error::{DomainError, Taken};
use crate::ids::{
    AddressId, CartId, CategoryId, CollectionId, OrderId, PaymentId, ProductId, UserId, VariantId,
};
use crate::order::{Order, OrderEvent, StatusChange};
use crate::payment::Payment;
use crate::repo::{AddressChoice, OrderSummary};
use crate::values::{Email, PostalAddress, TokenDigest};

#[derive(Debug, Clone, Default)]
pub(super) struct State {
    pub(super) next_id: i64,
    pub(super) categories: BTreeMap<CategoryId, Category>,
    /// Products with their variants.
    pub(super) products: BTreeMap<ProductId, Product>,
    /// The product of each variant.
    pub(super) variant_products: BTreeMap<VariantId, ProductId>,
    /// Attribute definitions, by name.
    pub(super) attributes: Vec<AttributeDefinition>,
    pub(super) collections: BTreeMap<CollectionId, Collection>,
    pub(super) search_language: SearchLanguage,
    /// Prices, tax and shipping as data.
    pub(super) book: super::price_book::Book,
    /// Promotions, coupon codes and their uses.
    pub(super) promos: super::promotion::Promotions,
    /// Gift cards and their ledgers.
    pub(super) gift_cards: super::gift_card::GiftCards,
    /// Stock locations, levels and their ledgers.
    pub(super) inventory: super::inventory::Inventory,
    /// Shipments, by id.
    pub(super) shipments: BTreeMap<crate::ids::ShipmentId, crate::fulfillment::Shipment>,
    /// Returns, by id.
    pub(super) returns: BTreeMap<crate::ids::ReturnId, crate::returns::Return>,
    /// Cancellations of units of orders, by id.
    pub(super) cancellations:
        BTreeMap<crate::ids::CancellationId, crate::fulfillment::Cancellation>,
    pub(super) users: BTreeMap<UserId, User>,
    pub(super) addresses: BTreeMap<AddressId, Address>,
    pub(super) carts: BTreeMap<CartId, Cart>,
    pub(super) orders: BTreeMap<OrderId, Order>,
    pub(super) payments: BTreeMap<PaymentId, Payment>,
    pub(super) idempotency: HashMap<String, (IdempotencyRecord, DateTime<Utc>)>,
    pub(super) sessions: HashMap<TokenDigest, SessionRecord>,
    /// Who each order belongs to: its cart's owner at checkout.
    pub(super) order_owners: HashMap<OrderId, CartOwner>,
}

/// A session as the store keeps it: no token, only its digest (the map's key).
#[derive(Debug, Clone)]
pub(super) struct SessionRecord {
    pub(super) user: Option<UserId>,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) ended: bool,
}

#[derive(Debug, Clone)]
pub(super) struct IdempotencyRecord {
    pub(super) fingerprint: [u8; 32],
    pub(super) order_id: OrderId,
}

impl State {
    pub(super) fn next<T: From<i64>>(&mut self) -> T {
        self.next_id += 1;
        T::from(self.next_id)
    }

    pub(super) fn category(&self, id: CategoryId) -> Result<&Category, DomainError> {
        self.categories
            .get(&id)
            .ok_or_else(|| DomainError::not_found("category", id))
    }

    pub(super) fn product(&self, id: ProductId) -> Result<&Product, DomainError> {
        self.products
            .get(&id)
            .ok_or_else(|| DomainError::not_found("product", id))
    }

    pub(super) fn product_mut(&mut self, id: ProductId) -> Result<&mut Product, DomainError> {
        self.products
            .get_mut(&id)
            .ok_or_else(|| DomainError::not_found("product", id))
    }

    /// Variant `id` with what a sale needs of its product.
    pub(super) fn sellable(&self, id: VariantId) -> Result<Sellable, DomainError> {
        let product = self.variant_product(id)?;
        product
            .sellable(id)
            .ok_or_else(|| DomainError::not_found("variant", id))
    }

    pub(super) fn variant_mut(&mut self, id: VariantId) -> Result<&mut Variant, DomainError> {
        let product = self.variant_product(id)?.id;
        self.product_mut(product)?
            .variants
            .iter_mut()
            .find(|v| v.id == id)
            .ok_or_else(|| DomainError::not_found("variant", id))
    }

    fn variant_product(&self, id: VariantId) -> Result<&Product, DomainError> {
        self.variant_products
            .get(&id)
            .and_then(|product| self.products.get(product))
            .ok_or_else(|| DomainError::not_found("variant", id))
    }

    pub(super) fn user(&self, id: UserId) -> Result<&User, DomainError> {
        self.users
            .get(&id)
            .ok_or_else(|| DomainError::not_found("user", id))
    }

    pub(super) fn cart(&self, id: CartId) -> Result<&Cart, DomainError> {
        self.carts
            .get(&id)
            .ok_or_else(|| DomainError::not_found("cart", id))
    }

    pub(super) fn order(&self, id: OrderId) -> Result<&Order, DomainError> {
        self.orders
            .get(&id)
            .ok_or_else(|| DomainError::not_found("order", id))
    }

    /// The payments of an order, by id.
    pub(super) fn payments_of(&self, order: OrderId) -> Vec<Payment> {
        self.payments
            .values()
            .filter(|p| p.order_id == order)
            .cloned()
            .collect()
    }

    pub(super) fn payment(&self, id: PaymentId) -> Result<&Payment, DomainError> {
        self.payments
            .get(&id)
            .ok_or_else(|| DomainError::not_found("payment", id))
    }

    pub(super) fn address(&self, user: UserId, id: AddressId) -> Result<&Address, DomainError> {
        self.addresses
            .get(&id)
            .filter(|a| a.user_id == user)
            .ok_or_else(|| DomainError::not_found("address", id))
    }

    pub(super) fn email_taken(
        &self,
        email: &Email,
        except: Option<UserId>,
    ) -> Result<(), DomainError> {
        if self
            .users
            .values()
            .any(|u| u.email == *email && Some(u.id) != except)
        {
            return Err(DomainError::AlreadyTaken {
                what: Taken::Email,
                value: email.as_str().to_owned(),
            });
        }
        Ok(())
    }

    pub(super) fn descendants_and_self(&self, root: CategoryId) -> Vec<CategoryId> {
        let mut found = vec![root];
        let mut i = 0;
        while i < found.len() {
            let parent = found[i];
            found.extend(
                self.categories
                    .values()
                    .filter(|c| c.parent_id == Some(parent))
                    .map(|c| c.id),
            );
            i += 1;
        }
        found
    }

    pub(super) fn summary(&self, order: &Order) -> OrderSummary {
        OrderSummary {
            id: order.id,
            reference: order.reference,
            status: order.status,
            grand_total: order.totals.grand_total,
            line_count: order.lines.len() as u32,
            created_at: order.created_at,
        }
    }

    pub(super) fn change_order(
        &mut self,
        id: OrderId,
        event: OrderEvent,
        note: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let order = self
            .orders
            .get_mut(&id)
            .ok_or_else(|| DomainError::not_found("order", id))?;
        let from = order.status;
        let to = from.apply(event)?;
        order.status = to;
        order.history.push(StatusChange {
            from: Some(from),
            to,
            event: Some(event),
            note,
            at: now,
        });
        if to.restocks() {
            let lines = order.lines.clone();
            self.cancel_open_shipments(id);
            self.return_order_stock(id, &lines)?;
            self.release_codes(id);
        }
        Ok(())
    }

    /// Settles the payments of an order that is being cancelled or expired.
    pub(super) fn settle_payments(&mut self, order_id: OrderId) -> Result<(), DomainError> {
        let ids: Vec<PaymentId> = self
            .payments
            .values()
            .filter(|p| p.order_id == order_id)
            .map(|p| p.id)
            .collect();
        for id in ids {
            if let Some(settlement) = self.payment(id)?.settlement_on_cancel() {
                self.book_payment_event(id, settlement, Utc::now())?;
            }
        }
        Ok(())
    }

    pub(super) fn snapshot_address(
        &self,
        owner: Option<UserId>,
        choice: &AddressChoice,
    ) -> Result<PostalAddress, DomainError> {
        match (choice, owner) {
            (AddressChoice::Given(a), _) => Ok(a.clone()),
            (AddressChoice::Saved(id), Some(user)) => Ok(self.address(user, *id)?.postal.clone()),
            (AddressChoice::Saved(id), None) => Err(DomainError::not_found("address", id)),
        }
    }
}
