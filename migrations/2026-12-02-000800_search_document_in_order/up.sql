-- A product's search document joins its values in order, so that deriving it again
-- gives the same document whatever plan reads them (2026-12-02-000400 joined them in
-- the order the plan gave). Documents are derived again as products and variants
-- are written; one derived before differs at most in the positions of its C-weight
-- words, which no match depends on.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE OR REPLACE FUNCTION catalog_search_document(product bigint, name text, description text, attributes jsonb)
    RETURNS tsvector
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT setweight(to_tsvector(s.search_language, name), 'A')
        || setweight(to_tsvector(s.search_language, description), 'B')
        || setweight(to_tsvector(s.search_language, coalesce((
               SELECT string_agg(v, ' ' ORDER BY v)
               FROM (
                   SELECT a->'value'->>'value'
                   FROM jsonb_array_elements(catalog_array(attributes)) a
                   WHERE a->'value'->>'type' IN ('text', 'choice')
                   UNION ALL
                   SELECT o->>'value'
                   FROM product_variants pv, jsonb_array_elements(pv.options) o
                   WHERE pv.product_id = product
                   UNION ALL
                   SELECT a->'value'->>'value'
                   FROM product_variants pv, jsonb_array_elements(pv.attributes) a
                   WHERE pv.product_id = product AND a->'value'->>'type' IN ('text', 'choice')
               ) x (v)), '')), 'C')
    FROM catalog_settings s
    $$;
