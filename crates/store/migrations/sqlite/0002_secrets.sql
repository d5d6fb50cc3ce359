-- Credentials a job needs to resume, sealed with ChaCha20-Poly1305 under the operator's key.
CREATE TABLE job_secrets (
    job_id     TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    PRIMARY KEY (job_id, name)
);
