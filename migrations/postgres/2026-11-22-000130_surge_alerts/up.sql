-- Inquiry-surge alerts (SPEC §3.9): per-service threshold (N new tickets within M minutes),
-- weekdays, cooldown, recipients (agents and external recipients), media and a template per
-- medium; the alerts raised; and SMS messages queued for the SMS provider.
CREATE TABLE surge_settings (
    service_id BIGINT PRIMARY KEY NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    threshold INTEGER NOT NULL DEFAULT 20,
    window_minutes INTEGER NOT NULL DEFAULT 5,
    cooldown_minutes INTEGER NOT NULL DEFAULT 60,
    weekdays TEXT NOT NULL DEFAULT '1111111',
    agent_ids TEXT NOT NULL DEFAULT '',
    recipient_ids TEXT NOT NULL DEFAULT '',
    by_browser BOOLEAN NOT NULL DEFAULT TRUE,
    by_email BOOLEAN NOT NULL DEFAULT TRUE,
    by_sms BOOLEAN NOT NULL DEFAULT FALSE,
    by_dooray BOOLEAN NOT NULL DEFAULT FALSE,
    dooray_url TEXT NOT NULL DEFAULT '',
    browser_text TEXT NOT NULL DEFAULT '',
    email_subject TEXT NOT NULL DEFAULT '',
    email_body TEXT NOT NULL DEFAULT '',
    sms_text TEXT NOT NULL DEFAULT '',
    dooray_text TEXT NOT NULL DEFAULT '',
    last_alert_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE surge_recipients (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX surge_recipients_service ON surge_recipients (service_id, id);

CREATE TABLE surge_alerts (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    ticket_count INTEGER NOT NULL,
    window_minutes INTEGER NOT NULL,
    message TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX surge_alerts_service ON surge_alerts (service_id, id);

CREATE TABLE sms_messages (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT REFERENCES services (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    to_phone TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX sms_messages_status ON sms_messages (status, id);
