-- Attendance: append-only; the newest record of a day counts.
CREATE TABLE attendance (
    id            TEXT PRIMARY KEY,
    enrollment_id TEXT NOT NULL REFERENCES enrollments (id),
    session_day   TEXT NOT NULL,
    present       BIGINT NOT NULL,
    note          TEXT NOT NULL,
    recorded_by   TEXT NOT NULL,
    record_time   BIGINT NOT NULL,
    seq           BIGINT NOT NULL
);

CREATE UNIQUE INDEX attendance_order ON attendance (enrollment_id, seq);

-- Certificates: the public view as an encoded message; one valid
-- certificate per enrolment at a time.
CREATE TABLE certificates (
    id            TEXT PRIMARY KEY,
    enrollment_id TEXT NOT NULL REFERENCES enrollments (id),
    revoked       BIGINT NOT NULL,
    content       TEXT NOT NULL,
    issue_time    BIGINT NOT NULL
);

CREATE UNIQUE INDEX certificates_valid ON certificates (enrollment_id) WHERE revoked = 0;

ALTER TABLE enrollments ADD COLUMN attendance_percent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE enrollments ADD COLUMN certificate_id TEXT;
