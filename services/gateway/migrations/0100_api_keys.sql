-- API keys, owned by the gateway, which authenticates every REST call.
-- Only a SHA-256 hash of each secret is stored: secrets are 256-bit random
-- values, so a fast hash is enough and lets a key be found by its hash.
CREATE TABLE api_keys (
    id            TEXT   PRIMARY KEY,
    display_name  TEXT   NOT NULL,
    role          TEXT   NOT NULL,
    secret_hash   TEXT   NOT NULL,
    secret_prefix TEXT   NOT NULL,
    state         TEXT   NOT NULL,
    create_time   BIGINT NOT NULL,
    revoke_time   BIGINT,
    creator       TEXT   NOT NULL,
    CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash)
);
