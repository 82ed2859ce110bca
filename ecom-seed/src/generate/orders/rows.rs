//! An order's rows, table by table: the converted cart and its lines, the order, its
//! address snapshots and lines, its status history, its payment and the ledger.

use chrono::Duration;
use ecom_domain::account::AddressKind;
use ecom_domain::gift_card::GiftCardEntryKind;
use ecom_domain::money::Money;
use ecom_domain::order::OrderStatus;
use ecom_domain::payment::PaymentAction;
use ecom_domain::returns::{ItemCondition, ReturnReason, ReturnStatus};
use ecom_domain::rules::DEFAULT_PAYMENT_WINDOW;
use ecom_domain::values::{Email, GuestToken, Reason, TokenDigest};
use rust_decimal::Decimal;

use super::Placed;
use crate::SeedError;
use crate::generate::catalog::Catalog;
use crate::generate::gift_cards::{CardIndex, GiftCards, Tenders};
use crate::generate::{Out, postal_columns, values};
use crate::jsonb;
use crate::plan::Plan;
use crate::table::Table;

/// The last ids given to rows numbered across orders: status history, payment
/// events and gift card entries, of which an order has a varying number; and each
/// gift card's balance after its entries written so far.
pub(super) struct Serials {
    history: i64,
    payment_events: i64,
    gift_card_entries: i64,
    first_card: CardIndex,
    card_balances: Vec<Decimal>,
}

impl Serials {
    /// Numbering continues after the plan's id bases, and the cards' issue
    /// entries, written with the cards.
    pub(super) fn after(plan: &Plan, cards: &GiftCards) -> Self {
        let card_balances = cards.values();
        Self {
            history: plan.ids.history,
            payment_events: plan.ids.payment_events,
            gift_card_entries: plan.ids.gift_card_entries + card_balances.len() as i64,
            first_card: cards.indexer(),
            card_balances,
        }
    }

    /// Checks every card's ledger ends at the balance its row was written with.
    pub(super) fn check_balances(&self, tenders: &Tenders) -> Result<(), SeedError> {
        for (index, balance) in self.card_balances.iter().enumerate() {
            if *balance != tenders.balance(index) {
                return Err(SeedError::invalid(
                    "gift card",
                    format!(
                        "gift card number {index} was written with a balance of {} but its ledger sums to {balance}",
                        tenders.balance(index)
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Writes every row of one order.
pub(super) fn write(
    out: &mut Out<'_>,
    plan: &Plan,
    catalog: &Catalog,
    order: &Placed,
    serials: &mut Serials,
) -> Result<(), SeedError> {
    cart(out, plan, order);
    cart_lines(out, catalog, order);
    order_row(out, plan, order);
    order_addresses(out, order);
    order_lines(out, order);
    status_history(out, order, &mut serials.history);
    payment(out, plan, order);
    payment_events(out, plan, order, &mut serials.payment_events);
    gift_card_entries(out, order, serials)?;
    shipment(out, order);
    returned(out, order);
    Ok(())
}

/// The order's one shipment, with every line, from its location.
fn shipment(out: &mut Out<'_>, order: &Placed) {
    let Some(s) = &order.life.shipment else {
        return;
    };
    let w = out.w(Table::Shipments);
    w.int(order.ids.shipment);
    w.int(order.ids.order);
    w.int(order.ids.location);
    w.text(s.status.as_str());
    w.text(s.carrier);
    w.text(&s.number);
    w.text(&format!(
        "https://track.example.com/{}/{}",
        s.carrier.to_ascii_lowercase(),
        s.number
    ));
    w.ts(s.at);
    w.ts(s.updated_at);
    // The warehouse's pick request that made it, as a retried request would
    // send it again.
    w.text(&format!("pick-{}", order.ids.shipment));
    w.end();
    for (line_no, line) in (1i64..).zip(&order.draft.lines) {
        let w = out.w(Table::ShipmentLines);
        w.int(order.ids.shipment);
        w.int(order.ids.order);
        w.int(line_no);
        w.int(i64::from(line.quantity.get()));
        w.end();
    }
}

/// The order's return: every unit back, received damaged at its location with
/// the shipping refunded; or, for one delivered order in 29 that kept its units,
/// one unit of its first line asked back, not yet decided.
fn returned(out: &mut Out<'_>, order: &Placed) {
    let life = &order.life;
    let (status, received, lines): (_, _, Vec<(i64, u32)>) = match &life.ret {
        Some(r) => (
            ReturnStatus::Received,
            Some(r.at),
            (1i64..)
                .zip(&order.draft.lines)
                .map(|(n, l)| (n, l.quantity.get()))
                .collect(),
        ),
        None if life.status == OrderStatus::Delivered && order.ids.order % 29 == 0 => {
            (ReturnStatus::Requested, None, vec![(1, 1)])
        }
        None => return,
    };
    let at = received.unwrap_or_else(|| life.history.last().map_or(order.basket.at, |h| h.at));
    let reason = if order.ids.order % 2 == 0 {
        ReturnReason::DoesNotFit
    } else {
        ReturnReason::ChangedMind
    };
    let w = out.w(Table::Returns);
    w.int(order.ids.ret);
    w.int(order.ids.order);
    w.text(reason.as_str());
    w.null();
    w.text(status.as_str());
    match received {
        Some(at) => {
            w.int(order.ids.location);
            w.text(ItemCondition::Damaged.as_str());
            w.bool(true);
            w.ts(at);
        }
        None => {
            w.null();
            w.null();
            w.null();
            w.null();
        }
    }
    w.ts(at);
    w.ts(at);
    w.end();
    for (line_no, quantity) in lines {
        let w = out.w(Table::ReturnLines);
        w.int(order.ids.ret);
        w.int(order.ids.order);
        w.int(line_no);
        w.int(i64::from(quantity));
        w.end();
    }
}

fn cart(out: &mut Out<'_>, plan: &Plan, order: &Placed) {
    let w = out.w(Table::Carts);
    w.int(order.ids.cart);
    w.opt_int(order.customer.user_id);
    w.text(plan.currency.code());
    w.text("converted");
    w.ts(order.cart.created);
    w.ts(order.basket.at);
    w.opt_bytea(guest_digest(order).as_ref().map(|d| &d.as_bytes()[..]));
    w.text(&values::public_id(plan.seed, "carts", order.ids.cart));
    w.end();
}

/// Lines were added one after another, evenly between the cart's creation and the
/// checkout.
fn cart_lines(out: &mut Out<'_>, catalog: &Catalog, order: &Placed) {
    let lines = &order.basket.lines;
    let created = order.cart.created;
    let step = (order.basket.at - created).num_seconds() / (lines.len() as i64 + 1);
    for (n, (v, q)) in lines.iter().enumerate() {
        let w = out.w(Table::CartLines);
        w.int(order.ids.cart);
        w.int(catalog.variant_id(*v));
        w.int(i64::from(q.get()));
        w.ts(created + Duration::seconds(step * n as i64));
        w.end();
    }
}

fn order_row(out: &mut Out<'_>, plan: &Plan, order: &Placed) {
    let at = order.basket.at;
    let totals = &order.draft.totals;
    let life = &order.life;
    let w = out.w(Table::Orders);
    w.int(order.ids.order);
    w.opt_int(order.customer.user_id);
    w.opt_text(order.customer.guest_email.as_ref().map(Email::as_str));
    w.int(order.ids.cart);
    w.text(plan.currency.code());
    w.money(totals.subtotal);
    w.money(totals.shipping);
    w.money(totals.tax);
    w.money(totals.grand_total);
    w.text(life.status.as_str());
    w.ts(at + DEFAULT_PAYMENT_WINDOW);
    w.ts(at);
    w.ts(life.history.last().map_or(at, |h| h.at));
    w.text(&values::public_id(plan.seed, "orders", order.ids.order));
    w.opt_bytea(guest_digest(order).as_ref().map(|d| &d.as_bytes()[..]));
    w.end();
}

/// The digest of the guest's token, for a guest's cart and order.
fn guest_digest(order: &Placed) -> Option<TokenDigest> {
    order.cart.token.as_ref().map(GuestToken::digest)
}

fn order_addresses(out: &mut Out<'_>, order: &Placed) {
    let customer = &order.customer;
    for (kind, a) in [
        (AddressKind::Shipping, &customer.shipping),
        (AddressKind::Billing, &customer.billing),
    ] {
        let w = out.w(Table::OrderAddresses);
        w.int(order.ids.order);
        w.text(kind.as_str());
        postal_columns(w, a);
        w.end();
    }
}

/// The lines as priced: each variant's SKU, options and price and its product's name
/// at checkout.
fn order_lines(out: &mut Out<'_>, order: &Placed) {
    for (line_no, line) in (1i64..).zip(&order.draft.lines) {
        let w = out.w(Table::OrderLines);
        w.int(order.ids.order);
        w.int(line_no);
        w.int(line.variant_id.get());
        w.text(line.sku.as_str());
        w.text(line.name.as_str());
        w.money(line.unit_price);
        w.int(i64::from(line.quantity.get()));
        w.text(&jsonb::selection(&line.selection));
        w.end();
    }
}

fn status_history(out: &mut Out<'_>, order: &Placed, last_id: &mut i64) {
    for h in &order.life.history {
        *last_id += 1;
        let w = out.w(Table::OrderStatusHistory);
        w.int(*last_id);
        w.int(order.ids.order);
        w.opt_text(h.from.map(OrderStatus::as_str));
        w.text(h.to.as_str());
        w.text(h.event);
        w.opt_text(h.note.as_deref());
        w.ts(h.at);
        w.end();
    }
}

fn payment(out: &mut Out<'_>, plan: &Plan, order: &Placed) {
    let at = order.basket.at;
    let life = &order.life;
    let p = &life.payment;
    let w = out.w(Table::Payments);
    w.int(order.ids.payment);
    w.int(order.ids.order);
    w.text(p.provider.as_str());
    w.opt_text(p.provider_ref.as_ref().map(|r| r.as_str()));
    w.text(plan.currency.code());
    w.money(p.amount);
    w.money(p.authorized);
    w.money(p.captured);
    w.money(p.refunded);
    w.text(p.status.as_str());
    w.ts(at);
    w.ts(life.events.last().map_or(at, |e| e.at));
    // One payment an order: its provider's, or a gift card's of all of it.
    w.opt_int(p.gift_card.map(|c| c.get()));
    w.money(p.released);
    w.end();
}

fn payment_events(out: &mut Out<'_>, plan: &Plan, order: &Placed, last_id: &mut i64) {
    for e in &order.life.events {
        *last_id += 1;
        // As the store records them: the provider's reference on authorizations,
        // the reason on refunds and failures, zero for events that move no money.
        let (reference, reason) = match &e.event.action {
            PaymentAction::Authorize { provider_ref, .. } => {
                (provider_ref.as_ref().map(|r| r.as_str()), None)
            }
            PaymentAction::Refund { reason, .. } => (None, reason.as_ref().map(Reason::as_str)),
            PaymentAction::Fail { reason } => (None, Some(reason.as_str())),
            PaymentAction::Capture { .. } | PaymentAction::Void | PaymentAction::Reduce { .. } => {
                (None, None)
            }
        };
        let amount = e
            .event
            .action
            .amount()
            .unwrap_or_else(|| Money::zero(plan.currency));
        let w = out.w(Table::PaymentEvents);
        w.int(*last_id);
        w.int(order.ids.payment);
        w.text(e.event.action.kind().as_str());
        w.money(amount);
        w.text(e.event.key.as_str());
        w.opt_text(reference);
        w.opt_text(reason);
        w.ts(e.at);
        w.end();
    }
}

/// A gift card's payment in its card's ledger: the redemption at checkout, then
/// each refund of it, with the balance after each as the store books them.
fn gift_card_entries(
    out: &mut Out<'_>,
    order: &Placed,
    serials: &mut Serials,
) -> Result<(), SeedError> {
    let payment = &order.life.payment;
    let Some(card) = payment.gift_card else {
        return Ok(());
    };
    let index = serials.first_card.index(card);
    let changes = std::iter::once((
        GiftCardEntryKind::Redeem,
        -payment.amount.amount(),
        payment.amount,
        order.basket.at,
    ))
    .chain(
        order
            .life
            .events
            .iter()
            .filter_map(|e| match &e.event.action {
                PaymentAction::Refund { amount, .. } => {
                    Some((GiftCardEntryKind::Refund, amount.amount(), *amount, e.at))
                }
                _ => None,
            }),
    );
    for (kind, change, amount, at) in changes {
        serials.gift_card_entries += 1;
        let balance = &mut serials.card_balances[index];
        *balance += change;
        if *balance < Decimal::ZERO {
            return Err(SeedError::invalid(
                "gift card",
                format!("card {} would go below zero", card.get()),
            ));
        }
        let w = out.w(Table::GiftCardEntries);
        w.int(serials.gift_card_entries);
        w.int(card.get());
        w.text(kind.as_str());
        w.money(amount);
        w.int(payment.id.get());
        w.decimal(*balance);
        w.ts(at);
        w.end();
    }
    Ok(())
}
