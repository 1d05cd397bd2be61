-- Tickets and customers: one customer per service (merged by e-mail, or by phone for phone
-- tickets), tickets with a public ID, their timeline entries, field values (personal values
-- encrypted), attachments and events.
CREATE TABLE customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    customer_no TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX customers_no ON customers (service_id, customer_no);
CREATE INDEX customers_email ON customers (service_id, email);
CREATE INDEX customers_phone ON customers (service_id, phone);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    public_id TEXT NOT NULL,
    customer_id BIGINT REFERENCES customers (id) ON DELETE SET NULL,
    category_id BIGINT REFERENCES categories (id) ON DELETE SET NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL DEFAULT 'normal',
    channel TEXT NOT NULL,
    lang TEXT NOT NULL,
    subject TEXT NOT NULL,
    assignee_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    group_id BIGINT REFERENCES agent_groups (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX tickets_public_id ON tickets (public_id);
CREATE INDEX tickets_service_created ON tickets (service_id, created_at, id);
CREATE INDEX tickets_service_status ON tickets (service_id, status, id);
CREATE INDEX tickets_customer_created ON tickets (customer_id, created_at);

CREATE TABLE ticket_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ticket_entries_ticket ON ticket_entries (ticket_id, id);

CREATE TABLE ticket_field_values (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    field_id BIGINT NOT NULL REFERENCES field_defs (id) ON DELETE CASCADE,
    value TEXT NOT NULL
);
CREATE UNIQUE INDEX ticket_field_values_ticket_field ON ticket_field_values (ticket_id, field_id);

CREATE TABLE ticket_attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    entry_id BIGINT REFERENCES ticket_entries (id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    stored_path TEXT NOT NULL,
    mime TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (ticket_id, id);

CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    detail TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
