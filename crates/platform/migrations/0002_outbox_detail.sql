-- What an event is about when it is more than a record's before and after,
-- e.g. the stage change behind `supplier.stage_changed` (JSON).
ALTER TABLE outbox_events ADD COLUMN detail_json TEXT;
