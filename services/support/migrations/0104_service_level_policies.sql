-- The targets per priority, in business minutes; operators change them at
-- /v1/serviceLevelPolicies. A business day is 9 hours (09:00-18:00).
CREATE TABLE service_level_policies (
    priority               TEXT PRIMARY KEY,
    first_response_minutes BIGINT NOT NULL,
    resolution_minutes     BIGINT NOT NULL,
    update_time            BIGINT NOT NULL,
    revision               BIGINT NOT NULL
);

INSERT INTO service_level_policies VALUES
    ('URGENT', 120, 540, 0, 1),
    ('HIGH', 240, 1620, 0, 1),
    ('NORMAL', 540, 5400, 0, 1),
    ('LOW', 1080, 10800, 0, 1);
