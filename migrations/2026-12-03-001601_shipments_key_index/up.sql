-- squawk-disable-assume-in-transaction
-- One shipment per order and key: the database's own guard against a second parcel
-- for one request (the store looks the key up under the order's lock first).
-- squawk-ignore require-timeout-settings -- a SET would put this statement in a transaction block, where CONCURRENTLY cannot run; IF NOT EXISTS: a build that failed half-way leaves an invalid index, drop it and run again
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS shipments_order_id_idempotency_key_key
    ON shipments (order_id, idempotency_key);
