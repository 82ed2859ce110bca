-- Fail fast rather than queue behind, and in front of, live traffic.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-column, ban-drop-constraint, constraint-missing-not-valid -- a down migration removes what its up migration added, and puts back the ledger's check as it was (a scan of the ledger, once, when going back; it refuses while a reduction is booked)

ALTER TABLE payment_events
    DROP CONSTRAINT payment_events_kind_check,
    ADD CONSTRAINT payment_events_kind_check CHECK (kind IN ('authorize', 'capture', 'void',
        'refund', 'fail'));
-- Its check and its column privilege go with it.
ALTER TABLE payments DROP COLUMN released;
