-- Puts the text bounds back as NOT VALID, as they were before this migration: per
-- table one ALTER TABLE, a brief ACCESS EXCLUSIVE lock with no scan. These are
-- several tables in one transaction: under traffic the revert may lose a deadlock to
-- a transaction that holds them in another order, and then rolls back whole and can
-- run again.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- each constraint is added back at once, NOT VALID, in the same statement

ALTER TABLE categories
    DROP CONSTRAINT categories_slug_length,
    ADD CONSTRAINT categories_slug_length CHECK (char_length(slug) BETWEEN 1 AND 64) NOT VALID,
    DROP CONSTRAINT categories_name_length,
    ADD CONSTRAINT categories_name_length CHECK (char_length(name) BETWEEN 1 AND 100) NOT VALID;
ALTER TABLE products
    DROP CONSTRAINT products_name_length,
    ADD CONSTRAINT products_name_length CHECK (char_length(name) BETWEEN 1 AND 200) NOT VALID,
    DROP CONSTRAINT products_description_length,
    ADD CONSTRAINT products_description_length CHECK (char_length(description) <= 5000) NOT VALID;
ALTER TABLE users
    DROP CONSTRAINT users_email_length,
    ADD CONSTRAINT users_email_length CHECK (char_length(email) BETWEEN 3 AND 254) NOT VALID,
    DROP CONSTRAINT users_name_length,
    ADD CONSTRAINT users_name_length CHECK (char_length(name) BETWEEN 1 AND 100) NOT VALID;
ALTER TABLE addresses
    DROP CONSTRAINT addresses_recipient_length,
    ADD CONSTRAINT addresses_recipient_length CHECK (char_length(recipient) BETWEEN 1 AND 100) NOT VALID,
    DROP CONSTRAINT addresses_line1_length,
    ADD CONSTRAINT addresses_line1_length CHECK (char_length(line1) BETWEEN 1 AND 200) NOT VALID,
    DROP CONSTRAINT addresses_line2_length,
    ADD CONSTRAINT addresses_line2_length CHECK (char_length(line2) <= 200) NOT VALID,
    DROP CONSTRAINT addresses_city_length,
    ADD CONSTRAINT addresses_city_length CHECK (char_length(city) BETWEEN 1 AND 100) NOT VALID,
    DROP CONSTRAINT addresses_region_length,
    ADD CONSTRAINT addresses_region_length CHECK (char_length(region) <= 100) NOT VALID,
    DROP CONSTRAINT addresses_postal_code_length,
    ADD CONSTRAINT addresses_postal_code_length CHECK (char_length(postal_code) BETWEEN 1 AND 16) NOT VALID;
ALTER TABLE carts
    DROP CONSTRAINT carts_guest_token_length,
    ADD CONSTRAINT carts_guest_token_length CHECK (char_length(guest_token) BETWEEN 16 AND 64) NOT VALID;
ALTER TABLE orders
    DROP CONSTRAINT orders_guest_email_length,
    ADD CONSTRAINT orders_guest_email_length CHECK (char_length(guest_email) BETWEEN 3 AND 254) NOT VALID;
ALTER TABLE order_addresses
    DROP CONSTRAINT order_addresses_recipient_length,
    ADD CONSTRAINT order_addresses_recipient_length CHECK (char_length(recipient) BETWEEN 1 AND 100) NOT VALID,
    DROP CONSTRAINT order_addresses_line1_length,
    ADD CONSTRAINT order_addresses_line1_length CHECK (char_length(line1) BETWEEN 1 AND 200) NOT VALID,
    DROP CONSTRAINT order_addresses_line2_length,
    ADD CONSTRAINT order_addresses_line2_length CHECK (char_length(line2) <= 200) NOT VALID,
    DROP CONSTRAINT order_addresses_city_length,
    ADD CONSTRAINT order_addresses_city_length CHECK (char_length(city) BETWEEN 1 AND 100) NOT VALID,
    DROP CONSTRAINT order_addresses_region_length,
    ADD CONSTRAINT order_addresses_region_length CHECK (char_length(region) <= 100) NOT VALID,
    DROP CONSTRAINT order_addresses_postal_code_length,
    ADD CONSTRAINT order_addresses_postal_code_length CHECK (char_length(postal_code) BETWEEN 1 AND 16) NOT VALID;
ALTER TABLE order_lines
    DROP CONSTRAINT order_lines_sku_length,
    ADD CONSTRAINT order_lines_sku_length CHECK (char_length(sku) BETWEEN 1 AND 32) NOT VALID,
    DROP CONSTRAINT order_lines_name_length,
    ADD CONSTRAINT order_lines_name_length CHECK (char_length(name) BETWEEN 1 AND 200) NOT VALID;
ALTER TABLE payments
    DROP CONSTRAINT payments_provider_length,
    ADD CONSTRAINT payments_provider_length CHECK (char_length(provider) BETWEEN 1 AND 50) NOT VALID,
    DROP CONSTRAINT payments_provider_ref_length,
    ADD CONSTRAINT payments_provider_ref_length CHECK (char_length(provider_ref) BETWEEN 1 AND 200) NOT VALID;
ALTER TABLE payment_events
    DROP CONSTRAINT payment_events_idempotency_key_length,
    ADD CONSTRAINT payment_events_idempotency_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 128) NOT VALID,
    DROP CONSTRAINT payment_events_provider_event_id_length,
    ADD CONSTRAINT payment_events_provider_event_id_length CHECK (char_length(provider_event_id) BETWEEN 1 AND 200) NOT VALID,
    DROP CONSTRAINT payment_events_reason_length,
    ADD CONSTRAINT payment_events_reason_length CHECK (char_length(reason) <= 500) NOT VALID;
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_key_length,
    ADD CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 128) NOT VALID;
