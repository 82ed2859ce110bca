-- Fail fast rather than queue behind, and in front of, live traffic.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-table, ban-drop-column, ban-drop-constraint, ban-drop-function, constraint-missing-not-valid -- a down migration removes what its up migration created, and puts back the grand total rule as it was (validated)

DROP TRIGGER order_tax_lines_unchanged ON order_tax_lines;
DROP TRIGGER order_lines_unchanged ON order_lines;
DROP FUNCTION order_lines_refuse_change();
DROP TRIGGER orders_reconciled ON orders;
DROP FUNCTION orders_check_reconciled();
ALTER TABLE order_lines
    DROP CONSTRAINT order_lines_tax_rate_no_positive,
    DROP COLUMN tax_rate_no,
    DROP COLUMN tax,
    DROP COLUMN net;
DROP TABLE order_tax_lines;
-- Orders with gross prices or a method cannot go back to the old shape: the
-- old grand total rule refuses them, and this down migration stops there.
ALTER TABLE orders
    DROP CONSTRAINT orders_shipping_tax_split,
    DROP CONSTRAINT orders_shipping_method_name_length,
    DROP CONSTRAINT orders_shipping_method_code_format,
    DROP CONSTRAINT orders_shipping_method_parts,
    DROP CONSTRAINT orders_contained_tax_bounded,
    DROP CONSTRAINT orders_grand_total_sum,
    ADD CONSTRAINT orders_grand_total_sum CHECK (grand_total = subtotal + shipping + tax),
    DROP COLUMN shipping_tax_rate_no,
    DROP COLUMN shipping_tax,
    DROP COLUMN shipping_net,
    DROP COLUMN shipping_method_name,
    DROP COLUMN shipping_method_code,
    DROP COLUMN prices_include_tax;
