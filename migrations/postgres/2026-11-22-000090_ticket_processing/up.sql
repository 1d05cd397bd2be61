-- Ticket processing (SPEC §3.6–§3.8, §3.10): per-service ticket settings, the sender shown on
-- customer mails, mail layouts per kind and help-center language, forbidden words, and reply
-- templates with the resolution types they are linked to.
CREATE TABLE ticket_settings (
    service_id BIGINT PRIMARY KEY NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    auto_complete_days INTEGER NOT NULL DEFAULT 14,
    creator_chooses_assignee BOOLEAN NOT NULL DEFAULT TRUE,
    internal_texts TEXT NOT NULL DEFAULT '{}',
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE mail_sender_info (
    service_id BIGINT PRIMARY KEY NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    sender_name TEXT NOT NULL DEFAULT '',
    sender_address TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE mail_layouts (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    lang TEXT NOT NULL,
    subject TEXT NOT NULL,
    html_body TEXT NOT NULL,
    text_body TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX mail_layouts_key ON mail_layouts (service_id, kind, lang);

CREATE TABLE forbidden_words (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    word TEXT NOT NULL,
    word_lower TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX forbidden_words_word ON forbidden_words (service_id, word_lower);

CREATE TABLE reply_templates (
    id BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    shared BOOLEAN NOT NULL DEFAULT FALSE,
    title TEXT NOT NULL,
    body_html TEXT NOT NULL,
    search_code TEXT NOT NULL DEFAULT '',
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX reply_templates_service ON reply_templates (service_id, id);
CREATE INDEX reply_templates_shared ON reply_templates (shared, id);

CREATE TABLE reply_template_links (
    template_id BIGINT NOT NULL REFERENCES reply_templates (id) ON DELETE CASCADE,
    category_id BIGINT NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    PRIMARY KEY (template_id, category_id)
);
CREATE INDEX reply_template_links_category ON reply_template_links (category_id, template_id);
