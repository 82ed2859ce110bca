//! Gift cards: issued with a code the store forgets at once (it keeps the
//! digest), read by code or id, and their ledgers.

use chrono::Utc;
use ecom_domain::prelude::*;

use crate::ops::gift_card as card;
use crate::{PgStore, StoreError};

impl GiftCardRepository for PgStore {
    type Error = StoreError;

    fn issue_gift_card(&self, new: NewGiftCard) -> Result<IssuedGiftCard, StoreError> {
        let new = new.checked(Utc::now()).map_err(DomainError::from)?;
        self.write(|conn| {
            // A fresh code per attempt: a retried transaction never reuses one.
            let code = GiftCardCode::random();
            let card = card::issue(conn, &new, &code)?;
            Ok(IssuedGiftCard { card, code })
        })
    }

    fn gift_card(&self, code: &GiftCardCode) -> Result<GiftCard, StoreError> {
        self.read(|conn| card::by_code(conn, code))
    }

    fn gift_card_by_id(&self, id: GiftCardId) -> Result<GiftCard, StoreError> {
        self.read(|conn| card::by_id(conn, id))
    }

    fn gift_card_ledger(&self, id: GiftCardId) -> Result<Vec<GiftCardEntry>, StoreError> {
        self.read(|conn| {
            let found = card::by_id(conn, id)?;
            card::ledger(conn, &found)
        })
    }
}
