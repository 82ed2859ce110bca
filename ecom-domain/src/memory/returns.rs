//! Returns in the reference store.

use chrono::Utc;

use crate::error::DomainError;
use crate::ids::{OrderId, ReturnId};
use crate::inventory::{InventoryMove, MoveKind};
use crate::payment::Applied;
use crate::repo::{ReturnReceived, ReturnRepository, return_refund};
use crate::returns::{
    NewReturn, Return, ReturnDecision, ReturnReceipt, ReturnStatus, check_return, ledger_reason,
    refunded_by, restock,
};

use super::MemoryStore;
use super::state::State;

impl State {
    fn find_return(&self, id: ReturnId) -> Result<&Return, DomainError> {
        self.returns
            .get(&id)
            .ok_or_else(|| DomainError::not_found("return", id))
    }

    /// An order's returns, oldest first.
    pub(super) fn returns_of(&self, order: OrderId) -> Vec<Return> {
        self.returns
            .values()
            .filter(|r| r.order == order)
            .cloned()
            .collect()
    }

    /// Records a new requested return of units of `new.order` that may come back.
    pub(super) fn request_return(&mut self, new: NewReturn) -> Result<Return, DomainError> {
        let order = self.order(new.order)?;
        let lines = check_return(
            &new,
            order,
            &self.shipments_of(new.order),
            &self.returns_of(new.order),
        )?;
        let ret = Return {
            id: self.next(),
            order: new.order,
            lines,
            reason: new.reason,
            note: new.note,
            status: ReturnStatus::Requested,
            receipt: None,
            refunded: None,
            created_at: Utc::now(),
        };
        self.returns.insert(ret.id, ret.clone());
        Ok(ret)
    }
}

impl ReturnRepository for MemoryStore {
    type Error = DomainError;

    fn request_return(&self, new: NewReturn) -> Result<Return, DomainError> {
        self.atomically(|s| s.request_return(new))
    }

    fn decide_return(&self, id: ReturnId, decision: ReturnDecision) -> Result<Return, DomainError> {
        self.atomically(|s| {
            let decided = s.find_return(id)?.decided(decision)?;
            s.returns.insert(id, decided.clone());
            Ok(decided)
        })
    }

    fn receive_return(
        &self,
        id: ReturnId,
        receipt: ReturnReceipt,
    ) -> Result<ReturnReceived, DomainError> {
        self.atomically(|s| {
            let ret = s.find_return(id)?.clone();
            let replay = ret.check_receipt(&receipt)?;
            let order = s.order(ret.order)?.clone();
            if replay {
                return Ok(ReturnReceived {
                    ret,
                    payments: s.payments_of(order.id),
                    order_status: order.status,
                    applied: Applied::Duplicate,
                });
            }
            if !s.inventory_has_location(receipt.location) {
                return Err(DomainError::not_found("stock location", receipt.location));
            }
            let back = restock(&ret, &receipt, &order.lines, &s.reservations_of(order.id));
            let reason = ledger_reason(id);
            for (variant, units) in back.at_location {
                let movement = InventoryMove {
                    kind: MoveKind::Return,
                    quantity: i64::from(units),
                };
                s.book_move(receipt.location, variant, movement, reason.clone())?;
            }
            for (variant, units) in back.to_count {
                let stock = &mut s.variant_mut(variant)?.stock_on_hand;
                *stock = stock.saturating_add(units);
            }
            let payments = s.payments_of(order.id);
            let returns = s.returns_of(order.id);
            let cancellations = s.cancellations_of(order.id);
            if let Some(refund) =
                return_refund(&order, &payments, &ret, &returns, &cancellations, &receipt)?
            {
                s.book_refund(order.id, &refund, self.rules.refund_priority)?;
            }
            let received = Return {
                status: ReturnStatus::Received,
                receipt: Some(receipt),
                refunded: Some(refunded_by(id, order.currency, &s.payments_of(order.id))?),
                ..ret
            };
            s.returns.insert(id, received.clone());
            Ok(ReturnReceived {
                ret: received,
                payments: s.payments_of(order.id),
                order_status: s.order(order.id)?.status,
                applied: Applied::Changed,
            })
        })
    }

    fn find_return(&self, id: ReturnId) -> Result<Return, DomainError> {
        self.read(|s| s.find_return(id).cloned())
    }

    fn order_returns(&self, order: OrderId) -> Result<Vec<Return>, DomainError> {
        self.read(|s| {
            s.order(order)?;
            Ok(s.returns_of(order))
        })
    }
}
