//! Sessions, and what a customer does with their own carts and orders, in the
//! reference store. Each call finds the caller and the row in one step under the
//! store's lock, as the PostgreSQL store does in one statement: what is not the
//! caller's is not found.

use chrono::Utc;

use crate::account::User;
use crate::cart::{Cart, CartOwner, CartStatus};
use crate::catalog::{Page, PageRequest};
use crate::error::DomainError;
use crate::ids::{CartId, CartRef, OrderId, OrderRef, UserId, VariantId};
use crate::money::Currency;
use crate::password::Password;
use crate::pricing::{Destination, Quote, ShippingOption};
use crate::repo::{
    AccountRepository, Caller, Checkout, CheckoutRequest, CustomerRepository, OrderCursor,
    OrderDetails, OrderSummary, PlaceOrder, Session, SessionRepository,
};
use crate::values::{CouponCode, Email, Quantity, SessionToken, Slug};

use super::MemoryStore;
use super::cart::{attach, open_for};
use super::state::{SessionRecord, State};

/// Who holds `token`, if it names a live session.
fn caller(s: &State, token: &SessionToken) -> Result<Caller, DomainError> {
    let digest = token.digest();
    match s.sessions.get(&digest) {
        Some(record) if !record.ended && record.expires_at > Utc::now() => Ok(match record.user {
            Some(user) => Caller::User(user),
            None => Caller::Guest(digest),
        }),
        _ => Err(DomainError::Unauthenticated),
    }
}

/// The id of the caller's cart `reference`; not found when it is someone else's.
fn owned_cart(s: &State, who: Caller, reference: CartRef) -> Result<CartId, DomainError> {
    let owner = who.owner();
    s.carts
        .values()
        .find(|c| c.reference == reference && c.owner == owner)
        .map(|c| c.id)
        .ok_or_else(|| DomainError::not_found("cart", reference))
}

/// The id of the caller's order `reference`; not found when it is someone else's.
fn owned_order(s: &State, who: Caller, reference: OrderRef) -> Result<OrderId, DomainError> {
    s.orders
        .values()
        .find(|o| o.reference == reference && order_owner(s, o.id) == Some(who.owner()))
        .map(|o| o.id)
        .ok_or_else(|| DomainError::not_found("order", reference))
}

/// Who an order belongs to: the owner of the cart it was placed from, as the cart
/// was then.
fn order_owner(s: &State, order: OrderId) -> Option<CartOwner> {
    s.order_owners.get(&order).cloned()
}

impl MemoryStore {
    fn start_session(&self, user: Option<UserId>) -> Result<Session, DomainError> {
        let token = SessionToken::generate();
        let expires_at = Utc::now() + self.rules.session_lifetime;
        self.atomically(|s| {
            s.sessions.insert(
                token.digest(),
                SessionRecord {
                    user,
                    expires_at,
                    ended: false,
                },
            );
            Ok(())
        })?;
        Ok(Session {
            token,
            user,
            expires_at,
        })
    }

    /// Changes one of the caller's carts.
    fn change_my_cart(
        &self,
        who: &SessionToken,
        reference: CartRef,
        change: impl FnOnce(&State, &mut Cart) -> Result<(), DomainError>,
    ) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            let caller = caller(s, who)?;
            let id = owned_cart(s, caller, reference)?;
            let mut cart = s.cart(id)?.clone();
            change(s, &mut cart)?;
            s.carts.insert(id, cart.clone());
            Ok(cart)
        })
    }
}

impl SessionRepository for MemoryStore {
    type Error = DomainError;

    fn start_guest_session(&self) -> Result<Session, DomainError> {
        self.start_session(None)
    }

    fn login(&self, email: &Email, password: &Password) -> Result<(Session, User), DomainError> {
        let user = self.authenticate(email, password)?;
        Ok((self.start_session(Some(user.id))?, user))
    }

    fn caller(&self, token: &SessionToken) -> Result<Caller, DomainError> {
        self.read(|s| caller(s, token))
    }

    fn end_session(&self, token: &SessionToken) -> Result<(), DomainError> {
        self.atomically(|s| {
            if let Some(record) = s.sessions.get_mut(&token.digest()) {
                record.ended = true;
            }
            Ok(())
        })
    }

    fn end_sessions_of(&self, user: UserId) -> Result<u64, DomainError> {
        self.atomically(|s| {
            let mut ended = 0;
            for record in s.sessions.values_mut() {
                if record.user == Some(user) && !record.ended {
                    record.ended = true;
                    ended += 1;
                }
            }
            Ok(ended)
        })
    }
}

impl CustomerRepository for MemoryStore {
    type Error = DomainError;

    fn my_cart(&self, who: &SessionToken, currency: Currency) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            let owner = caller(s, who)?.owner();
            open_for(s, &owner, currency)
        })
    }

    fn open_guest_cart(&self, currency: Currency) -> Result<(Session, Cart), DomainError> {
        // A new session has no cart yet, so opening one cannot fail; were it to, the
        // session alone is harmless: it owns nothing.
        let session = self.start_session(None)?;
        let cart = self.my_cart(&session.token, currency)?;
        Ok((session, cart))
    }

    fn cart_of(&self, who: &SessionToken, cart: CartRef) -> Result<Cart, DomainError> {
        self.read(|s| {
            let id = owned_cart(s, caller(s, who)?, cart)?;
            s.cart(id).cloned()
        })
    }

    fn add_to_cart(
        &self,
        who: &SessionToken,
        cart: CartRef,
        variant: VariantId,
        quantity: Quantity,
    ) -> Result<Cart, DomainError> {
        self.change_my_cart(who, cart, |s, cart| {
            let listed = s.listed_in(variant, cart.currency);
            cart.add(&s.sellable(variant)?, quantity, listed)?;
            Ok(())
        })
    }

    fn set_cart_quantity(
        &self,
        who: &SessionToken,
        cart: CartRef,
        variant: VariantId,
        quantity: Quantity,
    ) -> Result<Cart, DomainError> {
        self.change_my_cart(who, cart, |_, cart| {
            Ok(cart.set_quantity(variant, quantity)?)
        })
    }

    fn remove_from_cart(
        &self,
        who: &SessionToken,
        cart: CartRef,
        variant: VariantId,
    ) -> Result<Cart, DomainError> {
        self.change_my_cart(who, cart, |_, cart| Ok(cart.remove(variant)?))
    }

    fn claim_guest_cart(
        &self,
        user: &SessionToken,
        guest: &SessionToken,
    ) -> Result<Cart, DomainError> {
        self.atomically(|s| {
            let Caller::User(user) = caller(s, user)? else {
                return Err(DomainError::Unauthenticated);
            };
            let Caller::Guest(digest) = caller(s, guest)? else {
                return Err(DomainError::not_found("guest cart", "open"));
            };
            let owner = CartOwner::Guest(digest);
            let id = s
                .carts
                .values()
                .find(|c| c.owner == owner && c.status == CartStatus::Open)
                .map(|c| c.id)
                .ok_or_else(|| DomainError::not_found("guest cart", "open"))?;
            attach(s, id, user)
        })
    }

    fn shipping_options_of(
        &self,
        who: &SessionToken,
        cart: CartRef,
        to: &Destination,
    ) -> Result<Vec<ShippingOption>, DomainError> {
        self.read(|s| {
            let id = owned_cart(s, caller(s, who)?, cart)?;
            s.shipping_options_for(id, to)
        })
    }

    fn quote_of(
        &self,
        who: &SessionToken,
        cart: CartRef,
        to: &Destination,
        code: &Slug,
        coupons: &[CouponCode],
    ) -> Result<Quote, DomainError> {
        self.read(|s| {
            let id = owned_cart(s, caller(s, who)?, cart)?;
            s.quote_for_checkout(
                id,
                to,
                code,
                coupons,
                self.rules.tax_rates.as_deref(),
                Utc::now(),
            )
        })
    }

    fn place_order(&self, who: &SessionToken, order: &PlaceOrder) -> Result<Checkout, DomainError> {
        self.atomically(|s| {
            let caller = caller(s, who)?;
            let cart_id = owned_cart(s, caller, order.cart)?;
            let request = CheckoutRequest {
                cart_id,
                shipping: order.shipping.clone(),
                billing: order.billing.clone(),
                guest_email: order.guest_email.clone(),
                provider: order.provider.clone(),
                shipping_method: order.shipping_method.clone(),
                coupon_codes: order.coupon_codes.clone(),
                gift_cards: order.gift_cards.clone(),
                idempotency_key: order.idempotency_key.clone(),
            };
            self.checkout_in(s, &request, &caller.key_scope())
        })
    }

    fn order_of(&self, who: &SessionToken, order: OrderRef) -> Result<OrderDetails, DomainError> {
        self.read(|s| {
            let id = owned_order(s, caller(s, who)?, order)?;
            let order = s.order(id)?.clone();
            let payments = s
                .payments
                .values()
                .filter(|p| p.order_id == id)
                .cloned()
                .collect();
            Ok(OrderDetails { order, payments })
        })
    }

    fn shipments_of(
        &self,
        who: &SessionToken,
        order: OrderRef,
    ) -> Result<Vec<crate::fulfillment::Shipment>, DomainError> {
        self.read(|s| {
            let id = owned_order(s, caller(s, who)?, order)?;
            Ok(s.shipments_of(id))
        })
    }

    fn request_return_of(
        &self,
        who: &SessionToken,
        order: OrderRef,
        lines: Vec<crate::returns::ReturnLine>,
        reason: crate::returns::ReturnReason,
        note: Option<crate::values::Reason>,
    ) -> Result<crate::returns::Return, DomainError> {
        self.atomically(|s| {
            let id = owned_order(s, caller(s, who)?, order)?;
            s.request_return(crate::returns::NewReturn {
                order: id,
                lines,
                reason,
                note,
            })
        })
    }

    fn returns_of(
        &self,
        who: &SessionToken,
        order: OrderRef,
    ) -> Result<Vec<crate::returns::Return>, DomainError> {
        self.read(|s| {
            let id = owned_order(s, caller(s, who)?, order)?;
            Ok(s.returns_of(id))
        })
    }

    fn cancellations_of(
        &self,
        who: &SessionToken,
        order: OrderRef,
    ) -> Result<Vec<crate::fulfillment::Cancellation>, DomainError> {
        self.read(|s| {
            let id = owned_order(s, caller(s, who)?, order)?;
            Ok(s.cancellations_of(id))
        })
    }

    fn orders_of(
        &self,
        who: &SessionToken,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, DomainError> {
        self.read(|s| {
            let owner = caller(s, who)?.owner();
            let mut mine: Vec<OrderSummary> = s
                .orders
                .values()
                .filter(|o| order_owner(s, o.id).as_ref() == Some(&owner))
                .map(|o| s.summary(o))
                .filter(|o| page.after.is_none_or(|after| o.cursor() < after))
                .collect();
            mine.sort_by_key(|o| std::cmp::Reverse(o.cursor()));
            let limit = page.clamped_limit() as usize;
            mine.truncate(limit + 1);
            Ok(Page::from_overfetch(mine, limit, OrderSummary::cursor))
        })
    }
}
