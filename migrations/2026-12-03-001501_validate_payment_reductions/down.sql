-- Back to the state 2026-12-03-001500 left: the same checks, NOT VALID.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- each constraint is put back as it was before the up migration

ALTER TABLE payments
    DROP CONSTRAINT payments_released_range,
    ADD CONSTRAINT payments_released_range
        CHECK (released >= 0 AND released < amount AND authorized <= amount - released)
        NOT VALID;
ALTER TABLE payment_events
    DROP CONSTRAINT payment_events_kind_check,
    ADD CONSTRAINT payment_events_kind_check CHECK (kind IN ('authorize', 'capture', 'void',
        'refund', 'fail', 'reduce')) NOT VALID;
