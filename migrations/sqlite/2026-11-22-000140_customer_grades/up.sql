-- Customer grades (SPEC §6.2): per-service grades with a name, a palette colour and an order,
-- and classification rules that give a customer a grade by one identifying key (e-mail, phone,
-- customer number or member ID) and its normalised value. Also agents' presence for
-- "only agents online now" assignment (SPEC §3.4): the last signed-in console request.
CREATE TABLE customer_grades (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    color TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX customer_grades_name ON customer_grades (service_id, name_lower);

CREATE TABLE customer_grade_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    grade_id BIGINT NOT NULL REFERENCES customer_grades (id) ON DELETE CASCADE,
    key_type TEXT NOT NULL,
    value TEXT NOT NULL,
    value_norm TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX customer_grade_rules_key ON customer_grade_rules (service_id, key_type, value_norm);
CREATE INDEX customer_grade_rules_list ON customer_grade_rules (service_id, id);
CREATE INDEX customer_grade_rules_grade ON customer_grade_rules (grade_id);

ALTER TABLE users ADD COLUMN last_seen_at TIMESTAMP;
