-- Fail fast rather than queue behind, and in front of, live traffic.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-table -- a down migration removes what its up migration created
DROP TABLE payment_events;
DROP TABLE payments;
DROP TABLE order_status_history;
DROP TABLE order_lines;
DROP TABLE order_addresses;
DROP TABLE orders;
DROP TABLE cart_lines;
DROP TABLE carts;
