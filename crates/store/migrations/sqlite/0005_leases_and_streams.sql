-- A store made for a fleet: jobs belong to an owner, and are run under leases.
--   worker            who holds the job's lease (its own description), if anyone
--   fence             raised by every take of the job: a write under an older lease is refused
--   lease_expires_at  when the lease ends unless renewed (RFC 3339, UTC, milliseconds)
--   cancel_requested  1 once a cancel was asked for; the worker sees it in its heartbeat
-- worker_pid goes: the lease's holder says who runs a job.
ALTER TABLE jobs ADD COLUMN owner TEXT;
ALTER TABLE jobs ADD COLUMN worker TEXT;
ALTER TABLE jobs ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN lease_expires_at TEXT;
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs DROP COLUMN worker_pid;

-- the jobs a worker may claim, oldest first
CREATE INDEX jobs_claimable ON jobs(created_at) WHERE state IN ('queued', 'running');
-- an owner's jobs, most recent first
CREATE INDEX jobs_owner ON jobs(owner, created_at) WHERE owner IS NOT NULL;

-- Cursors and change-tracking state belong to a stream of the source, which may mix
-- verticals. Until now each vertical was read as one stream, under the vertical's name:
-- the same values, so the column is only renamed.
ALTER TABLE job_cursors RENAME COLUMN vertical TO stream;
ALTER TABLE sync_state RENAME COLUMN vertical TO stream;
