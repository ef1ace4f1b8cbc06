-- For the figures: the month a ticket was created in (Asia/Seoul,
-- `2026-11`) and the company's rating, as columns the statistics group and
-- average in SQL.
ALTER TABLE tickets ADD COLUMN month TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN rating INTEGER;
CREATE INDEX tickets_by_institute_month ON tickets (institute, month);
