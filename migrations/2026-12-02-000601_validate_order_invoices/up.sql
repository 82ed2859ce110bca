-- Validates the constraints 2026-12-02-000600 added NOT VALID: a scan under a SHARE
-- UPDATE EXCLUSIVE lock, which lets reads and writes go on.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '0';

ALTER TABLE orders VALIDATE CONSTRAINT orders_grand_total_sum;
ALTER TABLE orders VALIDATE CONSTRAINT orders_contained_tax_bounded;
ALTER TABLE orders VALIDATE CONSTRAINT orders_shipping_method_parts;
ALTER TABLE orders VALIDATE CONSTRAINT orders_shipping_method_code_format;
ALTER TABLE orders VALIDATE CONSTRAINT orders_shipping_method_name_length;
ALTER TABLE orders VALIDATE CONSTRAINT orders_shipping_tax_split;
ALTER TABLE order_lines VALIDATE CONSTRAINT order_lines_tax_parts;
ALTER TABLE order_lines VALIDATE CONSTRAINT order_lines_tax_split;
ALTER TABLE order_lines VALIDATE CONSTRAINT order_lines_tax_rate_no_positive;
