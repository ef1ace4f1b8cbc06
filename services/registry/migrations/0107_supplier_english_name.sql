-- The English name beside the legal name, for the list's name search
-- (derived from the profile on every write, like the other list columns).
ALTER TABLE suppliers ADD COLUMN english_name TEXT NOT NULL DEFAULT '';
