-- Fail fast rather than queue behind, and in front of, live traffic.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-table, ban-drop-column, ban-drop-function, ban-drop-trigger -- a down migration removes what its up migration created

DROP TRIGGER payments_tender_sums ON payments;
DROP FUNCTION payments_check_tender();
ALTER TABLE payments DROP COLUMN gift_card_id;
DROP TABLE gift_card_entries;
DROP TABLE gift_cards;
DROP FUNCTION gift_cards_check_balanced();
