-- ferry's job store on PostgreSQL: the same tables as the embedded SQLite store, for a
-- fleet of workers sharing one database. Times are the server's (timestamptz).

-- Jobs, and the lease under which a worker runs one:
--   worker            who holds the lease (its own description), if anyone
--   fence             raised by every take of the job: a write under an older lease is refused
--   lease_expires_at  when the lease ends unless its holder renews it
--   cancel_requested  someone asked for a cancel; the worker sees it in its heartbeat
-- seq orders jobs created in one instant (ids are time-ordered, but only to the millisecond).
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    seq              BIGINT GENERATED ALWAYS AS IDENTITY,
    owner            TEXT,
    source           TEXT NOT NULL,
    destination      TEXT NOT NULL,
    verticals        JSONB NOT NULL,
    options          JSONB NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('created', 'authorizing', 'queued', 'running', 'paused',
                                                   'completed', 'completed_with_errors', 'failed', 'cancelled')),
    reason           TEXT,
    worker           TEXT,
    fence            BIGINT NOT NULL DEFAULT 0,
    lease_expires_at TIMESTAMPTZ,
    cancel_requested BOOLEAN NOT NULL DEFAULT false,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX jobs_recent ON jobs (created_at DESC, seq DESC);
CREATE INDEX jobs_owner ON jobs (owner, created_at DESC, seq DESC) WHERE owner IS NOT NULL;
-- the jobs a worker may claim, oldest first
CREATE INDEX jobs_claimable ON jobs (created_at, seq) WHERE state IN ('queued', 'running');

-- Where each stream of a job's export stands: the cursor after the last committed page.
CREATE TABLE job_cursors (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    stream TEXT NOT NULL,
    cursor TEXT,
    done   BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (job_id, stream)
);

-- What happened to every item of a job. The key keeps a page committed twice from
-- counting twice and finds a page's ids; within a job, rows land in the source's order of
-- ids, in that job's part of the index. seq (from a sequence, so always appended) orders
-- the report's lists. No foreign key: commit_page writes rows only after it has found
-- (and locked) the job's row, and a key check per row would cost a lookup per item.
CREATE TABLE job_items (
    job_id    TEXT NOT NULL,
    vertical  TEXT NOT NULL,
    source_id TEXT NOT NULL,
    seq       BIGINT GENERATED ALWAYS AS IDENTITY,
    outcome   TEXT NOT NULL CHECK (outcome IN ('transferred', 'already_present', 'skipped', 'failed')),
    reason    TEXT,
    dest_id   TEXT,
    sha256    TEXT,
    PRIMARY KEY (job_id, vertical, source_id)
);
-- a report lists a job's failed and skipped items through this, not through all its items
CREATE INDEX job_items_problems ON job_items (job_id, vertical, seq) WHERE outcome IN ('failed', 'skipped');

CREATE TABLE job_warnings (
    job_id    TEXT NOT NULL,
    vertical  TEXT NOT NULL,
    seq       BIGINT GENERATED ALWAYS AS IDENTITY,
    source_id TEXT NOT NULL,
    warning   TEXT NOT NULL
);
CREATE INDEX job_warnings_job ON job_warnings (job_id, vertical, seq);

-- Which source item is at which destination id, per source/destination pair, across jobs.
CREATE TABLE ledger (
    pair       TEXT NOT NULL,
    vertical   TEXT NOT NULL,
    source_id  TEXT NOT NULL,
    version    TEXT NOT NULL,
    sha256     TEXT,
    dest_id    TEXT NOT NULL,
    job_id     TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (pair, vertical, source_id)
);

-- Credentials a job needs to resume, sealed with ChaCha20-Poly1305 under the operator's key.
CREATE TABLE job_secrets (
    job_id     TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    nonce      BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    PRIMARY KEY (job_id, name)
);

-- Per source/destination pair and stream: the source's change-tracking state after the
-- last complete export without failures, from which an incremental job lists only what
-- changed since.
CREATE TABLE sync_state (
    pair   TEXT NOT NULL,
    stream TEXT NOT NULL,
    state  TEXT NOT NULL,
    PRIMARY KEY (pair, stream)
);
