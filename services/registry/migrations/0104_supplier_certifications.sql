-- The certificates of each supplier, one row each, rewritten with the
-- supplier (the profile JSON stays the record); lists filter on them.
CREATE TABLE supplier_certifications (
    supplier_id TEXT   NOT NULL REFERENCES suppliers (id),
    position    BIGINT NOT NULL,
    standard    TEXT   NOT NULL,
    -- YYYY-MM-DD: compares as text in date order.
    valid_until TEXT   NOT NULL,
    PRIMARY KEY (supplier_id, position)
);
CREATE INDEX supplier_certifications_by_standard ON supplier_certifications (standard, valid_until);
CREATE INDEX supplier_certifications_by_expiry ON supplier_certifications (valid_until);
