-- Text lengths of order_addresses bounded by the database as by the domain;
-- the shape and why are in 2026-12-02-000006_bound_text_categories.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE order_addresses
    -- PersonName, values/text.rs
    ADD CONSTRAINT order_addresses_recipient_length CHECK (char_length(recipient) BETWEEN 1 AND 100) NOT VALID,
    -- PostalAddress::parse, values/address.rs: address line 1
    ADD CONSTRAINT order_addresses_line1_length CHECK (char_length(line1) BETWEEN 1 AND 200) NOT VALID,
    -- PostalAddress::parse, values/address.rs: address line 2 (optional)
    ADD CONSTRAINT order_addresses_line2_length CHECK (char_length(line2) <= 200) NOT VALID,
    -- PostalAddress::parse, values/address.rs: city
    ADD CONSTRAINT order_addresses_city_length CHECK (char_length(city) BETWEEN 1 AND 100) NOT VALID,
    -- PostalAddress::parse, values/address.rs: region (optional)
    ADD CONSTRAINT order_addresses_region_length CHECK (char_length(region) <= 100) NOT VALID,
    -- PostalAddress::parse, values/address.rs: postal code
    ADD CONSTRAINT order_addresses_postal_code_length CHECK (char_length(postal_code) BETWEEN 1 AND 16) NOT VALID;
