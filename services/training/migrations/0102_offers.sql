-- Seat offers: while OFFERED, the enrolment holds a seat until this
-- instant; the sweep finds the lapsed ones by this index.
ALTER TABLE enrollments ADD COLUMN offer_expire_time BIGINT;
CREATE INDEX enrollments_offers ON enrollments (status, offer_expire_time);
