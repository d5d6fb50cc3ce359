-- The controller side's requests and their audit log (crates/requests/src/store/).
CREATE TABLE requests (
    id       TEXT PRIMARY KEY,
    regime   TEXT NOT NULL,
    kind     TEXT NOT NULL,
    state    TEXT NOT NULL,
    received TEXT NOT NULL,
    -- the whole request as JSON; the audit entry of its last step holds its SHA-256
    record   TEXT NOT NULL
);
CREATE INDEX requests_state ON requests (state, received);

-- Append-only and hash-chained: hash = SHA-256 of the entry's canonical form, which
-- ends with prev_hash (src/audit.rs).
CREATE TABLE audit_entries (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    request_id TEXT NOT NULL,
    action     TEXT NOT NULL,
    reason     TEXT,
    data_hash  TEXT,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_entries_request ON audit_entries (request_id, seq);

CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
