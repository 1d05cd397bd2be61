DROP TABLE scheduled_jobs;
ALTER TABLE customer_info_lookups DROP COLUMN attempts;
