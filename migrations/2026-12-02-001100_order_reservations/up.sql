-- Where checkout reserved an order's units (ecom_domain::inventory::Reservation):
-- for a variant kept at locations, each line's units held at each location they
-- were drawn from. The level's `reserved` count and its ledger's reservation row
-- were written in the same transaction; a cancellation or an expiry releases
-- them by reading these rows. The rows stay, a record of where the units were.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE order_reservations (
    order_id     bigint   NOT NULL,
    -- squawk-ignore prefer-bigint-over-smallint -- a line number, as order_lines
    line_no      smallint NOT NULL,
    location_id  bigint   NOT NULL,
    variant_id   bigint   NOT NULL,
    -- squawk-ignore prefer-bigint-over-int -- units, at most 1,000,000,000 (checked below)
    quantity     integer  NOT NULL,
    CONSTRAINT order_reservations_pkey PRIMARY KEY (order_id, line_no, location_id),
    CONSTRAINT order_reservations_quantity_range CHECK (quantity BETWEEN 1 AND 1000000000),
    -- A reservation is part of its order's record and goes with it.
    CONSTRAINT order_reservations_line_fkey FOREIGN KEY (order_id, line_no)
        REFERENCES order_lines (order_id, line_no) ON DELETE CASCADE,
    -- RESTRICT: levels are history, as their ledger.
    CONSTRAINT order_reservations_level_fkey FOREIGN KEY (location_id, variant_id)
        REFERENCES inventory_levels (location_id, variant_id) ON DELETE RESTRICT
);
CREATE INDEX order_reservations_level_idx ON order_reservations (location_id, variant_id);
COMMENT ON TABLE order_reservations IS
    'Units of an order line held at a location from checkout; released when the order is cancelled or expires.';
