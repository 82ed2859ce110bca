-- Back to guest tokens kept as text. The tokens themselves are gone for good (only
-- their digests were kept): each guest cart gets its digest in hex, 64 characters,
-- which no guest holds, so guest carts made since the up migration are orphaned.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- squawk-ignore ban-drop-column -- undoes the up migration
ALTER TABLE orders DROP COLUMN public_id, DROP COLUMN guest_token_digest;

-- squawk-ignore ban-drop-column -- undoes the up migration
ALTER TABLE carts DROP COLUMN public_id;

ALTER TABLE carts ADD COLUMN guest_token text;
UPDATE carts SET guest_token = encode(guest_token_digest, 'hex')
    WHERE guest_token_digest IS NOT NULL;
-- squawk-ignore ban-drop-constraint -- replaced at once by the token's
ALTER TABLE carts DROP CONSTRAINT carts_owner_present,
    ADD CONSTRAINT carts_owner_present
        CHECK (user_id IS NOT NULL OR guest_token IS NOT NULL) NOT VALID,
    ADD CONSTRAINT carts_guest_token_length
        CHECK (char_length(guest_token) BETWEEN 16 AND 64) NOT VALID;
-- squawk-ignore ban-drop-column -- undoes the up migration
ALTER TABLE carts DROP COLUMN guest_token_digest;
-- squawk-ignore constraint-missing-not-valid -- a revert runs in a maintenance window; the constraints were valid before the up migration
ALTER TABLE carts VALIDATE CONSTRAINT carts_owner_present;
-- squawk-ignore constraint-missing-not-valid -- as above
ALTER TABLE carts VALIDATE CONSTRAINT carts_guest_token_length;
-- squawk-ignore require-concurrent-index-creation -- undoing the up migration; a revert runs in a maintenance window
CREATE UNIQUE INDEX carts_one_open_per_guest ON carts (guest_token) WHERE status = 'open';

-- squawk-ignore ban-drop-table -- undoes the up migration, which created it
DROP TABLE sessions;
