SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- a down migration removes what its up migration added

ALTER TABLE addresses
    DROP CONSTRAINT addresses_recipient_length,
    DROP CONSTRAINT addresses_line1_length,
    DROP CONSTRAINT addresses_line2_length,
    DROP CONSTRAINT addresses_city_length,
    DROP CONSTRAINT addresses_region_length,
    DROP CONSTRAINT addresses_postal_code_length;
