-- The one job queue (src/db/queue.rs): lookups count their attempts like the other kinds, and
-- recurring work (auto-complete, later statistics rollups) gets one row per task.
ALTER TABLE customer_info_lookups ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE scheduled_jobs (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    run_at TIMESTAMP NOT NULL,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX scheduled_jobs_due ON scheduled_jobs (status, run_at);
