-- Completions (and revocations) to report to the registry as training
-- evidence on the company's transition record: written in the same
-- transaction as the completion, delivered by the sweep with retries,
-- idempotent at the registry by certificate.
CREATE TABLE evidence_outbox (
    certificate_id TEXT PRIMARY KEY,
    supplier_id    TEXT NOT NULL,
    content        TEXT NOT NULL,
    due_time       BIGINT NOT NULL,
    attempts       BIGINT NOT NULL,
    delivered_time BIGINT,
    last_error     TEXT NOT NULL
);

CREATE INDEX evidence_outbox_due ON evidence_outbox (delivered_time, due_time);
