-- Programmes: the columns lists filter on, and the record as JSON
-- (`content`; eligibility rules as the registry's encoded message).
CREATE TABLE programmes (
    id          TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    content     TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    update_time BIGINT NOT NULL,
    revision    BIGINT NOT NULL
);

CREATE INDEX programmes_by_status ON programmes (status, create_time);

-- Applications. `active` is 1 until the application is rejected,
-- withdrawn or cancelled: one active application per company per
-- programme, enforced by the partial unique index.
CREATE TABLE applications (
    id                   TEXT PRIMARY KEY,
    programme_id         TEXT NOT NULL REFERENCES programmes (id),
    supplier_id          TEXT NOT NULL,
    status               TEXT NOT NULL,
    active               BIGINT NOT NULL,
    requested_amount_won BIGINT NOT NULL,
    content              TEXT NOT NULL,
    create_time          BIGINT NOT NULL,
    update_time          BIGINT NOT NULL,
    submit_time          BIGINT,
    revision             BIGINT NOT NULL
);

CREATE UNIQUE INDEX applications_one_active ON applications (programme_id, supplier_id)
    WHERE active = 1;
CREATE INDEX applications_by_supplier ON applications (supplier_id, create_time);
