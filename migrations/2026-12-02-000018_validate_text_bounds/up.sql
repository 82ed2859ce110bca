-- Checks the rows written before the text bounds of migrations 000006 to 000016
-- (added NOT VALID) and the bound on lines per cart of 000017, and marks the
-- constraints valid. VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE, which blocks
-- no reads and no writes (only other schema changes and vacuum): holding it on many
-- tables cannot deadlock with the application, and a long scan of a big table is
-- safe, hence the longer statement_timeout. A row out of bounds fails the migration,
-- naming its constraint; nothing changes until the row is fixed.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30min';

ALTER TABLE categories VALIDATE CONSTRAINT categories_slug_length;
ALTER TABLE categories VALIDATE CONSTRAINT categories_name_length;
ALTER TABLE products VALIDATE CONSTRAINT products_name_length;
ALTER TABLE products VALIDATE CONSTRAINT products_description_length;
ALTER TABLE users VALIDATE CONSTRAINT users_email_length;
ALTER TABLE users VALIDATE CONSTRAINT users_name_length;
ALTER TABLE addresses VALIDATE CONSTRAINT addresses_recipient_length;
ALTER TABLE addresses VALIDATE CONSTRAINT addresses_line1_length;
ALTER TABLE addresses VALIDATE CONSTRAINT addresses_line2_length;
ALTER TABLE addresses VALIDATE CONSTRAINT addresses_city_length;
ALTER TABLE addresses VALIDATE CONSTRAINT addresses_region_length;
ALTER TABLE addresses VALIDATE CONSTRAINT addresses_postal_code_length;
ALTER TABLE carts VALIDATE CONSTRAINT carts_guest_token_length;
ALTER TABLE orders VALIDATE CONSTRAINT orders_guest_email_length;
ALTER TABLE order_addresses VALIDATE CONSTRAINT order_addresses_recipient_length;
ALTER TABLE order_addresses VALIDATE CONSTRAINT order_addresses_line1_length;
ALTER TABLE order_addresses VALIDATE CONSTRAINT order_addresses_line2_length;
ALTER TABLE order_addresses VALIDATE CONSTRAINT order_addresses_city_length;
ALTER TABLE order_addresses VALIDATE CONSTRAINT order_addresses_region_length;
ALTER TABLE order_addresses VALIDATE CONSTRAINT order_addresses_postal_code_length;
ALTER TABLE order_lines VALIDATE CONSTRAINT order_lines_sku_length;
ALTER TABLE order_lines VALIDATE CONSTRAINT order_lines_name_length;
ALTER TABLE payments VALIDATE CONSTRAINT payments_provider_length;
ALTER TABLE payments VALIDATE CONSTRAINT payments_provider_ref_length;
ALTER TABLE payment_events VALIDATE CONSTRAINT payment_events_idempotency_key_length;
ALTER TABLE payment_events VALIDATE CONSTRAINT payment_events_provider_event_id_length;
ALTER TABLE payment_events VALIDATE CONSTRAINT payment_events_reason_length;
ALTER TABLE idempotency_keys VALIDATE CONSTRAINT idempotency_keys_key_length;

-- A trigger checks nothing that was there before it: count the carts' lines once.
DO $$
DECLARE
    crowded bigint;
BEGIN
    SELECT cart_id INTO crowded FROM cart_lines GROUP BY cart_id HAVING count(*) > 100 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cart % holds more than 100 lines', crowded
            USING ERRCODE = 'check_violation', CONSTRAINT = 'cart_lines_per_cart_max';
    END IF;
END
$$;
