-- Ticket lifecycle (SPEC §7.1): transfer sub-state, internal-resolution reason, spam flag,
-- resolution type, creator, transfer links, solved/closed times and an optimistic-lock
-- version; per-agent importance stars; client tokens against double submission; and the
-- persistent mail outbox (SPEC §3.7) written in the same transaction as the change that
-- causes a mail.
ALTER TABLE tickets ADD COLUMN transfer_state TEXT NOT NULL DEFAULT 'none';
ALTER TABLE tickets ADD COLUMN internal_reason TEXT;
ALTER TABLE tickets ADD COLUMN is_spam BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tickets ADD COLUMN spam_prev_status TEXT;
ALTER TABLE tickets ADD COLUMN resolution_category_id BIGINT REFERENCES categories (id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN creator_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN origin_ticket_id BIGINT REFERENCES tickets (id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN transferred_to_ticket_id BIGINT REFERENCES tickets (id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN solved_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN closed_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tickets_solved_due ON tickets (status, solved_at);

ALTER TABLE ticket_entries ADD COLUMN client_token TEXT;
ALTER TABLE ticket_entries ADD COLUMN mail_message_id TEXT;
CREATE UNIQUE INDEX ticket_entries_client_token ON ticket_entries (ticket_id, client_token);
CREATE INDEX ticket_entries_message_id ON ticket_entries (mail_message_id);

CREATE TABLE ticket_stars (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, ticket_id)
);
CREATE INDEX ticket_stars_ticket ON ticket_stars (ticket_id);

CREATE TABLE mail_outbox (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT REFERENCES services (id) ON DELETE CASCADE,
    ticket_id BIGINT REFERENCES tickets (id) ON DELETE SET NULL,
    purpose TEXT NOT NULL,
    to_addr TEXT NOT NULL,
    to_name TEXT NOT NULL DEFAULT '',
    from_addr TEXT NOT NULL DEFAULT '',
    from_name TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    message_id TEXT NOT NULL,
    in_reply_to TEXT NOT NULL DEFAULT '',
    references_hdr TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at, id);
CREATE INDEX mail_outbox_service ON mail_outbox (service_id, status, id);
CREATE INDEX mail_outbox_ticket ON mail_outbox (ticket_id);
