DROP TABLE ticket_events;
DROP TABLE ticket_attachments;
DROP TABLE ticket_field_values;
DROP TABLE ticket_entries;
DROP TABLE tickets;
DROP TABLE customers;
