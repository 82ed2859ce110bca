-- A shipment takes the caller's idempotency key (ecom_domain::fulfillment::
-- NewShipment::key): a retried request finds the shipment it made instead of
-- creating a second parcel. Unique per order (2026-12-03-001601's index); NULL
-- for the shipments made before keys.

SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

-- The check is added NOT VALID (no scan under the table lock) and validated by
-- 2026-12-03-001602.
ALTER TABLE shipments
    ADD COLUMN idempotency_key text,
    ADD CONSTRAINT shipments_idempotency_key_length
        CHECK (char_length(idempotency_key) BETWEEN 1 AND 128) NOT VALID;
