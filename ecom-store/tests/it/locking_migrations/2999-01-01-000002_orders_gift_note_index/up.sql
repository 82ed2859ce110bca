CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_gift_note_idx ON orders (gift_note);
