-- Indexes for supplier lists: one per equality filter and one per sort
-- order, each ending in id, the keyset tie-breaker. Parts-group and name
-- searches are substring matches (LIKE '%…%') that no b-tree serves; at
-- the programme's scale (thousands of suppliers) they scan, see BENCHMARKS.md.
CREATE INDEX suppliers_by_status ON suppliers (status, id);
CREATE INDEX suppliers_by_region ON suppliers (region, id);
CREATE INDEX suppliers_by_stage ON suppliers (stage, id);
CREATE INDEX suppliers_by_name ON suppliers (legal_name, id);
CREATE INDEX suppliers_by_create_time ON suppliers (create_time, id);
CREATE INDEX suppliers_by_update_time ON suppliers (update_time, id);
CREATE INDEX suppliers_by_stage_rank ON suppliers (stage_rank, id);
CREATE INDEX suppliers_by_employee_count ON suppliers ((COALESCE(employee_count, -1)), id);
