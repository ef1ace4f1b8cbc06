-- Each institute's desk: whether new tickets go to a person automatically,
-- its own working hours ('' for the platform's), its people (JSON list)
-- and the last person given a ticket (for round-robin among equals).
CREATE TABLE support_desks (
    institute      TEXT PRIMARY KEY,
    auto_assign    BIGINT NOT NULL,
    business_hours TEXT NOT NULL,
    people         TEXT NOT NULL,
    last_person    TEXT NOT NULL,
    update_time    BIGINT NOT NULL,
    revision       BIGINT NOT NULL
);
