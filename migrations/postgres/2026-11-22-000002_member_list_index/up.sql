-- Members and agents are listed by (name, id) with keyset pagination.
CREATE INDEX users_name_id_idx ON users (name, id);
DROP INDEX users_name_idx;
