-- The catalogue: records as their encoded messages (`content`), with
-- columns for what lists filter on and what constraints hold.
CREATE TABLE courses (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    status      TEXT NOT NULL,
    track       TEXT NOT NULL,
    institute   TEXT NOT NULL,
    content     TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    update_time BIGINT NOT NULL,
    revision    BIGINT NOT NULL
);

CREATE INDEX courses_by_status ON courses (status, code);

-- Cohorts. `seats_taken` and `waitlisted` are the counters enrolment
-- moves with conditional updates (`seats_taken < capacity` in the WHERE
-- clause: never overbooked); `waitlist_seq` numbers the waitlist.
CREATE TABLE cohorts (
    id            TEXT PRIMARY KEY,
    course_id     TEXT NOT NULL REFERENCES courses (id),
    institute     TEXT NOT NULL,
    status        TEXT NOT NULL,
    start_date    TEXT NOT NULL,
    end_date      TEXT NOT NULL,
    capacity      BIGINT NOT NULL,
    seats_taken   BIGINT NOT NULL,
    waitlisted    BIGINT NOT NULL,
    waitlist_seq  BIGINT NOT NULL,
    company_quota BIGINT NOT NULL,
    content       TEXT NOT NULL,
    create_time   BIGINT NOT NULL,
    update_time   BIGINT NOT NULL,
    revision      BIGINT NOT NULL
);

CREATE INDEX cohorts_by_course ON cohorts (course_id, start_date);
CREATE INDEX cohorts_by_start ON cohorts (start_date, id);

-- Trainees: personal data, in `content`.
CREATE TABLE trainees (
    id          TEXT PRIMARY KEY,
    supplier_id TEXT,
    content     TEXT NOT NULL,
    create_time BIGINT NOT NULL,
    update_time BIGINT NOT NULL,
    revision    BIGINT NOT NULL
);

CREATE INDEX trainees_by_supplier ON trainees (supplier_id, create_time);

-- Enrolments. `active` is 1 unless withdrawn or cancelled: a trainee is in
-- a cohort once (the partial unique index). `holding` is 1 while the
-- enrolment holds a seat or a place on the list (CONFIRMED, WAITLISTED).
CREATE TABLE enrollments (
    id            TEXT PRIMARY KEY,
    cohort_id     TEXT NOT NULL REFERENCES cohorts (id),
    trainee_id    TEXT NOT NULL REFERENCES trainees (id),
    supplier_id   TEXT,
    institute     TEXT NOT NULL,
    status        TEXT NOT NULL,
    active        BIGINT NOT NULL,
    young         BIGINT NOT NULL,
    waitlist_seq  BIGINT,
    status_reason TEXT NOT NULL,
    create_time   BIGINT NOT NULL,
    update_time   BIGINT NOT NULL,
    revision      BIGINT NOT NULL
);

CREATE UNIQUE INDEX enrollments_once ON enrollments (cohort_id, trainee_id) WHERE active = 1;
CREATE INDEX enrollments_by_trainee ON enrollments (trainee_id, status);
CREATE INDEX enrollments_waitlist ON enrollments (cohort_id, status, young, waitlist_seq);
CREATE INDEX enrollments_by_supplier ON enrollments (supplier_id, create_time);

-- Places a company holds in a cohort (confirmed or waitlisted), counted
-- against the cohort's company quota with a conditional increment.
CREATE TABLE company_places (
    cohort_id   TEXT NOT NULL REFERENCES cohorts (id),
    supplier_id TEXT NOT NULL,
    taken       BIGINT NOT NULL,
    PRIMARY KEY (cohort_id, supplier_id)
);
