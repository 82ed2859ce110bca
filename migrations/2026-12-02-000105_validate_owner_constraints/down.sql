-- Back to the state 2026-12-02-000100 to -000104 left: the constraints NOT VALID,
-- the references nullable, their uniqueness in indexes alone.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-constraint -- each constraint is put back as it was before the up migration

ALTER TABLE orders DROP CONSTRAINT orders_public_id_key;
ALTER TABLE carts DROP CONSTRAINT carts_public_id_key;
-- The constraint made the index its own and dropped it with itself: rebuilt here,
-- in a revert's maintenance window.
-- squawk-ignore require-concurrent-index-creation -- a revert runs in a maintenance window
CREATE UNIQUE INDEX carts_public_id_key ON carts (public_id);
-- squawk-ignore require-concurrent-index-creation -- a revert runs in a maintenance window
CREATE UNIQUE INDEX orders_public_id_key ON orders (public_id);
-- squawk-ignore ban-drop-not-null -- undoes the up migration; the CHECK below stands in
ALTER TABLE orders ALTER COLUMN public_id DROP NOT NULL,
    ADD CONSTRAINT orders_public_id_present CHECK (public_id IS NOT NULL) NOT VALID,
    DROP CONSTRAINT orders_guest_token_digest_length,
    ADD CONSTRAINT orders_guest_token_digest_length
        CHECK (octet_length(guest_token_digest) = 32) NOT VALID;
-- squawk-ignore ban-drop-not-null -- as above
ALTER TABLE carts ALTER COLUMN public_id DROP NOT NULL,
    ADD CONSTRAINT carts_public_id_present CHECK (public_id IS NOT NULL) NOT VALID,
    DROP CONSTRAINT carts_guest_token_digest_length,
    ADD CONSTRAINT carts_guest_token_digest_length
        CHECK (octet_length(guest_token_digest) = 32) NOT VALID,
    DROP CONSTRAINT carts_owner_present,
    ADD CONSTRAINT carts_owner_present
        CHECK (user_id IS NOT NULL OR guest_token_digest IS NOT NULL) NOT VALID;
