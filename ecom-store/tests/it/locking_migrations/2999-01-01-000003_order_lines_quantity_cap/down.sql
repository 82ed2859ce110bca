SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
ALTER TABLE order_lines DROP CONSTRAINT order_lines_quantity_cap;
