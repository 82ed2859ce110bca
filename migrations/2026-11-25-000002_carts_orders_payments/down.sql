DROP TABLE payment_events;
DROP TABLE payments;
DROP TABLE order_status_history;
DROP TABLE order_lines;
DROP TABLE order_addresses;
DROP TABLE orders;
DROP TABLE cart_lines;
DROP TABLE carts;
