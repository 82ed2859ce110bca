-- At most 100 lines per cart (Cart::MAX_LINES in ecom-domain/src/cart.rs), kept by
-- the database too. A CHECK sees one row, not its siblings, so two triggers check
-- the carts a statement wrote lines to, after the statement, and refuse with a
-- check_violation named cart_lines_per_cart_max: the store maps it like a CHECK
-- (StoreError::Invalid with that constraint).
--
-- Counting is exact under concurrent writers: before it counts, the check locks the
-- carts it counts (FOR NO KEY UPDATE, in id order), so a second transaction adding to
-- the same cart waits for the first to end and then, under READ COMMITTED (the
-- store's level and PostgreSQL's default), counts the first one's lines too; under
-- SERIALIZABLE the two conflict and one gets a serialization failure. A transaction
-- in REPEATABLE READ counts from its snapshot and could, racing another, go past
-- the limit: write carts in READ COMMITTED or SERIALIZABLE.
--
-- The store locks the cart row FOR UPDATE before it changes lines, so for the store
-- the lock is already held and never waits. Lines already there are counted by
-- 2026-12-02-000018_validate_text_bounds.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE FUNCTION cart_lines_refuse_over_max(written bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    crowded bigint;
BEGIN
    PERFORM FROM carts WHERE id = ANY (written) ORDER BY id FOR NO KEY UPDATE;
    SELECT cart_id INTO crowded FROM cart_lines
    WHERE cart_id = ANY (written)
    GROUP BY cart_id HAVING count(*) > 100
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cart % would hold more than 100 lines', crowded
            USING ERRCODE = 'check_violation', CONSTRAINT = 'cart_lines_per_cart_max',
                  SCHEMA = 'public', TABLE = 'cart_lines';
    END IF;
END
$$;
COMMENT ON FUNCTION cart_lines_refuse_over_max(bigint[]) IS
    'Refuses (check_violation cart_lines_per_cart_max) if a cart in written holds more than 100 lines.';

-- Inserts, COPY included: once per statement, over the carts it added lines to.
CREATE FUNCTION cart_lines_per_cart_max_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cart_lines_refuse_over_max(ARRAY(SELECT DISTINCT cart_id FROM added_lines));
    RETURN NULL;
END
$$;

-- A line moved to another cart. The store's upserts only change quantities, so this
-- fires for nobody but a client that rewrites cart_id.
CREATE FUNCTION cart_lines_per_cart_max_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cart_lines_refuse_over_max(ARRAY[NEW.cart_id]);
    RETURN NULL;
END
$$;

CREATE TRIGGER cart_lines_per_cart_max_added
    AFTER INSERT ON cart_lines
    REFERENCING NEW TABLE AS added_lines
    FOR EACH STATEMENT EXECUTE FUNCTION cart_lines_per_cart_max_added();
CREATE TRIGGER cart_lines_per_cart_max_moved
    AFTER UPDATE OF cart_id ON cart_lines
    FOR EACH ROW WHEN (OLD.cart_id IS DISTINCT FROM NEW.cart_id)
    EXECUTE FUNCTION cart_lines_per_cart_max_moved();
