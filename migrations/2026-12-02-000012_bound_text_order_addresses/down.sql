SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- a down migration removes what its up migration added

ALTER TABLE order_addresses
    DROP CONSTRAINT order_addresses_recipient_length,
    DROP CONSTRAINT order_addresses_line1_length,
    DROP CONSTRAINT order_addresses_line2_length,
    DROP CONSTRAINT order_addresses_city_length,
    DROP CONSTRAINT order_addresses_region_length,
    DROP CONSTRAINT order_addresses_postal_code_length;
