SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
ALTER TABLE order_lines
    ADD CONSTRAINT order_lines_quantity_cap CHECK (quantity <= 500) NOT VALID;
