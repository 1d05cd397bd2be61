DROP INDEX tickets_search_idx;
ALTER TABLE tickets DROP COLUMN search_text;
DROP INDEX ticket_field_values_search;
DROP INDEX customers_name;
DROP INDEX tickets_console_transfer;
DROP INDEX tickets_console_group;
DROP INDEX tickets_console_status;
DROP INDEX tickets_console_spam;
DROP INDEX tickets_console_assignee;
