//! Returns received: orders reserved at a location, captured and shipped whole,
//! each with one unit of its first line asked back and approved (not timed); then
//! each return received sellable at the location (one transaction: the order,
//! return and level locked, the unit's `return` move and ledger row, the refund
//! event on the payment, the return's receipt and its outbox row), by the store at
//! 1, 4 and 8 clients. Like shipments, its figures stand alone.

use std::error::Error;

use diesel::prelude::*;
use ecom_domain::prelude::*;

use crate::measure::{Run, drive, median, store_checkouts, summarize};
use crate::shipments::orders_from;
use crate::{Bench, CLIENTS, fixture};

/// The workload's name, as `--only` takes it.
pub(crate) const WORKLOAD: &str = "returns";

/// Each round: checkouts of fresh carts reserved at the bench's locations,
/// their payments captured (as the provider's reports would leave them), each
/// order shipped whole and a unit of it asked back and approved, none of it
/// timed; then each return received. The median round per client count.
pub(crate) fn return_runs(bench: &mut Bench, rounds: usize) -> Result<Vec<Run>, Box<dyn Error>> {
    fixture::start_locations(&mut bench.conn)?;
    let receipt = ReturnReceipt {
        location: StockLocationId::new(1),
        condition: ItemCondition::Sellable,
        refund_shipping: false,
    };
    let mut runs = Vec::new();
    let mut batch = 200_000;
    for clients in CLIENTS {
        let transactions = bench.per_client * clients;
        let mut rounds_run = Vec::new();
        for _ in 0..rounds {
            batch += 1;
            let carts = fixture::make_carts(&mut bench.conn, batch, transactions, false)?;
            let first = fixture::next_order(&mut bench.conn)?;
            store_checkouts(&bench.store, WORKLOAD, clients, &carts, batch, None, &[])?;
            fixture::ensure_reserved(&mut bench.conn, first)?;
            diesel::sql_query(format!(
                "UPDATE payments SET status = 'captured', authorized = amount, captured = amount \
                 WHERE order_id >= {first}"
            ))
            .execute(&mut bench.conn)?;
            diesel::sql_query(format!(
                "UPDATE orders SET status = 'paid' WHERE id >= {first} AND status = 'pending_payment'"
            ))
            .execute(&mut bench.conn)?;
            let orders = orders_from(&mut bench.conn, first)?;
            let returns: Vec<std::sync::Mutex<Option<ReturnId>>> =
                orders.iter().map(|_| std::sync::Mutex::new(None)).collect();
            drive(clients, orders.len(), |i| {
                let (order, lines) = &orders[i];
                bench
                    .store
                    .transition(*order, OrderEvent::Ship, None)
                    .map_err(|e| e.to_string())?;
                let asked = bench
                    .store
                    .request_return(NewReturn {
                        order: *order,
                        lines: vec![ReturnLine {
                            line_no: lines[0].line_no,
                            quantity: Quantity::new(1).map_err(|e| e.to_string())?,
                        }],
                        reason: ReturnReason::DoesNotFit,
                        note: None,
                    })
                    .map_err(|e| e.to_string())?;
                bench
                    .store
                    .decide_return(asked.id, ReturnDecision::Approve)
                    .map_err(|e| e.to_string())?;
                *returns[i].lock().map_err(|e| e.to_string())? = Some(asked.id);
                Ok(())
            });
            let returns: Vec<ReturnId> = returns
                .into_iter()
                .map(|r| {
                    r.into_inner()
                        .ok()
                        .flatten()
                        .ok_or("a return was not asked")
                })
                .collect::<Result<_, _>>()?;
            let (latencies, wall) = drive(clients, returns.len(), |i| {
                let received = bench
                    .store
                    .receive_return(returns[i], receipt)
                    .map_err(|e| e.to_string())?;
                match received.ret.refunded {
                    Some(m) if !m.is_zero() => Ok(()),
                    other => Err(format!("return {} refunded {other:?}", returns[i])),
                }
            });
            rounds_run.push(summarize(
                "return, received and refunded",
                "ecom-store",
                clients,
                latencies,
                wall,
            ));
            diesel::sql_query("VACUUM ANALYZE").execute(&mut bench.conn)?;
        }
        runs.push(median(rounds_run));
    }
    Ok(runs)
}
