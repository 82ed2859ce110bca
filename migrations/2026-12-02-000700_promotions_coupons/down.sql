-- Fail fast rather than queue behind, and in front of, live traffic.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';
-- squawk-ignore-file ban-drop-table, ban-drop-column, ban-drop-constraint, ban-drop-trigger, constraint-missing-not-valid -- a down migration removes what its up migration created, and puts back the rules it replaced as they were (validated)

DROP TRIGGER order_promotions_unchanged ON order_promotions;
DROP TRIGGER orders_reconciled ON orders;
-- The sums of one order (see the top of this file), raised as check violations.
CREATE OR REPLACE FUNCTION orders_check_reconciled() RETURNS trigger
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

-- At commit, once the order's lines are written; again when its amounts change.
CREATE CONSTRAINT TRIGGER orders_reconciled
    AFTER INSERT OR UPDATE OF subtotal, shipping, tax, grand_total, prices_include_tax,
        shipping_method_code, shipping_net, shipping_tax, shipping_tax_rate_no
    ON orders DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.shipping_method_code IS NOT NULL)
    EXECUTE FUNCTION orders_check_reconciled();


-- Orders with a discount cannot go back: the old rules refuse them, and this down
-- migration stops there.
ALTER TABLE order_lines
    DROP CONSTRAINT order_lines_tax_split,
    ADD CONSTRAINT order_lines_tax_split CHECK (
        tax >= 0
        AND (tax_rate_no IS NOT NULL OR tax = 0)
        -- net prices add the tax; gross prices contain it
        AND (net = unit_price * quantity OR net + tax = unit_price * quantity)
    ),
    DROP CONSTRAINT order_lines_discount_with_tax,
    DROP CONSTRAINT order_lines_discount_range,
    DROP COLUMN discount;
ALTER TABLE orders
    DROP CONSTRAINT orders_contained_tax_bounded,
    ADD CONSTRAINT orders_contained_tax_bounded
        CHECK (NOT prices_include_tax OR tax <= subtotal + shipping),
    DROP CONSTRAINT orders_grand_total_sum,
    ADD CONSTRAINT orders_grand_total_sum CHECK (
        grand_total = subtotal + shipping + CASE WHEN prices_include_tax THEN 0 ELSE tax END
    ),
    DROP CONSTRAINT orders_discount_range,
    DROP COLUMN discount;
DROP TABLE order_promotions;
DROP TABLE coupon_redemptions;
DROP TABLE coupon_codes;
DROP TABLE promotions;
