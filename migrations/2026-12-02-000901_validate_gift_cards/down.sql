-- Back to the state 2026-12-02-000900 left: the same constraints, NOT VALID.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- each constraint is put back as it was before the up migration

ALTER TABLE payments
    DROP CONSTRAINT payments_gift_card_id_fkey,
    ADD CONSTRAINT payments_gift_card_id_fkey FOREIGN KEY (gift_card_id)
        REFERENCES gift_cards (id) ON DELETE RESTRICT NOT VALID,
    DROP CONSTRAINT payments_gift_card_provider,
    ADD CONSTRAINT payments_gift_card_provider
        CHECK (gift_card_id IS NULL OR provider = 'gift_card') NOT VALID;
