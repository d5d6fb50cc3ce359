-- Accounts connected through OAuth 2.0, their token sets sealed like a job's secrets.
CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    owner      TEXT,
    provider   TEXT NOT NULL,
    label      TEXT NOT NULL,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX accounts_owner ON accounts (owner, created_at);
