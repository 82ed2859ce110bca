-- Back to the state 2026-12-02-000600 left: the same constraints, NOT VALID.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- each constraint is put back as it was before the up migration

ALTER TABLE orders
    DROP CONSTRAINT orders_grand_total_sum,
    ADD CONSTRAINT orders_grand_total_sum CHECK (
        grand_total = subtotal + shipping + CASE WHEN prices_include_tax THEN 0 ELSE tax END
    ) NOT VALID,
    DROP CONSTRAINT orders_contained_tax_bounded,
    ADD CONSTRAINT orders_contained_tax_bounded CHECK (NOT prices_include_tax OR tax <= subtotal + shipping) NOT VALID,
    DROP CONSTRAINT orders_shipping_method_parts,
    ADD CONSTRAINT orders_shipping_method_parts CHECK (
        (shipping_method_code IS NULL) = (shipping_method_name IS NULL)
        AND (shipping_method_code IS NULL) = (shipping_net IS NULL)
        AND (shipping_method_code IS NULL) = (shipping_tax IS NULL)
        AND (shipping_method_code IS NOT NULL OR NOT prices_include_tax)
        AND (shipping_tax_rate_no IS NULL OR shipping_method_code IS NOT NULL)
    ) NOT VALID,
    DROP CONSTRAINT orders_shipping_method_code_format,
    ADD CONSTRAINT orders_shipping_method_code_format CHECK (
        shipping_method_code ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(shipping_method_code) <= 64
    ) NOT VALID,
    DROP CONSTRAINT orders_shipping_method_name_length,
    ADD CONSTRAINT orders_shipping_method_name_length CHECK (
        char_length(shipping_method_name) BETWEEN 1 AND 100
        AND shipping_method_name = btrim(shipping_method_name)
    ) NOT VALID,
    DROP CONSTRAINT orders_shipping_tax_split,
    ADD CONSTRAINT orders_shipping_tax_split CHECK (
        shipping_tax >= 0
        AND (shipping_tax_rate_no IS NOT NULL OR shipping_tax = 0)
        AND shipping = shipping_net + CASE WHEN prices_include_tax THEN shipping_tax ELSE 0 END
    ) NOT VALID;

ALTER TABLE order_lines
    DROP CONSTRAINT order_lines_tax_parts,
    ADD CONSTRAINT order_lines_tax_parts CHECK (
        (net IS NULL) = (tax IS NULL) AND (tax_rate_no IS NULL OR tax IS NOT NULL)
    ) NOT VALID,
    DROP CONSTRAINT order_lines_tax_split,
    ADD CONSTRAINT order_lines_tax_split CHECK (
        tax >= 0
        AND (tax_rate_no IS NOT NULL OR tax = 0)
        AND (net = unit_price * quantity OR net + tax = unit_price * quantity)
    ) NOT VALID,
    DROP CONSTRAINT order_lines_tax_rate_no_positive,
    ADD CONSTRAINT order_lines_tax_rate_no_positive CHECK (tax_rate_no >= 1) NOT VALID;
