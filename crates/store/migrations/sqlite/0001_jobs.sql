-- Jobs and their progress.
CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    destination TEXT NOT NULL,
    verticals   TEXT NOT NULL,           -- JSON array of vertical names
    options     TEXT NOT NULL,           -- JSON object
    state       TEXT NOT NULL,
    reason      TEXT,
    worker_pid  INTEGER,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Where each vertical's export stands: the cursor after the last committed page.
CREATE TABLE job_cursors (
    job_id   TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    vertical TEXT NOT NULL,
    cursor   TEXT,
    done     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, vertical)
);

-- What happened to every item of a job.
CREATE TABLE job_items (
    job_id    TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    vertical  TEXT NOT NULL,
    source_id TEXT NOT NULL,
    outcome   TEXT NOT NULL,             -- transferred | already_present | skipped | failed
    reason    TEXT,
    dest_id   TEXT,
    sha256    TEXT,
    PRIMARY KEY (job_id, vertical, source_id)
);

CREATE TABLE job_warnings (
    job_id    TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    vertical  TEXT NOT NULL,
    source_id TEXT NOT NULL,
    warning   TEXT NOT NULL
);
CREATE INDEX job_warnings_job ON job_warnings(job_id);

-- Which source item is at which destination id, per source/destination pair, across jobs.
CREATE TABLE ledger (
    pair      TEXT NOT NULL,
    vertical  TEXT NOT NULL,
    source_id TEXT NOT NULL,
    version   TEXT NOT NULL,
    sha256    TEXT,
    dest_id   TEXT NOT NULL,
    job_id    TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (pair, vertical, source_id)
);
