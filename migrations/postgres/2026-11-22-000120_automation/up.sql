-- Automation (SPEC §3.4): triggers with JSON condition and action rows, the round-robin
-- position per trigger and group, a firing log, and the side-effect queue (callback URLs,
-- chat webhooks) delivered by a worker with retries and a delivery log.
CREATE TABLE triggers (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    position INTEGER NOT NULL DEFAULT 0,
    conditions TEXT NOT NULL,
    actions TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX triggers_service ON triggers (service_id, enabled, position, id);

CREATE TABLE trigger_round_robin (
    trigger_id BIGINT NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES agent_groups (id) ON DELETE CASCADE,
    last_user_id BIGINT,
    PRIMARY KEY (trigger_id, group_id)
);

CREATE TABLE trigger_firings (
    id BIGSERIAL PRIMARY KEY,
    trigger_id BIGINT NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
    ticket_id BIGINT REFERENCES tickets (id) ON DELETE SET NULL,
    event TEXT NOT NULL,
    summary TEXT NOT NULL,
    fired_at TIMESTAMP NOT NULL
);
CREATE INDEX trigger_firings_trigger ON trigger_firings (trigger_id, id);

CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    trigger_id BIGINT REFERENCES triggers (id) ON DELETE SET NULL,
    ticket_id BIGINT REFERENCES tickets (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_status INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at, id);
CREATE INDEX webhook_deliveries_trigger ON webhook_deliveries (trigger_id, id);
