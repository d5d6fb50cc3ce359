-- One-time codes sent to confirm a person's identity (src/verification.rs): the code
-- itself is never kept, only its Argon2 hash; one live code per request.
CREATE TABLE verification_codes (
    request_id TEXT PRIMARY KEY,
    sent_to    TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    sent_at    TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);
