-- The profile as one JSON document (read whole, written whole), plus the
-- columns supplier lists filter on, derived from it on every write.
ALTER TABLE suppliers ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
ALTER TABLE suppliers ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE suppliers ADD COLUMN employee_count BIGINT;
ALTER TABLE suppliers ADD COLUMN sme BIGINT;
ALTER TABLE suppliers ADD COLUMN council_member BIGINT NOT NULL DEFAULT 0;
-- `,GROUP_A,GROUP_B,`: a parts-group filter is a LIKE '%,GROUP,%'.
ALTER TABLE suppliers ADD COLUMN parts_groups TEXT NOT NULL DEFAULT '';
