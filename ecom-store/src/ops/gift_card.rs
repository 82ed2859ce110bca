//! Gift cards: issuing one, finding it by the digest of its code, locking the
//! cards a checkout spends, and reading a card's ledger. (What a card's payments
//! do to its balance is booked with the payment, in `ops/payment.rs`.)

use std::collections::HashMap;

use diesel::prelude::*;
use ecom_domain::prelude::*;

use crate::StoreError;
use crate::rows::{GiftCardEntryRow, GiftCardRow};
use crate::schema::{gift_card_entries, gift_cards};

/// Inserts a new card and its issue entry; returns it as stored.
pub(crate) fn issue(
    conn: &mut PgConnection,
    new: &NewGiftCard,
    code: &GiftCardCode,
) -> Result<GiftCard, StoreError> {
    let row: GiftCardRow = diesel::insert_into(gift_cards::table)
        .values((
            gift_cards::code_digest.eq(code.digest().to_vec()),
            gift_cards::last_four.eq(code.last_four()),
            gift_cards::currency.eq(new.value.currency().code()),
            gift_cards::initial_value.eq(new.value.amount()),
            gift_cards::balance.eq(new.value.amount()),
            gift_cards::expires_at.eq(new.expires_at),
        ))
        .returning(GiftCardRow::as_returning())
        .get_result(conn)?;
    diesel::insert_into(gift_card_entries::table)
        .values((
            gift_card_entries::gift_card_id.eq(row.id),
            gift_card_entries::kind.eq(GiftCardEntryKind::Issue.as_str()),
            gift_card_entries::amount.eq(new.value.amount()),
            gift_card_entries::balance_after.eq(new.value.amount()),
        ))
        .execute(conn)?;
    GiftCard::try_from(row)
}

/// The card with this code.
pub(crate) fn by_code(
    conn: &mut PgConnection,
    code: &GiftCardCode,
) -> Result<GiftCard, StoreError> {
    gift_cards::table
        .filter(gift_cards::code_digest.eq(code.digest().to_vec()))
        .select(GiftCardRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| DomainError::from(GiftCardError::Unknown))?
        .try_into()
}

/// The card with this id.
pub(crate) fn by_id(conn: &mut PgConnection, id: GiftCardId) -> Result<GiftCard, StoreError> {
    gift_cards::table
        .find(id.get())
        .select(GiftCardRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| DomainError::not_found("gift card", id))?
        .try_into()
}

/// The cards of these codes, locked `FOR UPDATE` in id order (so that two
/// checkouts spending the same cards queue instead of deadlocking), returned in
/// the order of the codes. A code no card has is refused.
pub(crate) fn lock_by_codes(
    conn: &mut PgConnection,
    codes: &[GiftCardCode],
) -> Result<Vec<GiftCard>, StoreError> {
    let digests: Vec<Vec<u8>> = codes.iter().map(|c| c.digest().to_vec()).collect();
    let mut rows: HashMap<Vec<u8>, GiftCardRow> = gift_cards::table
        .filter(gift_cards::code_digest.eq_any(&digests))
        .order(gift_cards::id)
        .select((gift_cards::code_digest, GiftCardRow::as_select()))
        .for_update()
        .load::<(Vec<u8>, GiftCardRow)>(conn)?
        .into_iter()
        .collect();
    digests
        .iter()
        .map(|digest| match rows.remove(digest) {
            Some(row) => GiftCard::try_from(row),
            None => Err(DomainError::from(GiftCardError::Unknown).into()),
        })
        .collect()
}

/// A card's ledger, oldest first.
pub(crate) fn ledger(
    conn: &mut PgConnection,
    card: &GiftCard,
) -> Result<Vec<GiftCardEntry>, StoreError> {
    gift_card_entries::table
        .filter(gift_card_entries::gift_card_id.eq(card.id.get()))
        .order(gift_card_entries::id)
        .select(GiftCardEntryRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| row.into_entry(card.currency()))
        .collect()
}
