-- Validates the constraints 2026-12-02-000700 added or replaced NOT VALID: a scan
-- under a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes go on.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '0';

ALTER TABLE orders VALIDATE CONSTRAINT orders_discount_range;
ALTER TABLE orders VALIDATE CONSTRAINT orders_grand_total_sum;
ALTER TABLE orders VALIDATE CONSTRAINT orders_contained_tax_bounded;
ALTER TABLE order_lines VALIDATE CONSTRAINT order_lines_discount_range;
ALTER TABLE order_lines VALIDATE CONSTRAINT order_lines_discount_with_tax;
ALTER TABLE order_lines VALIDATE CONSTRAINT order_lines_tax_split;
