-- Back to the state 2026-12-03-001200 left: the same checks, NOT VALID.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- each constraint is put back as it was before the up migration

ALTER TABLE orders
    DROP CONSTRAINT orders_status_check,
    ADD CONSTRAINT orders_status_check CHECK (status IN ('pending_payment', 'paid',
        'partially_shipped', 'shipped', 'partially_delivered', 'delivered', 'cancelled',
        'expired', 'refunded')) NOT VALID;
ALTER TABLE order_status_history
    DROP CONSTRAINT order_status_history_from_status_check,
    ADD CONSTRAINT order_status_history_from_status_check CHECK (from_status IN (
        'pending_payment', 'paid', 'partially_shipped', 'shipped', 'partially_delivered',
        'delivered', 'cancelled', 'expired', 'refunded')) NOT VALID,
    DROP CONSTRAINT order_status_history_to_status_check,
    ADD CONSTRAINT order_status_history_to_status_check CHECK (to_status IN (
        'pending_payment', 'paid', 'partially_shipped', 'shipped', 'partially_delivered',
        'delivered', 'cancelled', 'expired', 'refunded')) NOT VALID;
