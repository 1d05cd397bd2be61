-- The e-mail channel (SPEC §3.7): IMAP accounts per service (password encrypted with the
-- installation secret) with the sync position (UIDVALIDITY and last imported UID, advanced in
-- the transaction that imports a message, so a restart neither skips nor duplicates); the
-- messages imported, unique by Message-ID per service (idempotent imports, threading); and the
-- quarantine of messages that could not be imported, with the reason.
CREATE TABLE mail_accounts (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    use_ssl BOOLEAN NOT NULL,
    address TEXT NOT NULL,
    password_enc TEXT NOT NULL,
    delete_after_import BOOLEAN NOT NULL DEFAULT FALSE,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    uid_validity BIGINT,
    last_uid BIGINT NOT NULL DEFAULT 0,
    lease_until TIMESTAMP,
    last_poll_at TIMESTAMP,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX mail_accounts_service ON mail_accounts (service_id, id);

CREATE TABLE mail_imports (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    account_id BIGINT REFERENCES mail_accounts (id) ON DELETE SET NULL,
    message_id TEXT NOT NULL,
    ticket_id BIGINT REFERENCES tickets (id) ON DELETE SET NULL,
    entry_id BIGINT REFERENCES ticket_entries (id) ON DELETE SET NULL,
    outcome TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX mail_imports_message ON mail_imports (service_id, message_id);
CREATE INDEX mail_imports_ticket ON mail_imports (ticket_id);

CREATE TABLE mail_quarantine (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    account_id BIGINT REFERENCES mail_accounts (id) ON DELETE SET NULL,
    account_name TEXT NOT NULL,
    uid_validity BIGINT NOT NULL,
    uid BIGINT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    from_addr TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    raw_size BIGINT NOT NULL,
    stored_path TEXT,
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX mail_quarantine_service ON mail_quarantine (service_id, id);
CREATE UNIQUE INDEX mail_quarantine_uid ON mail_quarantine (account_id, uid_validity, uid);

-- Replies name the Message-ID of an answer we sent: find its ticket without a scan.
CREATE INDEX mail_outbox_message_id ON mail_outbox (message_id);
