-- Orders priced from the price book carry their invoice: whether their prices
-- include tax, the shipping method chosen with its net and tax, each line's net,
-- tax and rate, and the tax lines (one per rate, its taxable amount and tax).
--
-- The totals reconcile, enforced here too:
-- - every order: the grand total is subtotal + shipping + tax with net prices,
--   subtotal + shipping with gross prices (the tax is contained in them, not
--   added); a line's and the shipping's net and tax add up the same way;
-- - an order with a shipping method (priced from the price book): its lines'
--   amounts sum to its subtotal, every line has its tax, the tax lines sum to the
--   order's tax, and each tax line's tax and taxable amount are the sums of the
--   lines' (and the shipping's) taxes and nets at its rate.
-- Sums over rows are checked by a constraint trigger at commit, once the order's
-- lines are written; an order's lines and tax lines are not changed afterwards.
-- Orders without a method (the flat rules, bulk loads) skip the trigger by its
-- WHEN clause and pay nothing for it.
--
-- Orders placed before keep their shape: no method, no tax lines, net prices.
-- The new CHECKs are added NOT VALID and validated by 2026-12-02-000601.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

ALTER TABLE orders
    ADD COLUMN prices_include_tax boolean NOT NULL DEFAULT false,
    ADD COLUMN shipping_method_code text,
    ADD COLUMN shipping_method_name text,
    ADD COLUMN shipping_net numeric(19,4),
    ADD COLUMN shipping_tax numeric(19,4),
    -- squawk-ignore prefer-bigint-over-smallint -- the number of a tax line within one order
    ADD COLUMN shipping_tax_rate_no smallint;

-- squawk-ignore ban-drop-constraint -- replaced at once, NOT VALID, by the rule for both kinds of prices
ALTER TABLE orders DROP CONSTRAINT orders_grand_total_sum,
    ADD CONSTRAINT orders_grand_total_sum CHECK (
        grand_total = subtotal + shipping + CASE WHEN prices_include_tax THEN 0 ELSE tax END
    ) NOT VALID,
    ADD CONSTRAINT orders_contained_tax_bounded
        CHECK (NOT prices_include_tax OR tax <= subtotal + shipping) NOT VALID,
    ADD CONSTRAINT orders_shipping_method_parts CHECK (
        (shipping_method_code IS NULL) = (shipping_method_name IS NULL)
        AND (shipping_method_code IS NULL) = (shipping_net IS NULL)
        AND (shipping_method_code IS NULL) = (shipping_tax IS NULL)
        AND (shipping_method_code IS NOT NULL OR NOT prices_include_tax)
        AND (shipping_tax_rate_no IS NULL OR shipping_method_code IS NOT NULL)
    ) NOT VALID,
    ADD CONSTRAINT orders_shipping_method_code_format CHECK (
        shipping_method_code ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(shipping_method_code) <= 64
    ) NOT VALID,
    ADD CONSTRAINT orders_shipping_method_name_length CHECK (
        char_length(shipping_method_name) BETWEEN 1 AND 100
        AND shipping_method_name = btrim(shipping_method_name)
    ) NOT VALID,
    ADD CONSTRAINT orders_shipping_tax_split CHECK (
        shipping_tax >= 0
        AND (shipping_tax_rate_no IS NOT NULL OR shipping_tax = 0)
        AND shipping = shipping_net + CASE WHEN prices_include_tax THEN shipping_tax ELSE 0 END
    ) NOT VALID;

CREATE TABLE order_tax_lines (
    order_id   bigint        NOT NULL,
    -- squawk-ignore prefer-bigint-over-smallint -- the number of a tax line within one order
    rate_no    smallint      NOT NULL,
    name       text          NOT NULL,
    -- squawk-ignore ban-char-field -- an ISO code of fixed width, its format checked below
    country    char(2)       NOT NULL,
    region     text,
    tax_class  text          NOT NULL,
    rate       numeric(6,5)  NOT NULL,
    taxable    numeric(19,4) NOT NULL,
    tax        numeric(19,4) NOT NULL,
    CONSTRAINT order_tax_lines_pkey PRIMARY KEY (order_id, rate_no),
    CONSTRAINT order_tax_lines_rate_no_positive CHECK (rate_no >= 1),
    CONSTRAINT order_tax_lines_name_length
        CHECK (char_length(name) BETWEEN 1 AND 100 AND name = btrim(name)),
    CONSTRAINT order_tax_lines_country_format CHECK (country ~ '^[A-Z]{2}$'),
    CONSTRAINT order_tax_lines_region_format CHECK (region ~ '^[A-Z0-9]{1,3}$'),
    CONSTRAINT order_tax_lines_tax_class_check CHECK (tax_class IN ('standard', 'reduced', 'zero')),
    CONSTRAINT order_tax_lines_rate_range CHECK (rate BETWEEN 0 AND 1),
    CONSTRAINT order_tax_lines_amounts_non_negative CHECK (taxable >= 0 AND tax >= 0),
    -- An order's tax lines go with it.
    CONSTRAINT order_tax_lines_order_id_fkey FOREIGN KEY (order_id)
        REFERENCES orders (id) ON DELETE CASCADE
);
COMMENT ON TABLE order_tax_lines IS
    'An order''s tax summary: per rate as it was at checkout, the net amount taxed at it and the tax.';

ALTER TABLE order_lines
    ADD COLUMN net numeric(19,4),
    ADD COLUMN tax numeric(19,4),
    -- squawk-ignore prefer-bigint-over-smallint -- the number of a tax line within one order
    ADD COLUMN tax_rate_no smallint,
    ADD CONSTRAINT order_lines_tax_parts CHECK (
        (net IS NULL) = (tax IS NULL) AND (tax_rate_no IS NULL OR tax IS NOT NULL)
    ) NOT VALID,
    ADD CONSTRAINT order_lines_tax_split CHECK (
        tax >= 0
        AND (tax_rate_no IS NOT NULL OR tax = 0)
        -- net prices add the tax; gross prices contain it
        AND (net = unit_price * quantity OR net + tax = unit_price * quantity)
    ) NOT VALID,
    -- One of its order's tax lines: checked by orders_reconciled below rather than
    -- by a foreign key, which would need an index on this write-hot table.
    ADD CONSTRAINT order_lines_tax_rate_no_positive CHECK (tax_rate_no >= 1) NOT VALID;

-- The sums of one order (see the top of this file), raised as check violations.
CREATE FUNCTION orders_check_reconciled() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    o orders%ROWTYPE;
    amounts numeric;
    untaxed bigint;
    summed numeric;
BEGIN
    SELECT * INTO o FROM orders WHERE id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(unit_price * quantity), 0), count(*) FILTER (WHERE net IS NULL)
    INTO amounts, untaxed
    FROM order_lines WHERE order_id = o.id;
    IF o.shipping_method_code IS NULL THEN
        RETURN NULL;
    END IF;
    IF amounts <> o.subtotal THEN
        RAISE EXCEPTION 'order % has a subtotal of % but its lines sum to %', o.id, o.subtotal, amounts
            USING ERRCODE = 'check_violation', CONSTRAINT = 'orders_subtotal_sum',
                  TABLE = 'orders';
    END IF;
    IF untaxed > 0 THEN
        RAISE EXCEPTION 'order % has % lines without their tax', o.id, untaxed
            USING ERRCODE = 'check_violation', CONSTRAINT = 'orders_lines_taxed',
                  TABLE = 'orders';
    END IF;
    SELECT coalesce(sum(tax), 0) INTO summed FROM order_tax_lines WHERE order_id = o.id;
    IF summed <> o.tax THEN
        RAISE EXCEPTION 'order % has a tax of % but its tax lines sum to %', o.id, o.tax, summed
            USING ERRCODE = 'check_violation', CONSTRAINT = 'orders_tax_sum',
                  TABLE = 'orders';
    END IF;
    IF o.shipping_tax_rate_no IS NOT NULL AND NOT EXISTS (
        SELECT FROM order_tax_lines WHERE order_id = o.id AND rate_no = o.shipping_tax_rate_no
    ) OR EXISTS (
        SELECT FROM order_lines l
        WHERE l.order_id = o.id AND l.tax_rate_no IS NOT NULL
          AND NOT EXISTS (SELECT FROM order_tax_lines t
                          WHERE t.order_id = o.id AND t.rate_no = l.tax_rate_no)
    ) OR EXISTS (
        SELECT FROM order_tax_lines t
        WHERE t.order_id = o.id
          AND (t.taxable, t.tax) <> (
              SELECT coalesce(sum(l.net), 0)
                         + CASE WHEN o.shipping_tax_rate_no = t.rate_no THEN o.shipping_net ELSE 0 END,
                     coalesce(sum(l.tax), 0)
                         + CASE WHEN o.shipping_tax_rate_no = t.rate_no THEN o.shipping_tax ELSE 0 END
              FROM order_lines l WHERE l.order_id = o.id AND l.tax_rate_no = t.rate_no)
    ) THEN
        RAISE EXCEPTION 'order % has tax lines that are not the sums of its lines at their rates, or lines at rates it has no tax line for', o.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'orders_tax_lines_sum',
                  TABLE = 'orders';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION orders_check_reconciled() IS
    'Checks at commit that the lines of an order with a shipping method sum to its subtotal and its tax lines to its tax.';

-- At commit, once the order's lines are written; again when its amounts change.
CREATE CONSTRAINT TRIGGER orders_reconciled
    AFTER INSERT OR UPDATE OF subtotal, shipping, tax, grand_total, prices_include_tax,
        shipping_method_code, shipping_net, shipping_tax, shipping_tax_rate_no
    ON orders DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.shipping_method_code IS NOT NULL)
    EXECUTE FUNCTION orders_check_reconciled();

-- An order's lines and tax lines are written with it and never changed.
CREATE FUNCTION order_lines_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the % of an order are not changed after checkout', TG_TABLE_NAME
        USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
END
$$;
CREATE TRIGGER order_lines_unchanged BEFORE UPDATE ON order_lines
    FOR EACH ROW EXECUTE FUNCTION order_lines_refuse_change();
CREATE TRIGGER order_tax_lines_unchanged BEFORE UPDATE ON order_tax_lines
    FOR EACH ROW EXECUTE FUNCTION order_lines_refuse_change();
