-- Tables every service has, owned by the platform crate (versions 1-99;
-- services number theirs from 100). Portable DDL: the same file runs on
-- SQLite and PostgreSQL. Times are microseconds since the epoch (BIGINT).

-- Idempotency-Key records, written in the same transaction as the write they
-- protect. `response` is the first response, protobuf-encoded, base64.
CREATE TABLE idempotency_keys (
    scope        TEXT   NOT NULL,
    idem_key     TEXT   NOT NULL,
    request_hash TEXT   NOT NULL,
    response     TEXT   NOT NULL,
    create_time  BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idempotency_keys_by_time ON idempotency_keys (create_time);

-- The audit trail and transactional outbox: one row per state change, in
-- the change's transaction. `published_time` is set by the relay that will
-- feed the event stream and webhooks.
CREATE TABLE outbox_events (
    id             TEXT   PRIMARY KEY,
    aggregate_type TEXT   NOT NULL,
    aggregate_id   TEXT   NOT NULL,
    event_type     TEXT   NOT NULL,
    actor          TEXT   NOT NULL,
    actor_role     TEXT   NOT NULL,
    occur_time     BIGINT NOT NULL,
    before_json    TEXT,
    after_json     TEXT,
    changed_fields TEXT   NOT NULL,
    trace_id       TEXT   NOT NULL,
    published_time BIGINT
);
CREATE INDEX outbox_events_by_aggregate ON outbox_events (aggregate_type, aggregate_id, id);
CREATE INDEX outbox_events_unpublished ON outbox_events (published_time, id);
