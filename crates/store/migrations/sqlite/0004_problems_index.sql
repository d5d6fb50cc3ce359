-- A report lists a job's failed and skipped items: found through this index, without
-- reading every item of the job.
CREATE INDEX job_items_problems ON job_items(job_id, vertical) WHERE outcome IN ('failed', 'skipped');
