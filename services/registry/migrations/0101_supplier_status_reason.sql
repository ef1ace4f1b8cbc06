-- Why the status last changed (required when suspending).
ALTER TABLE suppliers ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
