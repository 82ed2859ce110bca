SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- a down migration removes what its up migration added

ALTER TABLE order_lines
    DROP CONSTRAINT order_lines_sku_length,
    DROP CONSTRAINT order_lines_name_length;
