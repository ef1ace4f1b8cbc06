-- Tickets: the columns the lists filter and sort on, and the rest of the
-- record as JSON (`content`: requester, description, tags, channel,
-- resolution, cancel reason; `levels`: the service-level clocks). The due
-- columns are derived from `levels` on every write.
CREATE TABLE tickets (
    id              TEXT PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    supplier_id     TEXT NOT NULL,
    category        TEXT NOT NULL,
    parts_group     TEXT NOT NULL,
    priority        TEXT NOT NULL,
    status          TEXT NOT NULL,
    institute       TEXT NOT NULL,
    person          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    subject_search  TEXT NOT NULL,
    content         TEXT NOT NULL,
    levels          TEXT NOT NULL,
    create_time     BIGINT NOT NULL,
    update_time     BIGINT NOT NULL,
    resolve_time    BIGINT,
    close_time      BIGINT,
    revision        BIGINT NOT NULL,
    reroute_count   INTEGER NOT NULL,
    -- Per clock (fr: first response, nr: next response, res: resolution):
    -- when it is due, when it turns at risk, when it stopped.
    fr_due          BIGINT,
    fr_risk         BIGINT,
    fr_stop         BIGINT,
    nr_due          BIGINT,
    nr_risk         BIGINT,
    nr_stop         BIGINT,
    res_due         BIGINT,
    res_risk        BIGINT,
    res_stop        BIGINT,
    -- The nearest due time of a running clock; NULL when none runs.
    next_due        BIGINT,
    -- The nearest due time of a running clock whose breach is not yet
    -- recorded: what the breach sweep looks for.
    breach_due      BIGINT
);

CREATE INDEX tickets_by_supplier ON tickets (supplier_id, create_time);
CREATE INDEX tickets_by_institute ON tickets (institute, status, next_due);
CREATE INDEX tickets_by_status ON tickets (status, create_time);
CREATE INDEX tickets_by_create_time ON tickets (create_time, id);
CREATE INDEX tickets_by_breach_due ON tickets (breach_due);
CREATE INDEX tickets_resolved ON tickets (status, resolve_time);

-- The last number given out per year (Asia/Seoul).
CREATE TABLE ticket_numbers (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE comments (
    id          TEXT PRIMARY KEY,
    ticket_id   TEXT NOT NULL REFERENCES tickets (id),
    body        TEXT NOT NULL,
    visibility  TEXT NOT NULL,
    author      TEXT NOT NULL,
    author_role TEXT NOT NULL,
    create_time BIGINT NOT NULL
);

CREATE INDEX comments_by_ticket ON comments (ticket_id, id);

-- Where tickets go: a category (and a parts group, '' for any) to an
-- institute's directory code.
CREATE TABLE routing_rules (
    id          TEXT PRIMARY KEY,
    category    TEXT NOT NULL,
    parts_group TEXT NOT NULL,
    institute   TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    update_time BIGINT NOT NULL,
    revision    BIGINT NOT NULL,
    UNIQUE (category, parts_group)
);
