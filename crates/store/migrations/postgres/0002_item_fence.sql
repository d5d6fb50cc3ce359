-- Which take of the job (the lease's fence) committed each item row, NULL for a write
-- made without a lease. A row committed again takes the fence of its last commit, so
-- what a worker wrote can be told from what the job's next holder wrote.
ALTER TABLE job_items ADD COLUMN fence BIGINT;
