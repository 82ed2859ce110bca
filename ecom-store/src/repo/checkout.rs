//! Checkout: a cart becomes an order in one transaction, and the sweeps around it.
//!
//! Concurrency, in the order the transaction takes its locks:
//! 1. the idempotency key is claimed with `INSERT ... ON CONFLICT DO NOTHING`: a
//!    second call with the same key waits on the first one's row and then replays its
//!    order (or, if the first rolled back, claims the key itself);
//! 2. the cart row is locked, so one cart checks out once;
//! 3. the order is priced from the products as read without a lock, and written (order,
//!    lines, address snapshots, history, payment, outbox);
//! 4. last, the cart's products are locked `FOR NO KEY UPDATE` in id order, checked
//!    against what was priced (a product changed meanwhile reruns the transaction),
//!    and their stock decremented. Two checkouts that share products queue instead of
//!    deadlocking, the stock each one checks is the stock it decrements, and a hot
//!    product's row stays locked for two statements and the commit only, not for
//!    the whole checkout. The `stock_on_hand >= 0` CHECK is the last line.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};
use ecom_domain::catalog::ensure_in_stock;
use ecom_domain::prelude::*;
use serde_json::json;

use crate::outbox;
use crate::repo::cart::{cart_products, load_cart};
use crate::repo::order::{OrderChange, apply_order_event, load_order};
use crate::repo::payment::{load_payments, settle_payments};
use crate::rows::{AddressRow, PostalColumns, ProductRow, quantity_column};
use crate::schema::{
    addresses, idempotency_keys, order_lines, order_status_history, orders, payments, products,
};
use crate::sql::{Bind, CachedSql};
use crate::{PgStore, RetryReason, StoreError};

/// The scope under which checkout keys are kept in `idempotency_keys`.
const SCOPE: &str = "checkout";

/// How long a checkout's idempotency key is kept before `purge_idempotency_keys`
/// may forget it: a retry within this window replays the first order.
pub const IDEMPOTENCY_RETENTION: chrono::Duration = chrono::Duration::hours(24);

// Products are found through the cart's or the order's lines, not by an array of
// ids: PostgreSQL cannot estimate `id = ANY($1)` nor `unnest($1)` for a generic plan,
// so statements written that way were planned again on every call (about 0.1 ms
// each); these keep one plan per connection.

/// Locks the products of `order`'s lines in id order and returns them by id.
/// `FOR NO KEY UPDATE`: the lock an update of non-key columns takes, which does not
/// wait for (nor block) the key share locks that inserting rows referring to a
/// product takes.
pub(crate) fn lock_order_products(
    conn: &mut PgConnection,
    order: i64,
) -> Result<Vec<Product>, StoreError> {
    products::table
        .filter(
            products::id.eq_any(
                order_lines::table
                    .filter(order_lines::order_id.eq(order))
                    .select(order_lines::product_id),
            ),
        )
        .order(products::id)
        .select(ProductRow::as_select())
        .for_no_key_update()
        .load(conn)?
        .into_iter()
        .map(Product::try_from)
        .collect()
}

/// Which way [`move_order_stock`] moves an order's units.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StockMove {
    /// Out of stock, into the order (checkout).
    Reserve,
    /// Back from the order into stock (cancellation, expiry).
    Release,
}

/// Moves the units of all of `order`'s lines out of stock or back, in one statement
/// (lines of one product are summed). The products must already be locked by
/// [`lock_order_products`].
pub(crate) fn move_order_stock(
    conn: &mut PgConnection,
    order: i64,
    direction: StockMove,
) -> Result<(), StoreError> {
    const MOVE: &[&str] = &[
        "UPDATE products p SET stock_on_hand = p.stock_on_hand + ",
        " * l.units, updated_at = now() \
         FROM (SELECT product_id, sum(quantity) AS units FROM order_lines \
         WHERE order_id = ",
        " GROUP BY product_id) AS l WHERE p.id = l.product_id",
    ];
    let sign = match direction {
        StockMove::Reserve => -1,
        StockMove::Release => 1,
    };
    CachedSql::new(MOVE, vec![Bind::Int(sign), Bind::BigInt(order)]).execute(conn)?;
    Ok(())
}

fn snapshot_address(
    conn: &mut PgConnection,
    owner: Option<UserId>,
    choice: &AddressChoice,
) -> Result<PostalAddress, StoreError> {
    match (choice, owner) {
        (AddressChoice::Given(address), _) => Ok(address.clone()),
        (AddressChoice::Saved(id), Some(user)) => {
            let row = addresses::table
                .find(id.get())
                .filter(addresses::user_id.eq(user.get()))
                .select(AddressRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| DomainError::not_found("address", id))?;
            Ok(Address::try_from(row)?.postal)
        }
        (AddressChoice::Saved(id), None) => Err(DomainError::not_found("address", id).into()),
    }
}

// Checkout's writes, kept prepared (see `crate::sql`): one statement per table.
const INSERT_ORDER: &[&str] = &[
    "INSERT INTO orders (user_id, guest_email, cart_id, currency, subtotal, shipping, tax, \
     grand_total, payment_deadline) VALUES (",
    ", ",
    ", ",
    ", ",
    ", ",
    ", ",
    ", ",
    ", ",
    ", now() + ",
    " * interval '1 second') RETURNING id, created_at, payment_deadline",
];
// Two rows written out: VALUES costs the server less than `unnest` of nine arrays.
const INSERT_ADDRESSES: &[&str] = &[
    "INSERT INTO order_addresses (order_id, kind, recipient, line1, line2, city, region, \
     postal_code, country) VALUES (",
    ", 'shipping', ",
    ", ",
    ", ",
    ", ",
    ", ",
    ", ",
    ", ",
    "), (",
    ", 'billing', ",
    ", ",
    ", ",
    ", ",
    ", ",
    ", ",
    ", ",
    ")",
];
const INSERT_LINES: &[&str] = &[
    "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, unit_price, quantity) \
     SELECT ",
    ", * FROM unnest(",
    "::smallint[], ",
    "::bigint[], ",
    "::text[], ",
    "::text[], ",
    "::numeric[], ",
    "::int[])",
];
const CONVERT_CART: &[&str] = &[
    "UPDATE carts SET status = ",
    ", updated_at = now() WHERE id = ",
    "",
];
const LINK_KEY: &[&str] = &[
    "UPDATE idempotency_keys SET order_id = ",
    " WHERE scope = ",
    " AND key = ",
    "",
];

/// What inserting an order hands back.
#[derive(QueryableByName)]
struct Placed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    payment_deadline: DateTime<Utc>,
}

/// What the idempotency table says about a key.
enum Claim {
    /// This transaction owns the key now.
    Fresh,
    /// An earlier call committed this order for the key.
    Replay(OrderId),
}

fn claim_key(
    conn: &mut PgConnection,
    request: &CheckoutRequest,
    fingerprint: &[u8],
) -> Result<Claim, StoreError> {
    let key = request.idempotency_key.as_str();
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::scope.eq(SCOPE),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(fingerprint),
            idempotency_keys::expires_at.eq(Utc::now() + IDEMPOTENCY_RETENTION),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let (hash, order): (Vec<u8>, Option<i64>) = idempotency_keys::table
        .find((SCOPE, key))
        .select((idempotency_keys::request_hash, idempotency_keys::order_id))
        .first(conn)?;
    if hash != fingerprint {
        return Err(DomainError::IdempotencyConflict {
            key: key.to_owned(),
        }
        .into());
    }
    match order {
        Some(order) => Ok(Claim::Replay(OrderId::new(order))),
        // The row is only ever committed together with its order.
        None => Err(StoreError::Invalid {
            constraint: None,
            message: format!("idempotency key {key:?} has no order"),
        }),
    }
}

impl PgStore {
    fn place_order(
        &self,
        conn: &mut PgConnection,
        request: &CheckoutRequest,
    ) -> Result<Checkout, StoreError> {
        let cart = load_cart(conn, request.cart_id, true)?;
        cart.ensure_open()?;
        let (customer, owner) = match &cart.owner {
            CartOwner::User(user) => (Customer::User(*user), Some(*user)),
            CartOwner::Guest(_) => {
                let email = request
                    .guest_email
                    .clone()
                    .ok_or(DomainError::GuestEmailRequired)?;
                (Customer::Guest(email), None)
            }
        };
        let shipping_address = snapshot_address(conn, owner, &request.shipping)?;
        let billing_address = snapshot_address(conn, owner, &request.billing)?;

        let seen = cart_products(conn, cart.id)?;
        let lines = cart.lines_with(&seen);
        let draft =
            self.rules()
                .pricing
                .price(cart.currency, &lines, shipping_address.country())?;
        // Fail early, before writing anything; checked again under the lock.
        ensure_in_stock(&lines)?;

        let totals = draft.totals;
        let (user_id, guest_email) = match &customer {
            Customer::User(user) => (Some(user.get()), None),
            Customer::Guest(email) => (None, Some(email.as_str().to_owned())),
        };
        let window_secs = self.rules().payment_window.num_seconds();
        let placed: Placed = CachedSql::new(
            INSERT_ORDER,
            vec![
                Bind::NullableBigInt(user_id),
                Bind::NullableText(guest_email),
                Bind::BigInt(cart.id.get()),
                Bind::Text(cart.currency.code().to_owned()),
                Bind::Numeric(totals.subtotal.amount()),
                Bind::Numeric(totals.shipping.amount()),
                Bind::Numeric(totals.tax.amount()),
                Bind::Numeric(totals.grand_total.amount()),
                Bind::BigInt(window_secs),
            ],
        )
        .get_result(conn)?;
        let Placed {
            id: order_id,
            created_at,
            payment_deadline,
        } = placed;

        let binds = [&shipping_address, &billing_address]
            .into_iter()
            .flat_map(|address| {
                let columns = PostalColumns::from(address);
                [
                    Bind::BigInt(order_id),
                    Bind::Text(columns.recipient),
                    Bind::Text(columns.line1),
                    Bind::NullableText(columns.line2),
                    Bind::Text(columns.city),
                    Bind::NullableText(columns.region),
                    Bind::Text(columns.postal_code),
                    Bind::Text(columns.country),
                ]
            })
            .collect();
        CachedSql::new(INSERT_ADDRESSES, binds).execute(conn)?;

        let order_lines = draft.order_lines();
        CachedSql::new(
            INSERT_LINES,
            vec![
                Bind::BigInt(order_id),
                Bind::SmallIntArray(
                    order_lines
                        .iter()
                        .map(|l| i16::try_from(l.line_no).unwrap_or(i16::MAX))
                        .collect(),
                ),
                Bind::BigIntArray(order_lines.iter().map(|l| l.product_id.get()).collect()),
                Bind::TextArray(
                    order_lines
                        .iter()
                        .map(|l| l.sku.as_str().to_owned())
                        .collect(),
                ),
                Bind::TextArray(
                    order_lines
                        .iter()
                        .map(|l| l.name.as_str().to_owned())
                        .collect(),
                ),
                Bind::NumericArray(order_lines.iter().map(|l| l.unit_price.amount()).collect()),
                Bind::IntArray(
                    order_lines
                        .iter()
                        .map(|l| quantity_column(l.quantity))
                        .collect(),
                ),
            ],
        )
        .execute(conn)?;

        diesel::insert_into(order_status_history::table)
            .values((
                order_status_history::order_id.eq(order_id),
                order_status_history::to_status.eq(OrderStatus::PendingPayment.as_str()),
                order_status_history::event.eq(crate::rows::CHECKOUT_EVENT),
                order_status_history::at.eq(created_at),
            ))
            .execute(conn)?;

        let payment_id: i64 = diesel::insert_into(payments::table)
            .values((
                payments::order_id.eq(order_id),
                payments::provider.eq(request.provider.as_str()),
                payments::currency.eq(cart.currency.code()),
                payments::amount.eq(totals.grand_total.amount()),
            ))
            .returning(payments::id)
            .get_result(conn)?;

        CachedSql::new(
            CONVERT_CART,
            vec![
                Bind::Text(CartStatus::Converted.as_str().to_owned()),
                Bind::BigInt(cart.id.get()),
            ],
        )
        .execute(conn)?;
        CachedSql::new(
            LINK_KEY,
            vec![
                Bind::BigInt(order_id),
                Bind::Text(SCOPE.to_owned()),
                Bind::Text(request.idempotency_key.as_str().to_owned()),
            ],
        )
        .execute(conn)?;

        outbox::record(
            conn,
            "order",
            order_id,
            "order.placed",
            json!({
                "order_id": order_id,
                "payment_id": payment_id,
                "currency": cart.currency.code(),
                "grand_total": totals.grand_total.amount().to_string(),
                "lines": order_lines.iter().map(|l| json!({
                    "product_id": l.product_id.get(),
                    "sku": l.sku.as_str(),
                    "quantity": l.quantity.get(),
                    "unit_price": l.unit_price.amount().to_string(),
                })).collect::<Vec<_>>(),
            }),
        )?;

        // Stock last, so that hot products stay locked as briefly as possible.
        let locked = lock_order_products(conn, order_id)?;
        let unchanged = locked.len() == seen.len()
            && locked.iter().zip(&seen).all(|(now, then)| {
                (&now.sku, &now.name, now.price, now.status)
                    == (&then.sku, &then.name, then.price, then.status)
            });
        if !unchanged {
            // Priced from data that changed since: the whole checkout runs again.
            return Err(StoreError::Retryable {
                reason: RetryReason::SerializationFailure,
                message: "a product changed while the order was priced".into(),
            });
        }
        ensure_in_stock(&cart.lines_with(&locked))?;
        move_order_stock(conn, order_id, StockMove::Reserve)?;

        let order = Order {
            id: OrderId::new(order_id),
            customer,
            cart_id: Some(cart.id),
            currency: cart.currency,
            lines: order_lines,
            totals,
            shipping_address,
            billing_address,
            status: OrderStatus::PendingPayment,
            payment_deadline,
            history: vec![StatusChange {
                from: None,
                to: OrderStatus::PendingPayment,
                event: None,
                note: None,
                at: created_at,
            }],
            created_at,
        };
        let payment = Payment::new(
            PaymentId::new(payment_id),
            order.id,
            request.provider.clone(),
            totals.grand_total,
        );
        Ok(Checkout {
            order,
            payment,
            replayed: false,
        })
    }

    /// Expires up to `batch` overdue orders in one transaction; returns their ids.
    fn expire_batch(&self, now: DateTime<Utc>, batch: i64) -> Result<Vec<OrderId>, StoreError> {
        self.write(|conn| {
            // SKIP LOCKED: several sweepers share the work instead of waiting on, or
            // repeating, each other's orders.
            let due: Vec<i64> = orders::table
                .filter(orders::status.eq(OrderStatus::PendingPayment.as_str()))
                .filter(orders::payment_deadline.lt(now))
                .order(orders::id)
                .limit(batch)
                .select(orders::id)
                .for_update()
                .skip_locked()
                .load(conn)?;
            let mut expired = Vec::with_capacity(due.len());
            for id in due {
                let id = OrderId::new(id);
                apply_order_event(
                    conn,
                    OrderChange {
                        id,
                        event: OrderEvent::Expire,
                        note: None,
                        locked: true,
                    },
                )?;
                settle_payments(conn, id)?;
                expired.push(id);
            }
            Ok(expired)
        })
    }
}

impl CheckoutRepository for PgStore {
    type Error = StoreError;

    fn checkout(&self, request: &CheckoutRequest) -> Result<Checkout, StoreError> {
        let fingerprint = request.fingerprint();
        self.write(|conn| match claim_key(conn, request, &fingerprint)? {
            Claim::Replay(order_id) => {
                let order = load_order(conn, order_id, false)?;
                let payment = load_payments(conn, order_id)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| DomainError::not_found("payment for order", order_id))?;
                Ok(Checkout {
                    order,
                    payment,
                    replayed: true,
                })
            }
            Claim::Fresh => self.place_order(conn, request),
        })
    }

    fn expire_unpaid_orders(&self, now: DateTime<Utc>) -> Result<Vec<OrderId>, StoreError> {
        const BATCH: i64 = 200;
        let mut all = Vec::new();
        loop {
            let expired = self.expire_batch(now, BATCH)?;
            let done = (expired.len() as i64) < BATCH;
            all.extend(expired);
            if done {
                return Ok(all);
            }
        }
    }

    fn purge_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write(|conn| {
            let n = diesel::delete(
                idempotency_keys::table
                    .filter(idempotency_keys::scope.eq(SCOPE))
                    .filter(idempotency_keys::created_at.lt(before)),
            )
            .execute(conn)?;
            Ok(n as u64)
        })
    }
}
