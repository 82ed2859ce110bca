-- Every row returned is a violation: (what, id). No trailing semicolon: the tests
-- wrap it in a subquery.
WITH line_totals AS (
    SELECT order_id, sum(unit_price * quantity) AS subtotal, count(*) AS lines
    FROM order_lines GROUP BY order_id
), sold AS (
    SELECT l.variant_id, sum(l.quantity) AS units
    FROM order_lines l JOIN orders o ON o.id = l.order_id
    WHERE o.status NOT IN ('cancelled', 'expired')
    GROUP BY l.variant_id
), variant_counts AS (
    SELECT product_id, count(*) AS variants FROM product_variants GROUP BY product_id
), ledger AS (
    SELECT payment_id,
           coalesce(sum(amount) FILTER (WHERE kind = 'authorize'), 0) AS authorized,
           coalesce(sum(amount) FILTER (WHERE kind = 'capture'), 0) AS captured,
           coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS refunded
    FROM payment_events GROUP BY payment_id
), last_change AS (
    SELECT DISTINCT ON (order_id) order_id, to_status, at
    FROM order_status_history ORDER BY order_id, id DESC
), changes AS (
    SELECT order_id, count(*) FILTER (WHERE from_status IS NULL) AS starts
    FROM order_status_history GROUP BY order_id
)
SELECT 'order subtotal is not the sum of its lines', o.id
FROM orders o LEFT JOIN line_totals t ON t.order_id = o.id
WHERE t.subtotal IS DISTINCT FROM o.subtotal OR t.lines NOT BETWEEN 1 AND 5
UNION ALL
SELECT 'order without both address snapshots', o.id
FROM orders o WHERE (SELECT count(*) FROM order_addresses a WHERE a.order_id = o.id) <> 2
UNION ALL
SELECT 'sold more than was stocked (negative stock)', v.id
FROM product_variants v WHERE v.stock_on_hand < 0
UNION ALL
SELECT 'variant of a product not on sale sold', v.id
FROM product_variants v JOIN products p ON p.id = v.product_id
JOIN sold s ON s.variant_id = v.id WHERE p.status <> 'active'
UNION ALL
SELECT 'line differs from the variant snapshot', l.order_id
FROM order_lines l JOIN orders o ON o.id = l.order_id
JOIN product_variants v ON v.id = l.variant_id JOIN products p ON p.id = v.product_id
WHERE l.sku <> v.sku OR l.name <> p.name OR l.unit_price <> v.price
   OR l.options <> v.options OR v.currency <> o.currency
UNION ALL
SELECT 'product without variants, or without options and not exactly one', p.id
FROM products p LEFT JOIN variant_counts c ON c.product_id = p.id
WHERE c.variants IS NULL OR (p.options = '[]' AND c.variants <> 1)
UNION ALL
SELECT 'variant options are not one value of each of its product''s option types', v.id
FROM product_variants v JOIN products p ON p.id = v.product_id
WHERE jsonb_array_length(v.options) <> jsonb_array_length(p.options)
   OR EXISTS (
       SELECT 1
       FROM jsonb_array_elements(v.options) WITH ORDINALITY AS c(choice, n)
       JOIN jsonb_array_elements(p.options) WITH ORDINALITY AS t(type, n) USING (n)
       WHERE c.choice ->> 'option' IS DISTINCT FROM t.type ->> 'name'
          OR NOT (t.type -> 'values') @> jsonb_build_array(c.choice -> 'value'))
UNION ALL
SELECT 'variant barcode has a wrong check digit', v.id
FROM product_variants v
WHERE v.gtin IS NOT NULL AND substr(v.gtin, 14, 1)::int <> (10 - (
    SELECT sum(substr(v.gtin, i, 1)::int * CASE WHEN i % 2 = 1 THEN 3 ELSE 1 END)
    FROM generate_series(1, 13) AS i) % 10) % 10
UNION ALL
SELECT 'payment amount is not the order total', p.id
FROM payments p JOIN orders o ON o.id = p.order_id
WHERE p.amount <> o.grand_total OR p.currency <> o.currency
UNION ALL
SELECT 'payment totals disagree with its ledger', p.id
FROM payments p LEFT JOIN ledger l ON l.payment_id = p.id
WHERE coalesce(l.authorized, 0) <> p.authorized OR coalesce(l.captured, 0) <> p.captured
   OR coalesce(l.refunded, 0) <> p.refunded
   OR NOT (p.refunded <= p.captured AND p.captured <= p.authorized AND p.authorized <= p.amount)
UNION ALL
SELECT 'order status does not match its payment', o.id
FROM orders o JOIN payments p ON p.order_id = o.id
WHERE NOT CASE o.status
    WHEN 'pending_payment' THEN p.status IN ('pending', 'authorized', 'failed', 'captured') AND p.captured < p.amount
    WHEN 'paid' THEN p.captured = p.amount AND p.status IN ('captured', 'partially_refunded')
    WHEN 'shipped' THEN p.captured = p.amount AND p.status IN ('captured', 'partially_refunded')
    WHEN 'delivered' THEN p.captured = p.amount AND p.status IN ('captured', 'partially_refunded')
    WHEN 'refunded' THEN p.status = 'refunded' AND p.refunded = p.captured AND p.captured = p.amount
    WHEN 'cancelled' THEN p.status IN ('voided', 'refunded', 'failed') AND p.refunded = p.captured
    WHEN 'expired' THEN p.status IN ('voided', 'failed') AND p.captured = 0
END
UNION ALL
SELECT 'order without exactly one payment', o.id
FROM orders o WHERE (SELECT count(*) FROM payments p WHERE p.order_id = o.id) <> 1
UNION ALL
SELECT 'status history does not end at the order status', o.id
FROM orders o LEFT JOIN last_change c ON c.order_id = o.id
LEFT JOIN changes n ON n.order_id = o.id
WHERE c.to_status IS DISTINCT FROM o.status OR n.starts <> 1
   OR c.at > o.updated_at OR c.at < o.created_at
UNION ALL
SELECT 'order cart is not a converted cart of the same lines', o.id
FROM orders o JOIN carts c ON c.id = o.cart_id
WHERE c.status <> 'converted'
   OR (SELECT array_agg((variant_id, quantity) ORDER BY variant_id) FROM cart_lines WHERE cart_id = c.id)
      IS DISTINCT FROM
      (SELECT array_agg((variant_id, quantity) ORDER BY variant_id) FROM order_lines WHERE order_id = o.id)
UNION ALL
SELECT 'converted cart without an order', c.id
FROM carts c WHERE c.status = 'converted' AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.cart_id = c.id)
UNION ALL
SELECT 'something happens after the period or before the customer registered', o.id
FROM orders o LEFT JOIN users u ON u.id = o.user_id
WHERE o.updated_at < o.created_at OR (u.id IS NOT NULL AND u.created_at > o.created_at)
UNION ALL
SELECT 'attribute value does not fit its definition', x.id
FROM (
    SELECT p.id, a FROM products p, jsonb_array_elements(p.attributes) a
    UNION ALL
    SELECT v.id, a FROM product_variants v, jsonb_array_elements(v.attributes) a
) x (id, a)
WHERE NOT EXISTS (
    SELECT 1 FROM attribute_definitions d
    WHERE d.name = x.a ->> 'name'
      AND CASE d.kind ->> 'type'
          WHEN 'one_of' THEN x.a -> 'value' ->> 'type' = 'choice'
              AND (d.kind -> 'choices') @> jsonb_build_array(x.a -> 'value' -> 'value')
          WHEN 'number' THEN x.a -> 'value' ->> 'type' = 'number'
              AND x.a -> 'value' ->> 'value' ~ '^-?[0-9]+(\.[0-9]+)?$'
          ELSE x.a -> 'value' ->> 'type' = d.kind ->> 'type'
      END)
UNION ALL
SELECT 'product has an attribute twice', p.id
FROM products p
WHERE (SELECT count(DISTINCT lower(a ->> 'name')) FROM jsonb_array_elements(p.attributes) a)
      <> jsonb_array_length(p.attributes)
UNION ALL
SELECT 'image tied to a value its product does not offer', p.id
FROM products p, jsonb_array_elements(p.images) i
WHERE i -> 'option' <> 'null'
  AND NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(p.options) t
      WHERE t ->> 'name' = i -> 'option' ->> 'option'
        AND (t -> 'values') @> jsonb_build_array(i -> 'option' -> 'value'))
UNION ALL
SELECT 'product without images, or with one twice', p.id
FROM products p
WHERE jsonb_array_length(p.images) = 0
   OR (SELECT count(DISTINCT i ->> 'url') FROM jsonb_array_elements(p.images) i)
      <> jsonb_array_length(p.images)
UNION ALL
SELECT 'collection positions are not 0 to n - 1', c.id
FROM collections c
JOIN (SELECT collection_id, count(*) AS n, max(position) AS top
      FROM collection_products GROUP BY collection_id) l ON l.collection_id = c.id
WHERE l.top <> l.n - 1
UNION ALL
-- The search document's words are compared weight by weight, not their positions:
-- catalog_search_document joins option and attribute values without an ORDER BY, so
-- their positions follow the plan that read them.
SELECT 'product facets or search document are not what the catalog derives', p.id
FROM products p,
LATERAL (SELECT catalog_product_facets(p.id, p.attributes) AS facets,
                catalog_search_document(p.id, p.name, p.description, p.attributes) AS search) d
WHERE p.facets IS DISTINCT FROM d.facets
   OR EXISTS (SELECT 1 FROM unnest('{a,b,c,d}'::"char"[]) AS w (weight)
              WHERE strip(ts_filter(p.search, ARRAY[w.weight]))
                    IS DISTINCT FROM strip(ts_filter(d.search, ARRAY[w.weight])))
UNION ALL
-- The price book. One shop, one currency: every list's prices are in the currency
-- its variants are priced in.
SELECT 'price list entry of a variant priced in another currency than the list', e.variant_id
FROM price_list_entries e JOIN price_lists l ON l.id = e.price_list_id
JOIN product_variants v ON v.id = e.variant_id
WHERE v.currency <> l.currency
UNION ALL
SELECT 'customer group no price list is for', g.user_id
FROM customer_groups g
WHERE NOT EXISTS (SELECT 1 FROM price_lists l WHERE l.customer_group = g.customer_group)
UNION ALL
-- The exclusion constraint's rule, checked again as the domain's TaxTable checks it.
SELECT 'tax rates of one country, region and class overlap', a.id
FROM tax_rates a JOIN tax_rates b
  ON a.id < b.id AND a.country = b.country AND a.region IS NOT DISTINCT FROM b.region
 AND a.class = b.class
 AND tstzrange(a.valid_from, a.valid_until) && tstzrange(b.valid_from, b.valid_until)
UNION ALL
SELECT 'shipping address in no shipping zone', x.id
FROM (SELECT order_id, country, region FROM order_addresses WHERE kind = 'shipping'
      UNION ALL
      SELECT id, country, region FROM addresses WHERE kind = 'shipping') x (id, country, region)
WHERE NOT EXISTS (SELECT 1 FROM shipping_zone_areas a
                  WHERE a.country = x.country AND (a.region IS NULL OR a.region = x.region))
UNION ALL
-- As TaxTable::rate finds one: the region's own, else the country's; a zero class
-- without a rate is 0 %, an exempt one has none.
SELECT DISTINCT 'ordered goods without a tax rate where and when they were ordered', o.id
FROM orders o
JOIN order_addresses a ON a.order_id = o.id AND a.kind = 'shipping'
JOIN order_lines l ON l.order_id = o.id
JOIN product_variants v ON v.id = l.variant_id JOIN products p ON p.id = v.product_id
WHERE p.tax_class IN ('standard', 'reduced')
  AND NOT EXISTS (SELECT 1 FROM tax_rates r
                  WHERE r.country = a.country AND (r.region IS NULL OR r.region = a.region)
                    AND r.class = p.tax_class AND r.valid_from <= o.created_at
                    AND (r.valid_until IS NULL OR o.created_at < r.valid_until))
UNION ALL
SELECT 'shipping zone covers a country without a standard tax rate today', a.zone_id
FROM shipping_zone_areas a
WHERE NOT EXISTS (SELECT 1 FROM tax_rates r
                  WHERE r.country = a.country AND r.class = 'standard'
                    AND (r.region IS NULL OR a.region IS NULL OR r.region = a.region)
                    AND r.valid_from <= now() AND (r.valid_until IS NULL OR now() < r.valid_until))
UNION ALL
SELECT 'shipping method priced in another currency, or its weight bands not lightest first', m.id
FROM shipping_methods m
WHERE CASE m.rate ->> 'type'
    WHEN 'flat' THEN m.rate -> 'price' ->> 'currency' IS DISTINCT FROM m.currency::text
    ELSE coalesce(jsonb_array_length(m.rate -> 'bands'), 0) = 0
      OR EXISTS (SELECT 1 FROM jsonb_array_elements(m.rate -> 'bands') b
                 WHERE b -> 'price' ->> 'currency' IS DISTINCT FROM m.currency::text)
      OR EXISTS (SELECT 1
                 FROM jsonb_array_elements(m.rate -> 'bands') WITH ORDINALITY AS x (band, n)
                 JOIN jsonb_array_elements(m.rate -> 'bands') WITH ORDINALITY AS y (band, n)
                   ON y.n = x.n + 1
                 WHERE (y.band ->> 'up_to_grams')::bigint <= (x.band ->> 'up_to_grams')::bigint)
END
UNION ALL
SELECT 'gift card balance is not the sum of its ledger', c.id
FROM gift_cards c
LEFT JOIN (SELECT gift_card_id,
                  sum(CASE WHEN kind = 'redeem' THEN -amount ELSE amount END) AS summed,
                  count(*) FILTER (WHERE kind = 'issue') AS issues,
                  sum(amount) FILTER (WHERE kind = 'issue') AS issued
           FROM gift_card_entries GROUP BY gift_card_id) e ON e.gift_card_id = c.id
WHERE e.summed IS DISTINCT FROM c.balance OR e.issues <> 1 OR e.issued <> c.initial_value
UNION ALL
SELECT 'gift card entry balance is not the running sum of its ledger', e.id
FROM (SELECT id, kind, balance_after,
             sum(CASE WHEN kind = 'redeem' THEN -amount ELSE amount END)
                 OVER (PARTITION BY gift_card_id ORDER BY id) AS running,
             first_value(kind) OVER (PARTITION BY gift_card_id ORDER BY id) AS first_kind
      FROM gift_card_entries) e
WHERE e.running <> e.balance_after OR e.first_kind <> 'issue'
UNION ALL
SELECT 'gift card payment without a redemption of its amount', p.id
FROM payments p JOIN gift_cards c ON c.id = p.gift_card_id
WHERE p.provider <> 'gift_card' OR p.currency <> c.currency
   OR NOT EXISTS (SELECT 1 FROM gift_card_entries e
                  WHERE e.payment_id = p.id AND e.gift_card_id = p.gift_card_id
                    AND e.kind = 'redeem' AND e.amount = p.captured AND e.at = p.created_at)
   OR (SELECT coalesce(sum(e.amount), 0) FROM gift_card_entries e
       WHERE e.payment_id = p.id AND e.kind = 'refund') <> p.refunded
UNION ALL
SELECT 'gift card entry of another card''s payment, or spent outside its card''s life', e.id
FROM gift_card_entries e JOIN gift_cards c ON c.id = e.gift_card_id
LEFT JOIN payments p ON p.id = e.payment_id
WHERE (e.payment_id IS NOT NULL AND p.gift_card_id IS DISTINCT FROM e.gift_card_id)
   OR e.at < c.created_at OR e.at > c.updated_at
   OR (e.kind = 'redeem' AND c.expires_at IS NOT NULL AND e.at >= c.expires_at)
