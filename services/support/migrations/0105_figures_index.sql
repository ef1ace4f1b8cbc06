-- Everything the figures read, in one narrow index: the statistics scan it
-- instead of the wide ticket rows (an index-only scan on PostgreSQL once
-- vacuumed, a covering index on SQLite).
CREATE INDEX tickets_figures ON tickets (
    institute, month, status, fr_due, fr_stop, res_due, res_stop, create_time, resolve_time, rating
);
