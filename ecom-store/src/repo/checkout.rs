//! Checkout: a cart becomes an order in one transaction, and the sweeps around it.
//!
//! The steps of [`PgStore::place_order`] are functions of the same names: claim the
//! key, lock the cart, price it, insert the order (its row, addresses, lines,
//! history, payment, cart converted, key linked, outbox event), and last reserve the
//! stock.
//!
//! Concurrency, in the order the transaction takes its locks:
//! 1. the idempotency key is claimed with `INSERT ... ON CONFLICT DO NOTHING`: a
//!    second call with the same key waits on the first one's row and then replays its
//!    order (or, if the first rolled back, claims the key itself);
//! 2. the cart row is locked, so one cart checks out once;
//! 3. the order is priced from the variants (with their products' names and status) as
//!    read without a lock, and written (order, lines, address snapshots, history,
//!    payment, outbox);
//! 4. last, the cart's variants are locked `FOR NO KEY UPDATE` in id order, checked
//!    against what was priced (a variant changed meanwhile reruns the transaction),
//!    and their stock decremented. Two checkouts that share variants queue instead of
//!    deadlocking, the stock each one checks is the stock it decrements, and a hot
//!    variant's row stays locked for two statements and the commit only, not for
//!    the whole checkout. The `stock_on_hand >= 0` CHECK is the last line.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};
use ecom_domain::catalog::ensure_in_stock;
use ecom_domain::gift_card::{distinct_cards, tender};
use ecom_domain::inventory::reserve_order;
use ecom_domain::prelude::*;
use ecom_domain::pricing::{CartToPrice, PriceBook, Promotions};
use serde_json::json;

use crate::ops::cart::{checkout_sellables, load_cart};
use crate::ops::gift_card as card;
use crate::ops::idempotency::{BACK_OFFICE, Claim, claim_key, link_key, purge_keys};
use crate::ops::inventory as stock;
use crate::ops::order::{
    OrderChange, StockMove, apply_order_event, load_order, lock_order_variants, move_order_stock,
};
use crate::ops::payment::{load_payments, settle_payments, spend_gift_card};
use crate::ops::price_book as book;
use crate::ops::promotion as promo;
use crate::ops::session::caller_and_cart;
use crate::outbox;
use crate::rows::{AddressRow, CHECKOUT_EVENT, PostalColumns, json_column, quantity_column};
use crate::schema::{addresses, order_status_history, orders, payments};
use crate::sql::{Bind, CachedSql, keyed};
use crate::{PgStore, RetryReason, StoreError};

// Checkout's writes, kept prepared (see `crate::sql`): one statement per table.

keyed! {
    INSERT_ORDER = "\
INSERT INTO orders (user_id, guest_email, guest_token_digest, cart_id, currency, subtotal,
                    shipping, tax, grand_total, payment_deadline, prices_include_tax,
                    shipping_method_code, shipping_method_name, shipping_net, shipping_tax,
                    shipping_tax_rate_no, discount)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + $10 * interval '1 second', $11, $12, $13,
        $14, $15, $16, $17)
RETURNING id, public_id, created_at, payment_deadline";
}

// Two rows written out: VALUES costs the server less than `unnest` of nine arrays.
keyed! {
    INSERT_ADDRESSES = "\
INSERT INTO order_addresses (order_id, kind, recipient, line1, line2, city, region, postal_code,
                             country)
VALUES ($1, 'shipping', $2, $3, $4, $5, $6, $7, $8),
       ($1, 'billing', $9, $10, $11, $12, $13, $14, $15)";
}

keyed! {
    INSERT_LINES = "\
INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, unit_price, quantity, options,
                         net, tax, tax_rate_no, discount)
SELECT $1, l, v, s, n, p, q, o::jsonb, net, tax, nullif(r, 0), d
FROM unnest($2::smallint[], $3::bigint[], $4::text[], $5::text[], $6::numeric[], $7::int[],
            $8::text[], $9::numeric[], $10::numeric[], $11::smallint[], $12::numeric[])
     AS t (l, v, s, n, p, q, o, net, tax, r, d)";
}

// An invoice's tax lines, numbered from 1 in the order the quote gives them.
keyed! {
    INSERT_TAX_LINES = "\
INSERT INTO order_tax_lines (order_id, rate_no, name, country, region, tax_class, rate, taxable,
                             tax)
SELECT $1, n, name, c, nullif(r, ''), k, rate, taxable, tax
FROM unnest($2::smallint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[],
            $8::numeric[], $9::numeric[]) AS t (n, name, c, r, k, rate, taxable, tax)";
}

keyed! {
    CONVERT_CART = "UPDATE carts SET status = $1, updated_at = now() WHERE id = $2";
}

/// The order's row as inserting it hands it back: its id and the times the
/// database gave it.
#[derive(QueryableByName)]
struct Placed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    public_id: uuid::Uuid,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    payment_deadline: DateTime<Utc>,
}

/// The cart to check out, locked `FOR UPDATE` so that it checks out once; it must
/// still be open.
fn lock_cart(conn: &mut PgConnection, request: &CheckoutRequest) -> Result<Cart, StoreError> {
    let cart = load_cart(conn, request.cart_id, true)?;
    cart.ensure_open()?;
    Ok(cart)
}

/// The address to snapshot into the order: given in the request, or one of the
/// customer's saved addresses (a guest has none).
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

/// Where and how a cart priced from the price book goes: its address, the
/// shipping method, the coupon codes given.
#[derive(Clone, Copy)]
struct QuoteTo<'a> {
    address: &'a PostalAddress,
    method: &'a Slug,
    coupons: &'a [CouponCode],
}

/// Everything the order is made of, decided before anything is written.
struct Priced {
    customer: Customer,
    shipping_address: PostalAddress,
    billing_address: PostalAddress,
    /// The cart's variants as they were read (unlocked) and priced.
    seen: Vec<Sellable>,
    draft: OrderDraft,
}

impl PgStore {
    /// A checkout in the caller's transaction, its key kept under `scope`: the
    /// replay of an earlier call, or a new order.
    fn checkout_in(
        &self,
        conn: &mut PgConnection,
        request: &CheckoutRequest,
        scope: &str,
    ) -> Result<Checkout, StoreError> {
        let fingerprint = request.fingerprint();
        match claim_key(conn, scope, &request.idempotency_key, &fingerprint)? {
            Claim::Replay(order_id) => replay(conn, order_id),
            Claim::Fresh => self.place_order(conn, request, scope),
        }
    }

    /// Places the order for a freshly claimed key: the story of a checkout.
    fn place_order(
        &self,
        conn: &mut PgConnection,
        request: &CheckoutRequest,
        scope: &str,
    ) -> Result<Checkout, StoreError> {
        let cart = lock_cart(conn, request)?;
        let priced = self.price(conn, request, &cart)?;
        let order = self.insert_order(conn, &cart, &priced)?;
        insert_addresses(conn, order.id, &priced)?;
        let lines = OrderLine::from_draft(&priced.draft);
        if let Some(invoice) = &priced.draft.invoice {
            insert_tax_lines(conn, order.id, invoice)?;
        }
        insert_lines(conn, order.id, &lines, priced.draft.invoice.as_ref())?;
        if let Some(invoice) = &priced.draft.invoice {
            promo::insert_order_promotions(conn, order.id, &invoice.promotions)?;
        }
        insert_history(conn, &order)?;
        let paid = pay(conn, order.id, request, &priced.draft.totals)?;
        convert_cart(conn, cart.id)?;
        link_key(conn, scope, &request.idempotency_key, order.id)?;
        record_placed(conn, &order, &paid, &cart, &priced.draft.totals, &lines)?;
        // Codes, then stock, last, so that hot codes and products stay locked as
        // briefly as possible (and always in this order).
        if let Some(invoice) = &priced.draft.invoice {
            promo::redeem(conn, order.id, &priced.customer, &invoice.promotions)?;
        }
        let strategy = self
            .rules()
            .reservation
            .for_destination(priced.shipping_address.country());
        reserve_stock(conn, order.id, &lines, &priced.seen, strategy)?;
        let done = checkout_of(cart, priced, order, lines, paid);
        if done.payment.is_some() {
            return Ok(done);
        }
        // Gift cards paid it all: the order is paid already.
        let change = OrderChange {
            id: done.order.id,
            event: OrderEvent::PaymentCaptured,
            note: None,
            locked: true,
        };
        apply_order_event(conn, change)?;
        Ok(Checkout {
            order: load_order(conn, done.order.id, false)?,
            ..done
        })
    }

    /// Prices the cart from its products as read without a lock, for its customer
    /// and shipping address, and checks the stock once before anything is written
    /// (checked again under the lock).
    fn price(
        &self,
        conn: &mut PgConnection,
        request: &CheckoutRequest,
        cart: &Cart,
    ) -> Result<Priced, StoreError> {
        let customer = request.customer(&cart.owner)?;
        let shipping_address = snapshot_address(conn, customer.user(), &request.shipping)?;
        let billing_address = snapshot_address(conn, customer.user(), &request.billing)?;
        let (seen, located): (Vec<Sellable>, Vec<bool>) =
            checkout_sellables(conn, cart.id)?.into_iter().unzip();
        let lines = cart.lines_with(&seen);
        let draft = match &request.shipping_method {
            Some(code) => {
                let to = QuoteTo {
                    address: &shipping_address,
                    method: code,
                    coupons: &request.coupon_codes,
                };
                self.quote(conn, cart, &customer, to, &lines)?.into_draft()
            }
            None => {
                ecom_domain::promotion::codes_need_a_method(&request.coupon_codes)
                    .map_err(DomainError::from)?;
                self.rules()
                    .pricing
                    .price(cart.currency, &lines, shipping_address.country())?
            }
        };
        // The stock as it is now, as checkout will take it under the locks: from
        // the variants' own counts, and from their levels when some are kept at
        // locations.
        let units: Vec<_> = lines.iter().map(|(s, q)| (&s.variant, *q)).collect();
        if located.contains(&true) {
            let (locations, levels) = stock::cart_levels(conn, cart.id)?;
            let numbered: Vec<_> = (1u16..).zip(units).map(|(n, (v, q))| (n, v, q)).collect();
            let strategy = self
                .rules()
                .reservation
                .for_destination(shipping_address.country());
            reserve_order(&numbered, &locations, &levels, strategy).map_err(DomainError::from)?;
        } else {
            ensure_in_stock(&units)?;
        }
        distinct_cards(&request.gift_cards).map_err(DomainError::from)?;
        Ok(Priced {
            customer,
            shipping_address,
            billing_address,
            seen,
            draft,
        })
    }

    /// The cart quoted from the price book for delivery by the method `to.method`:
    /// its price lists for the customer's groups, its tax classes, the rates of its
    /// destination (or the store's tax engine), the automatic promotions and those
    /// of the codes given, read now, as the cart's variants were. Each is read in
    /// one statement, so a concurrent change of one applies whole, to this checkout
    /// or to the next.
    fn quote(
        &self,
        conn: &mut PgConnection,
        cart: &Cart,
        customer: &Customer,
        to: QuoteTo<'_>,
        lines: &[(&Sellable, Quantity)],
    ) -> Result<Quote, StoreError> {
        let at = Utc::now();
        let destination = Destination::of(to.address);
        let (method, market) = book::checkout_method(conn, to.method, cart.currency, &destination)?
            .ok_or_else(|| {
                DomainError::from(PricingError::ShippingUnavailable(to.method.clone()))
            })?;
        let prices = book::checkout_prices(conn, cart.id, cart.currency, customer.user(), at)?;
        let table;
        let taxes: &dyn TaxRates = match &self.rules().tax_rates {
            Some(engine) => engine.as_ref(),
            None => {
                table = book::checkout_rates(conn, &destination, at)?;
                &table
            }
        };
        let offered = promo::offered(conn, to.coupons, cart.currency, at)?;
        let offers = offered.offers();
        // What only promotions need, read only when some are offered.
        let places = if offers.is_empty() {
            Vec::new()
        } else {
            promo::cart_places(conn, cart.id)?
        };
        let groups = match (
            offers.iter().any(|o| o.promotion.group.is_some()),
            customer.user(),
        ) {
            (true, Some(user)) => book::groups(conn, user)?,
            _ => prices.groups.clone(),
        };
        let lines: Vec<_> = lines
            .iter()
            .map(|(item, quantity)| {
                let class = prices
                    .classes
                    .iter()
                    .find(|(v, _)| *v == item.id())
                    .map_or(TaxClass::Standard, |(_, c)| *c);
                ((*item).clone(), *quantity, class)
            })
            .collect();
        let book = PriceBook {
            markets: vec![market],
            lists: prices.lists,
            entries: prices.entries,
            ..PriceBook::default()
        };
        let cart = CartToPrice {
            currency: cart.currency,
            lines: &lines,
            groups: &groups,
            at,
            promotions: Promotions {
                offers: &offers,
                places: &places,
                groups: &groups,
            },
        };
        Ok(book.quote_by(&cart, &destination, &method, taxes)?)
    }

    /// Inserts the order's row, pending payment until the store's payment window ends.
    fn insert_order(
        &self,
        conn: &mut PgConnection,
        cart: &Cart,
        priced: &Priced,
    ) -> Result<Placed, StoreError> {
        let totals = priced.draft.totals;
        let guest_email = match &priced.customer {
            Customer::User(_) => None,
            Customer::Guest(email) => Some(email.as_str().to_owned()),
        };
        // A guest's order stays theirs after the cart is cleaned up.
        let guest_token_digest = match &cart.owner {
            CartOwner::User(_) => None,
            CartOwner::Guest(digest) => Some(digest.as_bytes().to_vec()),
        };
        let mut binds = vec![
            Bind::NullableBigInt(priced.customer.user().map(|u| u.get())),
            Bind::NullableText(guest_email),
            Bind::NullableBytea(guest_token_digest),
            Bind::BigInt(cart.id.get()),
            Bind::Text(cart.currency.code().to_owned()),
            Bind::Numeric(totals.subtotal.amount()),
            Bind::Numeric(totals.shipping.amount()),
            Bind::Numeric(totals.tax.amount()),
            Bind::Numeric(totals.grand_total.amount()),
            Bind::BigInt(self.rules().payment_window.num_seconds()),
        ];
        let invoice = priced.draft.invoice.as_ref();
        let shipping = invoice.map(|i| &i.shipping);
        binds.extend([
            Bind::Bool(invoice.is_some_and(|i| i.prices_include_tax)),
            Bind::NullableText(shipping.map(|s| s.code.as_str().to_owned())),
            Bind::NullableText(shipping.map(|s| s.name.as_str().to_owned())),
            Bind::NullableNumeric(shipping.map(|s| s.net.amount())),
            Bind::NullableNumeric(shipping.map(|s| s.tax.amount())),
            Bind::NullableBigInt(invoice.and_then(|i| rate_no(i, i.shipping.rate.as_ref()))),
            Bind::Numeric(totals.discount.amount()),
        ]);
        Ok(CachedSql::keyed::<INSERT_ORDER>(binds).get_result(conn)?)
    }

    /// The ids of up to `batch` overdue orders after `after`, in id order.
    fn overdue_after(
        &self,
        now: DateTime<Utc>,
        after: i64,
        batch: i64,
    ) -> Result<Vec<i64>, StoreError> {
        self.read(|conn| {
            Ok(orders::table
                .filter(orders::status.eq(OrderStatus::PendingPayment.as_str()))
                .filter(orders::payment_deadline.lt(now))
                .filter(orders::id.gt(after))
                .order(orders::id)
                .limit(batch)
                .select(orders::id)
                .load(conn)?)
        })
    }

    /// Expires one overdue order and settles its payments, in a transaction of its
    /// own; false when it is no longer due, or another sweeper holds it.
    fn expire_one(&self, now: DateTime<Utc>, id: OrderId) -> Result<bool, StoreError> {
        self.write(|conn| {
            // SKIP LOCKED: several sweepers share the work instead of waiting on, or
            // repeating, each other's orders.
            let due: Option<i64> = orders::table
                .filter(orders::id.eq(id.get()))
                .filter(orders::status.eq(OrderStatus::PendingPayment.as_str()))
                .filter(orders::payment_deadline.lt(now))
                .select(orders::id)
                .for_update()
                .skip_locked()
                .first(conn)
                .optional()?;
            if due.is_none() {
                return Ok(false);
            }
            // Payments (and so gift cards) before codes and stock: the lock order
            // of a checkout.
            settle_payments(conn, id)?;
            apply_order_event(
                conn,
                OrderChange {
                    id,
                    event: OrderEvent::Expire,
                    note: None,
                    locked: true,
                },
            )?;
            Ok(true)
        })
    }
}

/// Snapshots the shipping and billing addresses into the order.
fn insert_addresses(
    conn: &mut PgConnection,
    order: i64,
    priced: &Priced,
) -> Result<(), StoreError> {
    let mut binds = vec![Bind::BigInt(order)];
    for address in [&priced.shipping_address, &priced.billing_address] {
        let columns = PostalColumns::from(address);
        binds.extend([
            Bind::Text(columns.recipient),
            Bind::Text(columns.line1),
            Bind::NullableText(columns.line2),
            Bind::Text(columns.city),
            Bind::NullableText(columns.region),
            Bind::Text(columns.postal_code),
            Bind::Text(columns.country),
        ]);
    }
    CachedSql::keyed::<INSERT_ADDRESSES>(binds).execute(conn)?;
    Ok(())
}

/// The number of `rate` among the invoice's tax lines (from 1); `None` for no
/// rate (exempt).
fn rate_no(invoice: &Invoice, rate: Option<&AppliedRate>) -> Option<i64> {
    let rate = rate?;
    let at = invoice.tax_lines.iter().position(|t| t.rate == *rate)?;
    Some(at as i64 + 1)
}

/// Writes the invoice's tax lines, numbered from 1.
fn insert_tax_lines(
    conn: &mut PgConnection,
    order: i64,
    invoice: &Invoice,
) -> Result<(), StoreError> {
    let lines = &invoice.tax_lines;
    let text = |f: fn(&TaxLine) -> String| lines.iter().map(f).collect();
    let binds = vec![
        Bind::BigInt(order),
        Bind::SmallIntArray((1..=lines.len()).map(small).collect()),
        Bind::TextArray(text(|t| t.rate.name.as_str().to_owned())),
        Bind::TextArray(text(|t| t.rate.country.as_str().to_owned())),
        Bind::TextArray(text(|t| {
            t.rate
                .region
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default()
        })),
        Bind::TextArray(text(|t| t.rate.class.as_str().to_owned())),
        Bind::NumericArray(lines.iter().map(|t| t.rate.rate).collect()),
        Bind::NumericArray(lines.iter().map(|t| t.taxable.amount()).collect()),
        Bind::NumericArray(lines.iter().map(|t| t.tax.amount()).collect()),
    ];
    CachedSql::keyed::<INSERT_TAX_LINES>(binds).execute(conn)?;
    Ok(())
}

/// A line or rate number as the `smallint` column stores it (an order has at
/// most `Cart::MAX_LINES` lines).
fn small(n: usize) -> i16 {
    i16::try_from(n).unwrap_or(i16::MAX)
}

/// Snapshots the lines: SKU, name and price as they were priced, and their tax
/// when the order has an invoice (empty arrays, NULL columns, otherwise).
fn insert_lines(
    conn: &mut PgConnection,
    order: i64,
    lines: &[OrderLine],
    invoice: Option<&Invoice>,
) -> Result<(), StoreError> {
    let taxes: Vec<&LineTax> = lines.iter().filter_map(|l| l.tax.as_ref()).collect();
    let rate_nos = invoice
        .map(|i| {
            taxes
                .iter()
                .map(|t| rate_no(i, t.rate.as_ref()).map_or(0, |n| small(n as usize)))
                .collect()
        })
        .unwrap_or_default();
    let column = |f: fn(&OrderLine) -> String| lines.iter().map(f).collect();
    let binds = vec![
        Bind::BigInt(order),
        Bind::SmallIntArray(
            lines
                .iter()
                .map(|l| i16::try_from(l.line_no).unwrap_or(i16::MAX))
                .collect(),
        ),
        Bind::BigIntArray(lines.iter().map(|l| l.variant_id.get()).collect()),
        Bind::TextArray(column(|l| l.sku.as_str().to_owned())),
        Bind::TextArray(column(|l| l.name.as_str().to_owned())),
        Bind::NumericArray(lines.iter().map(|l| l.unit_price.amount()).collect()),
        Bind::IntArray(lines.iter().map(|l| quantity_column(l.quantity)).collect()),
        Bind::TextArray(column(|l| json_column(&l.selection).to_string())),
        Bind::NumericArray(taxes.iter().map(|t| t.net.amount()).collect()),
        Bind::NumericArray(taxes.iter().map(|t| t.tax.amount()).collect()),
        Bind::SmallIntArray(rate_nos),
        Bind::NumericArray(taxes.iter().map(|t| t.discount.amount()).collect()),
    ];
    CachedSql::keyed::<INSERT_LINES>(binds).execute(conn)?;
    Ok(())
}

/// The history's first entry: placed, pending payment.
fn insert_history(conn: &mut PgConnection, order: &Placed) -> Result<(), StoreError> {
    diesel::insert_into(order_status_history::table)
        .values((
            order_status_history::order_id.eq(order.id),
            order_status_history::to_status.eq(OrderStatus::PendingPayment.as_str()),
            order_status_history::event.eq(CHECKOUT_EVENT),
            order_status_history::at.eq(order.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// How the order is paid: a captured payment per gift card that pays something,
/// and the provider's pending payment of what they leave, if anything.
struct Paid {
    gift_cards: Vec<Payment>,
    provider: Option<Payment>,
}

/// Spends the request's gift cards (locked in id order, each for what its balance
/// covers of what is still due) and inserts the provider's pending payment of the
/// rest.
fn pay(
    conn: &mut PgConnection,
    order: i64,
    request: &CheckoutRequest,
    totals: &Totals,
) -> Result<Paid, StoreError> {
    let order = OrderId::new(order);
    let due = totals.grand_total;
    let mut gift_cards = Vec::new();
    let mut left = due;
    if !request.gift_cards.is_empty() {
        let cards = card::lock_by_codes(conn, &request.gift_cards)?;
        let parts = tender(due, &cards, Utc::now()).map_err(DomainError::from)?;
        for (card, part) in cards.iter().zip(parts) {
            if part.is_zero() {
                continue;
            }
            gift_cards.push(spend_gift_card(conn, order, card.id, part)?);
            left = left.checked_sub(part).map_err(DomainError::from)?;
        }
    }
    let provider = if left.is_zero() {
        None
    } else {
        let id: i64 = diesel::insert_into(payments::table)
            .values((
                payments::order_id.eq(order.get()),
                payments::provider.eq(request.provider.as_str()),
                payments::currency.eq(left.currency().code()),
                payments::amount.eq(left.amount()),
            ))
            .returning(payments::id)
            .get_result(conn)?;
        let provider = request.provider.clone();
        Some(Payment::new(PaymentId::new(id), order, provider, left))
    };
    Ok(Paid {
        gift_cards,
        provider,
    })
}

/// Marks the cart converted: it never changes again.
fn convert_cart(conn: &mut PgConnection, cart: CartId) -> Result<(), StoreError> {
    let binds = vec![
        Bind::Text(CartStatus::Converted.as_str().to_owned()),
        Bind::BigInt(cart.get()),
    ];
    CachedSql::keyed::<CONVERT_CART>(binds).execute(conn)?;
    Ok(())
}

/// The outbox's `order.placed` event, committed with the order.
fn record_placed(
    conn: &mut PgConnection,
    order: &Placed,
    paid: &Paid,
    cart: &Cart,
    totals: &Totals,
    lines: &[OrderLine],
) -> Result<(), StoreError> {
    outbox::record(
        conn,
        "order",
        order.id,
        "order.placed",
        json!({
            "order_id": order.id,
            "payment_id": paid.provider.as_ref().map(|p| p.id.get()),
            "gift_card_payments": paid.gift_cards.iter().map(|p| json!({
                "payment_id": p.id.get(),
                "amount": p.amount.amount().to_string(),
            })).collect::<Vec<_>>(),
            "currency": cart.currency.code(),
            "grand_total": totals.grand_total.amount().to_string(),
            "lines": lines.iter().map(|l| json!({
                "variant_id": l.variant_id.get(),
                "sku": l.sku.as_str(),
                "quantity": l.quantity.get(),
                "unit_price": l.unit_price.amount().to_string(),
            })).collect::<Vec<_>>(),
        }),
    )
}

/// Locks the order's variants in id order, checks they are what was priced, locks
/// their levels at locations, and takes the lines' units: reserved at locations for
/// variants kept there, out of `stock_on_hand` for the others ([`reserve_order`]).
/// A variant whose SKU or price changed since it was priced reruns the whole
/// checkout. (Its product's name and status are as read when it was priced: a
/// rename or an archiving that commits meanwhile applies to the next order.)
fn reserve_stock(
    conn: &mut PgConnection,
    order: i64,
    lines: &[OrderLine],
    seen: &[Sellable],
    strategy: AllocationStrategy,
) -> Result<(), StoreError> {
    let locked = lock_order_variants(conn, order)?;
    let unchanged = locked.len() == seen.len()
        && locked
            .iter()
            .zip(seen)
            .all(|(now, then)| (&now.sku, now.price) == (&then.variant.sku, then.variant.price));
    if !unchanged {
        return Err(StoreError::Retryable {
            reason: RetryReason::SerializationFailure,
            message: "a variant changed while the order was priced".into(),
        });
    }
    let (locations, levels) = stock::lock_order_levels(conn, order)?;
    let units: Vec<_> = lines
        .iter()
        .filter_map(|l| {
            let variant = locked.iter().find(|v| v.id == l.variant_id)?;
            Some((l.line_no, variant, l.quantity))
        })
        .collect();
    let reservations =
        reserve_order(&units, &locations, &levels, strategy).map_err(DomainError::from)?;
    stock::reserve(conn, order, &reservations, &levels)?;
    move_order_stock(conn, order, StockMove::Reserve)
}

/// The placed order and its payment, as the caller gets them.
fn checkout_of(
    cart: Cart,
    priced: Priced,
    order: Placed,
    lines: Vec<OrderLine>,
    paid: Paid,
) -> Checkout {
    let totals = priced.draft.totals;
    let order = Order {
        id: OrderId::new(order.id),
        reference: OrderRef::new(order.public_id.as_u128()),
        customer: priced.customer,
        cart_id: Some(cart.id),
        currency: cart.currency,
        lines,
        totals,
        invoice: priced.draft.invoice,
        shipping_address: priced.shipping_address,
        billing_address: priced.billing_address,
        status: OrderStatus::PendingPayment,
        payment_deadline: order.payment_deadline,
        history: vec![StatusChange::placed(order.created_at)],
        created_at: order.created_at,
    };
    Checkout {
        order,
        payment: paid.provider,
        gift_card_payments: paid.gift_cards,
        replayed: false,
    }
}

/// The owner-scoped checkout behind `CustomerRepository` (see `customer.rs`): the
/// cart is found by reference and owner, and the key kept in the caller's scope.
impl PgStore {
    pub(super) fn place_my_order(
        &self,
        who: &SessionToken,
        order: &PlaceOrder,
    ) -> Result<Checkout, StoreError> {
        self.write(|conn| {
            let (caller, cart) = caller_and_cart(conn, who, order.cart, true)?;
            let request = CheckoutRequest {
                cart_id: CartId::new(cart.id),
                shipping: order.shipping.clone(),
                billing: order.billing.clone(),
                guest_email: order.guest_email.clone(),
                provider: order.provider.clone(),
                shipping_method: order.shipping_method.clone(),
                coupon_codes: order.coupon_codes.clone(),
                gift_cards: order.gift_cards.clone(),
                idempotency_key: order.idempotency_key.clone(),
            };
            self.checkout_in(conn, &request, &caller.key_scope())
        })
    }
}

impl CheckoutRepository for PgStore {
    type Error = StoreError;

    fn checkout(&self, request: &CheckoutRequest) -> Result<Checkout, StoreError> {
        self.write(|conn| self.checkout_in(conn, request, BACK_OFFICE))
    }

    fn expire_unpaid_orders(&self, now: DateTime<Utc>) -> Result<Vec<OrderId>, StoreError> {
        const BATCH: i64 = 200;
        let mut expired = Vec::new();
        let mut after = 0;
        loop {
            let due = self.overdue_after(now, after, BATCH)?;
            let Some(&last) = due.last() else {
                return Ok(expired);
            };
            after = last;
            for id in due.into_iter().map(OrderId::new) {
                match self.expire_one(now, id) {
                    Ok(true) => expired.push(id),
                    Ok(false) => {}
                    // Without a database no other order can expire either.
                    Err(err @ StoreError::Unavailable { .. }) => return Err(err),
                    // One order that cannot expire must not hold back the others:
                    // its transaction rolled back alone, and the next sweep tries it
                    // again.
                    Err(err) => {
                        tracing::warn!(order = %id, error = %err, "could not expire an unpaid order; skipped");
                    }
                }
            }
        }
    }

    fn purge_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write(|conn| purge_keys(conn, now))
    }
}

/// The order an earlier call with the same key placed, with its payment.
fn replay(conn: &mut PgConnection, order_id: OrderId) -> Result<Checkout, StoreError> {
    let order = load_order(conn, order_id, false)?;
    let (gift_card_payments, provider): (Vec<_>, Vec<_>) = load_payments(conn, order_id)?
        .into_iter()
        .partition(|p| p.gift_card.is_some());
    Ok(Checkout {
        order,
        payment: provider.into_iter().next(),
        gift_card_payments,
        replayed: true,
    })
}
