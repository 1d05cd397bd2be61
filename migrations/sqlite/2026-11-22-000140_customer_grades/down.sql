ALTER TABLE users DROP COLUMN last_seen_at;
DROP TABLE customer_grade_rules;
DROP TABLE customer_grades;
