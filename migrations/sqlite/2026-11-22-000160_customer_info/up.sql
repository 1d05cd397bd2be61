-- The organization-level Open API (API.md §8.2, §8.3), phone-call tickets (§8.4.2) and the
-- customer-info integration (SPEC §6.3, API.md §4, §7.8).
--
-- org_api_settings: the one row of the organization API's allowed-IP list (empty = any caller).
CREATE TABLE org_api_settings (
    id BIGINT PRIMARY KEY NOT NULL CHECK (id = 1),
    allowed_ips TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);

-- A service's contract (at most one). Item states of items that map onto a feature switch
-- live in services.features; billing_settings keeps the stable IDs and the other items.
CREATE TABLE billing_contracts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    service_id BIGINT NOT NULL UNIQUE REFERENCES services (id) ON DELETE CASCADE,
    start_at TIMESTAMP NOT NULL,
    discount_rate INTEGER NOT NULL DEFAULT 0,
    free_extension INTEGER NOT NULL DEFAULT 0,
    email TEXT NOT NULL DEFAULT '',
    free_trial BOOLEAN NOT NULL DEFAULT 0,
    changed_on TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE billing_settings (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    billing_id BIGINT NOT NULL REFERENCES billing_contracts (id) ON DELETE CASCADE,
    item_code TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (billing_id, item_code)
);

-- The call behind a phone ticket registered by the CTI (L15); one per ticket, one per call key.
CREATE TABLE ticket_calls (
    ticket_id BIGINT PRIMARY KEY NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    agent_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    direction TEXT NOT NULL,
    ivr_path TEXT NOT NULL,
    disconnected_by TEXT NOT NULL,
    ring_key TEXT NOT NULL,
    ring_at TIMESTAMP NOT NULL,
    start_at TIMESTAMP NOT NULL,
    end_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (service_id, ring_key)
);

-- Customer-info APIs a service calls (X1): query and result items as JSON, the encryption key
-- encrypted with the installation secret.
CREATE TABLE customer_info_apis (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    base_url TEXT NOT NULL,
    encrypt BOOLEAN NOT NULL DEFAULT 0,
    key_enc TEXT,
    sign_path BOOLEAN NOT NULL DEFAULT 0,
    query_items TEXT NOT NULL DEFAULT '[]',
    result_items TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX customer_info_apis_service ON customer_info_apis (service_id, id);

-- Lookups made for a ticket (automatic ones queued at arrival, manual ones from the ticket
-- page); the query and the answer are personal data and stored encrypted.
CREATE TABLE customer_info_lookups (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    api_id BIGINT NOT NULL REFERENCES customer_info_apis (id) ON DELETE CASCADE,
    automatic BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    http_status INTEGER,
    query_enc TEXT NOT NULL DEFAULT '',
    result_enc TEXT NOT NULL DEFAULT '',
    remote_message TEXT NOT NULL DEFAULT '',
    requested_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    lease_until TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX customer_info_lookups_ticket ON customer_info_lookups (ticket_id, api_id, id);
CREATE INDEX customer_info_lookups_due ON customer_info_lookups (status, lease_until);
