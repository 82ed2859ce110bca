-- Idempotent request replay and the transactional outbox. Conventions: see the
-- first migration.

-- Fail fast rather than queue behind, and in front of, live traffic.
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '60s';

CREATE TABLE idempotency_keys (
    scope         text        NOT NULL,
    key           text        NOT NULL,
    request_hash  bytea       NOT NULL,
    order_id      bigint,
    response      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_keys_key_not_blank CHECK (key <> ''),
    CONSTRAINT idempotency_keys_expires_after_creation CHECK (expires_at > created_at),
    -- CASCADE: a key only exists to replay the creation of its order; with the order
    -- gone there is nothing left to replay.
    CONSTRAINT idempotency_keys_order_id_fkey FOREIGN KEY (order_id)
        REFERENCES orders (id) ON DELETE CASCADE
);
CREATE INDEX idempotency_keys_order_id_idx ON idempotency_keys (order_id);
-- The purge job deletes expired keys.
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
COMMENT ON TABLE idempotency_keys IS 'Remembered requests, so that a retried request gets the first response.';

CREATE TABLE outbox_events (
    -- ALWAYS: ids give the publishing order, so nobody picks their own.
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    aggregate_type  text        NOT NULL,
    aggregate_id    bigint      NOT NULL,
    event_type      text        NOT NULL,
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    CONSTRAINT outbox_events_pkey PRIMARY KEY (id),
    CONSTRAINT outbox_events_aggregate_type_not_blank CHECK (btrim(aggregate_type) <> ''),
    CONSTRAINT outbox_events_event_type_not_blank CHECK (btrim(event_type) <> '')
);
-- The relay reads unpublished events in id order.
CREATE INDEX outbox_events_unpublished_idx ON outbox_events (id) WHERE published_at IS NULL;
COMMENT ON TABLE outbox_events IS 'Domain events written in the same transaction as the change, published later.';
