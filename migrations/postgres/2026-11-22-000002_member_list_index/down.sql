CREATE INDEX users_name_idx ON users (name);
DROP INDEX users_name_id_idx;
