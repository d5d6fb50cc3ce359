-- Accounts connected through OAuth 2.0, their token sets sealed like a job's secrets.
CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    seq        BIGINT GENERATED ALWAYS AS IDENTITY,
    owner      TEXT,
    provider   TEXT NOT NULL,
    label      TEXT NOT NULL,
    nonce      BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX accounts_owner ON accounts (owner, created_at, seq);
