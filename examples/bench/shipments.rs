//! Shipments: orders reserved at a location shipped whole, one shipment each,
//! created then shipped (two transactions: the shipment's rows, then the level's
//! shipment move, the ledger row and the order's new status), by the store at 1,
//! 4 and 8 clients. Its figures stand alone: the steps are the store's domain
//! checks as much as its statements, so there is no pgbench script beside them.

use std::error::Error;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, SmallInt};
use ecom_domain::prelude::*;

use crate::measure::{Run, drive, median, store_checkouts, summarize};
use crate::{Bench, CLIENTS, fixture};

/// The workload's name, as `--only` takes it.
pub(crate) const WORKLOAD: &str = "shipments";

#[derive(QueryableByName)]
struct LineRow {
    #[diesel(sql_type = BigInt)]
    order_id: i64,
    #[diesel(sql_type = SmallInt)]
    line_no: i16,
    #[diesel(sql_type = Integer)]
    quantity: i32,
}

/// An order and its lines' units: what one shipment takes.
type Whole = (OrderId, Vec<ShipmentLine>);

/// The orders from `first` on with their lines (line, units), by id.
pub(crate) fn orders_from(
    conn: &mut PgConnection,
    first: i64,
) -> Result<Vec<Whole>, Box<dyn Error>> {
    let rows: Vec<LineRow> = diesel::sql_query(format!(
        "SELECT order_id, line_no, quantity FROM order_lines WHERE order_id >= {first} \
         ORDER BY order_id, line_no"
    ))
    .load(conn)?;
    let mut orders: Vec<Whole> = Vec::new();
    for r in rows {
        let line = ShipmentLine {
            line_no: u16::try_from(r.line_no)?,
            quantity: Quantity::new(i64::from(r.quantity))?,
        };
        match orders.last_mut() {
            Some((id, lines)) if id.get() == r.order_id => lines.push(line),
            _ => orders.push((OrderId::new(r.order_id), vec![line])),
        }
    }
    Ok(orders)
}

/// Each round: checkouts of fresh carts reserved at the bench's locations (not
/// timed), marked paid (as a capture would leave them), then each order shipped
/// whole from the location of priority 1. The median round per client count.
pub(crate) fn shipment_runs(bench: &mut Bench, rounds: usize) -> Result<Vec<Run>, Box<dyn Error>> {
    fixture::start_locations(&mut bench.conn)?;
    let location = StockLocationId::new(1);
    let tracking = Tracking {
        carrier: Some(CarrierName::parse("DHL")?),
        number: Some(TrackingNumber::parse("00340434")?),
        url: Some(TrackingUrl::parse("https://track.example.com/00340434")?),
    };
    let mut runs = Vec::new();
    let mut batch = 100_000;
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
                "UPDATE orders SET status = 'paid' WHERE id >= {first} AND status = 'pending_payment'"
            ))
            .execute(&mut bench.conn)?;
            let orders = orders_from(&mut bench.conn, first)?;
            let (latencies, wall) = drive(clients, orders.len(), |i| {
                let (order, lines) = &orders[i];
                let new = NewShipment {
                    order: *order,
                    key: IdempotencyKey::parse("parcel-1").map_err(|e| e.to_string())?,
                    location,
                    lines: lines.clone(),
                    tracking: tracking.clone(),
                };
                let shipment = bench
                    .store
                    .create_shipment(new)
                    .map_err(|e| e.to_string())?
                    .shipment;
                let shipped = bench
                    .store
                    .change_shipment(shipment.id, ShipmentEvent::Ship)
                    .map_err(|e| e.to_string())?;
                if shipped.order_status != OrderStatus::Shipped {
                    return Err(format!("order {order} is {}", shipped.order_status));
                }
                Ok(())
            });
            rounds_run.push(summarize(
                "shipment, create and ship",
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
