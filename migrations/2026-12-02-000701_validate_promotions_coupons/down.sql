-- Back to the state 2026-12-02-000700 left: the same constraints, NOT VALID.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- each constraint is put back as it was before the up migration

ALTER TABLE orders
    DROP CONSTRAINT orders_discount_range,
    ADD CONSTRAINT orders_discount_range CHECK (discount >= 0 AND discount <= subtotal) NOT VALID,
    DROP CONSTRAINT orders_grand_total_sum,
    ADD CONSTRAINT orders_grand_total_sum CHECK (
        grand_total = subtotal - discount + shipping
                      + CASE WHEN prices_include_tax THEN 0 ELSE tax END
    ) NOT VALID,
    DROP CONSTRAINT orders_contained_tax_bounded,
    ADD CONSTRAINT orders_contained_tax_bounded CHECK (NOT prices_include_tax OR tax <= subtotal - discount + shipping) NOT VALID;

ALTER TABLE order_lines
    DROP CONSTRAINT order_lines_discount_range,
    ADD CONSTRAINT order_lines_discount_range CHECK (discount >= 0 AND discount <= unit_price * quantity) NOT VALID,
    DROP CONSTRAINT order_lines_discount_with_tax,
    ADD CONSTRAINT order_lines_discount_with_tax CHECK ((discount IS NULL) = (net IS NULL)) NOT VALID,
    DROP CONSTRAINT order_lines_tax_split,
    ADD CONSTRAINT order_lines_tax_split CHECK (
        tax >= 0
        AND (tax_rate_no IS NOT NULL OR tax = 0)
        AND (net = unit_price * quantity - coalesce(discount, 0)
             OR net + tax = unit_price * quantity - coalesce(discount, 0))
    ) NOT VALID;
