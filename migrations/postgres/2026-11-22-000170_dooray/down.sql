DROP TABLE dooray_comments;
DROP TABLE dooray_tasks;
DROP TABLE dooray_member_keys;
DROP TABLE dooray_projects;
DROP TABLE dooray_orgs;
DROP TABLE dooray_settings;
