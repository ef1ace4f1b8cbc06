-- The transition ladder: the supplier's current stage (and its rank, 1-5,
-- for sorting and "at least" filters), and every change as its own row.
ALTER TABLE suppliers ADD COLUMN stage TEXT NOT NULL DEFAULT 'ICE_DEPENDENT';
ALTER TABLE suppliers ADD COLUMN stage_rank BIGINT NOT NULL DEFAULT 1;

CREATE TABLE stage_changes (
    id                 TEXT   PRIMARY KEY,
    supplier_id        TEXT   NOT NULL REFERENCES suppliers (id),
    from_stage         TEXT   NOT NULL,
    to_stage           TEXT   NOT NULL,
    state              TEXT   NOT NULL,
    -- evidence, evidenceDocuments and reason, as JSON
    content            TEXT   NOT NULL,
    recorded_by        TEXT   NOT NULL,
    recorded_by_role   TEXT   NOT NULL,
    create_time        BIGINT NOT NULL,
    decided_by         TEXT   NOT NULL DEFAULT '',
    decide_time        BIGINT,
    decision_note      TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX stage_changes_by_supplier ON stage_changes (supplier_id, id);
-- Programme figures: confirmed moves per quarter.
CREATE INDEX stage_changes_by_state ON stage_changes (state, decide_time);
