//! Making coupon codes: 100,000 random single-use codes of one promotion by the
//! store (`create_coupons`, which draws them and inserts them in batches), against
//! COPY of as many codes drawn beforehand, the fastest way PostgreSQL takes rows.

use std::error::Error;
use std::time::{Duration, Instant};

use diesel::pg::CopyFormat;
use diesel::prelude::*;
use ecom_domain::prelude::*;
use ecom_domain::promotion::{CouponCodes, NewCoupons, random_codes};

use crate::Bench;
use crate::measure::Run;

/// The workload's name.
pub(crate) const WORKLOAD: &str = "coupon codes";
/// Codes made per round.
const CODES: u32 = 100_000;

/// A run of `codes` made in `wall`: its rate as "transactions"/s.
fn run(engine: &'static str, codes: u32, wall: Duration) -> Run {
    let mut run = crate::measure::summarize(WORKLOAD, engine, 1, vec![wall], wall);
    run.transactions = codes as usize;
    run.tps = (u128::from(codes) * 1_000_000 / wall.as_micros().max(1)) as u64;
    run
}

/// Rounds of the store's codes and of COPY's, alternating; codes/s of each.
pub(crate) fn coupon_runs(bench: &mut Bench, rounds: usize) -> Result<Vec<Run>, Box<dyn Error>> {
    diesel::sql_query(
        "INSERT INTO promotions (id, name, discount, target, coupon_only, exclusive, priority) \
         VALUES (100, 'Campaign', '{\"type\": \"percent\", \"rate\": \"0.1\"}', '{\"type\": \"order\"}', \
                 true, false, 9) ON CONFLICT DO NOTHING",
    )
    .execute(&mut bench.conn)?;
    let (mut store_runs, mut raw_runs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let t = Instant::now();
        let made = bench.store.create_coupons(NewCoupons {
            promotion: PromotionId::new(100),
            codes: CouponCodes::Generated {
                count: CODES,
                prefix: format!("S{round}-"),
                length: 10,
            },
            max_uses: Some(1),
            per_customer: None,
        })?;
        store_runs.push(run("ecom-store", made.len() as u32, t.elapsed()));

        // The baseline: as many codes, drawn the same way, then COPY.
        let t = Instant::now();
        let codes = random_codes(&format!("C{round}-"), 10, CODES as usize);
        let mut csv = Vec::with_capacity(codes.len() * 20);
        for code in &codes {
            csv.extend_from_slice(code.as_str().as_bytes());
            csv.extend_from_slice(b",100,1\n");
        }
        copy_codes(&mut bench.conn, &csv)?;
        raw_runs.push(run("COPY", codes.len() as u32, t.elapsed()));
    }
    Ok(vec![
        crate::measure::paired(store_runs, &raw_runs),
        crate::measure::median(raw_runs),
    ])
}

/// COPY of `csv` rows (code, promotion, max uses) into `coupon_codes`.
fn copy_codes(conn: &mut PgConnection, csv: &[u8]) -> Result<(), Box<dyn Error>> {
    use ecom_store::schema::coupon_codes::dsl::*;
    let feed = |w: &mut dyn std::io::Write| -> Result<(), diesel::result::Error> {
        w.write_all(csv)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
    };
    diesel::copy_from(coupon_codes)
        .from_raw_data((code, promotion_id, max_uses), feed)
        .with_format(CopyFormat::Csv)
        .execute(conn)?;
    Ok(())
}
