-- Supplier registry, first slice. Portable DDL (SQLite and PostgreSQL).
CREATE TABLE suppliers (
    id              TEXT   PRIMARY KEY,
    business_number TEXT   NOT NULL,
    legal_name      TEXT   NOT NULL,
    status          TEXT   NOT NULL,
    create_time     BIGINT NOT NULL,
    update_time     BIGINT NOT NULL,
    revision        BIGINT NOT NULL,
    CONSTRAINT suppliers_business_number_key UNIQUE (business_number)
);
