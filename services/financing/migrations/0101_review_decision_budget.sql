-- Review, decision and money.
--
-- `budgets`: one row per programme, the figures the conditional increment
-- works on (`committed_won + amount <= total_won` in the WHERE clause, so
-- no interleaving of approvals commits past the budget). A programme
-- created before this migration gets its row the first time money moves.
CREATE TABLE budgets (
    programme_id  TEXT PRIMARY KEY REFERENCES programmes (id),
    total_won     BIGINT NOT NULL,
    committed_won BIGINT NOT NULL,
    disbursed_won BIGINT NOT NULL
);

-- The ledger behind the figures: never updated, never deleted.
CREATE TABLE ledger_entries (
    id             TEXT PRIMARY KEY,
    programme_id   TEXT NOT NULL REFERENCES programmes (id),
    application_id TEXT NOT NULL REFERENCES applications (id),
    kind           TEXT NOT NULL,
    amount_won     BIGINT NOT NULL,
    committed_won  BIGINT NOT NULL,
    disbursed_won  BIGINT NOT NULL,
    occur_time     BIGINT NOT NULL
);

CREATE INDEX ledger_entries_by_programme ON ledger_entries (programme_id, occur_time, id);

-- One row per assigned reviewer of an application; the review itself is
-- the encoded message in `content`.
CREATE TABLE reviews (
    application_id TEXT NOT NULL REFERENCES applications (id),
    reviewer       TEXT NOT NULL,
    state          TEXT NOT NULL,
    content        TEXT NOT NULL,
    assign_time    BIGINT NOT NULL,
    PRIMARY KEY (application_id, reviewer)
);

CREATE INDEX reviews_by_reviewer ON reviews (reviewer, application_id);

-- What the figures group and time by, kept as columns.
ALTER TABLE applications ADD COLUMN submitted_by TEXT;
ALTER TABLE applications ADD COLUMN decide_time BIGINT;
ALTER TABLE applications ADD COLUMN approved_amount_won BIGINT NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN disbursed_won BIGINT NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN parts_group TEXT;
ALTER TABLE applications ADD COLUMN stage TEXT;

CREATE INDEX applications_figures ON applications
    (programme_id, status, requested_amount_won, approved_amount_won, disbursed_won);
