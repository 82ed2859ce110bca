//! Returns: each change locks the order, then the return, then the levels its
//! sellable units go back onto (in variant order at its one location), as a
//! shipment does, so the returns and shipments of one order queue, and a return's
//! restock and refund happen once.

use diesel::PgConnection;
use ecom_domain::prelude::*;
use ecom_domain::repo::return_refund;
use ecom_domain::returns::{check_return, ledger_reason, refunded_by, restock};

use crate::ops::fulfillment as ship;
use crate::ops::inventory as stock;
use crate::ops::order::load_order;
use crate::ops::payment::load_payments;
use crate::ops::returns as rma;
use crate::{PgStore, StoreError};

impl PgStore {
    /// Records a requested return (the customer's or the shop's).
    pub(super) fn open_return(
        &self,
        conn: &mut PgConnection,
        new: NewReturn,
    ) -> Result<Return, StoreError> {
        let order = load_order(conn, new.order, true)?;
        let shipments = ship::order_shipments(conn, new.order)?;
        let payments = load_payments(conn, new.order)?;
        let returns = rma::order_returns(conn, new.order, order.currency, &payments)?;
        let lines = check_return(&new, &order, &shipments, &returns).map_err(DomainError::from)?;
        let ret = rma::insert(conn, &new, &lines)?;
        rma::record(conn, &ret, "return.requested")?;
        Ok(ret)
    }

    /// An order's returns, read with its currency and payments.
    pub(super) fn returns_of_order(
        &self,
        conn: &mut PgConnection,
        order: OrderId,
    ) -> Result<Vec<Return>, StoreError> {
        let order = load_order(conn, order, false)?;
        let payments = load_payments(conn, order.id)?;
        rma::order_returns(conn, order.id, order.currency, &payments)
    }
}

/// One return of `returns`, or not found.
fn one(returns: Vec<Return>, id: ReturnId) -> Result<Return, StoreError> {
    returns
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| DomainError::not_found("return", id).into())
}

impl ReturnRepository for PgStore {
    type Error = StoreError;

    fn request_return(&self, new: NewReturn) -> Result<Return, StoreError> {
        self.write(|conn| self.open_return(conn, new.clone()))
    }

    fn decide_return(&self, id: ReturnId, decision: ReturnDecision) -> Result<Return, StoreError> {
        self.write(|conn| {
            let order_id = rma::order_of(conn, id)?;
            let order = load_order(conn, order_id, true)?;
            rma::lock(conn, id)?;
            let payments = load_payments(conn, order.id)?;
            let ret = one(
                rma::order_returns(conn, order.id, order.currency, &payments)?,
                id,
            )?;
            let decided = ret.decided(decision).map_err(DomainError::from)?;
            rma::set_status(conn, id, decided.status)?;
            rma::record(conn, &decided, "return.decided")?;
            Ok(decided)
        })
    }

    fn receive_return(
        &self,
        id: ReturnId,
        receipt: ReturnReceipt,
    ) -> Result<ReturnReceived, StoreError> {
        self.write(|conn| {
            let order_id = rma::order_of(conn, id)?;
            let order = load_order(conn, order_id, true)?;
            rma::lock(conn, id)?;
            let payments = load_payments(conn, order.id)?;
            let returns = rma::order_returns(conn, order.id, order.currency, &payments)?;
            let ret = one(returns.clone(), id)?;
            if ret.check_receipt(&receipt).map_err(DomainError::from)? {
                return Ok(ReturnReceived {
                    ret,
                    payments,
                    order_status: order.status,
                    applied: Applied::Duplicate,
                });
            }
            ship::ensure_location(conn, receipt.location)?;
            // The payments first (and so their gift cards), then variants, then
            // levels: the lock order of a checkout and of an order's cancellation.
            let cancellations = self.cancellations_of_order(conn, order.id, order.currency)?;
            let (payments, order_status) =
                match return_refund(&order, &payments, &ret, &returns, &cancellations, &receipt)? {
                    Some(refund) => {
                        let outcome = self.book_refund(conn, &order, payments, &refund)?;
                        (outcome.payments, outcome.order_status)
                    }
                    None => (payments, order.status),
                };
            let reservations = stock::reservations(conn, order.id)?;
            let back = restock(&ret, &receipt, &order.lines, &reservations);
            rma::restock_counts(conn, &back.to_count)?;
            let reason = ledger_reason(id);
            for (variant, units) in back.at_location {
                let level = stock::lock_level(conn, receipt.location, variant)?;
                let movement = InventoryMove {
                    kind: MoveKind::Return,
                    quantity: i64::from(units),
                };
                stock::book(conn, &level, movement, reason.as_ref())?;
            }
            rma::set_received(conn, id, &receipt)?;
            let received = Return {
                status: ReturnStatus::Received,
                receipt: Some(receipt),
                refunded: Some(
                    refunded_by(id, order.currency, &payments).map_err(DomainError::from)?,
                ),
                ..ret
            };
            rma::record(conn, &received, "return.received")?;
            Ok(ReturnReceived {
                ret: received,
                payments,
                order_status,
                applied: Applied::Changed,
            })
        })
    }

    fn find_return(&self, id: ReturnId) -> Result<Return, StoreError> {
        self.read(|conn| {
            let order = rma::order_of(conn, id)?;
            one(self.returns_of_order(conn, order)?, id)
        })
    }

    fn order_returns(&self, order: OrderId) -> Result<Vec<Return>, StoreError> {
        self.read(|conn| self.returns_of_order(conn, order))
    }
}
