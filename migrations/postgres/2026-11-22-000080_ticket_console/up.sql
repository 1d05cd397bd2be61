-- The ticket console (SPEC §5.2, §5.3): indexes that make every saved view, the board counts and
-- the searches index-driven at a million tickets, and full-text search over ticket subjects.
--
-- Each saved view reads one or more index ranges ordered by id (newest first) whose equal
-- columns are all in the index, so no row is read only to be thrown away:
--   my processing / on hold / resolved / completed  (service_id, assignee_id, status, is_spam, id)
--   all tickets, spam box                           (service_id, is_spam, id)
--   all unassigned                                  (service_id, status, is_spam, id)
--   all in my groups (one range per group)          (service_id, group_id, is_spam, id)
--   all transferred (one range per sub-state)       (service_id, transfer_state, is_spam, id)
CREATE INDEX tickets_console_assignee ON tickets (service_id, assignee_id, status, is_spam, id);
CREATE INDEX tickets_console_spam ON tickets (service_id, is_spam, id);
CREATE INDEX tickets_console_status ON tickets (service_id, status, is_spam, id);
CREATE INDEX tickets_console_group ON tickets (service_id, group_id, is_spam, id);
CREATE INDEX tickets_console_transfer ON tickets (service_id, transfer_state, is_spam, id);

-- Search by customer name (exact); e-mail, phone and customer number have indexes already.
CREATE INDEX customers_name ON customers (service_id, name);

-- Conditions on custom fields compare the first 100 characters through this index, then the
-- whole value (long text values would not fit a B-tree entry).
CREATE INDEX ticket_field_values_search ON ticket_field_values (field_id, substr(value, 1, 100), ticket_id);

-- Subject search: `search_text` holds the subject normalised by `db::search::normalize`
-- (lower-cased words, CJK runs as overlapping pairs); the 'simple' configuration neither stems
-- nor drops stop words, so hits are the same as SQLite's FTS5 index.
ALTER TABLE tickets ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE tickets SET search_text = lower(subject);
CREATE INDEX tickets_search_idx ON tickets USING GIN (to_tsvector('simple', search_text));
