-- The controller side's requests and their audit log (crates/requests/src/store/).
CREATE TABLE requests (
    id       TEXT PRIMARY KEY,
    regime   TEXT NOT NULL,
    kind     TEXT NOT NULL,
    state    TEXT NOT NULL,
    received DATE NOT NULL,
    -- the whole request as JSON text (kept byte for byte: its SHA-256 is in the audit log)
    record   TEXT NOT NULL
);
CREATE INDEX requests_state ON requests (state, received);

-- Append-only and hash-chained: hash = SHA-256 of the entry's canonical form, which
-- ends with prev_hash (src/audit.rs).
CREATE TABLE audit_entries (
    seq        BIGINT PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    actor      TEXT NOT NULL,
    request_id TEXT NOT NULL,
    action     TEXT NOT NULL,
    reason     TEXT,
    data_hash  TEXT,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_entries_request ON audit_entries (request_id, seq);

CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
