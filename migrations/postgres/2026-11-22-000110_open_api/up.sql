-- Open API (API.md, SPEC §3.1, §11): per-service allowed IPs and repeat-inquiry limit;
-- help-center member integration settings; uploaded and published files addressed by a
-- 32-hex attachment ID; help-center addition data; extra ticket data the API carries
-- (end-user IP, typeOne/typeTwo, legacy addition); member access tokens; external codes
-- of FAQ categories, notice headings and tags; notice-template status and memo; and the
-- member user code on customers.
CREATE TABLE api_settings (
    service_id BIGINT PRIMARY KEY NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    allowed_ips TEXT NOT NULL DEFAULT '',
    repeat_limit INTEGER NOT NULL DEFAULT 5,
    repeat_window_minutes INTEGER NOT NULL DEFAULT 60,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE member_settings (
    service_id BIGINT PRIMARY KEY NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    allow_guest BOOLEAN NOT NULL DEFAULT TRUE,
    login_type TEXT NOT NULL DEFAULT 'post',
    login_url TEXT NOT NULL DEFAULT '',
    status_url TEXT NOT NULL DEFAULT '',
    extra_params TEXT NOT NULL DEFAULT '[]',
    verify_url TEXT NOT NULL DEFAULT '',
    local_verify BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE api_files (
    public_id TEXT PRIMARY KEY NOT NULL,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    stored_path TEXT NOT NULL,
    mime TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    ticket_attachment_id BIGINT REFERENCES ticket_attachments (id) ON DELETE CASCADE,
    hc_attachment_id BIGINT REFERENCES hc_attachments (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX api_files_ticket_attachment ON api_files (ticket_attachment_id);
CREATE UNIQUE INDEX api_files_hc_attachment ON api_files (hc_attachment_id);
CREATE INDEX api_files_pending ON api_files (service_id, kind, created_at);

CREATE TABLE api_additions (
    id TEXT PRIMARY KEY NOT NULL,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    visible BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    ticket_id BIGINT REFERENCES tickets (id) ON DELETE SET NULL
);
CREATE INDEX api_additions_expiry ON api_additions (expires_at);

CREATE TABLE api_ticket_meta (
    ticket_id BIGINT PRIMARY KEY NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    client_ip TEXT NOT NULL DEFAULT '',
    type_one TEXT NOT NULL DEFAULT '',
    type_two TEXT NOT NULL DEFAULT '',
    addition TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX api_ticket_meta_ip ON api_ticket_meta (service_id, client_ip, created_at);

CREATE TABLE member_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    usercode TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    memberno TEXT NOT NULL DEFAULT '',
    extras TEXT NOT NULL DEFAULT '{}',
    login_time BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX member_tokens_handoff ON member_tokens (service_id, usercode, login_time);
CREATE INDEX member_tokens_expiry ON member_tokens (expires_at);

CREATE TABLE api_faq_category_codes (
    category_id BIGINT PRIMARY KEY NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    code TEXT NOT NULL
);
CREATE UNIQUE INDEX api_faq_category_codes_code ON api_faq_category_codes (service_id, code);

CREATE TABLE api_heading_codes (
    heading_id BIGINT PRIMARY KEY NOT NULL REFERENCES notice_headings (id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    code TEXT NOT NULL
);
CREATE UNIQUE INDEX api_heading_codes_code ON api_heading_codes (service_id, code);

CREATE TABLE api_tag_codes (
    tag_id BIGINT PRIMARY KEY NOT NULL REFERENCES notice_tags (id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    code TEXT NOT NULL
);
CREATE UNIQUE INDEX api_tag_codes_code ON api_tag_codes (service_id, code);

CREATE TABLE api_template_meta (
    template_id BIGINT PRIMARY KEY NOT NULL REFERENCES notice_templates (id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'O',
    memo TEXT NOT NULL DEFAULT '',
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL
);

ALTER TABLE customers ADD COLUMN usercode TEXT;
CREATE INDEX customers_usercode ON customers (service_id, usercode);
