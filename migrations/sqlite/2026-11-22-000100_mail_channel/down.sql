DROP INDEX IF EXISTS mail_outbox_message_id;
DROP TABLE IF EXISTS mail_quarantine;
DROP TABLE IF EXISTS mail_imports;
DROP TABLE IF EXISTS mail_accounts;
