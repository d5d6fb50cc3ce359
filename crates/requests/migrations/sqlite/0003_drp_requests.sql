-- Data Rights Protocol requests (src/drp.rs): the id an authorized agent knows a request
-- by, the agent that manages it (only it may see or revoke it), and the ferry request.
CREATE TABLE drp_requests (
    drp_id           TEXT PRIMARY KEY,
    agent_id         TEXT NOT NULL,
    request_id       TEXT NOT NULL UNIQUE REFERENCES requests (id),
    agent_request_id TEXT,
    status_callback  TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX drp_requests_agent ON drp_requests (agent_id);
