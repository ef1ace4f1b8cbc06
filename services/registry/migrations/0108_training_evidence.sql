-- Courses a company's staff completed, as the training centre reports
-- them: one row per certificate (a revocation updates it).
CREATE TABLE training_evidence (
    certificate_id TEXT PRIMARY KEY,
    supplier_id    TEXT NOT NULL REFERENCES suppliers (id),
    content        TEXT NOT NULL,
    revoked        BIGINT NOT NULL,
    record_time    BIGINT NOT NULL
);

CREATE INDEX training_evidence_by_supplier ON training_evidence (supplier_id, record_time);
