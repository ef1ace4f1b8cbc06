-- The legal and English names, lower-cased, for the list's name search
-- (derived on every write, like the other list columns): one LIKE on a
-- ready column instead of LOWER() over two per row.
ALTER TABLE suppliers ADD COLUMN search_name TEXT NOT NULL DEFAULT '';
