-- The partner directory. The seed rows are written by the registry on
-- start (insert-if-absent), so operators' edits are never overwritten.
CREATE TABLE institutes (
    code              TEXT   PRIMARY KEY,
    kind              TEXT   NOT NULL,
    -- The record as JSON (names, groups, categories, contact).
    record            TEXT   NOT NULL,
    -- `,A,B,` for LIKE filters, derived from the record on every write.
    parts_groups      TEXT   NOT NULL,
    ticket_categories TEXT   NOT NULL,
    create_time       BIGINT NOT NULL,
    update_time       BIGINT NOT NULL,
    revision          BIGINT NOT NULL
);
