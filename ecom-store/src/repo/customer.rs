//! What a customer does with their own carts and orders. Each call, in one
//! transaction, finds the caller's live session by its digest and the row by its
//! public reference *and* its owner in one statement, a join of the session to the
//! row (`ops::session`): a row of someone else's is not found, exactly as a row
//! that does not exist. The work is
//! done next to each aggregate (`cart.rs`, `checkout.rs`, `order.rs`); this file
//! is the trait.

use ecom_domain::prelude::*;

use crate::{PgStore, StoreError};

impl CustomerRepository for PgStore {
    type Error = StoreError;

    fn my_cart(&self, who: &SessionToken, currency: Currency) -> Result<Cart, StoreError> {
        self.my_open_cart(who, currency)
    }

    fn open_guest_cart(&self, currency: Currency) -> Result<(Session, Cart), StoreError> {
        self.start_guest_with_cart(currency)
    }

    fn cart_of(&self, who: &SessionToken, cart: CartRef) -> Result<Cart, StoreError> {
        self.my_cart_by_ref(who, cart)
    }

    fn add_to_cart(
        &self,
        who: &SessionToken,
        cart: CartRef,
        variant: VariantId,
        quantity: Quantity,
    ) -> Result<Cart, StoreError> {
        self.change_my_cart(who, cart, |conn, cart| {
            let item = crate::ops::product::load_sellable(conn, variant)?;
            let listed = crate::ops::cart::listed_in(conn, &item, cart.currency)?;
            cart.add(&item, quantity, listed)?;
            Ok(())
        })
    }

    fn set_cart_quantity(
        &self,
        who: &SessionToken,
        cart: CartRef,
        variant: VariantId,
        quantity: Quantity,
    ) -> Result<Cart, StoreError> {
        self.change_my_cart(who, cart, |_, cart| {
            Ok(cart.set_quantity(variant, quantity)?)
        })
    }

    fn remove_from_cart(
        &self,
        who: &SessionToken,
        cart: CartRef,
        variant: VariantId,
    ) -> Result<Cart, StoreError> {
        self.change_my_cart(who, cart, |_, cart| Ok(cart.remove(variant)?))
    }

    fn claim_guest_cart(
        &self,
        user: &SessionToken,
        guest: &SessionToken,
    ) -> Result<Cart, StoreError> {
        self.claim_open_guest_cart(user, guest)
    }

    fn shipping_options_of(
        &self,
        who: &SessionToken,
        cart: CartRef,
        to: &Destination,
    ) -> Result<Vec<ShippingOption>, StoreError> {
        self.my_shipping_options(who, cart, to)
    }

    fn quote_of(
        &self,
        who: &SessionToken,
        cart: CartRef,
        to: &Destination,
        code: &Slug,
        coupons: &[CouponCode],
    ) -> Result<Quote, StoreError> {
        self.quote_my_cart(who, cart, to, code, coupons)
    }

    fn place_order(&self, who: &SessionToken, order: &PlaceOrder) -> Result<Checkout, StoreError> {
        self.place_my_order(who, order)
    }

    fn order_of(&self, who: &SessionToken, order: OrderRef) -> Result<OrderDetails, StoreError> {
        self.my_order(who, order)
    }

    fn shipments_of(
        &self,
        who: &SessionToken,
        order: OrderRef,
    ) -> Result<Vec<Shipment>, StoreError> {
        self.read(|conn| {
            let (_, id) = crate::ops::session::caller_and_order(conn, who, order)?;
            crate::ops::fulfillment::order_shipments(conn, id)
        })
    }

    fn request_return_of(
        &self,
        who: &SessionToken,
        order: OrderRef,
        lines: Vec<ReturnLine>,
        reason: ReturnReason,
        note: Option<Reason>,
    ) -> Result<Return, StoreError> {
        self.write(|conn| {
            let (_, id) = crate::ops::session::caller_and_order(conn, who, order)?;
            let new = NewReturn {
                order: id,
                lines: lines.clone(),
                reason,
                note: note.clone(),
            };
            self.open_return(conn, new)
        })
    }

    fn returns_of(&self, who: &SessionToken, order: OrderRef) -> Result<Vec<Return>, StoreError> {
        self.read(|conn| {
            let (_, id) = crate::ops::session::caller_and_order(conn, who, order)?;
            self.returns_of_order(conn, id)
        })
    }

    fn cancellations_of(
        &self,
        who: &SessionToken,
        order: OrderRef,
    ) -> Result<Vec<Cancellation>, StoreError> {
        self.read(|conn| {
            let (_, id) = crate::ops::session::caller_and_order(conn, who, order)?;
            let order = crate::ops::order::load_order_head(conn, id, false)?;
            self.cancellations_of_order(conn, order.id, order.currency)
        })
    }

    fn orders_of(
        &self,
        who: &SessionToken,
        page: PageRequest<OrderCursor>,
    ) -> Result<Page<OrderSummary, OrderCursor>, StoreError> {
        self.my_orders(who, page)
    }
}
